import Foundation
import MLAgentProtocol

/// One agent's cgroup (`job-<id>`): the files its first process joins, what it used and the
/// limits it hit, and the kill that ends every process in it.
struct JobCgroup: Sendable {
    let kind: Cgroups.Kind
    /// v2: `["": dir]`; v1: a directory per controller.
    let dirs: [String: String]

    /// Limits hit so far: forks refused at `pids.max`, processes killed at `memory.max`.
    struct Events: Sendable, Equatable {
        var pidsMax: Int64 = 0
        var oomKills: Int64 = 0
    }

    /// The `cgroup.procs` files the agent's first process writes its pid to before it execs.
    var procsFiles: [String] {
        Set(dirs.values).sorted().map { "\($0)/cgroup.procs" }
    }

    private func file(_ controller: String, _ name: String) -> String? {
        (kind == .v2 ? dirs[""] : dirs[controller]).map { "\($0)/\(name)" }
    }

    private func number(_ controller: String, _ name: String) -> Int64? {
        file(controller, name).flatMap(Cgroups.read).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// `key value` lines (`memory.events`, `pids.events`, `cpu.stat`, `memory.oom_control`).
    private func field(_ controller: String, _ name: String, _ key: String) -> Int64? {
        guard let text = file(controller, name).flatMap(Cgroups.read) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) }
        }
        return nil
    }

    func events() -> Events {
        let oom = kind == .v2 ? field("memory", "memory.events", "oom_kill") : field("memory", "memory.oom_control", "oom_kill")
        return Events(pidsMax: field("pids", "pids.events", "max") ?? 0, oomKills: oom ?? 0)
    }

    /// Peak memory, processes now and at most, and CPU time, as far as this kernel tells them.
    func usage() -> AgentResources {
        var resources = AgentResources(enforcement: kind.rawValue)
        resources.processes = number("pids", "pids.current")
        resources.peakProcesses = number("pids", "pids.peak")
        switch kind {
        case .v2:
            resources.peakMemoryBytes = number("memory", "memory.peak")
            resources.cpuUsec = field("cpu", "cpu.stat", "usage_usec")
        case .v1:
            resources.peakMemoryBytes = number("memory", "memory.max_usage_in_bytes")
            resources.cpuUsec = number("cpuacct", "cpuacct.usage").map { $0 / 1000 }
        }
        return resources
    }

    /// Every process in the cgroup gets SIGKILL: `cgroup.kill` where the kernel has it, else
    /// each pid listed (again, until none is left, so a fork in flight cannot escape).
    func kill() {
        if kind == .v2, let dir = dirs[""], Cgroups.write("1", to: dir + "/cgroup.kill") { return }
        for _ in 0..<100 {
            let pids = Set(procsFiles.flatMap { (Cgroups.read($0) ?? "").split(separator: "\n").compactMap { Int32($0) } })
            if pids.isEmpty { return }
            for pid in pids { Foundation.kill(pid, SIGKILL) }
            usleep(2000)
        }
    }

    /// Whether no process is left in it.
    var isEmpty: Bool {
        procsFiles.allSatisfy { (Cgroups.read($0) ?? "").isEmpty }
    }

    /// Removes the directories (the kernel refuses while a process is still exiting: retried
    /// for up to two seconds). Returns whether every one is gone.
    @discardableResult
    func remove(waiting: Bool = false) -> Bool {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            var left = false
            for dir in Set(dirs.values) where rmdir(dir) != 0 && errno != ENOENT { left = true }
            if !left || !waiting || ContinuousClock.now >= deadline { return !left }
            usleep(10_000)
        }
    }
}

import Foundation

/// A short-lived child of the daemon's own (the scorer, a proposal's tests): spawned in a
/// process group of its own, in a cgroup of its own where the daemon has cgroups (else under
/// RLIMIT_DATA), and killed, group and cgroup, when it runs past its time limit.
struct ConfinedProcess: Sendable {
    let limits: AgentLimits
    /// The cgroup's name under the daemon's (`replay-…`, `share-test-…`).
    var leaf: String
    var maxMemory: UInt64

    struct Exit: Sendable {
        /// The exit status (128 + signal for a signal), nil when the time limit stopped it.
        var status: Int32?
        var oomKills: Int64
        var seconds: Double
    }

    /// Runs `argv` to its end or `deadline`, its output appended to `logPath`. Throws only when
    /// it cannot be started.
    func run(argv: [String], environment: [String: String], logPath: String, deadline: ContinuousClock.Instant) async throws -> Exit {
        let started = ContinuousClock.now
        let cgroup = try? limits.cgroups?.create(
            leaf: leaf, limits: .init(maxProcesses: 256, maxMemory: maxMemory, cpuWeight: AgentProfile.defaultCPUWeight))
        let confinement = cgroup.map { AgentConfinement(procsFiles: $0.procsFiles) } ?? AgentConfinement(rlimitDataBytes: maxMemory)
        var pid: pid_t = 0
        let spawned = AgentLauncher.spawn(argv: confinement.wrap(argv), environment: environment, logPath: logPath, pid: &pid)
        guard spawned == 0 else {
            cgroup?.remove()
            throw SpawnFailure(errno: spawned)
        }
        let status = await Self.wait(pid: pid, cgroup: cgroup, deadline: deadline)
        let oomKills = cgroup?.events().oomKills ?? 0
        cgroup?.kill()
        if let cgroup { Task.detached { cgroup.remove(waiting: true) } }
        return Exit(status: status, oomKills: oomKills, seconds: Self.seconds(ContinuousClock.now - started))
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { String(cString: strerror(errno)) }
    }

    /// Waits for the child; nil when it ran past `deadline` (it is killed then).
    static func wait(pid: pid_t, cgroup: JobCgroup?, deadline: ContinuousClock.Instant) async -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return exitCode(status) }
            if result < 0, errno != EINTR { return -1 }
            if ContinuousClock.now >= deadline {
                kill(-pid, SIGKILL)
                cgroup?.kill()
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return nil
            }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

import Foundation

/// The daemon's one seam to cgroupfs: where agents' cgroups live (the service's delegated
/// cgroup under systemd with `Delegate=yes`, else a cgroup v2 subtree the daemon creates, else
/// the cgroup v1 `pids`, `memory` and `cpu` hierarchies), and one `job-<id>` child per agent
/// with its limits. Nil from ``detect()`` means agents fall back to rlimits.
struct Cgroups: Sendable {
    enum Kind: String, Sendable { case v2 = "cgroup v2", v1 = "cgroup v1" }
    let kind: Kind
    /// v2: `["": base]`; v1: a base directory per controller (`pids`, `memory`, `cpu`, `cpuacct`).
    let bases: [String: String]
    /// What the base supports but is not there (e.g. `cpu` when its controller is missing).
    let missing: [String]

    struct Limits: Sendable, Equatable {
        var maxProcesses: Int
        var maxMemory: UInt64
        var cpuWeight: Int
    }

    /// Finds or creates the base; the second value says why there is none.
    static func detect() -> (Cgroups?, String) {
        let mounts = mountPoints()
        let own = ownCgroups()
        if let mount = mounts["cgroup2"], let path = own[""] {
            let available = Set(read("\(mount)/cgroup.controllers")?.split(separator: " ").map(String.init) ?? [])
            if available.isSuperset(of: ["pids", "memory"]) {
                let controllers = ["pids", "memory", "cpu"].filter(available.contains)
                if let base = v2Base(mount: mount, own: path, controllers: controllers) {
                    return (Cgroups(kind: .v2, bases: ["": base], missing: available.contains("cpu") ? [] : ["cpu"]), "")
                }
            }
        }
        var bases: [String: String] = [:]
        for controller in ["pids", "memory", "cpu", "cpuacct"] {
            guard let mount = mounts[controller] else { continue }
            let parent = "\(mount)\(own[controller] ?? "/")".replacingOccurrences(of: "//", with: "/")
            removeStale(in: parent)
            let base = (parent as NSString).appendingPathComponent("mlagent-\(getpid())")
            if mkdir(base, 0o755) == 0 || errno == EEXIST { bases[controller] = base }
        }
        guard bases["pids"] != nil, bases["memory"] != nil else {
            for base in bases.values { rmdir(base) }
            return (nil, "no writable cgroup with the pids and memory controllers (run under systemd with Delegate=yes, or as root)")
        }
        return (Cgroups(kind: .v1, bases: bases, missing: ["cpu", "cpuacct"].filter { bases[$0] == nil }), "")
    }

    /// The daemon's own cgroup when delegated (it moves into `daemon/` to leave room for
    /// children), else `<mount>/mlagent-<pid>`; both with the controllers enabled for children.
    private static func v2Base(mount: String, own: String, controllers: [String]) -> String? {
        let enable = controllers.map { "+\($0)" }.joined(separator: " ")
        let ownDir = mount + (own == "/" ? "" : own)
        if own != "/", access(ownDir + "/cgroup.procs", W_OK) == 0 {
            var base = ownDir
            if (base as NSString).lastPathComponent == "daemon" { base = (base as NSString).deletingLastPathComponent }
            let leaf = base + "/daemon"
            if mkdir(leaf, 0o755) == 0 || errno == EEXIST, write("0", to: leaf + "/cgroup.procs"),
                write(enable, to: base + "/cgroup.subtree_control")
            {
                return base
            }
        }
        _ = write(enable, to: mount + "/cgroup.subtree_control")
        removeStale(in: mount)
        let base = "\(mount)/mlagent-\(getpid())"
        guard mkdir(base, 0o755) == 0 || errno == EEXIST, write(enable, to: base + "/cgroup.subtree_control") else {
            rmdir(base)
            return nil
        }
        return base
    }

    /// Removes the empty subtrees of daemons that are gone.
    private static func removeStale(in mount: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: mount)) ?? [] where name.hasPrefix("mlagent-") {
            guard let pid = Int32(name.dropFirst(8)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let base = "\(mount)/\(name)"
            for child in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where child.hasPrefix("job-") || child.hasPrefix("replay-") {
                rmdir("\(base)/\(child)")
            }
            rmdir(base)
        }
    }

    /// Creates `job-<id>` with its limits (an existing one, from a crashed attempt, is emptied first).
    func create(jobID: Int64, limits: Limits) throws -> JobCgroup {
        try create(leaf: "job-\(jobID)", limits: limits)
    }

    /// Creates the cgroup `leaf` (`job-<id>`, `replay-<id>`) with its limits.
    func create(leaf: String, limits: Limits) throws -> JobCgroup {
        let cgroup = JobCgroup(kind: kind, dirs: bases.mapValues { "\($0)/\(leaf)" })
        cgroup.kill()
        cgroup.remove()
        for dir in Set(cgroup.dirs.values) where mkdir(dir, 0o755) != 0 {
            let problem = String(cString: strerror(errno))
            cgroup.remove()
            throw CgroupError("cannot create the cgroup \(dir): \(problem)")
        }
        var settings: [(String, String, String)]
        switch kind {
        case .v2:
            settings = [
                ("", "pids.max", String(limits.maxProcesses)),
                ("", "memory.max", limits.maxMemory == 0 ? "max" : String(limits.maxMemory)),
                ("", "memory.swap.max", limits.maxMemory == 0 ? "max" : "0"),
                ("", "cpu.weight", String(limits.cpuWeight)),
            ]
        case .v1:
            settings = [("pids", "pids.max", String(limits.maxProcesses)), ("cpu", "cpu.shares", String(max(2, limits.cpuWeight * 1024 / 100)))]
            if limits.maxMemory > 0 {
                settings += [
                    ("memory", "memory.limit_in_bytes", String(limits.maxMemory)),
                    ("memory", "memory.memsw.limit_in_bytes", String(limits.maxMemory)),
                ]
            }
        }
        for (controller, file, value) in settings {
            guard let dir = cgroup.dirs[controller] else { continue }
            let path = "\(dir)/\(file)"
            // Optional files (swap accounting, cpu) may be absent; the limits that matter may not.
            if !Self.write(value, to: path), ["pids.max", "memory.max", "memory.limit_in_bytes"].contains(file) {
                cgroup.remove()
                throw CgroupError("cannot set \(path) to \(value): \(String(cString: strerror(errno)))")
            }
        }
        return cgroup
    }

    /// The job's cgroup of a running agent (after a daemon restart), from its `/proc/PID/cgroup`.
    static func adopt(pid: Int32, jobID: Int64) -> JobCgroup? {
        let own = ownCgroups(of: "/proc/\(pid)/cgroup")
        let mounts = mountPoints()
        let leaf = "job-\(jobID)"
        if let path = own[""], path.hasSuffix("/" + leaf), let mount = mounts["cgroup2"] {
            return JobCgroup(kind: .v2, dirs: ["": mount + path])
        }
        var dirs: [String: String] = [:]
        for controller in ["pids", "memory", "cpu", "cpuacct"] {
            if let path = own[controller], path.hasSuffix("/" + leaf), let mount = mounts[controller] { dirs[controller] = mount + path }
        }
        return dirs["pids"] == nil ? nil : JobCgroup(kind: .v1, dirs: dirs)
    }

    /// Mount points by filesystem (`cgroup2`) or v1 controller, from `/proc/self/mountinfo`.
    static func mountPoints() -> [String: String] {
        var result: [String: String] = [:]
        for line in (read("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            guard fields.count > 4, tail.count >= 3 else { continue }
            let point = String(fields[4])
            if tail[0] == "cgroup2" {
                if result["cgroup2"] == nil { result["cgroup2"] = point }
            } else if tail[0] == "cgroup" {
                for option in tail[2].split(separator: ",") where result[String(option)] == nil { result[String(option)] = point }
            }
        }
        return result
    }

    /// A process's cgroup paths by v1 controller, `""` for the v2 hierarchy.
    static func ownCgroups(of file: String = "/proc/self/cgroup") -> [String: String] {
        var result: [String: String] = [:]
        for line in (read(file) ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                result[""] = String(parts[2])
            } else {
                for controller in parts[1].split(separator: ",") { result[String(controller)] = String(parts[2]) }
            }
        }
        return result
    }

    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// One `write(2)` of `value`, as cgroupfs wants; false (errno set) when refused.
    @discardableResult
    static func write(_ value: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}

struct CgroupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

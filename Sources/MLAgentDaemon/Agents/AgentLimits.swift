import Foundation
import Logging
import MLAgentProtocol

/// The scheduler's resource policy: each agent in its own cgroup with its profile's limits when
/// the daemon has cgroups (``Cgroups``), else rlimits, which leave some of them unenforced
/// (said once in the log and in each job's events); limits hit while it runs, and what it used.
struct AgentLimits: Sendable {
    let cgroups: Cgroups?
    /// Why there are no cgroups (empty when there are).
    let unavailable: String

    static func detect(logger: Logger) -> AgentLimits {
        let (cgroups, reason) = Cgroups.detect()
        let limits = AgentLimits(cgroups: cgroups, unavailable: reason)
        if let cgroups {
            var metadata: Logger.Metadata = ["kind": "\(cgroups.kind.rawValue)", "base": "\(cgroups.bases.values.sorted())"]
            if !cgroups.missing.isEmpty { metadata["missing"] = "\(cgroups.missing.joined(separator: ", "))" }
            logger.info("agents run in their own cgroups", metadata: metadata)
        } else {
            logger.warning("agents' limits fall back to rlimits", metadata: ["not_enforced": "\(limits.notEnforced)"])
        }
        return limits
    }

    /// What rlimits cannot enforce, for the log and the job's events.
    var notEnforced: String {
        var lost = ["max_memory (RLIMIT_DATA bounds each process's data, not the agent's total)", "cpu_weight"]
        if getuid() == 0 { lost.insert("max_processes (a root daemon's agents are exempt from RLIMIT_NPROC)", at: 0) }
        if AgentConfinement.prlimitPath == nil { lost = ["max_processes", "max_memory", "cpu_weight (prlimit is not installed)"] }
        return "\(unavailable); not enforced: \(lost.joined(separator: ", ")); processes left behind end with the sandbox's pid namespace"
    }

    /// The confinement of a new agent and its cgroup (created with the profile's limits).
    func confine(jobID: Int64, profile: AgentProfile) throws -> (AgentConfinement, JobCgroup?) {
        guard let cgroups else {
            return (AgentConfinement(rlimitProcesses: profile.maxProcesses, rlimitDataBytes: profile.maxMemory == 0 ? nil : profile.maxMemory), nil)
        }
        let cgroup = try cgroups.create(
            jobID: jobID,
            limits: .init(maxProcesses: profile.maxProcesses, maxMemory: profile.maxMemory, cpuWeight: profile.cpuWeight))
        return (AgentConfinement(procsFiles: cgroup.procsFiles), cgroup)
    }

    /// A limit the agent hit since `seen`: its name (the profile key), and the reason it is stopped.
    struct Hit: Sendable {
        var limit: String
        var value: String
        var reason: String
    }

    static func hits(_ now: JobCgroup.Events, since seen: JobCgroup.Events, profile: AgentProfile?) -> [Hit] {
        var hits: [Hit] = []
        if now.pidsMax > seen.pidsMax {
            let cap = profile.map { String($0.maxProcesses) } ?? "?"
            hits.append(Hit(
                limit: "max_processes", value: cap,
                reason: "the agent reached its process limit (max_processes = \(cap)): \(Self.count(now.pidsMax, "fork")) refused"))
        }
        if now.oomKills > seen.oomKills {
            let cap = profile.map { Self.size($0.maxMemory) } ?? "?"
            hits.append(Hit(
                limit: "max_memory", value: cap,
                reason: "the agent reached its memory limit (max_memory = \(cap)): \(Self.count(now.oomKills, "process", plural: "processes")) killed by the OOM killer"))
        }
        return hits
    }

    static func count(_ n: Int64, _ noun: String, plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }

    /// "4G", "512M" or bytes, as profiles write them.
    static func size(_ bytes: UInt64) -> String {
        for (unit, scale) in [("T", UInt64(1) << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
        where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return String(bytes)
    }

    /// What the agent used, then every process left in its cgroup killed and the cgroup removed
    /// (in the background: the kernel refuses while processes are still exiting).
    static func finish(_ cgroup: JobCgroup?) -> AgentResources {
        guard let cgroup else { return AgentResources(enforcement: "rlimits") }
        let resources = cgroup.usage()
        cgroup.kill()
        Task.detached { cgroup.remove(waiting: true) }
        return resources
    }
}

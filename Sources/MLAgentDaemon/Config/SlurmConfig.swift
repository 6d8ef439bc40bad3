import Foundation
import TOMLKit

/// `[slurm]`: how agents whose profile says `executor = "slurm"` are submitted and tracked.
public struct SlurmConfig: Sendable, Equatable {
    public var partition = ""
    public var account = ""
    public var qos = ""
    /// The generic resources of each job, e.g. `gpu:1`.
    public var gres = ""
    public var cpusPerTask = 1
    /// Memory per job as Slurm takes it (`16G`); empty: the partition's default.
    public var mem = ""
    /// The time limit; nil: the profile's timeout.
    public var time: Duration?
    public var extraArgs: [String] = []
    /// Jobs on the cluster at once (the local pool is `max_agents`).
    public var maxJobs = 4
    /// How often one `squeue` call reads the state of every job.
    public var pollInterval: Duration = .seconds(10)
    /// A directory on the cluster's shared filesystem for the jobs' worktrees, homes and logs.
    public var worktreeRoot = ""
    public var sbatch = "sbatch"
    public var squeue = "squeue"
    public var sacct = "sacct"
    public var scancel = "scancel"

    public init() {}

    static let keys: Set<String> = [
        "partition", "account", "qos", "gres", "cpus_per_task", "mem", "time", "extra_args", "max_jobs", "poll_interval",
        "worktree_root", "sbatch", "squeue", "sacct", "scancel",
    ]

    /// The time limit for `timeout` as `sbatch --time` takes it: whole minutes, rounded up.
    func timeLimit(profileTimeout: Duration) -> String {
        let seconds = (time ?? profileTimeout).components.seconds
        return String(max(1, (seconds + 59) / 60))
    }

    /// Why the state directory may not be used with a Slurm profile, if it may not: it holds the
    /// targets, and nothing under `worktree_root` is hidden from the cluster's nodes.
    static func stateProblem(stateDir: String, worktreeRoot: String) -> String? {
        func resolved(_ path: String) -> String {
            let standard = (path as NSString).standardizingPath
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: standard)).map { ($0 as NSString).standardizingPath }
                ?? URL(fileURLWithPath: standard).resolvingSymlinksInPath().path
        }
        guard !worktreeRoot.isEmpty else {
            return "a profile with executor = \"slurm\" needs [slurm] worktree_root, a directory on the cluster's shared filesystem"
        }
        guard worktreeRoot.hasPrefix("/") else { return "slurm.worktree_root = \"\(worktreeRoot)\" must be an absolute path" }
        let state = resolved(stateDir)
        let root = resolved(worktreeRoot)
        if state == root || state.hasPrefix(root + "/") {
            return "the state directory \(stateDir) is under slurm.worktree_root (\(worktreeRoot)), which the cluster's jobs can read: it holds the targets; move one of them"
        }
        if root.hasPrefix(state + "/") {
            return "slurm.worktree_root (\(worktreeRoot)) is inside the state directory \(stateDir), which agents must never see; put it on the cluster's shared filesystem elsewhere"
        }
        return nil
    }
}

extension SlurmConfig {
    /// Reads `[slurm]` over `base`.
    static func read(_ slurm: TOMLTable, reader: ConfigLoader.Reader, base: SlurmConfig) throws -> SlurmConfig {
        var config = base
        for (key, path) in [("partition", \SlurmConfig.partition), ("account", \.account), ("qos", \.qos), ("gres", \.gres), ("mem", \.mem)] {
            if let v = try reader.string(slurm, "slurm.\(key)") { config[keyPath: path] = v }
        }
        for (key, path) in [("sbatch", \SlurmConfig.sbatch), ("squeue", \.squeue), ("sacct", \.sacct), ("scancel", \.scancel)] {
            if let v = try reader.string(slurm, "slurm.\(key)") {
                guard !v.isEmpty else { throw ConfigError("\(reader.source): slurm.\(key) must name the \(key) program") }
                config[keyPath: path] = v
            }
        }
        if let v = try reader.string(slurm, "slurm.worktree_root") { config.worktreeRoot = (v as NSString).standardizingPath }
        if let v = try reader.int(slurm, "slurm.cpus_per_task", range: 1...4096) { config.cpusPerTask = v }
        if let v = try reader.int(slurm, "slurm.max_jobs", range: 1...100_000) { config.maxJobs = v }
        if let v = try reader.duration(slurm, "slurm.poll_interval") {
            guard v >= .milliseconds(100) else { throw ConfigError("\(reader.source): slurm.poll_interval must be at least 100ms") }
            config.pollInterval = v
        }
        if let v = try reader.duration(slurm, "slurm.time") { config.time = v }
        if let v = try reader.strings(slurm, "slurm.extra_args") { config.extraArgs = v }
        return config
    }
}

import Foundation

/// How an agent's first process confines itself before it execs the sandbox: it raises its own
/// `oom_score_adj` (inherited by every child, so the OOM killer picks agents before the
/// daemon), joins its job's cgroup (so not one fork happens outside it), or, with no cgroup,
/// takes rlimits through `prlimit`.
struct AgentConfinement: Sendable, Equatable {
    /// The `cgroup.procs` files to join.
    var procsFiles: [String] = []
    /// RLIMIT_NPROC and RLIMIT_DATA, when no cgroup bounds the agent.
    var rlimitProcesses: Int?
    var rlimitDataBytes: UInt64?
    var oomScoreAdj = AgentConfinement.agentOOMScoreAdj

    /// Agents' `oom_score_adj`: well above the daemon's (the service unit sets -500).
    static let agentOOMScoreAdj = 500

    static let prlimitPath: String? = ["/usr/bin/prlimit", "/bin/prlimit"].first { access($0, X_OK) == 0 }

    /// The wrapper's script: `$1` oom_score_adj, then `cgroup.procs` files up to `--`, then argv.
    static let script = """
        echo "$1" > /proc/self/oom_score_adj 2>/dev/null; shift
        while [ "$1" != -- ]; do
          echo $$ > "$1" || { echo "mlagent: cannot join the cgroup ($1)" >&2; exit 125; }
          shift
        done
        shift
        exec "$@"
        """

    /// `argv` run through the wrapper (and `prlimit` when rlimits apply).
    func wrap(_ argv: [String]) -> [String] {
        var command = argv
        var limits: [String] = []
        if let rlimitProcesses { limits.append("--nproc=\(rlimitProcesses)") }
        if let rlimitDataBytes { limits.append("--data=\(rlimitDataBytes)") }
        if !limits.isEmpty, let prlimit = Self.prlimitPath { command = [prlimit] + limits + ["--"] + command }
        return ["/bin/sh", "-c", Self.script, "mlagent-confine", String(oomScoreAdj)] + procsFiles + ["--"] + command
    }
}

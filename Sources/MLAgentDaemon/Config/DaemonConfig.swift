import Foundation
public import Logging
public import MLAgentStore
public import MLAgentEval
public import MLAgentProtocol

/// Everything `mlagentd` can be told. The defaults here are the embedded defaults, and
/// `config/mlagentd.toml` documents every key with exactly these values (a test keeps the two
/// in step). Relative paths are resolved against the daemon's working directory.
public struct DaemonConfig: Sendable, Equatable {
    // [daemon]
    public var socketPath = ".mlagent/mlagentd.sock"
    public var stateDir = ".mlagent"
    /// Empty means `<state_dir>/workspace`.
    public var workspace = ""
    public var socketMode: UInt32 = 0o660
    public var maxLineBytes = 1 << 20
    public var idleTimeout: Duration = .seconds(600)
    /// Connection caps: all connections, per agent (job), per local user, and the share of
    /// `total` that agents together can never take.
    var connectionLimits = ConnectionLimits(total: 4096, perAgent: 64, perUser: 256, operatorReserve: 64)
    public var subscriberBuffer = 1024
    public var statusInterval: Duration = .seconds(2)
    public var logLevel: Logger.Level = .info
    public var logTarget: LogTarget = .auto
    /// The TCP+TLS listener for agents on other machines (`listen = "HOST:PORT"`); nil: off.
    public var listen: ListenAddress?
    /// PEM certificate (chain) and key of the TLS listener; empty: a self-signed pair generated
    /// in `<state_dir>/tls`.
    public var tlsCert = ""
    public var tlsKey = ""
    /// The host name agents on other machines reach the daemon by; empty: this machine's hostname.
    public var advertise = ""
    /// A file holding the secret that makes a request over TCP an operator call; empty: none.
    public var operatorTokenFile = ""
    // [store]
    public var synchronous: AppDatabase.Synchronous = .full
    /// The dataset a new workspace is created from (`*_y.csv` go to the state directory).
    public var dataDir = "data"
    /// A git remote (name or URL) that receives `main` after every landing; empty: none.
    public var pushRemote = ""
    /// Where the prompt templates (experiment-runner.md, submit.md) live.
    public var promptsDir = "config/prompts"
    /// Where bundled agent programs live (`{agents_dir}` in profiles): the reference agent is
    /// `<agents_dir>/baseline/agent.py`.
    public var agentsDir = "agents"
    /// The Python interpreter of bundled agents (`{python}` in profiles); a path with a `/` is
    /// resolved like the other paths, a bare name is looked up on PATH.
    public var python = ".venv/bin/python"
    // [scheduler]
    public var maxAgents = 3
    public var defaultAgent = "command"
    /// Cap on directions started autonomously (`autonomy = "auto"`).
    public var maxDirections = 6
    public var autonomy: Autonomy = .manual
    /// Attempts per job before it fails for good.
    public var maxAttempts = 2
    /// Kill an agent that made no protocol call for this long.
    public var stallTimeout: Duration = .seconds(1800)
    /// Between SIGTERM and SIGKILL of an agent's process group.
    public var killGrace: Duration = .seconds(10)
    /// GPU ids; each concurrent agent gets one slot through CUDA_VISIBLE_DEVICES.
    public var gpus: [String] = []
    /// No new job starts, and running agents are stopped (`cost_cap`), once every job's cost
    /// together reaches this many dollars; 0: no cap.
    public var maxSessionCostUSD = 0.0
    // [sandbox]
    public var sandbox: SandboxMode = .bwrap
    /// Host paths every agent's sandbox shows read-only besides the system directories (with
    /// each profile's own `ro_paths`).
    public var sandboxROPaths: [String] = []
    // [evaluation]
    /// The metric predictions are scored with (its direction of "better" is implied).
    public var metric: EvalMetric = .rocAUC
    /// Public evaluations allowed per direction.
    public var publicEvalBudget = 100
    /// The smallest gap flagged `overfit`, per metric (`overfit_gap`): a submission is flagged
    /// when its gap exceeds both the noise margin of its two bootstrap intervals and this.
    public var overfitGaps: [EvalMetric: GapFloor] = DaemonConfig.defaultOverfitGaps
    /// Bootstrap resamples behind each score's 95% interval (0: no interval).
    public var bootstrapSamples = 1000
    /// How the private split is scored: by replaying the run's saved model (`replay`), or from
    /// the agent's own predictions file (`predictions`, marked `agent-predicted`).
    public var submitMode: SubmitMode = .replay
    /// The scorer's limits: wall-clock time and memory for loading the model and predicting
    /// both splits.
    public var replayTimeout: Duration = .seconds(600)
    public var replayMaxMemory: UInt64 = 4 << 30

    public enum SubmitMode: String, Sendable, CaseIterable {
        case replay, predictions
    }
    // [slurm]
    public var slurm = SlurmConfig()
    // [shared]
    /// Who approves proposals of shared code that passed their tests: the operator, a reviewer
    /// agent (`sharedReviewer`'s profile) or nobody (`tests`: what passes lands).
    public var sharedReview: Store.ShareReviewMode = .operator
    public var sharedReviewer = ""
    /// The wall-clock limit of one run of a proposal's tests (all modules' tests together).
    public var sharedTestTimeout: Duration = .seconds(300)
    /// Largest artifact (file or directory) an agent may upload.
    public var maxArtifactBytes: Int64 = 1 << 30
    /// Artifacts of a run up to this size are copied into `mlruns/` on main; larger ones stay
    /// in the daemon's artifact store and are listed in `run.json`.
    public var landArtifactBytes: Int64 = 100 << 20
    /// What the artifacts of one direction may add to `main` in all (runs beyond it keep their
    /// artifacts in the store, listed in `run.json`).
    public var landDirectionArtifactBytes: Int64 = 250 << 20
    /// Totals of the artifact store per job, per direction and in all (`max_*_artifact_bytes`,
    /// `max_*_artifact_files`).
    public var artifactQuota = ArtifactQuota(
        job: .init(bytes: 4 << 30, files: 200_000), direction: .init(bytes: 8 << 30, files: 400_000),
        store: .init(bytes: 100 << 30, files: 5_000_000))
    // [mlflow]
    /// The MLflow tracking server every run is mirrored to; empty: no mirror.
    public var mlflowTrackingURI = ""
    /// Run `mlflow server` as a child at `tracking_uri` (which must then be http://127.0.0.1:PORT).
    public var mlflowServe = false
    /// The `mlflow` executable for `serve` (a path with a "/" is resolved like other paths).
    public var mlflowCommand = ".venv/bin/mlflow"
    /// The MLflow experiment the runs go to; empty: one per workspace, named after it.
    public var mlflowExperiment = ""
    // [agents.NAME]
    public var agents: [String: AgentProfile] = DaemonConfig.builtinAgents

    public enum Autonomy: String, Sendable, CaseIterable {
        /// Run only enqueued jobs.
        case manual
        /// Keep the pool full with agent-picks jobs until `max_directions`.
        case auto
        /// After each finished direction, launch nothing autonomous until `mlagentctl continue`.
        case ask
    }

    public enum SandboxMode: String, Sendable, CaseIterable {
        case bwrap
        case none
    }

    public enum LogTarget: String, Sendable, CaseIterable {
        /// journald when stderr is connected to the journal (as under systemd), else stderr.
        case auto
        case journal
        case stderr
    }

    public init() {}

    /// The profiles every daemon knows; `[agents.NAME]` tables add to or replace them.
    public static let builtinAgents: [String: AgentProfile] = [
        "claude": AgentProfile(
            command: ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose",
                      "--dangerously-skip-permissions", "--mcp-config", MCPConfigFile.placeholder,
                      "--allowedTools", MCPConfigFile.allowedTools],
            timeout: .seconds(7200), usage: .claudeStreamJSON, pricePerMTok: .claudeSonnet,
            homeFiles: ["~/.claude/.credentials.json"]),
        "codex": AgentProfile(
            command: ["codex", "exec", "--json", "--full-auto", "--skip-git-repo-check", "{prompt}"],
            timeout: .seconds(7200), usage: .codexJSON, pricePerMTok: .gpt5,
            homeFiles: ["~/.codex/auth.json", "~/.codex/config.toml"]),
        "cursor": AgentProfile(
            command: ["cursor-agent", "-p", "{prompt}", "--output-format", "stream-json", "--force"],
            timeout: .seconds(7200), homeFiles: ["~/.cursor/cli-config.json", "~/.config/cursor/auth.json"]),
        // mini-swe-agent (PyPI mini-swe-agent): unattended, its own cost limit off (max_cost_usd
        // is the cap), an hour per command, its trajectory (the exact tokens and cost the daemon
        // reads when it ends) in the job's home; MSWEA_CONFIGURED skips its first-run setup.
        "mini": AgentProfile(
            command: ["mini", "--yolo", "--exit-immediately", "--cost-limit", "0", "-c", "mini.yaml",
                      "-c", "environment.timeout=3600", "--task", "{prompt}", "-o", "{home}/mini.traj.json"],
            timeout: .seconds(7200), environment: ["MSWEA_CONFIGURED": "true"], usage: .miniSWEAgent),
        "command": AgentProfile(command: ["sh", "{worktree}/agent.sh"], timeout: .seconds(3600)),
        "baseline": AgentProfile(command: ["{python}", "{agents_dir}/baseline/agent.py"], timeout: .seconds(1200)),
    ]

    /// Each metric's documented default `overfit_gap` (see ``GapFloor/defaults``).
    public static let defaultOverfitGaps: [EvalMetric: GapFloor] = Dictionary(
        uniqueKeysWithValues: EvalMetric.allCases.map { ($0, GapFloor.defaults[$0.rawValue] ?? .absolute(0)) })

    /// The evaluation settings the store applies.
    public var evaluationPolicy: EvaluationPolicy {
        EvaluationPolicy(
            metric: metric.rawValue, higherIsBetter: metric.higherIsBetter, publicEvalBudget: publicEvalBudget,
            overfitFloor: overfitGaps[metric] ?? GapFloor.defaults[metric.rawValue] ?? .absolute(0))
    }

    /// The socket agents reach the daemon through in the sandbox: in a directory of its own
    /// (`<state_dir>/run`), which the sandbox shows, so that a restarted daemon's new socket is
    /// seen by agents that outlived the old one. Nil without a sandbox, or when the path is too
    /// long for a Unix socket (agents then get the control socket itself).
    public var agentSocketPath: String? {
        guard sandbox == .bwrap else { return nil }
        let path = (stateDir as NSString).appendingPathComponent("run/agents.sock")
        return path.utf8.count <= 107 ? path : nil
    }

    /// The host agents on other machines use: `advertise`, else this machine's hostname.
    public var advertisedHost: String {
        if !advertise.isEmpty { return advertise }
        var name = [UInt8](repeating: 0, count: 256)
        let status = name.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { gethostname($0.baseAddress!, $0.count - 1) }
        }
        guard status == 0 else { return "localhost" }
        let host = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        return host.isEmpty ? "localhost" : host
    }

    /// Absolute path of the SQLite database inside the state directory.
    public var databasePath: String { (stateDir as NSString).appendingPathComponent("mlagentd.sqlite3") }
}

/// Parses `"500ms"`, `"30s"`, `"10m"`, `"2h"`, `"1d"` or a bare number of seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Double(number), value >= 0, value.isFinite {
                return .milliseconds(Int64((value * scale * 1000).rounded()))
            }
            if suffix == "ms" { return nil }
        }
        if let value = Double(trimmed), value >= 0, value.isFinite {
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        return nil
    }

    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 86_400_000 == 0, ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension DaemonConfig {
    /// The same configuration with every relative path made absolute against `directory`.
    public func resolvingPaths(against directory: String) -> DaemonConfig {
        func absolute(_ path: String) -> String {
            let expanded = (path as NSString).expandingTildeInPath
            let joined = expanded.hasPrefix("/") ? expanded : (directory as NSString).appendingPathComponent(expanded)
            return (joined as NSString).standardizingPath
        }
        var copy = self
        copy.socketPath = absolute(socketPath)
        copy.stateDir = absolute(stateDir)
        copy.workspace = workspace.isEmpty
            ? (copy.stateDir as NSString).appendingPathComponent("workspace") : absolute(workspace)
        copy.dataDir = absolute(dataDir)
        copy.promptsDir = absolute(promptsDir)
        copy.agentsDir = absolute(agentsDir)
        if python.contains("/") { copy.python = absolute(python) }
        if mlflowCommand.contains("/") { copy.mlflowCommand = absolute(mlflowCommand) }
        if !tlsCert.isEmpty { copy.tlsCert = absolute(tlsCert) }
        if !tlsKey.isEmpty { copy.tlsKey = absolute(tlsKey) }
        if !operatorTokenFile.isEmpty { copy.operatorTokenFile = absolute(operatorTokenFile) }
        return copy
    }
}

/// How to run one kind of agent. `command` is argv in which `{prompt}`, `{prompt_file}`,
/// `{worktree}`, `{home}` (the job's private home, `<state_dir>/logs/job-N.home`, its `HOME`),
/// `{job_id}`, `{direction}`, `{agents_dir}`, `{python}` and `{mcp_config}` (the job's generated
/// MCP configuration, see `MCPConfigFile`) are replaced at launch.
public struct AgentProfile: Sendable, Equatable {
    public var command: [String]
    public var timeout: Duration
    public var environment: [String: String]
    /// How the agent's output tells its tokens and cost (`usage`).
    public var usage: UsageFormat
    /// Prices of the profile's model, for estimates until the CLI reports its own figure.
    public var pricePerMTok: PricePerMTok?
    /// The agent is stopped (`cost_cap`) once its job costs this many dollars; 0: no cap.
    public var maxCostUSD: Double
    /// Resource limits of the agent's cgroup (`max_processes`, `max_memory` in bytes, 0: none,
    /// and `cpu_weight`, 1 to 10000), or rlimits where no cgroup is available.
    public var maxProcesses = AgentProfile.defaultMaxProcesses
    public var maxMemory = AgentProfile.defaultMaxMemory
    public var cpuWeight = AgentProfile.defaultCPUWeight
    /// Host paths the sandbox shows read-only besides the system directories (`ro_paths`).
    public var roPaths: [String] = []
    /// Files of the daemon user's home (`~/.codex/auth.json`) shown read-only at the same place in
    /// the job's private home (`home_files`); missing ones are skipped.
    public var homeFiles: [String] = []
    /// Where the agent runs: a local process, or a Slurm job (`[slurm]`).
    public var executor = Executor.local

    public enum Executor: String, Sendable {
        case local, slurm
    }

    public static let defaultMaxProcesses = 2048
    public static let defaultMaxMemory: UInt64 = 8 << 30
    public static let defaultCPUWeight = 100

    public init(
        command: [String], timeout: Duration, environment: [String: String] = [:], usage: UsageFormat = .none,
        pricePerMTok: PricePerMTok? = nil, maxCostUSD: Double = 0, homeFiles: [String] = []
    ) {
        self.homeFiles = homeFiles
        self.command = command
        self.timeout = timeout
        self.environment = environment
        self.usage = usage
        self.pricePerMTok = pricePerMTok
        self.maxCostUSD = maxCostUSD
    }
}

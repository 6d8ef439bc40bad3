import Foundation

/// The sandbox a replayed model runs in: bubblewrap with every namespace of its own (no
/// network: only a loopback nobody listens on), no capabilities, the system directories and the
/// configured Python read-only, the model read-only at ``modelPath``, the two feature files
/// read-only under ``dataPath`` (never the targets, the daemon's state or the rest of the data
/// directory), the scorer's output directory as the only writable place besides a private
/// `/tmp`, and no socket of the daemon's.
struct ScorerSandbox: Sendable {
    static let root = "/replay"
    static let modelPath = root + "/model"
    static let dataPath = root + "/data"
    static let outPath = root + "/out"
    static let scriptPath = root + "/" + ReplayScript.fileName

    var config: DaemonConfig
    /// The stored model directory, the replay's output directory and the script.
    var model: String
    var out: String
    var script: String
    /// (split name, feature file on the host).
    var features: [(name: String, path: String)]

    /// The scorer's argv inside the sandbox (or on the host without one).
    func scorerArgv(mode: String, sandboxed: Bool) -> [String] {
        let splits = features.map { "\($0.name)=\(sandboxed ? "\(Self.dataPath)/\($0.name)_X.csv" : $0.path)" }
        return [
            config.python, "-I", sandboxed ? Self.scriptPath : script, "--model", sandboxed ? Self.modelPath : model,
            "--out", sandboxed ? Self.outPath : out, "--mode", mode,
        ] + splits
    }

    /// The whole command: bwrap's arguments, then the scorer.
    func argv(mode: String) -> [String] {
        var arguments = Self.isolated(config: config, hostname: "mlagent-replay")
        arguments += ["--ro-bind", model, Self.modelPath, "--ro-bind", script, Self.scriptPath]
        for feature in features {
            arguments += ["--ro-bind", feature.path, "\(Self.dataPath)/\(feature.name)_X.csv"]
        }
        arguments += ["--bind", out, Self.outPath, "--remount-ro", "/", "--chdir", Self.outPath]
        return arguments + ["--"] + scorerArgv(mode: mode, sandboxed: true)
    }

    /// bubblewrap with every namespace unshared and no capabilities, over the agents' base:
    /// the system directories, the Python mounted back, the state and data hidden; none of an
    /// agent's worktree, home, socket or mlagentctl, and no resolver. A child that needs a GPU
    /// sees the GPUs agents see (`CUDA_VISIBLE_DEVICES` in ``environment(config:)``).
    static func isolated(config: DaemonConfig, hostname: String) -> [String] {
        let (uid, gid) = AgentLauncher.sandboxIDs
        var arguments = [
            AgentLauncher.bwrapPath, "--unshare-all", "--unshare-user", "--uid", String(uid), "--gid", String(gid), "--cap-drop", "ALL",
            "--new-session", "--die-with-parent", "--hostname", hostname,
        ]
        if AgentLauncher.bwrapDisablesUserns { arguments.append("--disable-userns") }
        let view = SandboxView(
            stateDir: config.stateDir, dataDir: config.dataDir, workspaceGitDir: "", socketPath: "", worktree: "/nonexistent",
            home: "/nonexistent", roPaths: config.sandboxROPaths, needs: SandboxPaths.program(config.python), mlagentctl: "")
        return arguments + view.baseArguments(gpuDevices: AgentLauncher.gpuDevices(), resolver: false)
    }

    /// The scorer's environment: nothing of the daemon's but a plain `PATH` and locale, and the
    /// first of the scheduler's GPUs.
    static func environment(config: DaemonConfig) -> [String: String] {
        var environment = baseEnvironment
        if let gpu = config.gpus.first { environment["CUDA_VISIBLE_DEVICES"] = gpu }
        return environment
    }

    static let baseEnvironment: [String: String] = [
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MLFLOW_TRACKING_URI": "file:///tmp/mlruns", "MLFLOW_DISABLE_AGENT_HINT": "1",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    ]
}

import Foundation
import MLAgentProtocol

/// Starts agent processes: each in its own process group, with a clean signal mask, its
/// stdout and stderr appended to a per-job log, the job's environment, and (by default)
/// inside a bubblewrap sandbox that hides the daemon's state and the dataset's targets.
struct AgentLauncher: Sendable {
    let config: DaemonConfig
    let socketPath: String
    let workspacePath: String
    let promptsDir: String

    struct Launch: Sendable {
        var job: Job
        var token: String
        var worktree: String
        var logPath: String
        var profile: AgentProfile
        var gpu: String?
    }

    /// The directory holding `mlagentctl` (installed beside `mlagentd`).
    static var binDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    /// The argv that runs the agent (sandbox wrapper included) and its environment.
    func commandLine(for launch: Launch, promptFile: String, prompt: String) -> (argv: [String], environment: [String: String]) {
        let direction = launch.job.direction
        let substitutions = [
            "{prompt}": prompt, "{prompt_file}": promptFile, "{worktree}": launch.worktree,
            "{job_id}": String(launch.job.id), "{direction}": direction,
            "{agents_dir}": config.agentsDir, "{python}": config.python,
        ]
        let agentArgv = launch.profile.command.map { argument in
            substitutions.reduce(argument) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
        }
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID",
                    "JOURNAL_STREAM", "MLAGENT_CONFIG", "INVOCATION_ID"]
        {
            environment.removeValue(forKey: key)
        }
        environment["MLAGENT_SOCKET"] = socketPath
        environment["MLAGENT_TOKEN"] = launch.token
        environment["MLAGENT_JOB_ID"] = String(launch.job.id)
        environment["MLAGENT_DIRECTION"] = direction
        environment["MLAGENT_WORKTREE"] = launch.worktree
        environment["MLAGENT_METRIC"] = config.metric.rawValue
        environment["MLAGENT_METRIC_HIGHER_IS_BETTER"] = config.metric.higherIsBetter ? "1" : "0"
        environment["MLAGENT_PUBLIC_EVAL_BUDGET"] = String(config.publicEvalBudget)
        environment["MLAGENT_TIME_BUDGET"] = String(Int(launch.profile.timeout.seconds))
        environment["MLAGENT_DEADLINE"] = String(Int(Date().timeIntervalSince1970 + launch.profile.timeout.seconds))
        environment["PATH"] = Self.binDirectory + ":" + (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        if let gpu = launch.gpu { environment["CUDA_VISIBLE_DEVICES"] = gpu }
        for (key, value) in launch.profile.environment { environment[key] = value }

        switch config.sandbox {
        case .none:
            return (["/usr/bin/env", "--chdir=\(launch.worktree)", "--"] + agentArgv, environment)
        case .bwrap:
            return (sandboxArguments(worktree: launch.worktree) + ["--"] + agentArgv, environment)
        }
    }

    /// bubblewrap: everything read-only, a private /tmp, the state and data directories
    /// replaced by empty tmpfs, then the agent's own worktree (and its git metadata, read-only)
    /// and the control socket mounted back. Devices (GPUs) and the network stay.
    func sandboxArguments(worktree: String) -> [String] {
        var arguments = [
            Self.bwrapPath, "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        ]
        var hidden: [String] = [config.stateDir]
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: config.dataDir, isDirectory: &isDirectory), isDirectory.boolValue {
            hidden.append(config.dataDir)
        }
        for path in hidden { arguments += ["--tmpfs", path] }
        // A dataset inside a git checkout (the demo's data/ in this repository) has its targets
        // and the script that made them in that repository's history: hide its git metadata.
        if let repository = Self.enclosingGitMetadata(of: config.dataDir),
            !hidden.contains(where: { repository.hasPrefix($0 + "/") })
        {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: repository, isDirectory: &isDirectory)
            arguments += isDirectory.boolValue ? ["--tmpfs", repository] : ["--ro-bind", "/dev/null", repository]
        }
        let gitDir = (workspacePath as NSString).appendingPathComponent(".git")
        if FileManager.default.fileExists(atPath: gitDir), hidden.contains(where: { gitDir.hasPrefix($0 + "/") }) {
            arguments += ["--ro-bind", gitDir, gitDir]
        }
        arguments += ["--bind", worktree, worktree]
        // mlagentctl stays reachable wherever the daemon is installed (even under /tmp).
        arguments += ["--ro-bind", Self.binDirectory, Self.binDirectory]
        // The control socket stays reachable wherever it lives (it may sit in a hidden
        // directory or under /tmp).
        arguments += ["--bind", socketPath, socketPath]
        arguments += ["--chdir", worktree]
        return arguments
    }

    /// The `.git` (directory or file) of the git checkout containing `path`, if any.
    static func enclosingGitMetadata(of path: String) -> String? {
        var directory = (path as NSString).standardizingPath
        while true {
            let candidate = (directory as NSString).appendingPathComponent(".git")
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory || parent.isEmpty { return nil }
            directory = parent
        }
    }

    static let bwrapPath: String = {
        for candidate in ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"] where access(candidate, X_OK) == 0 {
            return candidate
        }
        return "/usr/bin/bwrap"
    }()

    /// Checks that the sandbox can run here; the message says how to fix it when not.
    static func checkSandbox() -> String? {
        guard access(bwrapPath, X_OK) == 0 else {
            return "bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap) or set [sandbox] mode = \"none\""
        }
        var pid: pid_t = 0
        let argv = [bwrapPath, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
        let status = spawn(argv: argv, environment: [:], logPath: "/dev/null", pid: &pid)
        guard status == 0 else { return "cannot run bwrap: \(String(cString: strerror(status)))" }
        var exit: Int32 = 0
        while waitpid(pid, &exit, 0) < 0 && errno == EINTR {}
        if exit != 0 {
            return "bwrap cannot create a sandbox here (user namespaces disabled?): enable unprivileged user namespaces or set [sandbox] mode = \"none\""
        }
        return nil
    }

    /// Renders the prompt, writes it into the worktree, and starts the agent. Returns its pid.
    func start(_ launch: Launch) throws -> Int32 {
        let prompt = try renderPrompt(launch)
        let promptFile = (launch.worktree as NSString).appendingPathComponent(".mlagent-prompt.md")
        try prompt.write(toFile: promptFile, atomically: true, encoding: .utf8)
        let (argv, environment) = commandLine(for: launch, promptFile: promptFile, prompt: prompt)
        try FileManager.default.createDirectory(
            atPath: (launch.logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var pid: pid_t = 0
        let status = Self.spawn(argv: argv, environment: environment, logPath: launch.logPath, pid: &pid)
        guard status == 0 else {
            throw RPCError(.internalError, "cannot start agent \(argv.first ?? "?"): \(String(cString: strerror(status)))")
        }
        return pid
    }

    func renderPrompt(_ launch: Launch) throws -> String {
        var text = ""
        for name in ["experiment-runner.md", "submit.md"] {
            let path = (promptsDir as NSString).appendingPathComponent(name)
            guard let part = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError("prompt template \(path) is missing; set [daemon] prompts_dir to the directory holding experiment-runner.md and submit.md")
            }
            text += part + "\n"
        }
        let values = [
            "{job_id}": String(launch.job.id), "{direction}": launch.job.direction, "{guidance}": launch.job.guidance,
            "{worktree}": launch.worktree,
            "{branch}": launch.job.direction.isEmpty ? "exp/<the name you declare>" : "exp/\(launch.job.direction)",
            "{metric}": config.metric.rawValue,
            "{metric_direction}": config.metric.higherIsBetter ? "higher is better" : "lower is better",
            "{public_eval_budget}": String(config.publicEvalBudget),
            "{time_budget}": DurationText.format(launch.profile.timeout),
        ]
        return values.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }

    /// Sets FD_CLOEXEC on every open descriptor above stderr, so that an agent inherits none
    /// of the daemon's sockets, database files or pipes (a leaked pipe would keep a git
    /// command's output open for as long as the agent lives).
    static func markDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let fd = Int32(entry), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0, flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// posix_spawn in a new process group, with default signal dispositions and an empty
    /// signal mask (the daemon's threads block signals), stdin from /dev/null and
    /// stdout/stderr appended to `logPath`. Returns 0 or an errno.
    static func spawn(argv: [String], environment: [String: String], logPath: String, pid: inout pid_t) -> Int32 {
        markDescriptorsCloseOnExec()
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        return cArguments.withUnsafeBufferPointer { args in
            cEnvironment.withUnsafeBufferPointer { env in
                posix_spawnp(&pid, argv[0], &actions, &attributes, args.baseAddress!, env.baseAddress!)
            }
        }
    }
}

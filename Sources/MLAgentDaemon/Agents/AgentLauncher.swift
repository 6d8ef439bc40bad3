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
        /// The job's cgroup or rlimits, and the agents' OOM score.
        var confinement = AgentConfinement()
        /// The shared modules on `PYTHONPATH` and the prompt's shared-code placeholders.
        var shared = SharedPrompt.Context()
    }

    /// The directory holding `mlagentctl` (installed beside `mlagentd`).
    static var binDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    /// Where the agent finds `mlagentctl`: a fixed path inside the sandbox, the daemon's own
    /// directory without one.
    var agentBinDirectory: String { config.sandbox == .bwrap ? SandboxView.binDirectory : Self.binDirectory }

    /// The profile's argv with its placeholders filled in.
    func agentArgv(for launch: Launch, promptFile: String, prompt: String) -> [String] {
        let substitutions = [
            "{prompt}": prompt, "{prompt_file}": promptFile, "{worktree}": launch.worktree,
            "{home}": PrivateHome(logPath: launch.logPath).path,
            "{job_id}": String(launch.job.id), "{direction}": launch.job.direction,
            "{agents_dir}": config.agentsDir, "{python}": config.python,
            MCPConfigFile.placeholder: MCPConfigFile.path(worktree: launch.worktree),
        ]
        return launch.profile.command.map { Placeholders.fill($0, substitutions) }
    }

    /// The agent's environment: the daemon's, without its service variables and the places
    /// the sandbox does not show, with the job's variables, its private home and the profile's `env`.
    func environment(for launch: Launch, home: PrivateHome) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID",
                    "JOURNAL_STREAM", "MLAGENT_CONFIG", "INVOCATION_ID", "XDG_RUNTIME_DIR", "SSH_AUTH_SOCK",
                    "DBUS_SESSION_BUS_ADDRESS", "OLDPWD"]
        {
            environment.removeValue(forKey: key)
        }
        for (key, value) in home.environment { environment[key] = value }
        if config.sandbox == .bwrap { environment["TMPDIR"] = "/tmp" }
        environment["PWD"] = launch.worktree
        environment["MLAGENT_SOCKET"] = socketPath
        environment["MLAGENT_TOKEN"] = launch.token
        environment["MLAGENT_JOB_ID"] = String(launch.job.id)
        environment["MLAGENT_DIRECTION"] = launch.job.direction
        environment["MLAGENT_WORKTREE"] = launch.worktree
        environment["MLAGENT_PYTHON"] = config.python
        environment["MLAGENT_CTL"] = (agentBinDirectory as NSString).appendingPathComponent("mlagentctl")
        environment["MLAGENT_METRIC"] = config.metric.rawValue
        environment["MLAGENT_METRIC_HIGHER_IS_BETTER"] = config.metric.higherIsBetter ? "1" : "0"
        environment["MLAGENT_PUBLIC_EVAL_BUDGET"] = String(config.publicEvalBudget)
        // How the private split is scored ([evaluation] submit): `replay` or `predictions`.
        environment["MLAGENT_SUBMIT"] = config.submitMode.rawValue
        environment["MLAGENT_TIME_BUDGET"] = String(Int(launch.profile.timeout.seconds))
        environment["MLAGENT_DEADLINE"] = String(Int(Date().timeIntervalSince1970 + launch.profile.timeout.seconds))
        environment["PATH"] = agentBinDirectory + ":" + (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        if let gpu = launch.gpu { environment["CUDA_VISIBLE_DEVICES"] = gpu }
        if !launch.shared.pythonPath.isEmpty {
            environment["PYTHONPATH"] = (launch.shared.pythonPath + [environment["PYTHONPATH"]].compactMap { $0 }.filter { !$0.isEmpty })
                .joined(separator: ":")
        }
        for (key, value) in launch.profile.environment { environment[key] = value }
        return environment
    }

    /// What the sandbox of `launch` shows (nil without a sandbox).
    func view(for launch: Launch, argv: [String], home: PrivateHome, homeFiles: [(source: String, destination: String)]) -> SandboxView? {
        guard config.sandbox == .bwrap else { return nil }
        return SandboxView(
            stateDir: config.stateDir, dataDir: config.dataDir,
            workspaceGitDir: (workspacePath as NSString).appendingPathComponent(".git"), socketPath: socketPath,
            agentSocketPath: config.agentSocketPath,
            worktree: launch.worktree, home: home.path, homeFiles: homeFiles, roPaths: config.sandboxROPaths + launch.profile.roPaths,
            needs: SandboxPaths.needed(argv: argv, config: config),
            mlagentctl: (Self.binDirectory as NSString).appendingPathComponent("mlagentctl"))
    }

    /// bubblewrap: a user namespace with no capabilities and an unprivileged uid, its own pid
    /// and IPC namespaces (and `/proc`), a new session, and the filesystem of `view`: an
    /// allow-list, with a private `/dev` (GPU nodes added), `/dev/shm` and `/tmp`. The network stays.
    func sandboxArguments(_ view: SandboxView) -> [String] {
        let (uid, gid) = Self.sandboxIDs
        var arguments = [
            Self.bwrapPath, "--unshare-user", "--uid", String(uid), "--gid", String(gid), "--cap-drop", "ALL",
            "--unshare-pid", "--unshare-ipc", "--new-session",
        ]
        if Self.bwrapDisablesUserns { arguments.append("--disable-userns") }
        return arguments + view.arguments(gpuDevices: Self.gpuDevices())
    }

    /// The uid and gid agents have inside the sandbox: the daemon's own, or 1000 when the daemon
    /// is root (root's files, the worktree among them, then belong to that uid inside).
    static var sandboxIDs: (uid: UInt32, gid: UInt32) {
        getuid() == 0 ? (1000, 1000) : (getuid(), getgid())
    }

    /// GPU device nodes to pass into the sandbox: `/dev/nvidia*` (with `nvidia-caps/`),
    /// `/dev/dri` and `/dev/kfd`, where present.
    static func gpuDevices(in dev: String = "/dev") -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dev)) ?? []).sorted()
        return names.filter { $0.hasPrefix("nvidia") || $0 == "dri" || $0 == "kfd" }
            .map { (dev as NSString).appendingPathComponent($0) }
    }

    /// Whether this bwrap can forbid further user namespaces inside the sandbox (0.8 and later).
    static let bwrapDisablesUserns: Bool = {
        guard access(bwrapPath, X_OK) == 0 else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bwrapPath)
        process.arguments = ["--help"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return false }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).contains("--disable-userns")
    }()

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
        var argv = [
            bwrapPath, "--unshare-user", "--uid", String(sandboxIDs.uid), "--gid", String(sandboxIDs.gid),
            "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--new-session",
        ]
        if bwrapDisablesUserns { argv.append("--disable-userns") }
        argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/dev/shm", "--proc", "/proc", "true"]
        let status = spawn(argv: argv, environment: [:], logPath: "/dev/null", pid: &pid)
        guard status == 0 else { return "cannot run bwrap: \(String(cString: strerror(status)))" }
        var exit: Int32 = 0
        while waitpid(pid, &exit, 0) < 0 && errno == EINTR {}
        if exit != 0 {
            return "bwrap cannot create a sandbox here (it needs user, pid and IPC namespaces; are unprivileged user namespaces disabled?): enable them or set [sandbox] mode = \"none\""
        }
        return nil
    }

    /// What starts an agent: its whole argv (the sandbox's, then the agent's) and environment.
    struct Prepared: Sendable {
        var argv: [String]
        var environment: [String: String]
    }

    /// Renders the prompt, writes it into the worktree, prepares the private home and returns
    /// the command: what a local launch spawns and a Slurm job script runs.
    func prepare(_ launch: Launch) throws -> Prepared {
        let prompt = try renderPrompt(launch)
        let promptFile = (launch.worktree as NSString).appendingPathComponent(".mlagent-prompt.md")
        try prompt.write(toFile: promptFile, atomically: true, encoding: .utf8)
        try MCPConfigFile.write(for: launch.profile, worktree: launch.worktree, binDirectory: agentBinDirectory)
        try FileManager.default.createDirectory(
            atPath: (launch.logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let home = PrivateHome(logPath: launch.logPath)
        let homeFiles = try home.prepare(
            homeFiles: launch.profile.homeFiles, userHome: PrivateHome.userHome, binDirectory: agentBinDirectory,
            copyFiles: config.sandbox == .none)
        let agentArgv = agentArgv(for: launch, promptFile: promptFile, prompt: prompt)
        var environment = environment(for: launch, home: home)
        let view = view(for: launch, argv: agentArgv, home: home, homeFiles: homeFiles)
        if let view { environment["MLAGENT_SOCKET"] = view.agentSideSocket }
        if let problem = SandboxPaths.problem(argv: agentArgv, view: view, config: config) {
            Self.appendToLog(launch.logPath, "mlagentd: the agent cannot start: \(problem)\n")
            throw AgentStartError(message: problem)
        }
        let argv = view.map { sandboxArguments($0) + ["--"] + agentArgv }
            ?? ["/usr/bin/env", "--chdir=\(launch.worktree)", "--"] + agentArgv
        return Prepared(argv: argv, environment: environment)
    }

    /// Prepares and starts the agent. Returns its processes: the pid started and, in the
    /// sandbox, its init and pid namespace.
    func start(_ launch: Launch) throws -> AgentProcesses {
        let prepared = try prepare(launch)
        var argv = prepared.argv
        let environment = prepared.environment
        var info: (read: Int32, write: Int32)?
        if config.sandbox == .bwrap, argv.first == Self.bwrapPath {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else {
                throw RPCError(.internalError, "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            info = (fds[0], fds[1])
            argv.insert(contentsOf: ["--info-fd", String(Self.infoFD)], at: 1)
        }
        defer { if let info { close(info.read) } }
        argv = launch.confinement.wrap(argv)
        var pid: pid_t = 0
        let status = Self.spawn(
            argv: argv, environment: environment, logPath: launch.logPath, pid: &pid, infoFD: info?.write)
        if let info { close(info.write) }
        guard status == 0 else {
            throw RPCError(.internalError, "cannot start agent \(argv.first ?? "?"): \(String(cString: strerror(status)))")
        }
        guard let info else { return AgentProcesses(leader: pid) }
        let sandbox = Self.readInfo(info.read)
        let processes = AgentProcesses(
            leader: pid, sandboxInit: sandbox?.initPid, namespace: sandbox.map { "pid:[\($0.namespace)]" })
        try? processes.record.write(
            toFile: Self.sandboxRecordPath(logPath: launch.logPath), atomically: true, encoding: .utf8)
        return processes
    }

    /// Appends a line of the daemon's own to a job's log.
    static func appendToLog(_ path: String, _ text: String) {
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])
            return FileHandle(forWritingAtPath: path)
        }() else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(text.utf8))
    }

    /// Where a job's sandbox record is kept (beside its log, in the state directory).
    static func sandboxRecordPath(logPath: String) -> String {
        (logPath as NSString).deletingPathExtension + ".sandbox"
    }

    /// The descriptor bwrap writes its info to, in the child.
    static let infoFD: Int32 = 3

    /// Reads bwrap's `--info-fd` JSON (`child-pid`, `pid-namespace`), waiting at most 5 seconds.
    static func readInfo(_ fd: Int32) -> (initPid: Int32, namespace: UInt64)? {
        var data = Data()
        let deadline = ContinuousClock.now + .seconds(5)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !data.contains(UInt8(ascii: "}")), ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let pid = (object["child-pid"] as? NSNumber)?.int32Value,
            let namespace = (object["pid-namespace"] as? NSNumber)?.uint64Value
        else { return nil }
        return (pid, namespace)
    }

    func renderPrompt(_ launch: Launch) throws -> String {
        var text = ""
        for name in launch.job.reviewOf == nil ? ["experiment-runner.md", "submit.md"] : [SharedPrompt.reviewerTemplate] {
            let path = (promptsDir as NSString).appendingPathComponent(name)
            guard let part = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError("prompt template \(path) is missing; set [daemon] prompts_dir to the directory holding experiment-runner.md, submit.md and \(SharedPrompt.reviewerTemplate)")
            }
            text += part + "\n"
        }
        var values = [
            "{job_id}": String(launch.job.id), "{direction}": launch.job.direction, "{guidance}": launch.job.guidance,
            "{worktree}": launch.worktree,
            "{branch}": launch.job.direction.isEmpty ? "exp/<the name you declare>" : "exp/\(launch.job.direction)",
            "{metric}": config.metric.rawValue,
            "{metric_direction}": config.metric.higherIsBetter ? "higher is better" : "lower is better",
            "{target}": config.metric.targetColumnDescription, "{predictions}": config.metric.predictionDescription,
            "{public_eval_budget}": String(config.publicEvalBudget),
            "{time_budget}": DurationText.format(launch.profile.timeout),
            "{mlagentctl}": (agentBinDirectory as NSString).appendingPathComponent("mlagentctl"),
            "{submit_steps}": SubmitSteps.text(config.submitMode, predictions: config.metric.predictionDescription),
        ]
        values.merge(launch.shared.values) { _, shared in shared }
        return Placeholders.fill(text, values)
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
    static func spawn(
        argv: [String], environment: [String: String], logPath: String, pid: inout pid_t, infoFD: Int32? = nil
    ) -> Int32 {
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
        // The info pipe becomes descriptor 3 in the child (dup2 clears its close-on-exec flag).
        var high: Int32 = -1
        if let infoFD {
            high = fcntl(infoFD, F_DUPFD_CLOEXEC, 10)
            if high >= 0 { posix_spawn_file_actions_adddup2(&actions, high, Self.infoFD) }
        }
        defer { if high >= 0 { close(high) } }

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

import Foundation
public import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// Assembles and runs the daemon: state directory and lock, database and migrations, the
/// control server and the systemd notifier, until SIGTERM or SIGINT.
public enum Daemon {
    public static func run(config: DaemonConfig, logger: Logger) async throws {
        // A child (git) that exits early must not kill the daemon through a write to its pipe.
        signal(SIGPIPE, SIG_IGN)
        if config.agents.values.contains(where: { $0.executor == .slurm }),
            let problem = SlurmConfig.stateProblem(stateDir: config.stateDir, worktreeRoot: config.slurm.worktreeRoot)
        {
            throw ConfigError("cannot start with a Slurm profile: \(problem)")
        }
        try prepareDirectories(config)
        let lock = try StateLock(directory: config.stateDir)
        defer { lock.release() }
        // Targets that do not fit the metric stop the daemon here, before anything is recorded
        // or a workspace is created from them; agents never read a statement about the targets.
        let targets = try TargetCheck.verify(
            metric: config.metric, targetsDir: (config.stateDir as NSString).appendingPathComponent("targets"),
            dataDir: config.dataDir, logger: logger)

        // The TCP listener's certificate and the operator's secret: problems stop the daemon here.
        let identity = try config.listen.map { _ in try TLSIdentity.prepare(config: config) }
        let remoteAccess = config.listen == nil ? RemoteAccess() : try RemoteAccess.load(config: config)

        let source: ListenSource
        if let activated = try SocketActivation.unixSocket() {
            source = .activated(fd: activated.fd, path: activated.path)
        } else {
            try ensureNoLiveDaemon(at: config.socketPath)
            source = .path(config.socketPath)
        }

        let database = try AppDatabase.open(path: config.databasePath, synchronous: config.synchronous)
        let core = try DaemonCore(config: config, database: database, logger: logger)
        try await core.store.record(
            kind: EventKind.daemonStarted,
            message: "mlagentd \(mlagentVersion) started (pid \(getpid()))",
            data: ["pid": .int(Int64(getpid())), "version": .string(mlagentVersion)])
        logger.info(
            "mlagentd starting",
            metadata: [
                "version": "\(mlagentVersion)", "state_dir": "\(config.stateDir)",
                "migrations": "\(AppDatabase.migrationNames.joined(separator: ","))",
            ])

        let workspace = try await Workspace.prepare(
            path: config.workspace, stateDir: config.stateDir, dataDir: config.dataDir, logger: logger)
        switch config.sandbox {
        case .bwrap:
            if let problem = AgentLauncher.checkSandbox() { throw ConfigError(problem) }
        case .none:
            logger.warning("sandbox disabled ([sandbox] mode = \"none\"): agents can read every file the daemon's user can, targets included")
        }
        // Candidates of shared code a crash left behind (none is in use before the services start).
        await workspace.removeStaleCandidates()
        let limits = AgentLimits.detect(logger: logger)
        let tester = ShareTester(config: config, workspace: workspace, limits: limits, logger: logger)
        let merge = MergeActor(core: core, workspace: workspace, tester: tester)
        let launcher = AgentLauncher(
            config: config, socketPath: source.info.path, workspacePath: workspace.path, promptsDir: config.promptsDir)
        let scheduler = Scheduler(core: core, launcher: launcher, workspace: workspace, merge: merge, limits: limits)
        let shareGate = ShareGate(core: core, tester: tester, merge: merge, scheduler: scheduler)
        let evaluator = Evaluator(
            metric: config.metric, targetsDir: workspace.targetsDir, bootstrapSamples: config.bootstrapSamples,
            logger: logger)
        evaluator.preload(targets)
        let artifacts = ArtifactStore(
            root: (config.stateDir as NSString).appendingPathComponent("artifacts"), maxBytes: config.maxArtifactBytes)
        let services = AgentServices(
            scheduler: scheduler, merge: merge, workspace: workspace, evaluator: evaluator, artifacts: artifacts,
            replayer: ModelReplayer(config: config, limits: limits, logger: logger), shareGate: shareGate)

        let mirror = MLflowMirror(core: core)
        let mlflowServer = config.mlflowServe ? MLflowServer(core: core) : nil
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let server = ControlServer(
            core: core, source: source, services: services, mirror: mirror, mlflowServer: mlflowServer,
            remoteAccess: remoteAccess
        ) {
            readyContinuation.yield()
            readyContinuation.finish()
        }
        var tlsListener: TLSListener?
        if let listen = config.listen, let identity {
            let listener = try await TLSListener.bind(server: server, address: listen, identity: identity)
            core.remoteEndpoint.set(listener.endpoint)
            tlsListener = listener
        }
        let notifier = SystemdNotifier(core: core, ready: ready)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                ] + (tlsListener.map {
                    [ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)]
                } ?? []) + [
                    .init(service: merge, successTerminationBehavior: .ignore,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: scheduler, successTerminationBehavior: .ignore,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: notifier, successTerminationBehavior: .ignore),
                    .init(service: shareGate, successTerminationBehavior: .ignore,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: mirror, successTerminationBehavior: .ignore,
                          failureTerminationBehavior: .gracefullyShutdownGroup),
                ] + (mlflowServer.map {
                    [ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)]
                } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            readyContinuation.finish()
            throw error
        }
        try? core.store.checkpoint()
        logger.info("mlagentd stopped")
    }

    static func prepareDirectories(_ config: DaemonConfig) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: config.stateDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            let socketDirectory = (config.socketPath as NSString).deletingLastPathComponent
            if !socketDirectory.isEmpty {
                try manager.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
            }
        } catch {
            throw ConfigError("cannot create the state directory \(config.stateDir): \(error.localizedDescription)")
        }
        let socketLimit = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        if config.socketPath.utf8.count > socketLimit {
            throw ConfigError("socket path \(config.socketPath) is \(config.socketPath.utf8.count) bytes; Unix sockets allow \(socketLimit). Use a shorter --socket path")
        }
    }

    /// Refuses to steal the socket of a daemon that is still serving it.
    static func ensureNoLiveDaemon(at path: String) throws {
        guard access(path, F_OK) == 0 else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes + [0])
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        if connected {
            throw ConfigError("another mlagentd is already listening on \(path); stop it first (mlagentctl status shows its pid)")
        }
    }
}

/// An exclusive `flock` on `<state-dir>/mlagentd.lock`: one daemon per state directory.
final class StateLock: Sendable {
    private let fd: Int32

    init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("mlagentd.lock")
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw ConfigError("cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw ConfigError("state directory \(directory) is in use by another mlagentd (pid \(holder)); stop it or use another --state-dir")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

import Foundation
import Logging
import ServiceLifecycle

/// Runs `mlflow server` as a supervised child when `[mlflow] serve = true`: its database and
/// artifacts live in `<state>/mlflow/`, it listens on the host and port of `tracking_uri`, it is
/// restarted (with backoff) when it dies, and stopped with the daemon.
actor MLflowServer: Service {
    let core: DaemonCore
    private let logger: Logger
    private(set) var pid: Int32?

    init(core: DaemonCore) {
        self.core = core
        self.logger = core.logger
    }

    /// `http://HOST:PORT` → (host, port).
    static func endpoint(_ uri: String) -> (host: String, port: Int)? {
        guard let url = URL(string: uri), url.scheme == "http", let host = url.host, let port = url.port else { return nil }
        return (host, port)
    }

    var directory: String { (core.config.stateDir as NSString).appendingPathComponent("mlflow") }

    func arguments() -> [String] {
        let (host, port) = Self.endpoint(core.config.mlflowTrackingURI) ?? ("127.0.0.1", 5000)
        return [
            core.config.mlflowCommand, "server",
            "--backend-store-uri", "sqlite:///" + (directory as NSString).appendingPathComponent("mlflow.db"),
            "--artifacts-destination", (directory as NSString).appendingPathComponent("artifacts"),
            "--host", host, "--port", String(port), "--workers", "1",
        ]
    }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logPath = (core.config.stateDir as NSString).appendingPathComponent("logs/mlflow-server.log")
        try FileManager.default.createDirectory(
            atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        for key in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC", "WATCHDOG_PID"] { environment.removeValue(forKey: key) }
        var delay: Duration = .seconds(1)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            var child: pid_t = 0
            let status = AgentLauncher.spawn(argv: arguments(), environment: environment, logPath: logPath, pid: &child)
            guard status == 0 else {
                logger.error("cannot start mlflow server", metadata: ["command": "\(core.config.mlflowCommand)", "error": "\(String(cString: strerror(status)))"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(60))
                continue
            }
            pid = child
            let started = ContinuousClock.now
            logger.info("mlflow server started", metadata: ["pid": "\(child)", "tracking_uri": "\(core.config.mlflowTrackingURI)"])
            var raw: Int32 = 0
            // Poll for its exit; a graceful shutdown stops it.
            while waitpid(child, &raw, WNOHANG) == 0 {
                if Task.isShuttingDownGracefully || Task.isCancelled {
                    await stop(child)
                    pid = nil
                    return
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
            pid = nil
            if ContinuousClock.now - started > .seconds(60) { delay = .seconds(1) }
            logger.warning(
                "mlflow server exited; restarting", metadata: ["status": "\(raw)", "retry_in": "\(DurationText.format(delay))"])
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(60))
        }
    }

    /// SIGTERM to its process group, SIGKILL after the grace period.
    private func stop(_ child: pid_t) async {
        kill(-child, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        var raw: Int32 = 0
        while waitpid(child, &raw, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(-child, SIGKILL)
                _ = waitpid(child, &raw, 0)
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        logger.info("mlflow server stopped")
    }
}

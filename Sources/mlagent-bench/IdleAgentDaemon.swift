import Foundation
import MLAgentClient
import MLAgentProtocol

/// A real `mlagentd` whose agents only wait, so that a benchmark can act with their tokens:
/// started with a fake NOTIFY_SOCKET, `agents` jobs queued and their tokens collected. Stopping
/// it kills the daemon and the agents (which outlive a killed daemon).
final class IdleAgentDaemon {
    let dir: TempDirectory
    let socket: String
    let process = Process()
    private(set) var tokens: [String] = []

    var pid: Int32 { process.processIdentifier }

    init(daemonPath: String, agents: Int, extraConfig: String = "") throws {
        dir = try TempDirectory()
        socket = dir.file("d.sock")
        let config = """
            [daemon]
            data_dir = "\(dir.file("data"))"
            log_level = "warning"
            [scheduler]
            max_agents = \(agents)
            default_agent = "idle"
            [sandbox]
            mode = "none"
            [agents.idle]
            command = ["sh", "-c", "echo $MLAGENT_TOKEN > \(dir.path)/token-$MLAGENT_JOB_ID; exec sleep 3600"]
            \(extraConfig)
            """
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try config.write(toFile: dir.file("mlagentd.toml"), atomically: true, encoding: .utf8)
        let notify = try NotifyListener(path: dir.file("notify.sock"))
        process.executableURL = URL(fileURLWithPath: daemonPath)
        process.arguments = ["--state-dir", dir.file("state"), "--socket", socket, "--config", dir.file("mlagentd.toml")]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        process.environment = environment
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            try notify.waitForReady()
            let client = Client(connection: try Connection(path: socket))
            for index in 0..<agents { _ = try client.enqueue(EnqueueParams(direction: "bench-\(index)")) }
            let deadline = ContinuousClock.now + .seconds(30)
            for job in 1...agents {
                while true {
                    if let token = try? String(contentsOfFile: dir.file("token-\(job)"), encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines), token.count == 64
                    {
                        tokens.append(token)
                        break
                    }
                    guard ContinuousClock.now < deadline else { throw BenchError("agents did not start") }
                    Thread.sleep(forTimeInterval: 0.02)
                }
            }
        } catch {
            stop()
            throw error
        }
    }

    func client() throws -> Client { Client(connection: try Connection(path: socket)) }

    /// A client acting as the agent of job `index + 1`.
    func agent(_ index: Int, timeout: Duration = .seconds(120)) throws -> Client {
        let connection = try Connection(path: socket, timeout: timeout)
        connection.token = tokens[index]
        return Client(connection: connection)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let marker = Array("MLAGENT_SOCKET=\(socket)".utf8)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if data.split(separator: 0).contains(where: { Array($0) == marker }) { kill(pid, SIGKILL) }
        }
    }

    deinit { stop() }
}

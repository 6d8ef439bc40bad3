import Foundation
import MLAgentClient
import MLAgentProtocol

/// Mirror throughput: metric points per second from the daemon into a real MLflow server,
/// beside MLflow's own Python client (`MlflowClient.log_batch`, batches of 1,000) writing the
/// same number of points into the same server, measured in the same run.
struct MLflowBenchmark {
    let daemonPath: String
    let mlflow: String
    let points: Int

    struct Result {
        var mirrorPerSecond: Double
        var pythonPerSecond: Double
    }

    func run() throws -> Result {
        let dir = try TempDirectory()
        var port = 0
        for candidate in (0..<50).map({ _ in Int.random(in: 20_000...40_000) }) where Self.free(candidate) {
            port = candidate
            break
        }
        let uri = "http://127.0.0.1:\(port)"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: mlflow)
        server.arguments = [
            "server", "--backend-store-uri", "sqlite:///\(dir.file("mlflow.db"))", "--artifacts-destination", dir.file("artifacts"),
            "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
        ]
        var serverEnvironment = ProcessInfo.processInfo.environment
        serverEnvironment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        server.environment = serverEnvironment
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { Self.killTree(server.processIdentifier) }
        let deadline = ContinuousClock.now + .seconds(120)
        while !Self.healthy(port: port) {
            guard ContinuousClock.now < deadline, server.isRunning else { throw BenchError("mlflow server did not start") }
            Thread.sleep(forTimeInterval: 0.2)
        }

        // The daemon, with one idle agent whose token logs the points.
        let config = """
            [daemon]
            data_dir = "\(dir.file("data"))"
            log_level = "warning"
            [scheduler]
            default_agent = "idle"
            [sandbox]
            mode = "none"
            [mlflow]
            tracking_uri = "\(uri)"
            experiment = "bench"
            [agents.idle]
            command = ["sh", "-c", "echo $MLAGENT_TOKEN > \(dir.path)/token; exec sleep 3600"]
            """
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try config.write(toFile: dir.file("mlagentd.toml"), atomically: true, encoding: .utf8)
        let notify = try NotifyListener(path: dir.file("notify.sock"))
        let socket = dir.file("d.sock")
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: daemonPath)
        daemon.arguments = ["--state-dir", dir.file("state"), "--socket", socket, "--config", dir.file("mlagentd.toml")]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        daemon.environment = environment
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
            let marker = Array("MLAGENT_SOCKET=\(socket)".utf8)
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
                if data.split(separator: 0).contains(where: { Array($0) == marker }) { kill(pid, SIGKILL) }
            }
        }
        try notify.waitForReady()
        let operatorClient = Client(connection: try Connection(path: socket))
        _ = try operatorClient.enqueue(EnqueueParams(direction: "mirror-bench"))
        var token = ""
        while token.count != 64 {
            guard ContinuousClock.now < deadline else { throw BenchError("the agent did not start") }
            token = (try? String(contentsOfFile: dir.file("token"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            Thread.sleep(forTimeInterval: 0.05)
        }
        let connection = try Connection(path: socket, timeout: .seconds(120))
        connection.token = token
        let agent = Client(connection: connection)
        let run = try agent.startRun(RunStartParams(name: "bench", rationale: "mirror throughput"))
        // The mirror starts sending as soon as points arrive; ingestion is ~50x faster than
        // MLflow, so the time to zero lag is the mirror's.
        let begin = ContinuousClock.now
        var start = 0
        while start < points {
            let count = min(5000, points - start)
            var metrics: [MetricPoint] = []
            metrics.reserveCapacity(count)
            for index in start..<(start + count) {
                metrics.append(MetricPoint(key: "k\(index % 10)", value: 1.0 / Double(index + 1), step: Int64(index / 10)))
            }
            _ = try agent.logRun(RunLogParams(run: run.id, metrics: metrics, batch: "bench:\(start)"))
            start += count
        }
        while true {
            let status = try operatorClient.mlflowStatus()
            if status.pointsPending == 0, status.runsPending == 0, status.runsMirrored == 1 { break }
            guard ContinuousClock.now - begin < .seconds(900) else { throw BenchError("the mirror did not catch up: \(status)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let mirror = Double(points) / (ContinuousClock.now - begin).seconds

        // MLflow's Python client into the same server.
        let python = (mlflow as NSString).deletingLastPathComponent + "/python"
        let script = """
            import sys, time
            from mlflow.tracking import MlflowClient
            from mlflow.entities import Metric
            client = MlflowClient(sys.argv[1])
            experiment = client.get_experiment_by_name("bench").experiment_id
            run = client.create_run(experiment).info.run_id
            n = int(sys.argv[2])
            now = int(time.time() * 1000)
            start = time.perf_counter()
            for first in range(0, n, 1000):
                client.log_batch(run, metrics=[Metric(f"k{i % 10}", 1.0 / (i + 1), now, i // 10) for i in range(first, min(n, first + 1000))])
            print(n / (time.perf_counter() - start))
            """
        let baseline = Process()
        baseline.executableURL = URL(fileURLWithPath: python)
        baseline.arguments = ["-c", script, uri, String(points)]
        let pipe = Pipe()
        baseline.standardOutput = pipe
        baseline.standardError = FileHandle.nullDevice
        try baseline.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        baseline.waitUntilExit()
        guard let python = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("the Python baseline failed: \(output)")
        }
        return Result(mirrorPerSecond: mirror, pythonPerSecond: python)
    }

    static func free(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func healthy(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 && String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    /// The server and everything it started.
    static func killTree(_ pid: Int32) {
        var all = [pid]
        var index = 0
        while index < all.count {
            let parent = all[index]
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let child = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, Int32(fields[1]) == parent { all.append(child) }
            }
            index += 1
        }
        for process in all { kill(process, SIGKILL) }
    }
}

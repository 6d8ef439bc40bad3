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
        let daemon = try IdleAgentDaemon(
            daemonPath: daemonPath, agents: 1, extraConfig: "[mlflow]\ntracking_uri = \"\(uri)\"\nexperiment = \"bench\"")
        defer { daemon.stop() }
        let operatorClient = try daemon.client()
        let agent = try daemon.agent(0)
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

    /// `bind` (free) or `connect` (healthy) a TCP socket to 127.0.0.1:`port`; returns the
    /// socket when that succeeded.
    static func loopback(_ port: Int, connecting: Bool) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connecting
                    ? connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    : bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static func free(_ port: Int) -> Bool {
        guard let fd = loopback(port, connecting: false) else { return false }
        close(fd)
        return true
    }

    static func healthy(port: Int) -> Bool {
        guard let fd = loopback(port, connecting: true) else { return false }
        defer { close(fd) }
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

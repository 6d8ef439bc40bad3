import ArgumentParser
import Foundation
import GRDB
import MLAgentClient
import MLAgentDaemon
import MLAgentProtocol
import MLAgentStore

/// Release-mode benchmark of the foundation: durable enqueue throughput and `status`
/// round-trip latency over the socket, daemon RSS, and time to READY=1, with an in-process
/// SQLite baseline measured in the same run.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlagent-bench", abstract: "Benchmark mlagentd (run `make bench`).")

    @Option(help: "Path of the mlagentd binary to measure.")
    var daemon: String

    @Option(help: "Enqueues per scenario.")
    var enqueues = 20_000

    @Option(help: "status calls per scenario.")
    var statusCalls = 20_000

    @Option(help: "Client counts to measure, comma-separated.")
    var clients = "1,8"

    @Option(help: "Runs of each scenario; the median is reported (the machine may be noisy).")
    var repeats = 3

    @Option(help: "Landings on main to measure (0 skips the landing benchmark).")
    var landings = 200

    @Option(help: "Metric points per ingestion scenario (0 skips the ingestion benchmark).")
    var ingestPoints = 1_000_000

    @Option(help: "Concurrent agents for ingestion, comma-separated.")
    var ingestAgents = "1,4"

    @Flag(help: "Only the ingestion benchmark.")
    var ingestOnly = false

    @Option(help: "The mlflow executable (of a venv with mlflow): measures the MLflow mirror against MLflow's Python client.")
    var mlflow: String?

    @Option(help: "Metric points for the MLflow comparison.")
    var mlflowPoints = 100_000

    @Flag(help: "Only the MLflow comparison.")
    var mlflowOnly = false

    @Option(help: "stream-json lines for the usage-reading benchmark (0 skips it).")
    var usageLines = 60_000

    @Flag(help: "Only the usage-reading benchmark.")
    var usageOnly = false

    @Option(help: "A venv's Python with the reference agent's packages and MLflow: measures submission by replay (run from the checkout).")
    var replayPython: String?

    @Flag(help: "Only the replay benchmark.")
    var replayOnly = false

    @Option(help: "Concurrent fake agents through the local and the Slurm executor (0 skips it).")
    var executorAgents = 100

    @Option(help: "Rounds of the executor benchmark (each runs both executors, alternating which goes first).")
    var executorRounds = 2

    @Option(help: "Metric points each of those agents logs.")
    var executorPoints = 1_000

    @Option(help: "The script that starts a single-node Slurm cluster (needs root and slurm-wlm; empty: local executor only).")
    var slurmCluster = "Tests/Tools/slurm_cluster.sh"

    @Flag(help: "Only the executor benchmark.")
    var executorOnly = false

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    func run() throws {
        var figures: [String: Double] = [:]
        var report: [String] = []
        try runExecutors(&figures, &report)
        if executorOnly { return finish(figures: figures, report: report) }
        try runReplay(&figures, &report)
        if replayOnly { return finish(figures: figures, report: report) }
        try runUsage(&figures, &report)
        if usageOnly { return finish(figures: figures, report: report) }
        if let mlflow {
            let result = try MLflowBenchmark(daemonPath: daemon, mlflow: mlflow, points: mlflowPoints).run()
            figures["mlflow_python_log_batch_points_per_s"] = result.pythonPerSecond
            figures["mlflow_mirror_points_per_s"] = result.mirrorPerSecond
            report.append(
                String(format: "mlflow    MLflow's Python client, log_batch of 1,000 (baseline)   %9.0f points/s", result.pythonPerSecond))
            report.append(
                String(
                    format: "mlflow    mirror into the same server, %d points              %9.0f points/s  (%.2fx the Python client)",
                    mlflowPoints, result.mirrorPerSecond, result.mirrorPerSecond / result.pythonPerSecond))
            if mlflowOnly { return finish(figures: figures, report: report) }
        }
        if ingestPoints > 0 {
            let counts = ingestAgents.split(separator: ",").compactMap { Int($0) }
            let result = try IngestBenchmark(daemonPath: daemon, points: ingestPoints, batch: 5000, repeats: repeats)
                .run(agentCounts: counts)
            figures["ingest_raw_sqlite_rows_per_s"] = result.rawPerSecond
            report.append(
                String(format: "ingest    raw SQLite, 5,000-row durable transactions (baseline) %9.0f rows/s", result.rawPerSecond))
            for count in counts {
                let rate = result.socketPerSecond[count] ?? 0
                figures["ingest_points_per_s_\(count)a"] = rate
                report.append(
                    String(
                        format: "ingest    %d agent%@, run.log batches of 5,000 over the socket   %9.0f points/s  (%.0f%% of raw)",
                        count, count == 1 ? " " : "s", rate, 100 * rate / result.rawPerSecond))
            }
            figures["ingest_rss_peak_mb"] = result.peakRSSMB
            report.append(String(format: "ingest    daemon RSS idle / peak while ingesting            %6.1f / %.1f MB", result.idleRSSMB, result.peakRSSMB))
        }
        if ingestOnly {
            return finish(figures: figures, report: report)
        }
        let clientCounts = clients.split(separator: ",").compactMap { Int($0) }
        let dir = try TempDirectory()

        // Baseline: the same rows (a job and its event) written in-process, one durable
        // transaction each, synchronous=FULL in WAL mode: what a daemon without group
        // commit could at best acknowledge.
        let baseline = try median((0..<repeats).map { run in
            try Baseline.durableSingleWriter(path: dir.file("baseline-\(run).sqlite3"), rows: min(enqueues, 5000))
        })
        figures["baseline_durable_tx_per_s"] = baseline
        report.append(String(format: "baseline  in-process SQLite, one durable tx per enqueue   %9.0f /s", baseline))

        let notify = try NotifyListener(path: dir.file("notify.sock"))
        let socket = dir.file("d.sock")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["--state-dir", dir.file("state"), "--socket", socket, "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        process.environment = environment
        let spawned = ContinuousClock.now
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try notify.waitForReady()
        let readyMS = (ContinuousClock.now - spawned).milliseconds
        // The queue is measured, not worked off: no agents are launched.
        _ = try Client(connection: try Connection(path: socket)).pause()
        figures["ready_ms"] = readyMS
        Thread.sleep(forTimeInterval: 0.5)
        let idleRSS = rssMB(process.processIdentifier)
        let idleAnon = rssMB(process.processIdentifier, field: "RssAnon:")
        figures["rss_idle_mb"] = idleRSS
        figures["rss_anon_idle_mb"] = idleAnon
        report.append(String(format: "startup   READY=1 after spawn                                %9.1f ms", readyMS))
        report.append(String(format: "memory    RSS idle                                           %9.1f MB  (%.1f MB anonymous, the rest shared library pages)", idleRSS, idleAnon))

        var peakRSS = idleRSS
        var prefix = 0
        for count in clientCounts {
            var rates: [Double] = []
            for _ in 0..<repeats {
                rates.append(try enqueueThroughput(socket: socket, clients: count, total: enqueues, prefix: prefix))
                prefix += 1
            }
            let rate = median(rates)
            peakRSS = max(peakRSS, rssMB(process.processIdentifier))
            figures["enqueue_per_s_\(count)c"] = rate
            report.append(
                String(
                    format: "enqueue   %d client%@, durable acks                          %9.0f /s  (%.1fx baseline)",
                    count, count == 1 ? " " : "s", rate, rate / baseline))
        }
        for count in clientCounts {
            var p50s: [Double] = []
            var p99s: [Double] = []
            for _ in 0..<repeats {
                let latencies = try statusLatencies(socket: socket, clients: count, total: statusCalls)
                p50s.append(percentile(latencies, 0.50))
                p99s.append(percentile(latencies, 0.99))
            }
            peakRSS = max(peakRSS, rssMB(process.processIdentifier))
            let p50 = median(p50s)
            let p99 = median(p99s)
            figures["status_p50_ms_\(count)c"] = p50
            figures["status_p99_ms_\(count)c"] = p99
            report.append(
                String(format: "status    %d client%@, round trip p50 / p99              %7.3f / %.3f ms", count, count == 1 ? " " : "s", p50, p99))
        }
        figures["rss_peak_mb"] = peakRSS
        report.append(String(format: "memory    RSS after load                                     %9.1f MB", peakRSS))

        if landings > 0 {
            let landingDir = try TempDirectory()
            let landingPath = landingDir.path
            let result = try runAsync {
                try await LandingBenchmark.run(
                    directory: landingPath, landings: self.landings, naiveLandings: max(20, self.landings / 4))
            }
            figures["landings_per_s"] = result.mergeActorPerSecond
            figures["naive_landings_per_s"] = result.naivePerSecond
            report.append(
                String(
                    format: "landings  merge actor, waves of up to 8 finished, %d          %9.1f /s  (%.1fx naive)",
                    result.landings, result.mergeActorPerSecond, result.mergeActorPerSecond / result.naivePerSecond))
            figures["landings_one_at_a_time_per_s"] = result.oneAtATimePerSecond
            report.append(
                String(
                    format: "landings  merge actor, one direction per batch, %d             %9.1f /s  (%.1fx naive)",
                    result.landings, result.oneAtATimePerSecond, result.oneAtATimePerSecond / result.naivePerSecond))
            report.append(
                String(format: "landings  naive checkout + add + commit, %d directions      %9.1f /s", result.naiveLandings, result.naivePerSecond))
        }

        finish(figures: figures, report: report)
    }

    func finish(figures: [String: Double], report: [String]) {
        if json {
            let data = (try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("mlagent-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(enqueues) enqueues and \(statusCalls) status calls per scenario, \(ingestPoints) metric points per ingestion scenario, median of \(repeats) runs")
            report.forEach { print($0) }
        }
    }

    func enqueueThroughput(socket: String, clients: Int, total: Int, prefix: Int) throws -> Double {
        let perClient = total / clients
        let errors = Counter()
        let start = ContinuousClock.now
        runConcurrently(clients) { index in
            do {
                let client = Client(connection: try Connection(path: socket))
                for item in 0..<perClient {
                    _ = try client.enqueue(EnqueueParams(direction: "b\(prefix)-\(index)-\(item)", guidance: "benchmark"))
                }
            } catch { errors.add("\(error)") }
        }
        let seconds = (ContinuousClock.now - start).seconds
        if let error = errors.first { throw ValidationError("enqueue failed: \(error)") }
        return Double(perClient * clients) / seconds
    }

    func statusLatencies(socket: String, clients: Int, total: Int) throws -> [Double] {
        let perClient = total / clients
        let results = Counter()
        runConcurrently(clients) { _ in
                do {
                    let client = Client(connection: try Connection(path: socket))
                    var samples: [Double] = []
                    samples.reserveCapacity(perClient)
                    for _ in 0..<min(200, perClient) { _ = try client.status() }  // warm-up
                    for _ in 0..<perClient {
                        let begin = ContinuousClock.now
                        _ = try client.status()
                        samples.append((ContinuousClock.now - begin).milliseconds)
                    }
                    results.add(samples)
                } catch { results.add("\(error)") }
        }
        if let error = results.first { throw ValidationError("status failed: \(error)") }
        return results.samples
    }

    /// Runs `body` on `count` dedicated threads (blocking clients) and waits for all.
    func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            Thread {
                body(index)
                done.leave()
            }.start()
        }
        done.wait()
    }

    func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
    }

    func rssMB(_ pid: Int32, field: String = "VmRSS:") -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}

/// Runs async work from this synchronous command and waits for it.
func runAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    private var all: [Double] = []
    func add(_ error: String) { lock.withLock { errors.append(error) } }
    func add(_ values: [Double]) { lock.withLock { all += values } }
    var first: String? { lock.withLock { errors.first } }
    var samples: [Double] { lock.withLock { all } }
}

enum Baseline {
    static func durableSingleWriter(path: String, rows: Int) throws -> Double {
        let database = try AppDatabase.open(path: path, synchronous: .full)
        let start = ContinuousClock.now
        for index in 0..<rows {
            try database.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO jobs(direction, guidance, agent, priority, state, attempts, created_at, updated_at)
                        VALUES (?, 'benchmark', 'command', 0, 'queued', 0, ?, ?)
                        """, arguments: ["base-\(index)", Date(), Date()])
                try db.execute(
                    sql: "INSERT INTO events(time, kind, job_id, direction, message, data) VALUES (?, 'job.enqueued', ?, ?, 'enqueued', '{}')",
                    arguments: [Date(), db.lastInsertedRowID, "base-\(index)"])
            }
        }
        return Double(rows) / (ContinuousClock.now - start).seconds
    }
}

final class TempDirectory {
    let path: String
    init() throws {
        var template = Array("/tmp/mla-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("mkdtemp failed") }
        path = String(cString: made)
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Receives sd_notify datagrams, as systemd would.
final class NotifyListener {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = try UnixSocketAddress.boundDatagramSocket(path: path, receiveTimeout: timeval(tv_sec: 10, tv_usec: 0))
    }

    deinit { close(fd) }

    func waitForReady() throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw ValidationError("mlagentd did not send READY=1 within 10 s") }
            if String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").contains("READY=1") { return }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}

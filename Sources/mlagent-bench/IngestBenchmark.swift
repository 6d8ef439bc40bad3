import Foundation
import GRDB
import GRDBSQLite
import MLAgentClient
import MLAgentProtocol
import MLAgentStore

/// Metric ingestion: points per second through the socket (`run.log` batches of 5,000 points
/// with batch ids, as `mlagentctl run log --file` sends them) from 1 and 4 concurrent agents,
/// beside the raw batched insert rate of SQLite into the same table measured in the same run.
struct IngestBenchmark {
    let daemonPath: String
    let points: Int
    let batch: Int
    let repeats: Int

    struct Result {
        var rawPerSecond: Double
        var socketPerSecond: [Int: Double]
        var peakRSSMB: Double
        var idleRSSMB: Double
    }

    func run(agentCounts: [Int]) throws -> Result {
        let dir = try TempDirectory()
        let raw = median(try (0..<repeats).map { index in
            try rawInsertRate(path: dir.file("raw-\(index).sqlite3"))
        })

        let daemon = try IdleAgentDaemon(daemonPath: daemonPath, agents: agentCounts.max() ?? 1)
        defer { daemon.stop() }
        let socket = daemon.socket
        let tokens = daemon.tokens
        let operatorClient = try daemon.client()
        Thread.sleep(forTimeInterval: 0.3)
        let pid = daemon.pid
        let idle = rss(pid)
        let sampler = RSSSampler(pid: pid)
        var rates: [Int: Double] = [:]
        var round = 0
        for count in agentCounts {
            var samples: [Double] = []
            for _ in 0..<repeats {
                round += 1
                samples.append(try ingest(socket: socket, tokens: Array(tokens.prefix(count)), round: round))
            }
            rates[count] = median(samples)
        }
        sampler.stop()
        // Every point sent is stored.
        let stored = try operatorClient.runs().reduce(Int64(0)) { $0 + $1.metricPoints }
        let expected = Int64(points) * Int64(agentCounts.count * repeats)
        guard stored == expected else { throw BenchError("stored \(stored) points, sent \(expected)") }
        return Result(rawPerSecond: raw, socketPerSecond: rates, peakRSSMB: sampler.peak, idleRSSMB: idle)
    }

    /// `clients` agents, each with its own run, send `points / clients` points; returns points/s.
    func ingest(socket: String, tokens: [String], round: Int) throws -> Double {
        let perClient = points / tokens.count
        // Requests are encoded before the clock starts: the agent's own encoding happens in its
        // own process and is not the daemon's cost.
        var prepared: [(Connection, [[UInt8]])] = []
        for (index, token) in tokens.enumerated() {
            let connection = try Connection(path: socket, timeout: .seconds(120))
            connection.token = token
            let run = try Client(connection: connection).startRun(
                RunStartParams(name: "round-\(round)-\(index)", rationale: "benchmark"))
            var lines: [[UInt8]] = []
            var start = 0
            while start < perClient {
                let count = min(batch, perClient - start)
                var metrics: [MetricPoint] = []
                metrics.reserveCapacity(count)
                for index in start..<(start + count) {
                    let key = index % 2 == 0 ? "train_loss" : "val_loss"
                    metrics.append(MetricPoint(key: key, value: 1.0 / Double(index + 1), step: Int64(index / 2)))
                }
                let request = RPCTypedRequest(
                    id: .number(Int64(lines.count + 1000)), method: Method.runLog,
                    params: RunLogParams(run: run.id, metrics: metrics, batch: "bench:\(start)"), token: token)
                var data = try JSONCoding.line(request)
                data.append(UInt8(ascii: "\n"))
                lines.append(Array(data))
                start += count
            }
            prepared.append((connection, lines))
        }
        let errors = ErrorBox()
        let begin = ContinuousClock.now
        let group = DispatchGroup()
        for (connection, lines) in prepared {
            group.enter()
            let work = UncheckedBox((connection, lines))
            Thread {
                let (connection, lines) = work.value
                do {
                    for line in lines {
                        try connection.sendRaw(line)
                        guard let reply = try connection.readLine() else { throw BenchError("connection closed") }
                        if reply.starts(with: Array("{\"error\"".utf8)) || String(decoding: reply, as: UTF8.self).contains("\"error\":") {
                            throw BenchError(String(decoding: reply.prefix(300), as: UTF8.self))
                        }
                    }
                } catch { errors.set("\(error)") }
                group.leave()
            }.start()
        }
        group.wait()
        let seconds = (ContinuousClock.now - begin).seconds
        if let error = errors.value { throw BenchError("ingestion failed: \(error)") }
        return Double(perClient * tokens.count) / seconds
    }

    /// The same table and index, rows bound through the same prepared statement, `batch` rows
    /// per durable transaction (synchronous=FULL, WAL): SQLite's own rate on this machine.
    func rawInsertRate(path: String) throws -> Double {
        let database = try AppDatabase.open(path: path, synchronous: .full)
        let key = Array("train_loss".utf8CString)
        let begin = ContinuousClock.now
        var written = 0
        while written < points {
            let count = min(batch, points - written)
            try database.writer.write { db in
                let statement = try db.cachedStatement(
                    sql: "INSERT INTO metrics(run_id, key, step, value, timestamp) VALUES (?, ?, ?, ?, ?)")
                let raw = statement.sqliteStatement
                for index in written..<(written + count) {
                    sqlite3_reset(raw)
                    sqlite3_bind_int64(raw, 1, 1)
                    _ = key.withUnsafeBufferPointer { sqlite3_bind_text(raw, 2, $0.baseAddress, Int32($0.count - 1), nil) }
                    sqlite3_bind_int64(raw, 3, Int64(index))
                    sqlite3_bind_double(raw, 4, 1.0 / Double(index + 1))
                    sqlite3_bind_int64(raw, 5, 1_790_000_000_000)
                    guard sqlite3_step(raw) == SQLITE_DONE else { throw BenchError("raw insert failed") }
                }
                sqlite3_reset(raw)
            }
            written += count
        }
        return Double(points) / (ContinuousClock.now - begin).seconds
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    func rss(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
        }
        return 0
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ value: String) { lock.withLock { if stored == nil { stored = value } } }
    var value: String? { lock.withLock { stored } }
}

final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Samples a process's RSS every 10 ms on its own thread.
final class RSSSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var maximum = 0.0
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        Thread {
            while self.lock.withLock({ self.running }) {
                if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
                    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                        let mb = (line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
                        self.lock.withLock { self.maximum = max(self.maximum, mb) }
                    }
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
            self.done.signal()
        }.start()
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }

    var peak: Double { lock.withLock { maximum } }
}

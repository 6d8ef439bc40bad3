public import Foundation
import GRDB
import GRDBSQLite
public import MLAgentProtocol

/// Reads of runs, their details and metric histories.
extension Store {
    public func run(id: Int64) async throws -> Run {
        try await database.writer.read { db in try Self.runRecord(id, in: db).run }
    }

    static func runRecord(_ id: Int64, in db: Database) throws -> RunRecord {
        guard let run = try RunRecord.fetchOne(db, key: id) else {
            throw RPCError(.notFound, "no run with id \(id); `mlagentctl runs` lists the runs", context: ["run": .int(id)])
        }
        return run
    }

    public func runs(direction: String? = nil) async throws -> [Run] {
        try await database.writer.read { db in
            var request = RunRecord.all()
            if let direction { request = request.filter(Column("direction") == direction) }
            return try request.order(Column("id")).fetchAll(db).map(\.run)
        }
    }

    public func runDetail(id: Int64, policy: EvaluationPolicy) async throws -> RunDetail {
        try await database.writer.read { db in try Self.runDetail(id, policy: policy, in: db) }
    }

    /// Every run of a direction with its records (for the landing of `mlruns/`).
    public func runDetails(direction: String, policy: EvaluationPolicy) async throws -> [RunDetail] {
        try await database.writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM runs WHERE direction = ? ORDER BY id", arguments: [direction])
                .map { try Self.runDetail($0, policy: policy, in: db) }
        }
    }

    static func runDetail(_ id: Int64, policy: EvaluationPolicy, in db: Database) throws -> RunDetail {
        let run = try runRecord(id, in: db)
        var params: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM run_params WHERE run_id = ?", arguments: [id]) {
            params[row["key"]] = row["value"]
        }
        var tags: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM run_tags WHERE run_id = ?", arguments: [id]) {
            tags[row["key"]] = row["value"]
        }
        var metrics: [String: MetricPoint] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT key, step, value, timestamp FROM latest_metrics WHERE run_id = ?", arguments: [id])
        {
            metrics[row["key"]] = MetricPoint(key: row["key"], value: row["value"], step: row["step"], timestamp: row["timestamp"])
        }
        let artifacts = try ArtifactRecord.filter(Column("run_id") == id).order(Column("name")).fetchAll(db).map(\.info)
        let left = max(0, policy.publicEvalBudget - (try publicEvalsUsed(direction: run.direction, in: db)))
        var evaluations = try EvaluationRecord.filter(Column("run_id") == id).order(Column("id")).fetchAll(db).map { record in
            var result = EvalResult(
                run: id, direction: record.direction, split: record.split, metric: record.metric,
                higherIsBetter: policy.higherIsBetter, score: record.score,
                interval: record.ci.flatMap(ScoreInterval.decode), rows: record.rows,
                time: Timestamp.format(record.created_at), publicEvalsLeft: left)
            if record.split == "private", let publicScore = run.public_score {
                result.publicScore = publicScore
                result.gap = policy.gap(publicScore: publicScore, privateScore: record.score)
                // As judged at the submission (see recordEvaluation).
                if let row = try Row.fetchOne(
                    db, sql: "SELECT overfit, overfit_reason, gap_threshold FROM directions WHERE name = ? AND submitted_run = ?",
                    arguments: [run.direction, id])
                {
                    result.overfit = row["overfit"]
                    result.overfitReason = row["overfit_reason"]
                    result.gapThreshold = row["gap_threshold"]
                }
            }
            return result
        }
        let submissions = try Self.submissions(sql: "WHERE run_id = ? ORDER BY id", arguments: [id], in: db)
        for index in evaluations.indices where evaluations[index].split == "private" {
            evaluations[index].submission = submissions.last { $0.outcome != .unreproducible }
        }
        return RunDetail(
            run: run.run, params: params, tags: tags, metrics: metrics, artifacts: artifacts, evaluations: evaluations,
            submissions: submissions)
    }

    /// A page of a run's metric history in arrival order.
    public func metricHistory(run: Int64, key: String?, after: Int64, limit: Int) async throws -> MetricHistory {
        try await database.writer.read { db in
            _ = try Self.runRecord(run, in: db)
            var sql = "SELECT rowid, key, step, value, timestamp FROM metrics WHERE run_id = ? AND rowid > ?"
            var arguments: StatementArguments = [run, after]
            if let key {
                sql += " AND key = ?"
                _ = arguments.append(contentsOf: [key])
            }
            sql += " ORDER BY rowid LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            var points: [MetricPoint] = []
            var last: Int64 = after
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            var more = false
            while let row = try cursor.next() {
                if points.count == limit {
                    more = true
                    break
                }
                last = row["rowid"]
                points.append(MetricPoint(key: row["key"], value: row["value"], step: row["step"], timestamp: row["timestamp"]))
            }
            return MetricHistory(run: run, points: points, next: more ? last : nil)
        }
    }

    /// Writes a run's full metric history as JSON lines (one point per line, arrival order)
    /// to `handle`, without holding it in memory.
    public func exportMetrics(run: Int64, to handle: FileHandle) async throws {
        try await database.writer.read { db in
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT key, step, value, timestamp FROM metrics WHERE run_id = ? ORDER BY rowid", arguments: [run])
            var buffer = Data()
            while let row = try cursor.next() {
                let point = MetricPoint(key: row["key"], value: row["value"], step: row["step"], timestamp: row["timestamp"])
                buffer.append(try JSONCoding.line(point))
                buffer.append(0x0A)
                if buffer.count > 1 << 20 {
                    handle.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            handle.write(buffer)
        }
    }
}

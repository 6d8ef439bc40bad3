import Foundation
import GRDB
import GRDBSQLite
public import MLAgentProtocol

/// Experiment tracking: runs, params, tags, metric points, artifacts and evaluations. A job's
/// token reaches only the runs of its own direction; nothing here deletes anything.
extension Store {
    // MARK: Runs

    public func startRun(jobID: Int64, name: String, rationale: String, params: [String: String], uses: [String] = []) async throws
        -> Run
    {
        try await write { context in
            let db = context.db
            let (job, direction) = try Self.activeDirection(jobID: jobID, in: db)
            let used = try Self.sharedVersions(uses, in: db)
            var record = RunRecord(
                id: nil, direction: direction.name, job_id: jobID, name: name, status: RunStatus.running.rawValue,
                rationale: rationale, analysis: nil, started_at: context.now, ended_at: nil, public_score: nil,
                public_ci: nil, private_score: nil)
            try record.insert(db)
            let id = record.id!
            for (key, value) in params {
                try db.execute(sql: "INSERT INTO run_params(run_id, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
            }
            var tags = [
                RunTag.branch: direction.branch,
                RunTag.directionRationale: direction.rationale.isEmpty ? job.guidance : direction.rationale,
                RunTag.runRationale: rationale,
            ]
            if let base = job.base_commit { tags[RunTag.mainCommit] = base }
            if !used.isEmpty {
                tags[RunTag.uses] = used.map { "\($0.name)@\($0.version)" }.joined(separator: ",")
                for module in used {
                    try db.execute(
                        sql: "INSERT INTO run_uses(run_id, name, version) VALUES (?, ?, ?)", arguments: [id, module.name, module.version])
                }
            }
            for (key, value) in tags {
                try db.execute(sql: "INSERT INTO run_tags(run_id, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
            }
            try context.appendEvent(
                kind: EventKind.runStarted, jobID: jobID, direction: direction.name,
                message: "run \(id) (\(name)) started in \(direction.name): \(rationale)",
                data: ["run": .int(id), "name": .string(name)])
            return record.run
        }
    }

    /// Records params, tags and metric points on a running run, in one transaction.
    public func logRun(jobID: Int64, _ params: RunLogParams) async throws -> RunLogResult {
        try await write { context in
            let db = context.db
            var run = try Self.ownedRun(params.run, jobID: jobID, in: db)
            guard run.status == RunStatus.running.rawValue else {
                throw RPCError(
                    .invalidState,
                    "run \(params.run) is \(run.status); metrics, params and tags are recorded while a run is running: start a new run",
                    context: ["run": .int(params.run), "status": .string(run.status)])
            }
            let metrics = params.metrics ?? []
            if let batch = params.batch {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO metric_batches(run_id, batch, points) VALUES (?, ?, ?)",
                    arguments: [params.run, batch, metrics.count])
                if db.changesCount == 0 {
                    return RunLogResult(
                        run: params.run, metrics: 0, params: 0, tags: 0, duplicate: true, metricPoints: run.metric_points)
                }
            }
            var paramCount = 0
            for (key, value) in (params.params ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let existing = try String.fetchOne(
                    db, sql: "SELECT value FROM run_params WHERE run_id = ? AND key = ?", arguments: [params.run, key])
                {
                    guard existing == value else {
                        throw RPCError(
                            .conflict,
                            "param \(key) of run \(params.run) is already \"\(existing)\"; params are written once, so a different value needs a new run",
                            context: ["run": .int(params.run), "key": .string(key)])
                    }
                    continue
                }
                try db.execute(
                    sql: "INSERT INTO run_params(run_id, key, value) VALUES (?, ?, ?)", arguments: [params.run, key, value])
                paramCount += 1
            }
            for (key, value) in params.tags ?? [:] {
                try db.execute(
                    sql: "INSERT INTO run_tags(run_id, key, value) VALUES (?, ?, ?) ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
                    arguments: [params.run, key, value])
            }
            if !metrics.isEmpty {
                let now = Int64((context.now.timeIntervalSince1970 * 1000).rounded(.down))
                try Self.insertMetrics(run: params.run, metrics, defaultTimestamp: now, in: db)
                run.metric_points += Int64(metrics.count)
                try db.execute(
                    sql: "UPDATE runs SET metric_points = ? WHERE id = ?", arguments: [run.metric_points, params.run])
            }
            return RunLogResult(
                run: params.run, metrics: metrics.count, params: paramCount, tags: params.tags?.count ?? 0, duplicate: false,
                metricPoints: run.metric_points)
        }
    }

    /// Appends metric points with one prepared statement bound through SQLite's C API (the
    /// hot path of ingestion), then moves each key's latest value forward.
    static func insertMetrics(run: Int64, _ points: [MetricPoint], defaultTimestamp: Int64, in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO metrics(run_id, key, step, value, timestamp) VALUES (?, ?, ?, ?, ?)")
        let raw = statement.sqliteStatement
        // Keys repeat (a curve is many points of few keys): work per distinct key happens once,
        // and consecutive points of one key skip even the dictionary lookup.
        var slots: [String: Int] = [:]
        var keys: [ContiguousArray<CChar>] = []
        var latest: [MetricPoint] = []
        var previousKey = ""
        var slot = -1
        for point in points {
            let timestamp = point.timestamp ?? defaultTimestamp
            if slot < 0 || point.key != previousKey {
                if let known = slots[point.key] {
                    slot = known
                } else {
                    slot = keys.count
                    slots[point.key] = slot
                    keys.append(ContiguousArray(point.key.utf8CString))
                    latest.append(MetricPoint(key: point.key, value: point.value, step: point.step, timestamp: timestamp))
                }
                previousKey = point.key
            }
            sqlite3_reset(raw)
            sqlite3_bind_int64(raw, 1, run)
            let code = keys[slot].withUnsafeBufferPointer { buffer -> Int32 in
                sqlite3_bind_text(raw, 2, buffer.baseAddress, Int32(buffer.count - 1), nil)
                sqlite3_bind_int64(raw, 3, point.step)
                sqlite3_bind_double(raw, 4, point.value)
                sqlite3_bind_int64(raw, 5, timestamp)
                return sqlite3_step(raw)
            }
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let current = latest[slot]
            if point.step > current.step || (point.step == current.step && timestamp >= current.timestamp ?? 0) {
                latest[slot] = MetricPoint(key: point.key, value: point.value, step: point.step, timestamp: timestamp)
            }
        }
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
        for point in latest {
            try db.execute(
                sql: """
                    INSERT INTO latest_metrics(run_id, key, step, value, timestamp) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, value = excluded.value, timestamp = excluded.timestamp
                    WHERE excluded.step > latest_metrics.step
                       OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)
                    """,
                arguments: [run, point.key, point.step, point.value, point.timestamp])
        }
    }

    /// Records an artifact already copied into the store. Names are never reused.
    public func recordArtifact(
        jobID: Int64, run runID: Int64, name: String, isDirectory: Bool, files: Int, bytes: Int64,
        quota: ArtifactQuota? = nil
    ) async throws -> ArtifactInfo {
        try await write { context in
            let db = context.db
            let run = try Self.ownedRun(runID, jobID: jobID, in: db)
            try Self.requireRunning(run, for: "artifacts are uploaded")
            if try Self.artifactExists(run: runID, name: name, in: db) {
                throw Self.artifactConflict(run: runID, name: name)
            }
            // The totals are checked again where they cannot race: two uploads copied at once
            // are recorded one after the other.
            if let quota {
                let used = try Self.artifactUsage(jobID: jobID, direction: run.direction, in: db)
                if let problem = quota.problem(adding: bytes, files: Int64(files), to: used) {
                    throw ArtifactQuota.exceeded(problem, run: runID)
                }
            }
            let record = ArtifactRecord(
                run_id: runID, name: name, is_directory: isDirectory, files: files, bytes: bytes, created_at: context.now)
            try record.insert(db)
            if name == "model" {
                try db.execute(sql: "UPDATE runs SET has_model = 1 WHERE id = ?", arguments: [runID])
            }
            try context.appendEvent(
                kind: EventKind.runArtifact, jobID: jobID, direction: run.direction,
                message: "run \(runID): artifact \(name) stored (\(files) file\(files == 1 ? "" : "s"), \(bytes) bytes)",
                data: ["run": .int(runID), "name": .string(name), "bytes": .int(bytes), "files": .int(Int64(files))])
            return record.info
        }
    }

    /// Checks, before any copying, that `name` can be stored on the run.
    public func checkArtifact(jobID: Int64, run runID: Int64, name: String) async throws {
        try await database.writer.read { db in
            let run = try Self.ownedRun(runID, jobID: jobID, in: db)
            try Self.requireRunning(run, for: "artifacts are uploaded")
            if try Self.artifactExists(run: runID, name: name, in: db) { throw Self.artifactConflict(run: runID, name: name) }
        }
    }

    static func artifactExists(run: Int64, name: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS(SELECT 1 FROM artifacts WHERE run_id = ? AND (name = ? OR name LIKE ? ESCAPE '\\' OR ? LIKE name || '/%'))",
            arguments: [run, name, Self.likeEscaped(name) + "/%", name]) ?? false
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func artifactConflict(run: Int64, name: String) -> RPCError {
        RPCError(
            .conflict,
            "run \(run) already has an artifact at \(name) (or one that contains or is contained by it); artifacts are never replaced: use another name",
            context: ["run": .int(run), "name": .string(name)])
    }

    public func endRun(jobID: Int64, run runID: Int64, analysis: String, failed: Bool) async throws -> Run {
        try await write { context in
            let db = context.db
            var run = try Self.ownedRun(runID, jobID: jobID, in: db)
            guard run.status == RunStatus.running.rawValue else {
                throw RPCError(
                    .invalidState, "run \(runID) already ended (\(run.status)); a run ends once",
                    context: ["run": .int(runID), "status": .string(run.status)])
            }
            run.status = failed ? RunStatus.failed.rawValue : RunStatus.finished.rawValue
            run.analysis = analysis
            run.ended_at = context.now
            try run.update(db)
            try db.execute(
                sql: "INSERT INTO run_tags(run_id, key, value) VALUES (?, ?, ?) ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
                arguments: [runID, RunTag.runAnalysis, analysis])
            try context.appendEvent(
                kind: EventKind.runEnded, jobID: jobID, direction: run.direction,
                message: "run \(runID) (\(run.name)) \(run.status): \(analysis.prefix(200))",
                data: ["run": .int(runID), "status": .string(run.status)])
            return run.run
        }
    }

    /// Marks the runs a job left running as failed (the agent ended without ending them).
    static func failOpenRuns(jobID: Int64, why: String, in context: WriteContext) throws {
        let open = try RunRecord.filter(Column("job_id") == jobID).filter(Column("status") == RunStatus.running.rawValue)
            .fetchAll(context.db)
        for var run in open {
            run.status = RunStatus.failed.rawValue
            run.analysis = run.analysis ?? why
            run.ended_at = context.now
            try run.update(context.db)
            try context.db.execute(
                sql: "INSERT OR IGNORE INTO run_tags(run_id, key, value) VALUES (?, ?, ?)",
                arguments: [run.id, RunTag.runAnalysis, why])
            try context.appendEvent(
                kind: EventKind.runEnded, jobID: jobID, direction: run.direction,
                message: "run \(run.id ?? 0) (\(run.name)) failed: \(why)",
                data: ["run": .int(run.id ?? 0), "status": .string(run.status)])
        }
    }

    // MARK: Evaluations

    /// What a run must satisfy before its predictions are read and scored.
    public enum EvaluationCheck: Sendable {
        case publicSplit
        case privateSplit
    }

    /// Checks ownership, state and budget before the predictions are read (the commit checks
    /// again). Returns the run's direction.
    public func checkEvaluation(jobID: Int64, run runID: Int64, split: EvaluationCheck, policy: EvaluationPolicy)
        async throws -> String
    {
        try await database.writer.read { db in
            let run = try Self.ownedRun(runID, jobID: jobID, in: db)
            switch split {
            case .publicSplit: try Self.checkPublic(run, policy: policy, in: db)
            case .privateSplit: try Self.checkPrivate(run, in: db)
            }
            return run.direction
        }
    }

    /// Records a scored evaluation: the evaluation row, the score on the run (as the metric
    /// `public_val_score` or `private_val_score`) and an event, all in one transaction.
    public func recordEvaluation(
        jobID: Int64, run runID: Int64, split: EvaluationCheck, score: Double, interval: ScoreInterval?, rows: Int,
        predictions: [Double]? = nil, submission: Submission? = nil, policy: EvaluationPolicy
    ) async throws -> EvalResult {
        // The evaluator refuses overflowing scores with the reason; this keeps any other caller
        // from reaching SQLite's NOT NULL with one.
        guard score.isFinite, interval.map({ $0.low.isFinite && $0.high.isFinite }) ?? true else {
            throw RPCError(
                .invalidPredictions, "the score of these predictions is not a finite number, so it cannot be recorded; nothing was spent",
                context: ["run": .int(runID)])
        }
        return try await write { context in
            let db = context.db
            var run = try Self.ownedRun(runID, jobID: jobID, in: db)
            let isPublic = split == .publicSplit
            if isPublic { try Self.checkPublic(run, policy: policy, in: db) } else { try Self.checkPrivate(run, in: db) }
            var evaluation = EvaluationRecord(
                id: nil, run_id: runID, direction: run.direction, split: isPublic ? "public" : "private", metric: policy.metric,
                score: score, ci: interval?.json, rows: rows, created_at: context.now)
            try Self.insertEvaluation(&evaluation, predictions: predictions, in: db)
            let step: Int64
            if isPublic {
                step = Int64(run.public_evals)
                run.public_score = score
                run.public_ci = interval?.json
                run.public_evals += 1
            } else {
                step = 0
                run.private_score = score
            }
            run.metric_points += 1
            try run.update(db)
            let now = Int64((context.now.timeIntervalSince1970 * 1000).rounded(.down))
            try Self.insertMetrics(
                run: runID, [MetricPoint(key: isPublic ? RunMetric.publicScore : RunMetric.privateScore, value: score, step: step, timestamp: now)],
                defaultTimestamp: now, in: db)
            let left = max(0, policy.publicEvalBudget - (try Self.publicEvalsUsed(direction: run.direction, in: db)))
            var result = EvalResult(
                run: runID, direction: run.direction, split: evaluation.split, metric: policy.metric,
                higherIsBetter: policy.higherIsBetter, score: score, interval: interval, rows: rows,
                time: Timestamp.format(context.now), publicEvalsLeft: left)
            let shown = Self.format(score)
            if isPublic {
                try context.appendEvent(
                    kind: EventKind.runEvaluated, jobID: jobID, direction: run.direction,
                    message: "run \(runID): public \(policy.metric) \(shown) (\(left) public evaluations left)",
                    data: ["run": .int(runID), "score": .double(score), "public_evals_left": .int(Int64(left))])
                return result
            }
            result.publicScore = run.public_score
            // The verdict is kept with the direction: the leaderboard, the summary and the
            // direction file show why it was flagged, as judged when it was submitted.
            let verdict = run.public_score.map { publicScore in
                policy.judge(
                    publicScore: publicScore, publicInterval: run.public_ci.flatMap(ScoreInterval.decode),
                    privateScore: score, privateInterval: interval)
            }
            let overfit = verdict?.flagged ?? false
            result.gap = verdict?.gap
            result.gapThreshold = verdict?.threshold
            result.overfit = overfit
            result.overfitReason = verdict?.reason
            try db.execute(
                sql: "UPDATE directions SET submitted_run = ?, overfit = ?, overfit_reason = ?, gap_threshold = ? WHERE name = ?",
                arguments: [runID, overfit, verdict?.reason, verdict?.threshold, run.direction])
            var data: [String: JSONValue] = ["run": .int(runID), "score": .double(score)]
            if let verdict {
                data["gap"] = .double(verdict.gap)
                data["gap_threshold"] = .double(verdict.threshold)
            }
            if let publicScore = run.public_score { data["public_score"] = .double(publicScore) }
            let gapText = result.gap.map { ", gap \(Self.format($0))" } ?? ""
            let how = try Self.recordSubmission(submission, run: run, context: context)
            result.submission = submission
            if let submission { data["submission"] = .string(submission.outcome.rawValue) }
            try context.appendEvent(
                kind: EventKind.runSubmitted, jobID: jobID, direction: run.direction,
                message: "run \(runID) submitted: private \(policy.metric) \(shown)\(gapText)\(how)", data: data)
            if overfit, let verdict {
                data["reason"] = .string(verdict.reason)
                try context.appendEvent(
                    kind: EventKind.overfit, jobID: jobID, direction: run.direction,
                    message: "direction \(run.direction) overfits the public split: \(verdict.reason)", data: data)
            }
            return result
        }
    }

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

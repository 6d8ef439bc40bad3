import Foundation
import GRDB
public import MLAgentProtocol

/// Submissions (``AppDatabase/registerSubmissionMigrations(_:)``): how each private score was
/// obtained, and the replays that scored nothing.
extension Store {
    static func insertSubmission(_ submission: Submission, direction: String, at now: Date, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO submissions(run_id, direction, outcome, replayed_public_score, reported_public_score,
                  max_abs_difference, differing_rows, seconds, reason, log, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                submission.run, direction, submission.outcome.rawValue, submission.replayedPublicScore,
                submission.reportedPublicScore, submission.maxAbsDifference, submission.differingRows, submission.seconds,
                submission.reason, submission.log, now,
            ])
    }

    /// Records how a scored submission was obtained (with a `run.replayed` event for a replay),
    /// in the caller's transaction; returns the words the `run.submitted` message ends with.
    static func recordSubmission(_ submission: Submission?, run: RunRecord, context: WriteContext) throws -> String {
        guard let submission else { return "" }
        try insertSubmission(submission, direction: run.direction, at: context.now, in: context.db)
        guard submission.outcome != .agentPredicted else { return " (agent-predicted)" }
        try context.appendEvent(
            kind: EventKind.runReplayed, jobID: run.job_id, direction: run.direction,
            message: "run \(submission.run): the saved model was replayed: \(submission.summary)", data: eventData(submission))
        return " (\(submission.summary))"
    }

    /// Records a replay that scored nothing (`unreproducible`) with its event; the direction's
    /// private submission is not spent.
    public func recordUnreproducible(jobID: Int64, submission: Submission) async throws {
        try await write { context in
            let run = try Self.ownedRun(submission.run, jobID: jobID, in: context.db)
            try Self.insertSubmission(submission, direction: run.direction, at: context.now, in: context.db)
            try context.appendEvent(
                kind: EventKind.runReplayed, jobID: jobID, direction: run.direction,
                message: "run \(submission.run): the saved model could not be replayed: \(submission.reason ?? "no reason given"); nothing was scored",
                data: Self.eventData(submission))
        }
    }

    static func eventData(_ submission: Submission) -> [String: JSONValue] {
        var data: [String: JSONValue] = ["run": .int(submission.run), "outcome": .string(submission.outcome.rawValue)]
        if let value = submission.replayedPublicScore { data["replayed_public_score"] = .double(value) }
        if let value = submission.reportedPublicScore { data["reported_public_score"] = .double(value) }
        if let value = submission.maxAbsDifference { data["max_abs_difference"] = .double(value) }
        if let value = submission.differingRows { data["differing_rows"] = .int(Int64(value)) }
        if let value = submission.seconds { data["seconds"] = .double(value) }
        if let value = submission.reason { data["reason"] = .string(value) }
        return data
    }

    /// The latest submission of run `runID`.
    public func submission(run runID: Int64) async throws -> Submission? {
        try await database.writer.read { db in
            try Self.submissions(sql: "WHERE run_id = ? ORDER BY id DESC LIMIT 1", arguments: [runID], in: db).first
        }
    }

    /// Each direction's submission: the scored one, else its latest unreproducible replay.
    static func directionSubmissions(in db: Database) throws -> [String: Submission] {
        var result: [String: Submission] = [:]
        let rows = try Row.fetchAll(db, sql: "SELECT direction, outcome, id FROM submissions ORDER BY id")
        var chosen: [String: Int64] = [:]
        var scored = Set<String>()
        for row in rows {
            let direction: String = row[0]
            let outcome: String = row[1]
            if outcome != SubmissionOutcome.unreproducible.rawValue {
                scored.insert(direction)
                chosen[direction] = row[2]
            } else if !scored.contains(direction) {
                chosen[direction] = row[2]
            }
        }
        guard !chosen.isEmpty else { return [:] }
        let ids = chosen.values.map(String.init).joined(separator: ",")
        let list = try Row.fetchAll(
            db, sql: "SELECT direction, \(columns) FROM submissions WHERE id IN (\(ids))")
        for row in list { result[row[0]] = submission(row, offset: 1) }
        return result
    }

    private static let columns = """
        run_id, outcome, replayed_public_score, reported_public_score, max_abs_difference, differing_rows, seconds,
        reason, log, created_at
        """

    static func submissions(sql: String, arguments: StatementArguments, in db: Database) throws -> [Submission] {
        try Row.fetchAll(db, sql: "SELECT \(columns) FROM submissions \(sql)", arguments: arguments).map { submission($0, offset: 0) }
    }

    private static func submission(_ row: Row, offset i: Int) -> Submission {
        let created: Date = row[i + 9]
        return Submission(
            run: row[i], outcome: SubmissionOutcome(rawValue: row[i + 1]) ?? .agentPredicted, replayedPublicScore: row[i + 2],
            reportedPublicScore: row[i + 3], maxAbsDifference: row[i + 4], differingRows: row[i + 5], seconds: row[i + 6],
            reason: row[i + 7], log: row[i + 8], time: Timestamp.format(created))
    }
}

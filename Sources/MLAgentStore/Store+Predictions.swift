import Foundation
import GRDB
import MLAgentProtocol

/// The predictions of public evaluations, kept as values (`evaluation_predictions`, see
/// ``AppDatabase/registerPredictionMigrations(_:)``).
extension Store {
    /// The predictions a run's public score was computed from: those of its latest public
    /// evaluation, which is the one whose score the run shows (`public_score`).
    public struct PublicPredictions: Sendable, Equatable {
        public var run: Int64
        public var direction: String
        public var evaluationID: Int64
        public var score: Double
        public var values: [Double]
    }

    /// Inserts an evaluation and, for a public one, its predictions, in the caller's transaction.
    static func insertEvaluation(_ evaluation: inout EvaluationRecord, predictions: [Double]?, in db: Database) throws {
        try evaluation.insert(db)
        guard let predictions, evaluation.split == "public", let id = evaluation.id else { return }
        guard predictions.count == evaluation.rows, !predictions.isEmpty else {
            throw RPCError(
                .internalError,
                "\(predictions.count) predictions for an evaluation of \(evaluation.rows) rows; nothing was recorded")
        }
        try db.execute(
            sql: "INSERT INTO evaluation_predictions(evaluation_id, rows, data) VALUES (?, ?, ?)",
            arguments: [id, predictions.count, PredictionCoding.encode(predictions)])
    }

    /// The predictions behind run `runID`'s public score. Throws `not_found` for an unknown run
    /// and `invalid_state` when the run has no public evaluation, or its latest one was recorded
    /// before the daemon kept predictions.
    public func publicPredictions(run runID: Int64) async throws -> PublicPredictions {
        try await database.writer.read { db in try Self.publicPredictions(run: runID, in: db) }
    }

    static func publicPredictions(run runID: Int64, in db: Database) throws -> PublicPredictions {
        guard let run = try RunRecord.fetchOne(db, key: runID) else {
            throw RPCError(
                .notFound, "no run with id \(runID); `mlagentctl runs` lists the runs", context: ["run": .int(runID)])
        }
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT e.id, e.score, p.rows, p.data FROM evaluations e
                LEFT JOIN evaluation_predictions p ON p.evaluation_id = e.id
                WHERE e.run_id = ? AND e.split = 'public' ORDER BY e.id DESC LIMIT 1
                """,
            arguments: [runID])
        guard let row else {
            throw RPCError(
                .invalidState,
                "run \(runID) has no public evaluation; it can be compared once `mlagentctl eval \(runID) PREDICTIONS` has scored it",
                context: ["run": .int(runID)])
        }
        let evaluationID: Int64 = row[0]
        guard let data: Data = row[3], let rows: Int = row[2], let values = PredictionCoding.decode(data, rows: rows)
        else {
            throw RPCError(
                .invalidState,
                "run \(runID)'s latest public evaluation (\(evaluationID)) was recorded before the daemon kept predictions, so it cannot be compared; evaluate the run again",
                context: ["run": .int(runID)])
        }
        return PublicPredictions(run: runID, direction: run.direction, evaluationID: evaluationID, score: row[1], values: values)
    }
}

/// Predictions as a BLOB: little-endian IEEE 754 binary64, one per row.
enum PredictionCoding {
    static func encode(_ values: [Double]) -> Data {
        var data = Data(count: values.count * 8)
        data.withUnsafeMutableBytes { raw in
            for (index, value) in values.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 8, as: UInt64.self)
            }
        }
        return data
    }

    /// The values, or nil when `data` does not hold exactly `rows` of them.
    static func decode(_ data: Data, rows: Int) -> [Double]? {
        guard rows > 0, data.count == rows * 8 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<rows).map { index in
                Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
            }
        }
    }
}

import Foundation
import GRDB
import MLAgentProtocol

/// The `runs` row.
struct RunRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "runs"
    var id: Int64?
    var direction: String
    var job_id: Int64
    var name: String
    var status: String
    var rationale: String
    var analysis: String?
    var started_at: Date
    var ended_at: Date?
    var public_score: Double?
    var public_ci: String?
    var public_evals: Int = 0
    var private_score: Double?
    var metric_points: Int64 = 0
    var has_model: Bool = false

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var run: Run {
        Run(
            id: id ?? 0, direction: direction, jobID: job_id, name: name, status: RunStatus(rawValue: status) ?? .failed,
            rationale: rationale, analysis: analysis, startedAt: Timestamp.format(started_at),
            endedAt: ended_at.map(Timestamp.format), publicScore: public_score,
            publicInterval: public_ci.flatMap(ScoreInterval.decode), publicEvals: public_evals,
            privateScore: private_score, metricPoints: metric_points, hasModel: has_model)
    }
}

/// The `evaluations` row.
struct EvaluationRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "evaluations"
    var id: Int64?
    var run_id: Int64
    var direction: String
    var split: String
    var metric: String
    var score: Double
    var ci: String?
    var rows: Int
    var created_at: Date

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The `artifacts` row.
struct ArtifactRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "artifacts"
    var run_id: Int64
    var name: String
    var is_directory: Bool
    var files: Int
    var bytes: Int64
    var created_at: Date

    var info: ArtifactInfo {
        ArtifactInfo(name: name, isDirectory: is_directory, files: files, bytes: bytes, createdAt: Timestamp.format(created_at))
    }
}

extension ScoreInterval {
    static func decode(_ text: String) -> ScoreInterval? {
        try? JSONCoding.decoder.decode(ScoreInterval.self, from: Data(text.utf8))
    }

    var json: String? {
        (try? JSONCoding.encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) }
    }
}

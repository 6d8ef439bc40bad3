import Foundation
import MLAgentProtocol

/// Limits and checks on what agents record, so that every record is also a valid MLflow
/// record (same key alphabet and size limits) and bad input gets a message naming the field.
enum RunValidation {
    static let maxParamValueBytes = 6000
    static let maxTagValueBytes = 8000
    static let maxNameBytes = 250
    static let maxRationaleBytes = 16 * 1024
    static let maxAnalysisBytes = 64 * 1024
    static let maxPointsPerRequest = 100_000
    static let maxBatchIDBytes = 200

    static func keyProblem(_ key: String, kind: String) -> String? {
        RecordRules.keyProblem(key, kind: kind)
    }

    static func checkParams(_ params: [String: String]?) throws {
        for (key, value) in params ?? [:] {
            if let problem = keyProblem(key, kind: "param") { throw invalid(problem, field: "params") }
            if value.utf8.count > maxParamValueBytes {
                throw invalid("param \(key) is \(value.utf8.count) bytes; the limit is \(maxParamValueBytes)", field: "params")
            }
        }
    }

    static func checkTags(_ tags: [String: String]?) throws {
        for (key, value) in tags ?? [:] {
            if let problem = keyProblem(key, kind: "tag") { throw invalid(problem, field: "tags") }
            if RunTag.reserved.contains(key) || key.hasPrefix(RunTag.daemonPrefix) || key.hasPrefix("mlflow.") {
                throw invalid(
                    "tag \(key) is set by the daemon (\(RunTag.reserved.sorted().joined(separator: ", ")), mlagent.*, mlflow.*); use --rationale and --analysis, or another tag name",
                    field: "tags")
            }
            if value.utf8.count > maxTagValueBytes {
                throw invalid("tag \(key) is \(value.utf8.count) bytes; the limit is \(maxTagValueBytes)", field: "tags")
            }
        }
    }

    static func checkMetrics(_ metrics: [MetricPoint]?) throws {
        guard let metrics else { return }
        if metrics.count > maxPointsPerRequest {
            throw invalid(
                "\(metrics.count) metric points in one request; send at most \(maxPointsPerRequest) per request", field: "metrics")
        }
        var checked = Set<String>()
        for (index, point) in metrics.enumerated() {
            let known = checked.contains(point.key)
            if let problem = RecordRules.pointProblem(point, checkKey: !known) {
                throw invalid(problem + " (point \(index + 1))", field: "metrics")
            }
            if !known { checked.insert(point.key) }
        }
    }

    /// Trims `text` and checks it is neither empty nor over `limit` bytes.
    static func text(_ text: String, field: String, limit: Int, whenEmpty: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw invalid("\(field) is empty: \(whenEmpty)", field: field) }
        guard trimmed.utf8.count <= limit else {
            throw invalid("\(field) is \(trimmed.utf8.count) bytes; the limit is \(limit): shorten it", field: field)
        }
        return trimmed
    }

    static func invalid(_ message: String, field: String) -> RPCError {
        RPCError(.invalidParams, message, context: ["field": .string(field)])
    }
}

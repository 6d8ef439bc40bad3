import Foundation
import MLAgentStore

/// Sends a run's metric points past its cursor in batches of MLflow's maximum, recording each
/// batch as in flight before it is sent and the cursor after MLflow acknowledged it.
struct MLflowMetricSync: Sendable {
    let store: Store
    let uri: String
    let client: MLflowClient

    /// Returns the points sent.
    func send(run id: Int64, to target: String, pending: Store.MirrorRun) async throws -> Int {
        var cursor = pending.metricsCursor
        if let inflight = pending.inflightCursor, inflight > cursor {
            // A batch was sent before a crash without its acknowledgement being recorded:
            // if MLflow has its last point, it arrived (log-batch is one transaction there).
            let batch = try await store.mirrorPoints(run: id, after: cursor, limit: MLflowMirror.maxMetrics).filter { $0.rowid <= inflight }
            if let last = batch.last {
                let history = try await client.history(run: target, key: last.point.key)
                if history.contains(where: {
                    $0.step == last.point.step && $0.timestamp == (last.point.timestamp ?? 0) && $0.value == last.point.value
                }) {
                    try await store.mirrorAdvance(uri: uri, run: id, through: last.rowid)
                    cursor = last.rowid
                }
            }
        }
        var sent = 0
        while true {
            let points = try await store.mirrorPoints(run: id, after: cursor, limit: MLflowMirror.maxMetrics)
            guard let last = points.last else { break }
            try await store.mirrorInflight(uri: uri, run: id, through: last.rowid)
            do {
                try await client.logBatch(
                    run: target,
                    metrics: points.map {
                        MLflowClient.Point(key: $0.point.key, value: $0.point.value, timestamp: $0.point.timestamp ?? 0, step: $0.point.step)
                    })
            } catch MLflowClient.Failure.permanent(let status, let code, let message) {
                try await store.mirrorDeadLetter(
                    uri: uri, run: id, operation: "log-batch metrics through point \(last.rowid)", status: status,
                    reason: "\(code): \(message)", stopRun: false)
            }
            try await store.mirrorAdvance(uri: uri, run: id, through: last.rowid)
            cursor = last.rowid
            sent += points.count
        }
        return sent
    }
}

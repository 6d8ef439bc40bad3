import GRDB
import MLAgentProtocol
import Synchronization

/// Queue counts, the last event `seq`, the pause flag and the artifact store's totals, kept in memory as a fold over the
/// committed event log. The store is the only writer and every change appends an event in
/// the same transaction, so applying each committed batch keeps the cache exact, and
/// `daemon.status` costs no SQL however long the queue grows.
final class StoreCache: Sendable {
    struct Snapshot: Sendable {
        var counts: [JobState: Int]
        var lastSeq: Int64
        var paused: Bool
        /// Bytes and files in the artifact store (every recorded artifact).
        var artifactBytes: Int64 = 0
        var artifactFiles: Int64 = 0
    }

    private let state: Mutex<Snapshot>

    init(reader: any DatabaseReader) throws {
        let snapshot = try reader.read { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            let lastSeq = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM events") ?? 0
            let paused = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'paused'") == "true"
            let artifacts = try Row.fetchOne(
                db, sql: "SELECT COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(files), 0) AS files FROM artifacts")
            return Snapshot(
                counts: counts, lastSeq: lastSeq, paused: paused, artifactBytes: artifacts?["bytes"] ?? 0,
                artifactFiles: artifacts?["files"] ?? 0)
        }
        state = Mutex(snapshot)
    }

    var snapshot: Snapshot { state.withLock { $0 } }

    func apply(_ events: [Event]) {
        state.withLock { snapshot in
            for event in events {
                snapshot.lastSeq = max(snapshot.lastSeq, event.seq)
                switch event.kind {
                case EventKind.jobEnqueued:
                    snapshot.counts[.queued, default: 0] += 1
                case EventKind.jobState:
                    if case .string(let from)? = event.data["from"], let state = JobState(rawValue: from) {
                        snapshot.counts[state, default: 0] -= 1
                    }
                    if case .string(let to)? = event.data["to"], let state = JobState(rawValue: to) {
                        snapshot.counts[state, default: 0] += 1
                    }
                case EventKind.queuePaused:
                    snapshot.paused = true
                case EventKind.queueResumed:
                    snapshot.paused = false
                case EventKind.runArtifact:
                    if case .int(let bytes)? = event.data["bytes"] { snapshot.artifactBytes += bytes }
                    if case .int(let files)? = event.data["files"] { snapshot.artifactFiles += files }
                default:
                    break
                }
            }
        }
    }
}

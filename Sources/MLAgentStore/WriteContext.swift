public import Foundation
public import GRDB
public import MLAgentProtocol

/// What a write operation sees inside the group-commit transaction: the database and a
/// collector for the events it appends, published only after the transaction commits.
public final class WriteContext {
    public let db: Database
    public let now: Date
    public internal(set) var events: [Event] = []

    init(db: Database, now: Date) {
        self.db = db
        self.now = now
    }

    /// Appends an event in the current transaction and returns it with its `seq`.
    @discardableResult
    public func appendEvent(
        kind: String, jobID: Int64? = nil, direction: String? = nil, message: String,
        data: [String: JSONValue] = [:]
    ) throws -> Event {
        let json = String(decoding: try JSONCoding.encoder.encode(data), as: UTF8.self)
        var record = EventRecord(
            seq: nil, time: now, kind: kind, job_id: jobID,
            direction: direction.flatMap { $0.isEmpty ? nil : $0 }, message: message, data: json)
        try record.insert(db)
        let event = Event(
            seq: record.seq ?? db.lastInsertedRowID, time: now, kind: kind, jobID: jobID, direction: record.direction,
            message: message, data: data)
        events.append(event)
        return event
    }
}

import Foundation
import GRDB
public import MLAgentProtocol

/// The inbox of each job: messages operators send to its agent (`job.say`), which the agent
/// reads (`job.inbox`). Sending and reading are events; nothing is ever deleted.
extension Store {
    /// Puts a message in the inbox of a job that has not ended, with a `job.message` event.
    public func say(jobID: Int64, text: String) async throws -> InboxMessage {
        try await write { context in
            let db = context.db
            guard let job = try JobRecord.fetchOne(db, key: jobID) else { throw Self.notFound(jobID) }
            let state = JobState(rawValue: job.state) ?? .failed
            if state.isFinal {
                throw RPCError(
                    .invalidState,
                    "job \(jobID) is \(state.rawValue): its agent has ended and reads no more messages; messages go to queued or running jobs (`mlagentctl list --state running`)",
                    context: ["job_id": .int(jobID), "state": .string(state.rawValue)])
            }
            try db.execute(
                sql: "INSERT INTO inbox_messages(job_id, text, sent_at) VALUES (?, ?, ?)", arguments: [jobID, text, context.now])
            // As stored (to the millisecond), so the reply equals what is read back later.
            let id = db.lastInsertedRowID
            guard let message = try Self.inboxMessages(jobID: jobID, unreadOnly: true, in: db).first(where: { $0.id == id }) else {
                throw RPCError(.internalError, "message \(id) vanished")
            }
            let preview = text.count > 80 ? String(text.prefix(77)) + "..." : text
            try context.appendEvent(
                kind: EventKind.jobMessage, jobID: jobID, direction: job.direction,
                message: "message \(message.id) to job \(jobID): \(preview.replacingOccurrences(of: "\n", with: " "))",
                data: ["message": .int(message.id), "text": .string(text)])
            return message
        }
    }

    /// The job's unread messages (every message with `all`), oldest first; those unread are
    /// marked read now, with one `job.message.read` event.
    public func readInbox(jobID: Int64, all: Bool) async throws -> Inbox {
        try await write { context in
            let db = context.db
            var messages = try Self.inboxMessages(jobID: jobID, unreadOnly: !all, in: db)
            let unread = messages.indices.filter { messages[$0].readAt == nil }
            if !unread.isEmpty {
                let ids = unread.map { messages[$0].id }
                try db.execute(
                    sql: "UPDATE inbox_messages SET read_at = ? WHERE job_id = ? AND read_at IS NULL",
                    arguments: [context.now, jobID])
                // Read back as stored (to the millisecond), as later reads will see them.
                let shown = Set(messages.map(\.id))
                messages = try Self.inboxMessages(jobID: jobID, unreadOnly: false, in: db).filter { shown.contains($0.id) }
                let direction = try String.fetchOne(db, sql: "SELECT direction FROM jobs WHERE id = ?", arguments: [jobID])
                try context.appendEvent(
                    kind: EventKind.jobMessageRead, jobID: jobID, direction: direction,
                    message: "job \(jobID) read \(ids.count == 1 ? "message" : "messages") \(ids.map(String.init).joined(separator: ", "))",
                    data: ["messages": .array(ids.map { .int($0) })])
            }
            return Inbox(jobID: jobID, messages: messages, new: unread.count)
        }
    }

    /// Every message sent to a job, oldest first (read or not), without marking anything.
    public func inboxMessages(jobID: Int64) async throws -> [InboxMessage] {
        try await database.writer.read { db in try Self.inboxMessages(jobID: jobID, unreadOnly: false, in: db) }
    }

    static func inboxMessages(jobID: Int64, unreadOnly: Bool, in db: Database) throws -> [InboxMessage] {
        let filter = unreadOnly ? " AND read_at IS NULL" : ""
        return try Row.fetchAll(
            db, sql: "SELECT id, text, sent_at, read_at FROM inbox_messages WHERE job_id = ?\(filter) ORDER BY id",
            arguments: [jobID]
        ).map { row in
            InboxMessage(id: row["id"], jobID: jobID, text: row["text"], sentAt: row["sent_at"], readAt: row["read_at"])
        }
    }
}

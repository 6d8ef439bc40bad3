public import Foundation

extension Method {
    /// `job.say` (operator): a message into a job's inbox.
    public static let say = "job.say"
    /// `job.inbox` (agent): the caller's messages; unread ones are marked read.
    public static let inbox = "job.inbox"
}

extension EventKind {
    /// An operator put a message in a job's inbox (`data.message`, `data.text`).
    public static let jobMessage = "job.message"
    /// The agent read messages of its inbox (`data.messages`: their ids).
    public static let jobMessageRead = "job.message.read"
}

/// A message from an operator to a running agent (`mlagentctl say`).
public struct InboxMessage: Sendable, Codable, Equatable {
    public var id: Int64
    public var jobID: Int64
    public var text: String
    public var sentAt: Date
    /// When the agent first read it; nil while unread.
    public var readAt: Date?

    public init(id: Int64, jobID: Int64, text: String, sentAt: Date, readAt: Date?) {
        self.id = id
        self.jobID = jobID
        self.text = text
        self.sentAt = sentAt
        self.readAt = readAt
    }

    enum CodingKeys: String, CodingKey {
        case id, text
        case jobID = "job_id"
        case sentAt = "sent_at"
        case readAt = "read_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        jobID = try c.decode(Int64.self, forKey: .jobID)
        text = try c.decode(String.self, forKey: .text)
        sentAt = try Timestamp.parse(c.decode(String.self, forKey: .sentAt))
        readAt = try c.decodeIfPresent(String.self, forKey: .readAt).map(Timestamp.parse)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(jobID, forKey: .jobID)
        try c.encode(text, forKey: .text)
        try c.encode(Timestamp.format(sentAt), forKey: .sentAt)
        try c.encodeIfPresent(readAt.map(Timestamp.format), forKey: .readAt)
    }
}

public struct SayParams: Sendable, Codable, Equatable {
    /// The job id.
    public var id: Int64
    public var message: String
    public init(id: Int64, message: String) {
        self.id = id
        self.message = message
    }
}

public struct InboxParams: Sendable, Codable, Equatable {
    /// Every message, not only the unread ones.
    public var all: Bool?
    public init(all: Bool? = nil) { self.all = all }
}

/// What `job.inbox` returns: the unread messages (or every message with `all`), oldest first.
public struct Inbox: Sendable, Codable, Equatable {
    public var jobID: Int64
    public var messages: [InboxMessage]
    /// How many of `messages` were unread before this call (now marked read).
    public var new: Int

    public init(jobID: Int64, messages: [InboxMessage], new: Int) {
        self.jobID = jobID
        self.messages = messages
        self.new = new
    }

    enum CodingKeys: String, CodingKey {
        case messages, new
        case jobID = "job_id"
    }
}

/// Limits of inbox messages.
public enum InboxRules {
    public static let maxMessageBytes = 16 * 1024

    /// Why `text` cannot be sent, or nil.
    public static func problem(with text: String) -> String? {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return "the message is empty: say what the agent should know or try"
        }
        if text.utf8.count > maxMessageBytes {
            return "the message has \(text.utf8.count) bytes; at most \(maxMessageBytes) are allowed"
        }
        return nil
    }
}

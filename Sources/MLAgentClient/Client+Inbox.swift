public import MLAgentProtocol

/// Steering a running agent: operators say, agents read their inbox.
extension Client {
    /// (operator) Puts a message in job `job`'s inbox.
    public func say(job: Int64, message: String) throws -> InboxMessage {
        try connection.call(Method.say, params: SayParams(id: job, message: message), as: InboxMessage.self)
    }

    /// (agent) The caller's unread messages, or every message with `all`; unread ones are
    /// marked read.
    public func inbox(all: Bool = false) throws -> Inbox {
        try connection.call(Method.inbox, params: InboxParams(all: all), as: Inbox.self)
    }
}

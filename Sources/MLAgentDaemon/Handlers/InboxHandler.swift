import MLAgentProtocol

/// `job.inbox` (agent): the caller's unread messages (every message with `all`), oldest
/// first; the unread ones are marked read.
struct InboxHandler: RequestHandler {
    static let method = Method.inbox
    static let access = MethodAccess.agent
    let core: DaemonCore
    var defaultParams: InboxParams? { InboxParams() }

    func handle(_ params: InboxParams, context: RequestContext) async throws -> Inbox {
        let jobID = try context.requireAgent(Self.method)
        return try await core.store.readInbox(jobID: jobID, all: params.all ?? false)
    }
}

import MLAgentProtocol

/// `events.list`: one page of the event log after `since`.
struct EventsListHandler: RequestHandler {
    static let method = Method.eventsList
    static let access = MethodAccess.both
    static let maxLimit = 10_000
    let core: DaemonCore
    var defaultParams: EventsParams? { EventsParams() }

    func handle(_ params: EventsParams, context: RequestContext) async throws -> EventList {
        let since = params.since ?? 0
        guard since >= 0 else {
            throw RPCError(.invalidParams, "since must be 0 or a seq, got \(since)", context: ["field": "since"])
        }
        let limit = params.limit ?? 1000
        guard (1...Self.maxLimit).contains(limit) else {
            throw RPCError(.invalidParams, "limit must be within 1...\(Self.maxLimit), got \(limit)", context: ["field": "limit"])
        }
        let lastSeq = core.store.lastSeq()
        let events = try await core.store.events(since: since, job: params.job, limit: limit)
        return EventList(events: events, lastSeq: max(lastSeq, events.last?.seq ?? 0))
    }
}

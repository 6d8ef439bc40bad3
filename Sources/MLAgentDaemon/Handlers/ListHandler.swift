import MLAgentProtocol

/// `job.list`: jobs, optionally of one state.
struct ListHandler: RequestHandler {
    static let method = Method.list
    static let access = MethodAccess.both
    let core: DaemonCore
    var defaultParams: ListParams? { ListParams() }

    func handle(_ params: ListParams, context: RequestContext) async throws -> JobList {
        if let limit = params.limit, limit < 1 {
            throw RPCError(.invalidParams, "limit must be at least 1, got \(limit)", context: ["field": "limit"])
        }
        return JobList(jobs: try await core.store.jobs(state: params.state, limit: params.limit))
    }
}

import MLAgentProtocol

/// `usage.report`: tokens and cost of the session, of each job and of each direction.
struct UsageHandler: RequestHandler {
    static let method = Method.usageReport
    static let access = MethodAccess.both
    let core: DaemonCore

    func handle(_ params: NoParams, context: RequestContext) async throws -> UsageReport {
        let jobs = try await core.store.usageByJob()
        var byDirection: [String: TokenUsage] = [:]
        for job in jobs where !job.direction.isEmpty {
            byDirection[job.direction] = (byDirection[job.direction] ?? TokenUsage(reported: true)) + job.usage
        }
        let cap = core.config.maxSessionCostUSD
        let session = jobs.map(\.usage).reduce(TokenUsage(reported: true), +)
        return UsageReport(
            session: jobs.isEmpty ? .zero : session, maxSessionCostUSD: cap > 0 ? cap : nil,
            sessionCapReached: cap > 0 && session.costUSD >= cap,
            jobs: jobs,
            directions: byDirection.keys.sorted().map { UsageReport.Direction(direction: $0, usage: byDirection[$0]!) },
            prices: core.config.agents.compactMapValues(\.pricePerMTok))
    }
}

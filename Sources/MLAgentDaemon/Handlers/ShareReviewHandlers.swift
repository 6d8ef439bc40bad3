import MLAgentProtocol
import MLAgentStore

/// `share.diff` (anyone): the proposal against `shared/NAME/` on the `main` its tests last ran on.
struct ShareDiffHandler: RequestHandler {
    static let method = Method.shareDiff
    static let access = MethodAccess.both
    let core: DaemonCore

    func handle(_ params: ShareIDParams, context: RequestContext) async throws -> ShareDiff {
        try await core.store.proposalDiff(id: params.id)
    }
}

/// `share.approve` (operator): approves a proposal that passed its tests; the merge actor lands it.
struct ShareApproveHandler: RequestHandler {
    static let method = Method.shareApprove
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: ShareDecisionParams, context: RequestContext) async throws -> ShareProposal {
        try await ShareDecision.decide(params.id, approve: true, reason: params.reason, by: .operator, core: core, services: services)
    }
}

/// `share.reject` (operator): rejects a proposal, with a reason.
struct ShareRejectHandler: RequestHandler {
    static let method = Method.shareReject
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: ShareDecisionParams, context: RequestContext) async throws -> ShareProposal {
        try await ShareDecision.decide(params.id, approve: false, reason: params.reason, by: .operator, core: core, services: services)
    }
}

/// `share.review` (a reviewer agent): the verdict on the proposal its job was launched for.
struct ShareReviewHandler: RequestHandler {
    static let method = Method.shareReview
    static let access = MethodAccess.agent
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: ShareReviewParams, context: RequestContext) async throws -> ShareProposal {
        let jobID = try context.requireAgent(Self.method)
        return try await ShareDecision.decide(
            params.id, approve: params.approve, reason: params.reason, by: .job(jobID), core: core, services: services)
    }
}

enum ShareDecision {
    static func decide(
        _ id: Int64, approve: Bool, reason: String?, by reviewer: Store.ShareReviewer, core: DaemonCore, services: AgentServices
    ) async throws -> ShareProposal {
        if let reason, reason.utf8.count > ShareRules.maxSummaryBytes {
            throw RPCError(.invalidParams, "the reason is over \(ShareRules.maxSummaryBytes) bytes; say it in a paragraph", context: ["field": "reason"])
        }
        let proposal = try await core.store.decide(id: id, approve: approve, reason: reason, by: reviewer)
        core.logger.info(
            approve ? "shared code approved" : "shared code rejected",
            metadata: ["proposal": "\(id)", "name": "\(proposal.name)", "version": "\(proposal.version)",
                       "reviewer": "\(proposal.reviewer ?? "")", "job.id": "\(proposal.jobID)"])
        if approve { services.merge.wake() }
        return proposal
    }
}

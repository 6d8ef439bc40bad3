public import MLAgentProtocol

/// Shared code on `main`: agents propose utilities; anyone lists and reads the proposals; the
/// operator or a reviewer agent decides them.
extension Client {
    /// (agent) Proposes the files at `params.paths` (absolute, inside the caller's worktree).
    public func propose(_ params: ShareProposeParams) throws -> ShareProposal {
        try connection.call(Method.sharePropose, params: params, as: ShareProposal.self)
    }

    public func proposals() throws -> [ShareProposal] {
        try connection.call(Method.shareList, as: ShareList.self).proposals
    }

    public func proposal(id: Int64) throws -> ShareDetail {
        try connection.call(Method.shareShow, params: ShareIDParams(id: id), as: ShareDetail.self)
    }

    public func proposalDiff(id: Int64) throws -> ShareDiff {
        try connection.call(Method.shareDiff, params: ShareIDParams(id: id), as: ShareDiff.self)
    }

    /// (operator) Approves or rejects a proposal that passed its tests.
    public func decide(id: Int64, approve: Bool, reason: String?) throws -> ShareProposal {
        try connection.call(
            approve ? Method.shareApprove : Method.shareReject, params: ShareDecisionParams(id: id, reason: reason), as: ShareProposal.self)
    }

    /// (reviewer agent) The verdict on the proposal the job was launched for.
    public func review(id: Int64, approve: Bool, reason: String?) throws -> ShareProposal {
        try connection.call(Method.shareReview, params: ShareReviewParams(id: id, approve: approve, reason: reason), as: ShareProposal.self)
    }
}

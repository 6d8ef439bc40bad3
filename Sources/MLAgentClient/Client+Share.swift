public import MLAgentProtocol

/// Shared code on `main`: agents propose utilities; anyone lists and reads the proposals.
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
}

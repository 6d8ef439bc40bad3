import Foundation
import MLAgentProtocol

/// `report.compare`: a paired bootstrap of two runs' public predictions on the same rows, A
/// against B. Open to operators and to agents, for any run (like `run.show`: the knowledge base
/// is shared); both runs need a public evaluation whose predictions the daemon kept.
struct CompareHandler: RequestHandler {
    static let method = Method.compare
    static let access = MethodAccess.both
    let core: DaemonCore
    let comparer: RunComparer

    func handle(_ params: CompareParams, context: RequestContext) async throws -> RunComparison {
        try await comparer.compare(runA: params.runA, runB: params.runB, policy: core.config.evaluationPolicy)
    }
}

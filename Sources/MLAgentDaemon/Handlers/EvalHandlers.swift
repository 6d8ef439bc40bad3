import Foundation
import MLAgentProtocol
import MLAgentStore

/// `run.eval` (agent): scores a predictions file from the worktree on the public split, within
/// the direction's budget (``SubmitHandler`` scores the private split). A file that cannot be
/// scored logs nothing and spends nothing.
struct EvalHandler: RequestHandler {
    static let method = Method.eval
    static let access = MethodAccess.agent
    let core: DaemonCore
    let evaluator: Evaluator

    func handle(_ params: EvalParams, context: RequestContext) async throws -> EvalResult {
        try await evaluate(params, split: .public, context: context, core: core, evaluator: evaluator)
    }
}

/// Largest predictions file read.
let maxPredictionBytes = 512 << 20

func evaluate(
    _ params: EvalParams, split: Evaluator.Split, context: RequestContext, core: DaemonCore, evaluator: Evaluator,
    submission: Submission? = nil
) async throws -> EvalResult {
    let jobID = try context.requireAgent(split == .public ? Method.eval : Method.submit)
    let policy = core.config.evaluationPolicy
    let check: Store.EvaluationCheck = split == .public ? .publicSplit : .privateSplit
    _ = try await core.store.checkEvaluation(jobID: jobID, run: params.run, split: check, policy: policy)
    let worktree = try await core.store.job(id: jobID).worktree ?? ""
    guard let path = params.path else {
        throw RunValidation.invalid("give the predictions file: mlagentctl eval RUN PREDICTIONS", field: "path")
    }
    let name = (path as NSString).lastPathComponent
    let data = try await WorktreeFiles.read(path, worktree: worktree, maxBytes: maxPredictionBytes)
    let score = try await Task.detached {
        let seed = UInt64(bitPattern: params.run) &* 0x9E37_79B9_7F4A_7C15 &+ (split == .public ? 1 : 2)
        return try evaluator.score(data, name: name, split: split, seed: seed)
    }.value
    let result = try await core.store.recordEvaluation(
        jobID: jobID, run: params.run, split: check, score: score.value, interval: score.interval, rows: score.rows,
        predictions: split == .public ? score.predictions : nil, submission: submission, policy: policy)
    core.logger.info(
        "\(split.rawValue) evaluation",
        metadata: [
            "job.id": "\(jobID)", "direction": "\(result.direction)", "run": "\(params.run)",
            "score": "\(result.score)",
        ])
    return result
}

import Foundation
import MLAgentProtocol
import MLAgentStore
import Synchronization

/// `run.submit` (agent): scores the private split once per direction, for a finished run with
/// a model.
///
/// With `[evaluation] submit = "replay"` (the default) the agent gives no predictions: the
/// daemon replays the run's saved model (``ModelReplayer``), scores the private split from the
/// replayed predictions, and compares the replayed public predictions with those the run was
/// evaluated with: `reproduced` within ``Submission/tolerance``, else `mismatch` (scored, with
/// the replayed public score beside the reported one). A model that fails to load or predict
/// is `unreproducible`: recorded with its log, nothing scored or spent. With
/// `submit = "predictions"` the agent's own file is scored and marked `agent-predicted`.
struct SubmitHandler: RequestHandler {
    static let method = Method.submit
    static let access = MethodAccess.agent
    let core: DaemonCore
    let services: AgentServices
    /// Directions whose submission is being replayed: one at a time each.
    private let replaying = ReplayingDirections()

    init(core: DaemonCore, services: AgentServices) {
        self.core = core
        self.services = services
    }

    func handle(_ params: EvalParams, context: RequestContext) async throws -> EvalResult {
        let jobID = try context.requireAgent(Self.method)
        switch core.config.submitMode {
        case .predictions:
            guard params.path != nil else {
                throw RunValidation.invalid(
                    "this daemon scores the private split from your predictions ([evaluation] submit = \"predictions\"): mlagentctl submit RUN PREDICTIONS",
                    field: "path")
            }
            let submission = Submission(run: params.run, outcome: .agentPredicted, time: Timestamp.format(Date()))
            return try await evaluate(
                params, split: .private, context: context, core: core, evaluator: services.evaluator, submission: submission)
        case .replay:
            guard params.path == nil else {
                throw RunValidation.invalid(
                    "this daemon scores the private split by replaying the run's saved model, not from a predictions file: submit without one (mlagentctl submit \(params.run))",
                    field: "path")
            }
            return try await replay(run: params.run, jobID: jobID)
        }
    }

    private func replay(run runID: Int64, jobID: Int64) async throws -> EvalResult {
        let store = core.store
        let policy = core.config.evaluationPolicy
        let direction = try await store.checkEvaluation(jobID: jobID, run: runID, split: .privateSplit, policy: policy)
        let evaluated: Store.PublicPredictions
        do {
            evaluated = try await store.publicPredictions(run: runID)
        } catch let error as RPCError where error.kind == .invalidState {
            throw RPCError(
                .invalidState,
                "run \(runID) has no public evaluation whose predictions the replay could be checked against: evaluate it (mlagentctl eval \(runID) PREDICTIONS), then submit",
                context: ["run": .int(runID)])
        }
        guard replaying.enter(direction) else {
            throw RPCError(
                .conflict, "a submission of direction \(direction) is being replayed; wait for its answer",
                context: ["direction": .string(direction)])
        }
        defer { replaying.leave(direction) }
        let model = (services.artifacts.directory(run: runID) as NSString).appendingPathComponent(ModelContract.artifactName)
        let replay = try await services.replayer.replay(run: runID, modelDirectory: model)
        let log = scrub(replay.log, model: model, directory: replay.directory)
        let now = Timestamp.format(Date())
        func unreproducible(_ failure: String) async throws -> Never {
            let reason = scrub(failure, model: model, directory: replay.directory)
            let submission = Submission(
                run: runID, outcome: .unreproducible, reportedPublicScore: evaluated.score, seconds: replay.seconds,
                reason: reason, log: log, time: now)
            try await store.recordUnreproducible(jobID: jobID, submission: submission)
            core.logger.notice("replay failed", metadata: ["job.id": "\(jobID)", "run": "\(runID)", "reason": "\(reason)"])
            throw RPCError(
                .unreproducible,
                "run \(runID)'s model could not be replayed: \(reason). Nothing was scored or spent: submit a run whose saved model loads and predicts (mlflow.pyfunc.load_model). The scorer's log ends:\n\(log)",
                context: ["run": .int(runID), "outcome": .string(SubmissionOutcome.unreproducible.rawValue)])
        }
        let publicData: Data
        let privateData: Data
        switch replay.outcome {
        case .failed(let reason): try await unreproducible(reason)
        case .predicted(let replayedPublic, let replayedPrivate): (publicData, privateData) = (replayedPublic, replayedPrivate)
        }
        let evaluator = services.evaluator
        let scored: (Evaluator.Score, Evaluator.Score)
        do {
            scored = try await Task.detached {
                let seed = UInt64(bitPattern: runID) &* 0x9E37_79B9_7F4A_7C15
                return (
                    try evaluator.score(
                        publicData, name: "replayed public predictions", split: .public, seed: seed &+ 1, withInterval: false),
                    try evaluator.score(privateData, name: "replayed private predictions", split: .private, seed: seed &+ 2)
                )
            }.value
        } catch let error as RPCError where error.kind == .invalidPredictions {
            try await unreproducible("its predictions cannot be scored: \(error.message)")
        }
        let (replayedPublic, replayedPrivate) = scored
        let (difference, differing) = Self.compare(replayedPublic.predictions, evaluated.values)
        let submission = Submission(
            run: runID, outcome: differing == 0 ? .reproduced : .mismatch, replayedPublicScore: replayedPublic.value,
            reportedPublicScore: evaluated.score, maxAbsDifference: difference, differingRows: differing,
            seconds: replay.seconds, time: now)
        let result = try await store.recordEvaluation(
            jobID: jobID, run: runID, split: .privateSplit, score: replayedPrivate.value, interval: replayedPrivate.interval,
            rows: replayedPrivate.rows, submission: submission, policy: policy)
        core.logger.info(
            "private evaluation by replay",
            metadata: [
                "job.id": "\(jobID)", "direction": "\(result.direction)", "run": "\(runID)", "score": "\(result.score)",
                "outcome": "\(submission.outcome.rawValue)", "seconds": "\(String(format: "%.2f", replay.seconds))",
            ])
        return result
    }

    /// The largest |a − b| and how many rows differ by more than the tolerance (a NaN on
    /// either side differs).
    static func compare(_ replayed: [Double], _ evaluated: [Double]) -> (Double, Int) {
        guard replayed.count == evaluated.count else { return (.infinity, max(replayed.count, evaluated.count)) }
        var largest = 0.0
        var differing = 0
        for (a, b) in zip(replayed, evaluated) {
            let difference = abs(a - b)
            if !(difference <= Submission.tolerance) { differing += 1 }
            if difference.isNaN { largest = .infinity } else { largest = max(largest, difference) }
        }
        return (largest, differing)
    }

    /// The scorer's log with the daemon's own paths replaced (a daemon without a sandbox runs
    /// the scorer on them).
    private func scrub(_ log: String, model: String, directory: String) -> String {
        var text = log
        for (path, shown) in [
            (model, ScorerSandbox.modelPath), ((directory as NSString).appendingPathComponent("out"), ScorerSandbox.outPath),
            (directory, ScorerSandbox.root), (core.config.dataDir, ScorerSandbox.dataPath), (core.config.stateDir, "(state)"),
        ] where !path.isEmpty {
            text = text.replacingOccurrences(of: path, with: shown)
        }
        return text
    }
}

/// The directions whose submission is being replayed.
final class ReplayingDirections: Sendable {
    private let names = Mutex<Set<String>>([])

    func enter(_ direction: String) -> Bool { names.withLock { $0.insert(direction).inserted } }
    func leave(_ direction: String) { names.withLock { _ = $0.remove(direction) } }
}

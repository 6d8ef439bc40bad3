import GRDB
import MLAgentProtocol

/// What an evaluation needs before it is scored: a public one, budget left on a run that did
/// not fail; the private one, a finished run with a model in a direction that has not submitted.
extension Store {
    static func publicEvalsUsed(direction: String, in db: Database) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM evaluations WHERE direction = ? AND split = 'public'", arguments: [direction]) ?? 0
    }

    static func checkPublic(_ run: RunRecord, policy: EvaluationPolicy, in db: Database) throws {
        if run.status == RunStatus.failed.rawValue {
            throw RPCError(
                .invalidState, "run \(run.id ?? 0) failed; failed runs are kept but not evaluated",
                context: ["run": .int(run.id ?? 0)])
        }
        let used = try publicEvalsUsed(direction: run.direction, in: db)
        if used >= policy.publicEvalBudget {
            throw RPCError(
                .budgetExhausted,
                "direction \(run.direction) used all \(policy.publicEvalBudget) public evaluations; 0 left. Choose among the runs already scored and submit",
                context: ["public_evals_left": .int(0), "budget": .int(Int64(policy.publicEvalBudget))])
        }
    }

    static func checkPrivate(_ run: RunRecord, in db: Database) throws {
        let id = run.id ?? 0
        if let previous = try Row.fetchOne(
            db, sql: "SELECT run_id, score FROM evaluations WHERE direction = ? AND split = 'private'", arguments: [run.direction])
        {
            let previousRun: Int64 = previous["run_id"]
            throw RPCError(
                .conflict,
                "direction \(run.direction) already submitted run \(previousRun); the private split is scored once per direction",
                context: ["run": .int(previousRun)])
        }
        guard run.status == RunStatus.finished.rawValue else {
            let why =
                run.status == RunStatus.running.rawValue
                ? "is still running: end it first (mlagentctl run end \(id) --analysis TEXT)"
                : "failed; submit a finished run"
            throw RPCError(.invalidState, "run \(id) \(why)", context: ["run": .int(id), "status": .string(run.status)])
        }
        guard run.has_model else {
            throw RPCError(
                .invalidState,
                "run \(id) has no model artifact; only a run whose saved model was uploaded (run artifact RUN PATH --as model) can be submitted",
                context: ["run": .int(id)])
        }
    }
}

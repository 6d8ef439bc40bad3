import MCP
import MLAgentClient
import MLAgentProtocol

/// Scoring predictions: the public split within the direction's budget, the private one once.
enum EvaluationTools {
    static let tools: [MCPTool] = [evaluatePublic, submitPrivate]

    static let evaluatePublic = MCPTool(
        name: "evaluate_public", title: "Score public predictions",
        description: """
            Score a predictions CSV on the public validation split and log the score on the run as \
            public_val_score. The file lies in your worktree (a path relative to it, or absolute): a header line, \
            then one prediction per row of data/val_public_X.csv in the same order (probabilities of class 1 \
            for roc_auc and log_loss). Returns the score, its 95% bootstrap interval and public_evals_left. \
            Each call spends one of the direction's public evaluations; a file that cannot be scored spends \
            nothing and the error names the line and value. Do not tune against this split: select with \
            cross-validation and evaluate candidates that are already good.
            """,
        input: ToolSchema.object(
            [
                "run": ToolSchema.run("The run whose saved model made the predictions (running or finished)."),
                "path": ToolSchema.string("The predictions CSV, e.g. preds/12-public.csv.", minLength: 1),
            ], required: ["run", "path"])
    ) { arguments, client in
        try toolValue(try client.evaluate(run: try arguments.int64("run"), path: try arguments.path("path")))
    }

    static let submitPrivate = MCPTool(
        name: "submit_private", title: "Submit for the private split",
        description: """
            Score the private validation split, once per direction, for your best finished run that has a model \
            artifact (an MLflow model directory). Give no path: the daemon replays that saved model itself, \
            predicts data/val_private_X.csv and checks that it reproduces the public predictions the run was \
            evaluated with (outcome reproduced, or mismatch). Only where the daemon is configured to take \
            predictions ([evaluation] submit = "predictions") give path: a CSV in your worktree with a header \
            and one prediction per row of data/val_private_X.csv. Returns the private score with its interval, \
            the run's public score, the gap (positive: private is worse), the submission outcome and whether \
            the direction is flagged overfit. A model that cannot be replayed spends nothing; a second \
            submission is refused.
            """,
        input: ToolSchema.object(
            [
                "run": ToolSchema.run("Your chosen finished run with a model artifact."),
                "path": ToolSchema.string(
                    "Only where the daemon takes predictions: the private predictions CSV, e.g. preds/12-private.csv.",
                    minLength: 1),
            ], required: ["run"])
    ) { arguments, client in
        let path = try arguments.optionalString("path") == nil ? nil : try arguments.path("path")
        return try toolValue(try client.submit(run: try arguments.int64("run"), path: path))
    }
}

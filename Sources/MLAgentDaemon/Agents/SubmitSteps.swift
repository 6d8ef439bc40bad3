/// The submit step's middle (`{submit_steps}` in `submit.md`): how a run is submitted under
/// `[evaluation] submit`.
enum SubmitSteps {
    static func text(_ mode: DaemonConfig.SubmitMode, predictions: String) -> String {
        switch mode {
        case .replay:
            return """
                3. Check that the run's saved model reproduces what was evaluated: load the MLflow model
                   directory you uploaded as its `model` artifact (`mlflow.pyfunc.load_model(DIR)` or
                   `mlflow.sklearn.load_model(DIR)`), predict `data/val_public_X.csv` and compare with the
                   predictions that were evaluated for that run. Never retrain for this.
                4. Submit exactly once: `mlagentctl submit RUN`, with no predictions file. The daemon replays
                   the saved model itself in a sandbox (no network, only the feature files), scores the
                   private split from the replayed predictions and compares the replayed public predictions
                   with those the run was evaluated with: `reproduced`, or `mismatch` (the private score is
                   then the saved model's, flagged on the leaderboard). For probability metrics it uses the
                   positive-class column of `predict_proba`. A model that cannot be loaded or predict is
                   `unreproducible`: nothing is spent; read the log in the message, save a working model in
                   a new run and submit that. If the command is refused for another reason (for example the
                   run is not finished), read the message and fix the cause; never submit a second run to
                   see whether it scores better. The private score is a generalization check, not a target.
                """
        case .predictions:
            return """
                3. Load that run's saved model from disk (the model you uploaded as its artifact) and
                   predict `data/val_private_X.csv`. Never retrain for this. Check the output: a header, one
                   prediction column, exactly one row per input row in the same order: \(predictions). As a
                   reproducibility check, predict `data/val_public_X.csv` with the same loaded model and
                   confirm it matches the predictions that were evaluated for that run.
                4. Submit exactly once: `mlagentctl submit RUN PRIVATE_PREDICTIONS.csv`. The private split is
                   scored once per direction. If the command is refused (for example the run is not finished
                   or has no model artifact), read the message and fix the cause; never submit a second run to
                   see whether it scores better. The private score is a generalization check, not a target.
                """
        }
    }
}

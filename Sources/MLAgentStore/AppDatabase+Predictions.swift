import GRDB

extension AppDatabase {
    /// The predictions of every public evaluation, kept as values so that two runs can be
    /// compared on the same rows (`report.compare`, the leaderboard's `vs_leader`) and a replayed
    /// model checked against what the run was evaluated with.
    ///
    /// One row per public evaluation, written in the evaluation's transaction. `data` holds the
    /// `rows` predictions as little-endian IEEE 754 binary64 (`format` `f64le`): the exact values
    /// the daemon parsed and scored, so scores recomputed from them equal the recorded ones bit for
    /// bit and a replay can be compared to 1e-6 without the 6e-8 relative rounding of float32
    /// (which would also merge or split ROC AUC ties). The size is bounded: `rows` is the public
    /// split's row count (the evaluator refuses any other), 8 bytes each, and a direction has at
    /// most `public_eval_budget` public evaluations (40 KB per evaluation at 5,000 rows).
    static func registerPredictionMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11-predictions") { db in
            try db.execute(sql: """
                CREATE TABLE evaluation_predictions (
                  evaluation_id INTEGER PRIMARY KEY REFERENCES evaluations(id),
                  rows INTEGER NOT NULL CHECK (rows > 0),
                  format TEXT NOT NULL DEFAULT 'f64le' CHECK (format = 'f64le'),
                  data BLOB NOT NULL CHECK (length(data) = 8 * rows))
                """)
        }
    }
}

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

extension AppDatabase {
    /// Every submission of a run (``Submission``): how its private predictions were obtained,
    /// and for a replay how the saved model's public predictions compare with the evaluated
    /// ones. An `unreproducible` replay scores nothing, so a direction may hold several rows;
    /// at most one of them (the scored one) is not `unreproducible`.
    static func registerSubmissionMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-submissions") { db in
            try db.execute(sql: """
                CREATE TABLE submissions (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL REFERENCES runs(id),
                  direction TEXT NOT NULL,
                  outcome TEXT NOT NULL CHECK (outcome IN ('reproduced', 'mismatch', 'unreproducible', 'agent-predicted')),
                  replayed_public_score REAL,
                  reported_public_score REAL,
                  max_abs_difference REAL,
                  differing_rows INTEGER,
                  seconds REAL,
                  reason TEXT,
                  log TEXT,
                  created_at DATETIME NOT NULL);
                CREATE INDEX submissions_direction ON submissions(direction, id);
                CREATE INDEX submissions_run ON submissions(run_id, id);
                CREATE TRIGGER submissions_mirror AFTER INSERT ON submissions
                BEGIN UPDATE runs SET version = version + 1 WHERE id = NEW.run_id; END;
                """)
        }
    }
}

extension AppDatabase {
    /// Proposals of shared code (``ShareProposal``) and their files as they were when proposed.
    /// A name's versions count up from 1; nothing is deleted.
    static func registerShareMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13-shared") { db in
            try db.execute(sql: """
                CREATE TABLE share_proposals (
                  id INTEGER PRIMARY KEY,
                  name TEXT NOT NULL,
                  version INTEGER NOT NULL CHECK (version > 0),
                  status TEXT NOT NULL,
                  summary TEXT NOT NULL,
                  direction TEXT NOT NULL,
                  job_id INTEGER NOT NULL REFERENCES jobs(id),
                  runs TEXT NOT NULL,
                  created_at DATETIME NOT NULL,
                  UNIQUE (name, version));
                CREATE TABLE share_files (
                  proposal_id INTEGER NOT NULL REFERENCES share_proposals(id),
                  path TEXT NOT NULL,
                  is_test BOOLEAN NOT NULL,
                  bytes INTEGER NOT NULL,
                  sha256 TEXT NOT NULL,
                  content BLOB NOT NULL,
                  PRIMARY KEY (proposal_id, path));
                """)
        }
        // Gate 1's test runs, the review's decision, the landing; the reviewer jobs; the commit
        // of `main` a job started from; the shared modules each run imported.
        migrator.registerMigration("v14-shared-review") { db in
            try db.execute(sql: """
                ALTER TABLE share_proposals ADD COLUMN reviewer TEXT;
                ALTER TABLE share_proposals ADD COLUMN reason TEXT;
                ALTER TABLE share_proposals ADD COLUMN decided_at DATETIME;
                ALTER TABLE share_proposals ADD COLUMN landed_commit TEXT;
                ALTER TABLE share_proposals ADD COLUMN landed_at DATETIME;
                CREATE INDEX share_proposals_status ON share_proposals(status, id);
                CREATE TABLE share_tests (
                  id INTEGER PRIMARY KEY,
                  proposal_id INTEGER NOT NULL REFERENCES share_proposals(id),
                  main_commit TEXT NOT NULL,
                  passed BOOLEAN NOT NULL,
                  summary TEXT NOT NULL,
                  output TEXT NOT NULL,
                  diff TEXT NOT NULL,
                  seconds REAL NOT NULL,
                  created_at DATETIME NOT NULL);
                CREATE INDEX share_tests_proposal ON share_tests(proposal_id, id);
                ALTER TABLE jobs ADD COLUMN review_of INTEGER REFERENCES share_proposals(id);
                ALTER TABLE jobs ADD COLUMN base_commit TEXT;
                CREATE TABLE run_uses (
                  run_id INTEGER NOT NULL REFERENCES runs(id),
                  name TEXT NOT NULL,
                  version INTEGER NOT NULL,
                  PRIMARY KEY (run_id, name));
                CREATE INDEX run_uses_name ON run_uses(name, run_id);
                """)
        }
        // Jobs run by Slurm: the submission's intent (`slurm_state = 'submitting'` before sbatch
        // runs), Slurm's job id right after, and the state the last poll saw.
        migrator.registerMigration("v15-slurm") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN executor TEXT NOT NULL DEFAULT 'local';
                ALTER TABLE jobs ADD COLUMN slurm_job_id TEXT;
                ALTER TABLE jobs ADD COLUMN slurm_state TEXT;
                ALTER TABLE jobs ADD COLUMN slurm_reason TEXT;
                ALTER TABLE jobs ADD COLUMN slurm_node TEXT;
                ALTER TABLE jobs ADD COLUMN slurm_restarts INTEGER NOT NULL DEFAULT 0;
                """)
        }
    }
}

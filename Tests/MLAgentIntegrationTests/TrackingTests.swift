import Foundation
import GRDB
import MLAgentClient
import MLAgentProtocol
import Testing

/// Experiment tracking and evaluation through the real daemon: fake agents record runs with
/// `mlagentctl`, score predictions against targets only the daemon holds, submit once, and
/// land their run records on main.
@Suite("runs, evaluation, submission and the leaderboard", .serialized)
struct TrackingTests {
    /// Public targets: six negatives then six positives.
    static let publicTargets = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    static let privateTargets = [1, 0, 1, 0, 1, 0, 1, 0]
    /// Public predictions with ties across classes.
    static let publicPredictions = [0.1, 0.4, 0.35, 0.8, 0.5, 0.2, 0.8, 0.4, 0.9, 0.65, 0.5, 0.7]
    static let privatePredictions = [0.9, 0.2, 0.6, 0.7, 0.4, 0.1, 0.8, 0.3]

    /// ROC AUC by counting pairs (ties count one half): independent of the daemon's code.
    static func pairAUC(_ truth: [Int], _ scores: [Double]) -> Double {
        var wins = 0.0
        var pairs = 0.0
        for (i, t) in truth.enumerated() where t == 1 {
            for (j, u) in truth.enumerated() where u == 0 {
                pairs += 1
                if scores[i] > scores[j] { wins += 1 } else if scores[i] == scores[j] { wins += 0.5 }
            }
        }
        return wins / pairs
    }

    static func csv(_ values: [Double]) -> String {
        "prediction\n" + values.map { String($0) }.joined(separator: "\n") + "\n"
    }

    func makeDaemon(_ label: String, evaluation: String = "") throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "tracker"
            kill_grace = "2s"
            [evaluation]
            overfit_gap = 0.05
            bootstrap_samples = 200
            \(TestModel.predictionsSubmit)
            \(evaluation)
            [agents.tracker]
            command = ["sh", "@DIR@/agents/tracker.sh"]
            [agents.puppet]
            command = ["sh", "@DIR@/agents/puppet.sh"]
            [agents.logger]
            command = ["sh", "@DIR@/agents/logger.sh"]
            """
        let daemon = try TestDaemon(label: label, config: config)
        let features = { (rows: Int) in "f00,f01\n" + (0..<rows).map { "\($0),\($0 * 2)" }.joined(separator: "\n") + "\n" }
        try daemon.write("data/train.csv", "f00,f01,target\n0.1,0.2,0\n0.3,0.4,1\n")
        try daemon.write("data/val_public_X.csv", features(Self.publicTargets.count))
        try daemon.write("data/val_private_X.csv", features(Self.privateTargets.count))
        try daemon.write("data/val_public_y.csv", "target\n" + Self.publicTargets.map(String.init).joined(separator: "\n") + "\n")
        try daemon.write("data/val_private_y.csv", "target\n" + Self.privateTargets.map(String.init).joined(separator: "\n") + "\n")
        // A whole direction, as a careful agent would record it.
        try daemon.write(
            "agents/tracker.sh",
            """
            set -e
            R1=$(mlagentctl run start --name hgb-depth3 --rationale "a shallow baseline" --param depth=3 --param lr=0.1)
            i=0; : > curve.jsonl
            while [ $i -lt 50 ]; do
              echo "{\\"key\\": \\"train_loss\\", \\"value\\": 0.$((90 - i)), \\"step\\": $i}" >> curve.jsonl
              echo "{\\"key\\": \\"val_loss\\", \\"value\\": 0.$((95 - i)), \\"step\\": $i}" >> curve.jsonl
              i=$((i + 1))
            done
            mlagentctl run log "$R1" --file curve.jsonl
            mlagentctl run log "$R1" --metric cv_auc=0.71 --metric fit_seconds=1.5 --tag note=first --param seed=7
            mkdir -p model && echo "weights" > model/model.bin && echo '{"family": "hgb"}' > model/meta.json
            \(TestModel.shell("model"))
            mlagentctl run artifact "$R1" model --as model
            printf '\(Self.csv(Self.publicPredictions).replacingOccurrences(of: "\n", with: "\\n"))' > public.csv
            mlagentctl eval "$R1" public.csv --json > eval.json
            mlagentctl run end "$R1" --analysis "the curve flattens after step 40"
            R2=$(mlagentctl run start --name hgb-broken --rationale "too deep on purpose")
            mlagentctl run end "$R2" --analysis "diverged at step 2" --failed
            printf '\(Self.csv(Self.privatePredictions).replacingOccurrences(of: "\n", with: "\\n"))' > private.csv
            mlagentctl submit "$R1" private.csv --json > submit.json
            printf '### What worked\\nDepth 3 (run %s).\\n' "$R1" > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        // Publishes its token and worktree, then waits: the test drives the protocol with them.
        try daemon.write(
            "agents/puppet.sh",
            """
            echo "$MLAGENT_TOKEN $(pwd) $MLAGENT_DIRECTION" > .puppet
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
        // Logs a 100k-point metrics file in small batches, reporting every acknowledgement
        // (in its worktree: the sandbox lets it write nowhere else).
        try daemon.write(
            "agents/logger.sh",
            """
            set -e
            R=$(mlagentctl run start --name big-curve --rationale "many steps")
            echo "$R" > logger-run
            awk 'BEGIN { for (i = 0; i < 50000; i++) { printf "{\\"key\\":\\"train_loss\\",\\"value\\":%.6f,\\"step\\":%d}\\n", 1/(i+1), i; printf "{\\"key\\":\\"val_loss\\",\\"value\\":%.6f,\\"step\\":%d}\\n", 2/(i+1), i } }' > big.jsonl
            touch logger-ready
            while [ ! -e @DIR@/ctl/logger-go ]; do sleep 0.05; done
            mlagentctl run log "$R" --file big.jsonl --batch-size 100 --verbose 2> logger-progress
            touch logger-done
            while [ ! -e @DIR@/ctl/release-logger ]; do sleep 0.1; done
            """)
        return daemon
    }

    /// The job's worktree, once it runs.
    func worktree(_ daemon: TestDaemon, job: Int64) throws -> String {
        let client = try daemon.client()
        var worktree = ""
        try waitUntil("job \(job) to get a worktree", timeout: .seconds(30)) {
            worktree = try client.show(id: job).worktree ?? ""
            return !worktree.isEmpty
        }
        return worktree
    }

    /// The puppet job's token and worktree, once it runs.
    func puppet(_ daemon: TestDaemon, job: Int64) throws -> (token: String, worktree: String) {
        let path = try worktree(daemon, job: job) + "/.puppet"
        let fields = try puppetFields(at: path, job: job)
        return (fields[0], fields[1])
    }

    /// Runs mlagentctl as the agent holding `token`, from its worktree.
    func agentCtl(_ daemon: TestDaemon, _ token: String, _ worktree: String, _ arguments: String...) throws -> CtlResult {
        try runCtl(arguments, socket: daemon.socketPath, environment: ["MLAGENT_TOKEN": token], directory: worktree)
    }

    @Test("a direction end to end: runs, curves, artifact, eval, submit; results and mlruns land in one commit")
    func fullDirection() throws {
        let daemon = try makeDaemon("trk")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "hgb-shallow", guidance: "try shallow trees"))
        try waitUntil("the job to complete", timeout: .seconds(60)) { try client.show(id: 1).state == .completed }
        let runs = try client.runs(direction: "hgb-shallow")
        #expect(runs.map(\.status) == [.finished, .failed])
        let first = try #require(runs.first)
        let expectedPublic = Self.pairAUC(Self.publicTargets, Self.publicPredictions)
        let expectedPrivate = Self.pairAUC(Self.privateTargets, Self.privatePredictions)
        #expect(abs((first.publicScore ?? -1) - expectedPublic) < 1e-12)
        #expect(abs((first.privateScore ?? -1) - expectedPrivate) < 1e-12)
        let interval = try #require(first.publicInterval)
        #expect(interval.low <= expectedPublic && expectedPublic <= interval.high && interval.samples > 0)

        let detail = try client.showRun(first.id)
        #expect(detail.params == ["depth": "3", "lr": "0.1", "seed": "7"])
        #expect(detail.tags["git.branch"] == "exp/hgb-shallow")
        #expect(detail.tags["direction_rationale"] == "try shallow trees")
        #expect(detail.tags["run_rationale"] == "a shallow baseline")
        #expect(detail.tags["run_analysis"] == "the curve flattens after step 40")
        #expect(detail.tags["note"] == "first")
        #expect(detail.metrics["train_loss"]?.step == 49)
        #expect(detail.metrics["cv_auc"]?.value == 0.71)
        #expect(detail.metrics["public_val_score"]?.value == first.publicScore)
        #expect(detail.metrics["private_val_score"]?.value == first.privateScore)
        #expect(detail.artifacts.map(\.name) == ["model"] && detail.artifacts[0].files == 3)
        #expect(first.metricPoints == 100 + 2 + 2)
        let history = try client.metricHistory(MetricHistoryParams(run: first.id, key: "val_loss"))
        #expect(history.points.map(\.step) == Array(0..<50))

        // The leaderboard and summary.
        let board = try client.leaderboard()
        let entry = try #require(board.directions.first)
        #expect(entry.direction == "hgb-shallow" && entry.bestRun == first.id && entry.submittedRun == first.id)
        #expect(entry.runs == 2 && entry.failedRuns == 1 && entry.publicEvals == 1)
        let gap = expectedPublic - expectedPrivate
        #expect(abs((entry.gap ?? 0) - gap) < 1e-12)
        #expect(entry.flags.contains("overfit") == (gap > 0.05))
        // [evaluation] submit = "predictions": the agent's own file, marked as such.
        #expect(entry.submission?.outcome == .agentPredicted && detail.submissions.map(\.outcome) == [.agentPredicted])
        let summary = try daemon.ctl("summary")
        #expect(summary.status == 0)
        #expect(summary.stdout.contains("Overall best: hgb-shallow (branch exp/hgb-shallow), run \(first.id)"), "\(summary.stdout)")
        let table = try daemon.ctl("leaderboard")
        #expect(table.stdout.contains("hgb-shallow"), "\(table.stdout)")

        // Everything landed on main in the final commit.
        try waitUntil("the final landing") {
            try daemon.git("show", "main:mlruns/hgb-shallow/\(first.id)/run.json").status == 0
        }
        let file = try daemon.git("show", "main:research_directions/hgb-shallow.md").output
        #expect(file.contains("Status: completed"))
        #expect(file.contains("- Best run: \(first.id) `hgb-depth3`, public \(String(format: "%.4f", expectedPublic))"), "\(file)")
        #expect(file.contains("private \(String(format: "%.4f", expectedPrivate))"))
        #expect(file.contains("- Runs: 2 (1 failed)"))
        #expect(file.contains("- Private predictions: agent-predicted: scored from the agent's own predictions file"), "\(file)")
        #expect(file.contains("Depth 3 (run \(first.id))"))
        let runJSON = try daemon.git("show", "main:mlruns/hgb-shallow/\(first.id)/run.json").output
        let record = try #require(try JSONSerialization.jsonObject(with: Data(runJSON.utf8)) as? [String: Any])
        #expect((record["params"] as? [String: String])?["depth"] == "3")
        #expect((record["tags"] as? [String: String])?["run_analysis"] == "the curve flattens after step 40")
        #expect(record["status"] as? String == "finished")
        let metrics = try daemon.git("show", "main:mlruns/hgb-shallow/\(first.id)/metrics.jsonl").output
        #expect(metrics.split(separator: "\n").count == 104)
        #expect(try daemon.git("show", "main:mlruns/hgb-shallow/\(first.id)/artifacts/model/model.bin").output == "weights\n")
        let failedRun = try daemon.git("show", "main:mlruns/hgb-shallow/\(runs[1].id)/run.json").output
        #expect(failedRun.contains("\"status\" : \"failed\""))
        // Run records and the completed file arrived together, in one commit.
        let lastCommit = try daemon.git("show", "--name-only", "--format=", "main").output
        #expect(lastCommit.contains("research_directions/hgb-shallow.md") && lastCommit.contains("mlruns/hgb-shallow/\(first.id)/run.json"))
        #expect(try daemon.terminate() == 0)
    }

    @Test("bad predictions, paths and records get precise errors and spend or log nothing")
    func badInput() throws {
        let daemon = try makeDaemon("bad", evaluation: "public_eval_budget = 3")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "careful", agent: "puppet"))
        let (token, worktree) = try puppet(daemon, job: 1)
        func ctl(_ arguments: String...) throws -> CtlResult {
            try runCtl(arguments, socket: daemon.socketPath, environment: ["MLAGENT_TOKEN": token], directory: worktree)
        }
        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: worktree + "/" + name, atomically: true, encoding: .utf8)
        }
        func refused(_ result: CtlResult, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 1, "exit \(result.status): \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        }
        let run = try ctl("run", "start", "--name", "r1", "--rationale", "baseline", "--param", "depth=3")
        #expect(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // Predictions that cannot be scored.
        let rows = Self.publicTargets.count
        try write("short.csv", Self.csv(Array(Self.publicPredictions.dropLast())))
        refused(try ctl("eval", id, "short.csv"), "has \(rows - 1) prediction rows")
        try write("words.csv", "prediction\n" + Array(repeating: "0.5", count: rows - 1).joined(separator: "\n") + "\nhigh\n")
        refused(try ctl("eval", id, "words.csv"), "\"high\"")
        try write("nan.csv", "prediction\n" + Array(repeating: "0.5", count: rows - 1).joined(separator: "\n") + "\nnan\n")
        refused(try ctl("eval", id, "nan.csv"), "line \(rows + 1)")
        try write("range.csv", "prediction\n1.5\n" + Array(repeating: "0.5", count: rows - 1).joined(separator: "\n") + "\n")
        refused(try ctl("eval", id, "range.csv"), "1.5")
        try write("empty.csv", "")
        refused(try ctl("eval", id, "empty.csv"), "empty")
        try write("header.csv", "prediction\n")
        refused(try ctl("eval", id, "header.csv"), "no prediction rows")
        try write("twocols.csv", "a,b\n" + Array(repeating: "0.5,0.5", count: rows).joined(separator: "\n") + "\n")
        refused(try ctl("eval", id, "twocols.csv"), "2 columns")
        refused(try ctl("eval", id, "/etc/hostname"), "outside your worktree")
        refused(try ctl("eval", id, "../../targets/val_public_y.csv"), "outside your worktree")
        _ = symlink(daemon.stateDir + "/targets/val_public_y.csv", worktree + "/sneaky.csv")
        refused(try ctl("eval", id, "sneaky.csv"), "outside your worktree")
        refused(try ctl("eval", id, "missing.csv"), "does not exist")
        refused(try ctl("eval", "999", "short.csv"), "no run with id 999")
        // None of that spent budget or logged a score.
        #expect(try client.showRun(Int64(id)!).run.publicEvals == 0)

        // Bad records.
        refused(try ctl("run", "log", id, "--metric", "loss=nan"), "finite")
        refused(try ctl("run", "log", id, "--metric", "bad key!=1"), "contains \"!\"")
        refused(try ctl("run", "log", id, "--metric", "public_val_score=0.99"), "logged by the daemon")
        refused(try ctl("run", "log", id, "--tag", "run_analysis=mine"), "set by the daemon")
        refused(try ctl("run", "log", id, "--param", "depth=4"), "already \"3\"")
        #expect(try ctl("run", "log", id, "--param", "depth=3").status == 0)
        try write("bad.jsonl", "{\"key\": \"loss\", \"value\": 1, \"step\": 0}\n{\"key\": \"loss\", \"value\": \"x\"}\n")
        refused(try ctl("run", "log", id, "--file", "bad.jsonl"), "bad.jsonl line 2")
        try write("neg.jsonl", "{\"key\": \"loss\", \"value\": 1, \"step\": -1}\n")
        refused(try ctl("run", "log", id, "--file", "neg.jsonl"), "step -1")
        #expect(try client.showRun(Int64(id)!).run.metricPoints == 0)

        // Artifacts: links out of the worktree, bad names, no replacing.
        try FileManager.default.createDirectory(atPath: worktree + "/model", withIntermediateDirectories: true)
        try write("model/w.bin", "w")
        _ = symlink("/etc/hostname", worktree + "/model/link")
        refused(try ctl("run", "artifact", id, "model", "--as", "model"), "symbolic link")
        unlink(worktree + "/model/link")
        refused(try ctl("run", "artifact", id, "model", "--as", "../escape"), "artifact name")
        // The model contract: an MLflow model directory, explained when it is not one.
        refused(try ctl("run", "artifact", id, "model", "--as", "model"), "model has no MLmodel file")
        refused(try ctl("run", "artifact", id, "model/w.bin", "--as", "model"), "is a file, not a directory")
        refused(try ctl("run", "artifact", id, "model", "--as", "model/weights"), "uploaded whole under the name model")
        try write("model/MLmodel", "flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
        refused(try ctl("run", "artifact", id, "model", "--as", "model"), "names only the flavours sklearn, not python_function")
        try TestModel.write(into: worktree + "/model")
        #expect(try ctl("run", "artifact", id, "model", "--as", "model").status == 0)
        refused(try ctl("run", "artifact", id, "model", "--as", "model"), "already has an artifact")

        // Submit: only finished runs, once per direction; finish needs the submit.
        try write("good.csv", Self.csv(Self.publicPredictions))
        try write("private.csv", Self.csv(Self.privatePredictions))
        refused(try ctl("submit", id, "private.csv"), "still running")
        let ok = try ctl("eval", id, "good.csv", "--json")
        #expect(ok.status == 0, "\(ok.stderr)")
        let scored = try JSONDecoder().decode(EvalResult.self, from: Data(ok.stdout.utf8))
        #expect(scored.publicEvalsLeft == 2)
        #expect(try ctl("run", "end", id, "--analysis", "fine").status == 0)
        refused(try ctl("run", "log", id, "--metric", "late=1"), "start a new run")
        try write("learnings.md", "nothing yet")
        refused(try ctl("direction", "finish", "--learnings", "learnings.md"), "no submission")
        let second = try ctl("run", "start", "--name", "r2", "--rationale", "no model")
        let id2 = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ctl("run", "end", id2, "--analysis", "no model saved").status == 0)
        refused(try ctl("submit", id2, "private.csv"), "no model artifact")
        #expect(try ctl("eval", id2, "good.csv").status == 0)
        let third = try ctl("eval", id2, "good.csv")
        #expect(third.status == 0 && third.stdout.contains("0 public evaluations left"), "\(third.stdout)")
        refused(try ctl("eval", id, "good.csv"), "used all 3 public evaluations")
        #expect(try ctl("submit", id, "private.csv").status == 0)
        refused(try ctl("submit", id, "private.csv"), "already submitted run \(id)")
        #expect(try ctl("direction", "finish", "--learnings", "learnings.md").status == 0)

        // Another direction's runs are out of reach; operators cannot record runs.
        _ = try client.enqueue(EnqueueParams(direction: "other", agent: "puppet"))
        let (otherToken, otherTree) = try puppet(daemon, job: 2)
        let foreign = try runCtl(
            ["run", "log", id, "--metric", "x=1"], socket: daemon.socketPath, environment: ["MLAGENT_TOKEN": otherToken],
            directory: otherTree)
        refused(foreign, "belongs to direction careful")
        refused(try daemon.ctl("run", "start", "--name", "x", "--rationale", "y"), "agent call")
        let events = try client.events(since: 0, limit: 10_000).events.map(\.kind)
        #expect(events.filter { $0 == EventKind.runEvaluated }.count == 3)
        #expect(events.filter { $0 == EventKind.runSubmitted }.count == 1)
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-1"), contents: Data())
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-2"), contents: Data())
        #expect(try daemon.terminate() == 0)
    }

    @Test("kill -9 while 100k metric points stream in: acknowledged points survive, none is duplicated")
    func killDuringIngestion() throws {
        let daemon = try makeDaemon("k9m")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "big", agent: "logger"))
        let tree = try worktree(daemon, job: 1)
        try waitUntil("the points file", timeout: .seconds(60)) {
            FileManager.default.fileExists(atPath: tree + "/logger-ready")
        }
        let run = try #require(Int64(try String(contentsOfFile: tree + "/logger-run", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/logger-go"), contents: Data())
        func acknowledged() -> Int {
            let text = (try? String(contentsOfFile: tree + "/logger-progress", encoding: .utf8)) ?? ""
            let last = text.split(separator: "\n").last { $0.hasPrefix("acknowledged ") } ?? ""
            return Int(last.dropFirst("acknowledged ".count).split(separator: "/").first ?? "") ?? 0
        }
        try waitUntil("some batches acknowledged", every: .milliseconds(2)) { acknowledged() >= 5_000 }
        daemon.kill9()
        let acked = acknowledged()
        #expect(acked < 100_000, "the upload finished before the kill; the test proves nothing")
        // With the daemon dead, the database holds at least every acknowledged point.
        let database = try DatabaseQueue(path: daemon.stateDir + "/mlagentd.sqlite3")
        let stored = try database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metrics WHERE run_id = ?", arguments: [run]) ?? 0
        }
        try database.close()
        #expect(stored >= acked, "acknowledged \(acked), stored \(stored)")

        // The agent's mlagentctl reconnects to the restarted daemon and resends what was not
        // acknowledged; batches already recorded are recognised.
        try daemon.start(launching: true)
        try waitUntil("the upload to finish", timeout: .seconds(90)) {
            FileManager.default.fileExists(atPath: tree + "/logger-done")
        }
        let progress = try String(contentsOfFile: tree + "/logger-progress", encoding: .utf8)
        #expect(progress.contains("acknowledged 100000/100000"), "\(progress.suffix(500))")
        let client2 = try daemon.client()
        let events = try client2.events(since: 0, job: 1).events.map(\.message)
        #expect(try client2.show(id: 1).attempts == 1, "the agent was not re-adopted: \(events)")
        #expect(try client2.showRun(run).run.metricPoints == 100_000)
        let check = try DatabaseQueue(path: daemon.stateDir + "/mlagentd.sqlite3")
        let (count, distinct) = try check.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metrics WHERE run_id = ?", arguments: [run]) ?? 0,
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM (SELECT DISTINCT key, step FROM metrics WHERE run_id = ?)", arguments: [run]) ?? 0
            )
        }
        try check.close()
        #expect(count == 100_000 && distinct == 100_000, "count \(count), distinct \(distinct)")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-logger"), contents: Data())
        #expect(try daemon.terminate() == 0)
    }
}

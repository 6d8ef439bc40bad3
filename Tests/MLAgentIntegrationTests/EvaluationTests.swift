import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Scoring through the real daemon where the metric and the data disagree: targets that do not
/// fit the metric stop the daemon at start, scores that overflow are refused with a reason, and
/// the overfit alarm follows the metric's scale.
@Suite("evaluation: targets, overflow and the overfit alarm", .serialized)
struct EvaluationTests {
    /// A daemon on a dataset with the given targets, scored with `metric`, whose `puppet` agent
    /// publishes its token and worktree and waits (the test drives the protocol with them).
    func makeDaemon(_ label: String, metric: String, public: [Double], private: [Double]) throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "puppet"
            kill_grace = "2s"
            [evaluation]
            \(TestModel.predictionsSubmit)
            metric = "\(metric)"
            bootstrap_samples = 500
            [agents.puppet]
            command = ["sh", "@DIR@/agents/puppet.sh"]
            """
        let daemon = try TestDaemon(label: label, config: config)
        let features = { (rows: Int) in "f00\n" + (0..<rows).map { "\($0)" }.joined(separator: "\n") + "\n" }
        let column = { (values: [Double]) in "target\n" + values.map { "\($0)" }.joined(separator: "\n") + "\n" }
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", features(`public`.count))
        try daemon.write("data/val_private_X.csv", features(`private`.count))
        try daemon.write("data/val_public_y.csv", column(`public`))
        try daemon.write("data/val_private_y.csv", column(`private`))
        try daemon.write(
            "agents/puppet.sh",
            """
            echo "$MLAGENT_TOKEN $(pwd)" > .puppet
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
        return daemon
    }

    /// The puppet of `job`: a function that runs mlagentctl as that agent, from its worktree.
    func puppet(_ daemon: TestDaemon, job: Int64) throws -> (ctl: ([String]) throws -> CtlResult, worktree: String) {
        let client = try daemon.client()
        var worktree = ""
        try waitUntil("job \(job) to get a worktree", timeout: .seconds(30)) {
            worktree = try client.show(id: job).worktree ?? ""
            return !worktree.isEmpty
        }
        let token = try puppetFields(at: worktree + "/.puppet", job: job)[0]
        let tree = worktree
        return ({ arguments in
            try runCtl(arguments, socket: daemon.socketPath, environment: ["MLAGENT_TOKEN": String(token)], directory: tree)
        }, tree)
    }

    static func csv(_ values: [Double]) -> String {
        "prediction\n" + values.map { "\($0)" }.joined(separator: "\n") + "\n"
    }

    @Test(
        "targets that do not fit the metric stop the daemon with the file and the problem, before any workspace exists",
        arguments: [
            ("roc_auc", [-1.0, 1, 1, -1, 1], [0.0, 1], "val_public_y.csv", "2 of 5 are not"),
            ("log_loss", [0.0, 1], [1.0, 2, 2, 1], "val_private_y.csv", "2 of 4 are not"),
            ("roc_auc", [1.0, 1, 1], [0.0, 1], "val_public_y.csv", "every target is 1"),
            ("rmse", [1e200, 1e200 + 1e185, 1e200 - 1e185], [1.0, 2], "val_public_y.csv", "too large for RMSE"),
        ])
    func misfitTargetsRefused(metric: String, public: [Double], private: [Double], file: String, problem: String) throws {
        let daemon = try makeDaemon("mis", metric: metric, public: `public`, private: `private`)
        try daemon.start(waitReady: false)
        let process = try #require(daemon.process)
        try waitUntil("mlagentd to refuse to start", timeout: .seconds(30)) { !process.isRunning }
        #expect(process.terminationStatus != 0)
        let log = daemon.log
        #expect(log.contains("\(file) do not fit [evaluation] metric = \"\(metric)\""), "\(log)")
        #expect(log.contains(problem), "\(log)")
        #expect(!FileManager.default.fileExists(atPath: daemon.workspace), "a workspace was created from misfit targets")
        #expect(!FileManager.default.fileExists(atPath: daemon.stateDir + "/mlagentd.sqlite3"), "the check comes first")
        #expect(!daemon.notify.lines.contains("READY=1"))
    }

    @Test("F1 targets of a single class are scored as scikit-learn does (zero_division), not refused")
    func singleClassF1() throws {
        let daemon = try makeDaemon("f1", metric: "f1", public: [0, 0, 0, 0], private: [0, 1])
        try daemon.start(launching: true)
        _ = try daemon.client().enqueue(EnqueueParams(direction: "labels"))
        let (ctl, worktree) = try puppet(daemon, job: 1)
        let run = try ctl(["run", "start", "--name", "r", "--rationale", "zeros"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.csv([0, 0, 0, 0]).write(toFile: worktree + "/p.csv", atomically: true, encoding: .utf8)
        let scored = try ctl(["eval", run, "p.csv", "--json"])
        #expect(scored.status == 0, "\(scored.stderr)")
        #expect(try JSONDecoder().decode(EvalResult.self, from: Data(scored.stdout.utf8)).score == 0)
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-1"), contents: Data())
        #expect(try daemon.terminate() == 0)
    }

    @Test("a score that overflows a 64-bit float is refused as invalid_predictions, saying why, and spends nothing")
    func overflowRefused() throws {
        let daemon = try makeDaemon("ovf", metric: "mae", public: [0, 0, 0, 0, 1], private: [1, 2])
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "huge"))
        let (ctl, worktree) = try puppet(daemon, job: 1)
        let run = try ctl(["run", "start", "--name", "r", "--rationale", "huge"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.csv(Array(repeating: 1e308, count: 5)).write(toFile: worktree + "/huge.csv", atomically: true, encoding: .utf8)
        let refused = try ctl(["eval", run, "huge.csv", "--json"])
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        let text = refused.stdout + refused.stderr
        #expect(text.contains("MAE overflows a 64-bit float") && text.contains("values are so large"), "\(text)")
        // The same call through the protocol: its kind is invalid_predictions.
        let connection = try Connection(path: daemon.socketPath)
        connection.token = try String(contentsOfFile: worktree + "/.puppet", encoding: .utf8).split(separator: " ")
            .first.map(String.init)
        do {
            _ = try Client(connection: connection).evaluate(run: Int64(run)!, path: worktree + "/huge.csv")
            Issue.record("an overflowing MAE was scored")
        } catch ClientError.rpc(let error) {
            #expect(error.kind == .invalidPredictions, "\(error)")
        }
        for leak in ["SQLite", "NOT NULL", "INSERT", "target", daemon.stateDir] {
            #expect(!text.contains(leak), "the reply mentions \(leak): \(text)")
        }
        #expect(try client.showRun(Int64(run)!).run.publicEvals == 0)
        try Self.csv([0, 0, 0, 0, 1]).write(toFile: worktree + "/fine.csv", atomically: true, encoding: .utf8)
        #expect(try ctl(["eval", run, "fine.csv"]).status == 0)
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-1"), contents: Data())
        #expect(try daemon.terminate() == 0)
    }

    /// Errors of 4·(−3…3) in turn: an RMSE of exactly 8 (times `scale`) over 210 rows.
    static func predictions(_ targets: [Double], scale: Double) -> [Double] {
        targets.enumerated().map { index, y in y + scale * 4 * Double(index % 7 - 3) }
    }

    @Test("RMSE around 8: a private score inside what chance explains is not flagged, one far off is, with the reason shown")
    func overfitAlarmFollowsTheScale() throws {
        let targets = (0..<210).map { Double(($0 * 37) % 101) - 50 }
        let daemon = try makeDaemon("rmse", metric: "rmse", public: targets, private: targets)
        try daemon.start(launching: true)
        let client = try daemon.client()
        for (job, name, privateScale) in [(Int64(1), "steady", 8.2 / 8), (2, "overfits", 12.0 / 8)] {
            _ = try client.enqueue(EnqueueParams(direction: name))
            let (ctl, worktree) = try puppet(daemon, job: job)
            let run = try ctl(["run", "start", "--name", "r", "--rationale", "rmse"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try FileManager.default.createDirectory(atPath: worktree + "/model", withIntermediateDirectories: true)
            try "w".write(toFile: worktree + "/model/w.bin", atomically: true, encoding: .utf8)
            try TestModel.write(into: worktree + "/model")
            #expect(try ctl(["run", "artifact", run, "model", "--as", "model"]).status == 0)
            try Self.csv(Self.predictions(targets, scale: 1)).write(toFile: worktree + "/pub.csv", atomically: true, encoding: .utf8)
            let scored = try ctl(["eval", run, "pub.csv", "--json"])
            let result = try JSONDecoder().decode(EvalResult.self, from: Data(scored.stdout.utf8))
            #expect(abs(result.score - 8) < 1e-9, "\(scored.stderr)")
            let interval = try #require(result.interval)
            #expect(interval.low < 8.2 && 8.2 < interval.high, "8.2 must lie inside the public interval \(interval)")
            #expect(try ctl(["run", "end", run, "--analysis", "ok"]).status == 0)
            try Self.csv(Self.predictions(targets, scale: privateScale))
                .write(toFile: worktree + "/priv.csv", atomically: true, encoding: .utf8)
            let submitted = try ctl(["submit", run, "priv.csv"])
            #expect(submitted.status == 0, "\(submitted.stderr)")
            #expect(submitted.stdout.contains(name == "overfits" ? "overfit: private 12.0000 is above public 8.0000" : "not flagged:"),
                    "\(submitted.stdout)")
            try "### What worked\n- nothing much\n".write(toFile: worktree + "/l.md", atomically: true, encoding: .utf8)
            #expect(try ctl(["direction", "finish", "--learnings", "l.md"]).status == 0)
            _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-\(job)"), contents: Data())
        }

        let board = try client.leaderboard()
        let steady = try #require(board.directions.first { $0.direction == "steady" })
        let overfits = try #require(board.directions.first { $0.direction == "overfits" })
        #expect(abs((steady.gap ?? 0) - 0.2) < 1e-9 && !steady.flags.contains("overfit"), "\(steady)")
        #expect(steady.gapNote?.contains("within the 95% noise margin") == true, "\(steady.gapNote ?? "")")
        #expect(overfits.flags.contains("overfit") && abs((overfits.gap ?? 0) - 4) < 1e-9)
        let reason = try #require(overfits.overfitReason)
        #expect(reason.hasPrefix("private 12.0000 is above public 8.0000 by 4.0000, more than the 95% noise margin"), "\(reason)")
        let table = try daemon.ctl("leaderboard")
        #expect(table.stdout.contains("gap = private − public") && table.stdout.contains("overfit overfits: \(reason)"), "\(table.stdout)")
        let summary = try daemon.ctl("summary")
        #expect(summary.stdout.contains("     overfit: \(reason)"), "\(summary.stdout)")
        try waitUntil("the landing of overfits", timeout: .seconds(30)) {
            try daemon.git("show", "main:research_directions/overfits.md").output.contains("- Flag: overfit.")
        }
        let file = try daemon.git("show", "main:research_directions/overfits.md").output
        #expect(file.contains("- Flag: overfit. Private 12.0000 is above public 8.0000"), "\(file)")
        #expect(try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.overfit }.count == 1)
        #expect(try daemon.terminate() == 0)
    }
}

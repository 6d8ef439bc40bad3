import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Submission by replay, through the real daemon, the real scorer in its bubblewrap sandbox and
/// real MLflow models saved by scikit-learn (`Tests/Tools/replay_models.py`): the private score
/// is scikit-learn's on the replayed predictions; a saved model that is not the evaluated one
/// is flagged `mismatch`; models that fail to load, read a target, open a connection, write
/// outside their directory or pass the time or memory limit are `unreproducible` with their
/// log and spend nothing; the MLflow mirror's copy loads with `mlflow.pyfunc.load_model`.
@Suite("Submission by replay", .serialized)
struct ReplayTests {
    static let python = Binaries.repositoryRoot.path + "/.venv/bin/python"
    static let fixture = Binaries.repositoryRoot.path + "/Tests/Tools/replay_models.py"
    static let (train, publicX, privateX, publicY, privateY) = dataset()

    /// Three features, a noisy linear rule (a fixed LCG): 400 training rows, 300 in each split.
    static func dataset() -> (String, String, String, String, String) {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        func rows(_ count: Int) -> (features: [String], targets: [String]) {
            var features: [String] = []
            var targets: [String] = []
            for _ in 0..<count {
                let (a, b, c, noise) = (uniform(), uniform(), uniform(), uniform())
                features.append(String(format: "%.5f,%.5f,%.5f", a, b, c))
                targets.append(a - 0.7 * b + 0.2 * c + 0.6 * noise > 0 ? "1" : "0")
            }
            return (features, targets)
        }
        let header = "f00,f01,f02"
        let training = rows(400)
        let (publicRows, privateRows) = (rows(300), rows(300))
        let train = ([header + ",target"] + zip(training.features, training.targets).map { "\($0),\($1)" }).joined(separator: "\n") + "\n"
        func file(_ header: String, _ lines: [String]) -> String { ([header] + lines).joined(separator: "\n") + "\n" }
        return (
            train, file(header, publicRows.features), file(header, privateRows.features), file("target", publicRows.targets),
            file("target", privateRows.targets)
        )
    }

    func makeDaemon(_ label: String, mlflow: String) throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            python = "\(Self.python)"
            [scheduler]
            default_agent = "puppet"
            kill_grace = "2s"
            [evaluation]
            bootstrap_samples = 200
            replay_timeout = "25s"
            replay_max_memory = "1G"
            [mlflow]
            tracking_uri = "\(mlflow)"
            experiment = "replay-test"
            [agents.puppet]
            command = ["sh", "@DIR@/agents/puppet.sh"]
            """
        let daemon = try TestDaemon(label: label, config: config)
        try daemon.write("data/train.csv", Self.train)
        try daemon.write("data/val_public_X.csv", Self.publicX)
        try daemon.write("data/val_private_X.csv", Self.privateX)
        try daemon.write("data/val_public_y.csv", Self.publicY)
        try daemon.write("data/val_private_y.csv", Self.privateY)
        try daemon.write(
            "agents/puppet.sh",
            """
            echo "$MLAGENT_TOKEN $(pwd)" > .puppet
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
        return daemon
    }

    /// An agent's puppet for `job`: mlagentctl as that agent, the fixture in its worktree.
    struct Puppet {
        var ctl: ([String]) throws -> CtlResult
        var worktree: String

        func model(_ arguments: String...) throws {
            let made = try runProgram(ReplayTests.python, [ReplayTests.fixture] + arguments, in: worktree)
            try #require(made.status == 0, "\(arguments): \(made.output)")
        }

        /// A finished run with the model `directory`, evaluated with `directory-public.csv`.
        func evaluatedRun(_ name: String, model directory: String) throws -> String {
            let started = try ctl(["run", "start", "--name", name, "--rationale", "replay test"])
            try #require(started.status == 0, "\(started.stderr)")
            let run = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let uploaded = try ctl(["run", "artifact", run, directory, "--as", "model"])
            try #require(uploaded.status == 0, "\(uploaded.stderr)")
            let evaluated = try ctl(["eval", run, "\(directory)-public.csv"])
            try #require(evaluated.status == 0, "\(evaluated.stderr)")
            try #require(try ctl(["run", "end", run, "--analysis", "for the replay"]).status == 0)
            return run
        }
    }

    func puppet(_ daemon: TestDaemon, job: Int64) throws -> Puppet {
        let (ctl, worktree) = try EvaluationTests().puppet(daemon, job: job)
        return Puppet(ctl: ctl, worktree: worktree)
    }

    @Test("hostile and broken models are unreproducible and spend nothing; a good one is reproduced and scored as scikit-learn scores its replay; a swapped model is a mismatch; the mirror's model loads")
    func replays() throws {
        let root = try TempDir("rpl")
        let server = MLflowTests.Server(dir: root.file("server"))
        try server.start()
        defer { server.stop() }
        let daemon = try makeDaemon("rpl", mlflow: server.uri)
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "replayed"))
        let agent = try puppet(daemon, job: 1)

        // A listener on the host that the network model tries to reach.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 8)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        _ = fcntl(listener, F_SETFL, O_NONBLOCK)
        defer { close(listener) }

        let escape = root.file("escaped.txt")
        let hostile: [(name: String, make: [String], reason: String, log: String?)] = [
            ("broken", ["broken", "models/broken"], "failed to load", "mlagent_no_such_module"),
            ("reads-target", ["hostile", "models/reads", "read", daemon.stateDir + "/targets/val_private_y.csv"], "failed to predict", "FileNotFoundError"),
            ("reads-data", ["hostile", "models/reads-data", "read", daemon.dir.file("data/val_private_y.csv")], "failed to predict", "FileNotFoundError"),
            ("connects", ["hostile", "models/connects", "connect", "127.0.0.1:\(port)"], "failed to predict", "Error"),
            ("writes", ["hostile", "models/writes", "write", escape], "failed to predict", "Error"),
            ("writes-model", ["hostile", "models/writes-model", "write", "/replay/model/planted"], "failed to predict", "Read-only file system"),
            ("slow", ["hostile", "models/slow", "sleep", "600"], "time limit ([evaluation] replay_timeout = 25s)", nil),
            ("hungry", ["hostile", "models/hungry", "eat", "3072"], "memory limit ([evaluation] replay_max_memory = 1G)", nil),
        ]
        for model in hostile {
            try agent.model(model.make[0], model.make[1], model.make.count > 2 ? model.make[2] : "", model.make.count > 3 ? model.make[3] : "")
            let run = try agent.evaluatedRun(model.name, model: model.make[1])
            let refused = try agent.ctl(["submit", run])
            #expect(refused.status == 1, "\(model.name): \(refused.stdout)")
            #expect(refused.stderr.contains("run \(run)'s model could not be replayed"), "\(model.name): \(refused.stderr)")
            #expect(refused.stderr.contains(model.reason), "\(model.name): \(refused.stderr)")
            if let log = model.log { #expect(refused.stderr.contains(log), "\(model.name): \(refused.stderr)") }
            #expect(!refused.stderr.contains(daemon.stateDir), "no state path reaches the agent: \(refused.stderr)")
            #expect(try client.showRun(Int64(run)!).submissions.map(\.outcome) == [.unreproducible])
        }
        var peer = sockaddr()
        var peerLength = socklen_t(MemoryLayout<sockaddr>.size)
        #expect(accept(listener, &peer, &peerLength) < 0, "the network model reached the host")
        #expect(!FileManager.default.fileExists(atPath: escape), "the writing model wrote outside its directory")
        let board = try client.leaderboard()
        #expect(board.directions.first?.flags.contains("unreproducible") == true, "\(board.directions)")
        #expect(board.directions.first?.submittedRun == nil, "nothing was spent")

        // A predictions file is refused while the daemon replays.
        try "prediction\n0.5\n".write(toFile: agent.worktree + "/mine.csv", atomically: true, encoding: .utf8)
        let withFile = try agent.ctl(["submit", "1", "mine.csv"])
        #expect(withFile.status == 1 && withFile.stderr.contains("submit without one"), "\(withFile.stderr)")

        // The good model: reproduced, scored as scikit-learn scores the replayed predictions.
        try agent.model("good", "models/good")
        let good = try agent.evaluatedRun("good", model: "models/good")
        let submitted = try agent.ctl(["submit", good, "--json"])
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let result = try JSONDecoder().decode(EvalResult.self, from: Data(submitted.stdout.utf8))
        let submission = try #require(result.submission)
        #expect(submission.outcome == .reproduced && (submission.maxAbsDifference ?? 1) <= 1e-6, "\(submission)")
        #expect(submission.replayedPublicScore == submission.reportedPublicScore || abs((submission.replayedPublicScore ?? 0) - (submission.reportedPublicScore ?? 1)) < 1e-12)
        let replays = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/replays").filter { $0.hasPrefix("\(good)-") }
        try #require(replays.count == 1, "\(replays)")
        let replayed = daemon.stateDir + "/replays/\(replays[0])/out"
        let auc = try runProgram(Self.python, [Self.fixture, "auc", daemon.dir.file("data/val_private_y.csv"), replayed + "/private.csv"], in: root.path)
        #expect(abs(result.score - (Double(auc.output.split(separator: "\n").last.map(String.init) ?? "") ?? -1)) < 1e-12, "\(auc.output) vs \(result.score)")
        let again = try agent.ctl(["submit", good])
        #expect(again.status == 1 && again.stderr.contains("already submitted run \(good)"), "\(again.stderr)")
        let shown = try daemon.ctl("leaderboard").stdout
        #expect(shown.contains("reproduced"), "\(shown)")

        // Finished: the direction file says where the private score came from.
        try "### What worked\nThe good model (run \(good)).\n".write(toFile: agent.worktree + "/learnings.md", atomically: true, encoding: .utf8)
        #expect(try agent.ctl(["direction", "finish", "--learnings", "learnings.md"]).status == 0)
        var file = ""
        try waitUntil("the direction file on main", timeout: .seconds(60)) {
            file = try daemon.git("show", "main:research_directions/replayed.md").output
            return file.contains("- Status: completed")
        }
        #expect(file.contains("- Private predictions: reproduced: the daemon replayed the saved model"), "\(file)")

        // A run evaluated with one model that saved another: scored, and flagged.
        _ = try client.enqueue(EnqueueParams(direction: "swapped"))
        let swapper = try puppet(daemon, job: 2)
        try swapper.model("mismatch", "models/swapped")
        let swapped = try swapper.evaluatedRun("swapped", model: "models/swapped")
        let flagged = try swapper.ctl(["submit", swapped])
        #expect(flagged.status == 0 && flagged.stdout.contains("mismatch: the saved model's public predictions differ"), "\(flagged.stdout) \(flagged.stderr)")
        let entry = try #require(try client.leaderboard().directions.first { $0.direction == "swapped" })
        #expect(entry.flags.contains("mismatch") && entry.submission?.outcome == .mismatch, "\(entry)")
        let mismatch = try #require(entry.submission)
        #expect(mismatch.replayedPublicScore != nil && mismatch.replayedPublicScore != mismatch.reportedPublicScore, "\(mismatch)")

        // The mirror: the model loads from MLflow with mlflow.pyfunc.load_model and predicts
        // what the daemon replayed; the run carries the outcome as a tag.
        let check = """
            import sys, mlflow, numpy as np, pandas as pd
            mlflow.set_tracking_uri(sys.argv[1])
            runs = mlflow.search_runs(experiment_names=["replay-test"], filter_string="tags.`mlagent.run_id` = '\(good)'")
            assert len(runs) == 1, runs
            assert runs["tags.mlagent.submission"][0] == "reproduced", runs.filter(like="tags.").iloc[0].to_dict()
            model = mlflow.pyfunc.load_model(f"runs:/{runs['run_id'][0]}/model")
            got = np.asarray(model.predict(pd.read_csv(sys.argv[2])))[:, 1]
            want = pd.read_csv(sys.argv[3])["prediction"].to_numpy()
            print(float(np.max(np.abs(got - want))))
            """
        try check.write(toFile: root.file("check.py"), atomically: true, encoding: .utf8)
        var loaded = (status: Int32(-1), output: "")
        try waitUntil("the mirror to hold the submitted run's model and outcome", timeout: .seconds(90), every: .milliseconds(500)) {
            loaded = try runProgram(
                Self.python, [root.file("check.py"), server.uri, daemon.dir.file("data/val_public_X.csv"), replayed + "/public.csv"],
                in: root.path)
            return loaded.status == 0
        }
        let difference = Double(loaded.output.split(separator: "\n").last.map(String.init) ?? "") ?? 1
        #expect(difference < 1e-12, "\(loaded.output)")
        try daemon.write("ctl/release-1", "")
        try daemon.write("ctl/release-2", "")
        #expect(try daemon.terminate() == 0)
    }
}

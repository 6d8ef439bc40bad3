import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The real mini-swe-agent (PyPI mini-swe-agent, installed by `make venv`) runs one direction
/// to the end as an agent of a real daemon, inside the bubblewrap sandbox, against the scripted
/// OpenAI-compatible server (Tests/ScriptedAPI/chat_server.py) through litellm, offline. Every
/// step is a call of its bash tool: it declares a direction, writes and runs a scikit-learn
/// training script, records the run (per-step curves, the saved model), scores it, submits and
/// finishes with learnings; later turns use what earlier commands printed (the run id, the
/// scores). The shipped `mini` profile runs it (only `env` and `timeout` set; `mini` by name from
/// the daemon's PATH). mini-swe-agent prints its running cost to the cent before each step and
/// never a token count; its trajectory, which the profile writes into the job's private home,
/// holds the exact figures, which the daemon records once the agent has ended: the script's
/// tokens and litellm's exact cost.
@Suite("real mini-swe-agent", .serialized)
struct MiniSWEAgentTests {
    static let root = Binaries.repositoryRoot.path
    static let python = root + "/.venv/bin/python"
    static let mini = root + "/.venv/bin/mini"
    static let bin = root + "/.venv/bin"
    /// The scripted server answers as gpt-4.1, so that litellm prices its tokens from the cost
    /// map bundled with the pinned litellm (no price file the sandbox would have to show): these
    /// are that map's dollars per input and output token.
    static let model = "gpt-4.1"
    static let inputPrice = 2e-6
    static let outputPrice = 8e-6
    static let direction = "mini-logreg"

    struct Turn {
        var text: String
        var command: String
        var input: Int
        var output: Int
    }

    /// Trains a logistic regression step by step (warm starts), logs its curves, saves the model
    /// as an MLflow model and predicts both validation splits from the saved one.
    static let trainScript = #"""
        import json, os, sys, warnings
        warnings.simplefilter("ignore")
        import mlflow.sklearn
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss

        run = sys.argv[1]
        train = pd.read_csv("data/train.csv")
        X, y = train.drop(columns="target").to_numpy(), train["target"].to_numpy()
        fit, hold = slice(0, 30), slice(30, None)
        model = LogisticRegression(C=1.0, max_iter=1, warm_start=True)
        with open("curves.jsonl", "w") as curves:
            for step in range(5):
                model.fit(X[fit], y[fit])
                for key, rows in (("train_loss", fit), ("holdout_loss", hold)):
                    loss = log_loss(y[rows], model.predict_proba(X[rows])[:, 1], labels=[0, 1])
                    curves.write(json.dumps({"key": key, "value": loss, "step": step}) + "\n")
        mlflow.sklearn.save_model(model, f"models/run-{run}", serialization_format="cloudpickle", pyfunc_predict_fn="predict_proba", pip_requirements=["scikit-learn"])
        saved = mlflow.sklearn.load_model(f"models/run-{run}")
        os.makedirs("preds", exist_ok=True)
        for split in ("public", "private"):
            features = pd.read_csv(f"data/val_{split}_X.csv").to_numpy()
            pd.DataFrame({"prediction": saved.predict_proba(features)[:, 1]}).to_csv(f"preds/{split}.csv", index=False)
        print(f"run {run}: holdout_loss {loss:.4f} after 5 steps, model in models/run-{run}")

        """#

    /// One command per turn, so observation N is what turn N's command printed: {{result:2}} is
    /// the run id that `run start` printed.
    static var turns: [Turn] {
        let run = "{{result:2}}"
        return [
            Turn(text: "I will declare a direction first.",
                 command: "mlagentctl direction declare \(direction) --rationale 'a linear baseline driven by mini-swe-agent'",
                 input: 1500, output: 120),
            Turn(text: "Now the training script.", command: "cat > train.py <<'EOF'\n\(trainScript)EOF", input: 2100, output: 640),
            Turn(text: "Start a run.",
                 command: "mlagentctl run start --name logreg-c1 --rationale 'warm-started logistic regression, C=1' --param C=1.0",
                 input: 2900, output: 90),
            Turn(text: "Train it with the run id.", command: "\(python) train.py \(run)", input: 3400, output: 60),
            Turn(text: "Record the curves and the model.",
                 command: "mlagentctl run log \(run) --file curves.jsonl && mlagentctl run artifact \(run) models/run-\(run) --as model",
                 input: 3900, output: 110),
            Turn(text: "Score the public split.", command: "mlagentctl eval \(run) preds/public.csv", input: 4300, output: 70),
            Turn(text: "End the run with what the score said.",
                 command: "mlagentctl run end \(run) --analysis 'five warm-started steps; {{result:5}}'", input: 4800, output: 90),
            Turn(text: "Submit once: the daemon replays the saved model.", command: "mlagentctl submit \(run)", input: 5200, output: 80),
            Turn(text: "Write the learnings and finish.",
                 command: "printf '### What worked\\nRun %s. Public: %s\\nPrivate: %s\\n' '\(run)' '{{result:5}}' '{{result:7}}' > learnings.md && mlagentctl direction finish --learnings learnings.md",
                 input: 5700, output: 150),
            Turn(text: "Done.", command: "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", input: 6100, output: 30),
        ]
    }

    static var scriptJSON: String {
        let script: [String: Any] = [
            "model": Self.model,
            "turns": turns.map { turn in
                ["text": turn.text, "commands": [turn.command],
                 "usage": ["prompt_tokens": turn.input, "completion_tokens": turn.output]] as [String: Any]
            },
        ]
        let data = try? JSONSerialization.data(withJSONObject: script, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    /// A small dataset with both classes in every split.
    static let publicTargets = [0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0]
    static let privateTargets = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1]

    static func features(_ targets: [Int], shift: Int) -> String {
        "f00,f01\n" + targets.enumerated().map { index, target in
            let noise = Double((index * 7 + shift) % 5) / 10
            return "\(Double(target) * 1.2 + noise),\(Double((index + shift) % 4) / 4)"
        }.joined(separator: "\n") + "\n"
    }

    static var train: String {
        "f00,f01,target\n" + (0..<40).map { index in
            let target = (index % 3 == 0) != (index % 11 == 5) ? 1 : 0
            return "\(Double(target) + Double((index * 3) % 7) / 7),\(Double(index % 5) / 5),\(target)"
        }.joined(separator: "\n") + "\n"
    }

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

    /// Starts the scripted server; returns it with its port.
    func startServer(in daemon: TestDaemon) throws -> (ChildProcess, Int) {
        try ScriptedServer.start("chat_server.py", script: Self.scriptJSON, in: daemon)
    }

    func json(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    @Test("a direction end to end through mini-swe-agent's bash tool; the tokens and cost recorded are its trajectory's")
    func scriptedDirection() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.mini), "make venv installs mini-swe-agent")
        let base = """
            [daemon]
            data_dir = "@DIR@/data"
            # The sandbox shows this Python's venv (mini's and the training script's).
            python = "\(Self.python)"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            max_attempts = 1
            [evaluation]
            bootstrap_samples = 200
            """
        let daemon = try TestDaemon(label: "mini", config: base)
        try daemon.write("data/train.csv", Self.train)
        try daemon.write("data/val_public_X.csv", Self.features(Self.publicTargets, shift: 1))
        try daemon.write("data/val_private_X.csv", Self.features(Self.privateTargets, shift: 2))
        try daemon.write("data/val_public_y.csv", "target\n" + Self.publicTargets.map(String.init).joined(separator: "\n") + "\n")
        try daemon.write("data/val_private_y.csv", "target\n" + Self.privateTargets.map(String.init).joined(separator: "\n") + "\n")
        let (server, port) = try startServer(in: daemon)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // The built-in `mini` profile's command. litellm reaches the scripted server as the OpenAI
        // provider and uses its bundled cost map instead of fetching one.
        let config = base + """

            [agents.mini]
            timeout = "5m"
            env = { MSWEA_CONFIGURED = "true", MSWEA_MODEL_NAME = "openai/\(Self.model)", OPENAI_API_BASE = "http://127.0.0.1:\(port)/v1", OPENAI_API_KEY = "sk-scripted", LITELLM_LOCAL_MODEL_COST_MAP = "True" }
            """
        try config.replacingOccurrences(of: "@DIR@", with: daemon.dir.path)
            .write(toFile: daemon.configPath!, atomically: true, encoding: .utf8)
        let path = Self.bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        try daemon.start(extraEnvironment: ["PATH": path], launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "mini"))
        try waitUntil("the mini-swe-agent session to end", timeout: .seconds(240)) { try client.show(id: 1).state.isFinal }
        let log = try daemon.ctl("logs", "1").stdout
        let job = try client.show(id: 1)
        #expect(job.state == .completed, "\(job.reason ?? "")\n\(log)")
        #expect(job.direction == Self.direction)

        // Every scripted turn was asked for once, the first with the daemon's prompt as the task,
        // and later turns saw what earlier commands printed.
        let requests = try String(contentsOfFile: daemon.dir.file("scripted/requests.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { json(String($0)) }
        #expect(requests.map { $0["turn"] as? Int } == Self.turns.indices.map { $0 }, "\(requests)")
        #expect((requests.first?["task"] as? String)?.contains("mlagentctl direction declare") == true)
        let observations = try #require(requests.last?["observations"] as? [String])
        try #require(observations.count == Self.turns.count - 1, "\(observations)")
        #expect(observations[0] == "declared \(Self.direction) on branch exp/\(Self.direction)")

        // The run, as the daemon recorded it.
        let runs = try client.runs(direction: Self.direction)
        try #require(runs.count == 1, "\(runs)\n\(log)")
        let run = runs[0]
        #expect(observations[2] == String(run.id))
        #expect(run.status == .finished && run.name == "logreg-c1")
        let detail = try client.showRun(run.id)
        #expect(detail.params == ["C": "1.0"])
        #expect(detail.artifacts.map(\.name) == ["model"])
        #expect(detail.tags["run_analysis"] == "five warm-started steps; \(observations[5])")
        for key in ["train_loss", "holdout_loss"] {
            let history = try client.metricHistory(MetricHistoryParams(run: run.id, key: key))
            #expect(history.points.map(\.step) == Array(0..<5), "\(key)")
        }

        // The scores are those of the predictions the script made from its saved model.
        var branchFiles: [String: String] = [:]
        try waitUntil("the worktree committed to exp/\(Self.direction)") {
            for name in ["preds/public.csv", "preds/private.csv"] {
                let shown = try daemon.git("show", "exp/\(Self.direction):\(name)")
                guard shown.status == 0 else { return false }
                branchFiles[name] = shown.output
            }
            return true
        }
        func predictions(_ name: String) -> [Double] {
            (branchFiles[name] ?? "").split(separator: "\n").dropFirst().compactMap { Double($0) }
        }
        let publicScore = Self.pairAUC(Self.publicTargets, predictions("preds/public.csv"))
        let privateScore = Self.pairAUC(Self.privateTargets, predictions("preds/private.csv"))
        #expect(abs((run.publicScore ?? -1) - publicScore) < 1e-12)
        #expect(abs((run.privateScore ?? -1) - privateScore) < 1e-12)
        // The private score came from the daemon's replay of the saved model, which reproduced
        // the public predictions the script made.
        #expect(detail.submissions.map(\.outcome) == [.reproduced], "\(detail.submissions)")
        #expect(observations[7].contains("reproduced: the daemon replayed the saved model"), "\(observations[7])")
        #expect(observations[5].hasPrefix("run \(run.id): public roc_auc \(String(format: "%.4f", publicScore))"), "\(observations[5])")

        // main holds the completed direction with its run, scores and learnings.
        var file = ""
        try waitUntil("the direction to land completed") {
            file = try daemon.git("show", "main:research_directions/\(Self.direction).md").output
            return file.contains("- Status: completed")
        }
        #expect(file.contains("- Best run: \(run.id) `logreg-c1`, public \(String(format: "%.4f", publicScore))"), "\(file)")
        #expect(file.contains("- Submitted run: \(run.id), public \(String(format: "%.4f", publicScore)), private \(String(format: "%.4f", privateScore))"), "\(file)")
        #expect(file.contains("Run \(run.id). Public: \(observations[5])\nPrivate: \(observations[7])"), "\(file)")
        #expect(try daemon.git("cat-file", "-e", "main:mlruns/\(Self.direction)/\(run.id)/artifacts/model/MLmodel").status == 0)

        // Usage: mini-swe-agent printed its running cost to the cent and no token counts; its
        // trajectory, in the job's home (never on the branch), holds the script's tokens and
        // litellm's exact cost, and those are what the daemon recorded.
        let tokensIn = Self.turns.map(\.input).reduce(0, +)
        let tokensOut = Self.turns.map(\.output).reduce(0, +)
        let cost = Double(tokensIn) * Self.inputPrice + Double(tokensOut) * Self.outputPrice
        #expect(log.contains("mini-swe-agent (step \(Self.turns.count), $\(String(format: "%.2f", cost))):"), "\(log)")
        let trajectoryPath = daemon.stateDir + "/logs/job-1.home/mini.traj.json"
        let trajectoryText = try String(contentsOfFile: trajectoryPath, encoding: .utf8)
        #expect(try daemon.git("cat-file", "-e", "exp/\(Self.direction):mini.traj.json").status != 0)
        let trajectory = try #require(json(trajectoryText))
        let info = trajectory["info"] as? [String: Any]
        let stats = info?["model_stats"] as? [String: Any]
        #expect(info?["exit_status"] as? String == "Submitted")
        #expect(stats?["api_calls"] as? Int == Self.turns.count)
        let responses = (trajectory["messages"] as? [[String: Any]] ?? []).compactMap { message -> [String: Any]? in
            guard message["role"] as? String == "assistant" else { return nil }
            return ((message["extra"] as? [String: Any])?["response"] as? [String: Any])?["usage"] as? [String: Any]
        }
        #expect(responses.compactMap { $0["prompt_tokens"] as? Int }.reduce(0, +) == tokensIn)
        #expect(responses.compactMap { $0["completion_tokens"] as? Int }.reduce(0, +) == tokensOut)
        // Decoded with JSONDecoder: JSONSerialization on Linux can read a double one ulp off.
        struct Stats: Decodable {
            struct Info: Decodable {
                struct ModelStats: Decodable { var instance_cost: Double }
                var model_stats: ModelStats
            }
            var info: Info
        }
        let exact = try JSONDecoder().decode(Stats.self, from: Data(trajectoryText.utf8)).info.model_stats.instance_cost
        #expect(abs(exact - cost) < 1e-12)
        let usage = try #require(job.usage, "no usage recorded\n\(log)")
        #expect(usage.costUSD == exact && usage.reported, "\(usage) against the trajectory's \(exact)")
        #expect(usage.inputTokens == Int64(tokensIn) && usage.outputTokens == Int64(tokensOut), "\(usage)")
        #expect(usage.cacheReadTokens == 0 && usage.cacheWriteTokens == 0, "\(usage)")
        let show = try daemon.ctl("show", "1").stdout
        #expect(show.contains("cost       \(USD.format(exact)) (in \(USD.tokens(Int64(tokensIn))), out \(USD.tokens(Int64(tokensOut)))"), "\(show)")
        // main's direction file: landed at finish with the cost printed then, and again with the
        // final figures once the agent (one step later) had ended.
        try waitUntil("the final cost on main") {
            try daemon.git("show", "main:research_directions/\(Self.direction).md").output
                .contains("- Cost: \(USD.format(exact)) (as reported by the agent's CLI)\n")
        }
        let landed = try daemon.git("show", "main:research_directions/\(Self.direction).md").output
        #expect(landed.contains("- Tokens: \(USD.tokens(Int64(tokensIn))) input, \(USD.tokens(Int64(tokensOut))) output, 0 cache read, 0 cache write\n"), "\(landed)")
        let subjects = try daemon.git("log", "--format=%s", "main", "--", "research_directions/\(Self.direction).md").output
        #expect(subjects.hasPrefix("\(Self.direction): final cost\n"), "\(subjects)")
        #expect(try daemon.terminate() == 0)
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The real Claude Code CLI (bundled with PyPI's claude-agent-sdk, installed by `make venv`),
/// run by the shipped `claude` profile (its command, `--mcp-config` and `--allowedTools`
/// untouched; only `env`, `timeout` and prices set), plays a whole research session
/// (``ClaudeSession``) against the scripted Messages API server (Tests/ScriptedAPI/messages_server.py):
/// it reads the knowledge base, declares a direction, writes and runs a scikit-learn script, and
/// records, scores, submits and finishes through the `mcp__mlagent__` tools, later turns using
/// what earlier tools returned. Everything is checked where the daemon put it: `main`, the
/// leaderboard, the recorded usage (the CLI's own `total_cost_usd` and the script's tokens) and
/// the rendered log.
@Suite("real Claude Code CLI", .serialized)
struct ClaudeCLITests {
    static let python = Binaries.repositoryRoot.path + "/.venv/bin/python"
    static let claude = Binaries.repositoryRoot.path + "/.venv/lib/python3.11/site-packages/claude_agent_sdk/_bundled/claude"

    /// Starts the scripted server; returns it with its port.
    func startServer(in daemon: TestDaemon) throws -> (ChildProcess, Int) {
        try ScriptedServer.start("messages_server.py", script: try ClaudeSession.script(), in: daemon)
    }

    /// One JSON object per line (lines that are not objects are skipped).
    static func objects(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The content blocks of the stream-json `type` lines (`assistant`, `user`) in a raw log.
    static func blocks(_ raw: String, of type: String) -> [[String: Any]] {
        objects(raw).filter { $0["type"] as? String == type }
            .flatMap { ($0["message"] as? [String: Any])?["content"] as? [[String: Any]] ?? [] }
    }

    @Test("the shipped profile plays a whole research session through its MCP tools; main, leaderboard, cost and logs show it")
    func researchSession() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.claude), "make venv installs claude-agent-sdk")
        let base = """
            [daemon]
            data_dir = "@DIR@/data"
            agents_dir = "@DIR@/agents"
            python = "\(Self.python)"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            max_attempts = 1
            [evaluation]
            bootstrap_samples = 200
            [agents.seed]
            command = ["sh", "{agents_dir}/seed.sh"]
            """
        let daemon = try TestDaemon(label: "claude", config: base)
        let (server, port) = try startServer(in: daemon)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // No command: the shipped one runs, `claude` by name from the daemon's PATH, with a
        // private HOME the daemon gives every job.
        let config = base + """

            [agents.claude]
            timeout = "5m"
            price_per_mtok = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }
            env = { ANTHROPIC_BASE_URL = "http://127.0.0.1:\(port)", ANTHROPIC_API_KEY = "sk-ant-scripted", IS_SANDBOX = "1", DISABLE_AUTOUPDATER = "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1" }
            """
        try config.replacingOccurrences(of: "@DIR@", with: daemon.dir.path)
            .write(toFile: daemon.configPath!, atomically: true, encoding: .utf8)
        for (name, text) in ClaudeSession.dataset() { try daemon.write("data/\(name)", text) }
        try daemon.write(
            "agents/seed.sh",
            """
            set -e
            R=$(mlagentctl run start --name logistic --rationale "a linear baseline")
            mlagentctl run end "$R" --analysis "no model kept"
            printf 'Linear models are a floor (run %s).\\n' "$R" > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        let path = (Self.claude as NSString).deletingLastPathComponent + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        try daemon.start(extraEnvironment: ["PATH": path], launching: true)
        let client = try daemon.client()

        // The knowledge base the session reads: one finished direction on main.
        _ = try client.enqueue(EnqueueParams(direction: "seed-linear", agent: "seed"))
        try waitUntil("the seed direction to land", timeout: .seconds(60)) {
            try daemon.git("show", "main:research_directions/seed-linear.md").output.contains("- Status: completed")
        }
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "claude"))
        try waitUntil("the Claude Code session to end", timeout: .seconds(180)) { try client.show(id: 2).isSettled }
        let raw = try daemon.ctl("logs", "2", "--raw").stdout
        let job = try client.show(id: 2)
        let requestLog = (try? String(contentsOfFile: daemon.dir.file("scripted/requests.jsonl"), encoding: .utf8)) ?? ""
        try #require(job.state == .completed, "\(job.reason ?? "")\n\(raw.suffix(6000))\n\(requestLog.suffix(3000))")
        let failed = Self.blocks(raw, of: "user").filter { $0["type"] as? String == "tool_result" && $0["is_error"] as? Bool == true }
        #expect(failed.isEmpty, "tool calls failed: \(failed)")
        let start = Self.objects(raw).first { $0["type"] as? String == "system" && $0["subtype"] as? String == "init" }
        let servers = start?["mcp_servers"] as? [[String: Any]] ?? []
        #expect(servers.contains { $0["name"] as? String == "mlagent" && $0["status"] as? String == "connected" }, "\(servers)")

        // The request log: start_run's result (the run id) reached every later turn, the
        // training script's output reached the metrics call, and after ToolSearch the CLI
        // offered the model every MCP tool with its schema.
        let requests = Self.objects(requestLog).filter { ($0["tools"] as? Int ?? 0) > 0 }
        func labelled(_ request: [String: Any], _ label: String) -> [String: Any]? {
            ((request["labelled"] as? [String: String])?[label]).flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        let later = requests.filter { ($0["turn"] as? Int ?? 0) > ClaudeSession.startRunTurn }
        let next = try #require(later.first, "no request after start_run: \(requestLog)")
        let runID = try #require(labelled(next, "run")?["id"] as? Int, "\(requestLog)")
        #expect(later.allSatisfy { labelled($0, "run")?["id"] as? Int == runID }, "\(requestLog)")
        #expect(try client.runs(direction: ClaudeSession.direction).map(\.id) == [Int64(runID)])
        #expect(runID != 1, "the seed's run is 1: the id came from start_run, not from the script")
        for request in requests where (request["turn"] as? Int ?? 0) >= 1 {
            let offered = Set(request["tool_names"] as? [String] ?? [])
            #expect(offered.isSuperset(of: ClaudeSession.mcpTools), "turn \(request["turn"] ?? "?"): \(offered.sorted())")
        }
        let knowledge = (next["labelled"] as? [String: String])?["kb"] ?? ""
        #expect(knowledge.contains("seed-linear.md") && knowledge.contains("Linear models are a floor"), "\(knowledge)")
        #expect(knowledge.contains("DIRECTION"), "mlagentctl leaderboard from Claude's Bash: \(knowledge)")
        let worktree = (next["labelled"] as? [String: String])?["cwd"] ?? "?"
        let printed = try #require(labelled(next, "train"), "train.py printed no JSON: \(requestLog)")
        let curve = (printed["metrics"] as? [[String: Any]] ?? []).compactMap { ($0["value"] as? NSNumber)?.doubleValue }
        #expect(curve.count == 5)
        let uses = Self.blocks(raw, of: "assistant").filter { $0["type"] as? String == "tool_use" }
        let metricCalls = uses.filter { $0["name"] as? String == "mcp__mlagent__log_metrics" }.compactMap { $0["input"] as? [String: Any] }
        #expect(metricCalls.count == 2 && metricCalls.allSatisfy { $0["run"] as? Int == runID }, "\(metricCalls)")

        // The CLI's own figures, from its result line, are what the daemon recorded. (Decoded
        // with JSONDecoder: JSONSerialization on Linux reads 0.04250000000000001 one ulp off.)
        struct ResultLine: Decodable {
            var type: String
            var total_cost_usd: Double?
        }
        let lines = raw.split(separator: "\n").compactMap { try? JSONDecoder().decode(ResultLine.self, from: Data($0.utf8)) }
        let reported = try #require(lines.last { $0.type == "result" }?.total_cost_usd, "no result line:\n\(raw.suffix(4000))")
        let usage = try #require(job.usage, "no usage recorded")
        let tokens = try ClaudeSession.scriptedTokens()
        #expect(usage.costUSD == reported && usage.reported && reported > 0, "\(usage) against \(reported)")
        #expect(usage.inputTokens == tokens.input && usage.outputTokens == tokens.output, "\(usage)")
        #expect(usage.cacheReadTokens == tokens.cacheRead && usage.cacheWriteTokens == tokens.cacheWrite, "\(usage)")

        // main: the direction file, completed, with the run, its public score and the
        // submission; the learnings and rationale carry what the tools returned. Its Cost
        // section has the CLI's final figures, printed after finish_direction landed the file
        // (landed again as "<direction>: final cost" before the job's archive, so by now).
        let detail = try client.showRun(Int64(runID))
        let publicScore = try #require(detail.evaluations.first { $0.split == "public" }?.score)
        let privateScore = try #require(detail.evaluations.first { $0.split == "private" }?.score)
        var file = ""
        try waitUntil("the direction to land completed") {
            file = try daemon.git("show", "main:research_directions/\(ClaudeSession.direction).md").output
            return file.contains("- Status: completed")
        }
        let four = { (score: Double) in String(format: "%.4f", score) }
        #expect(file.contains("- Best run: \(runID) `\(ClaudeSession.runName)`, public \(four(publicScore))"), "\(file)")
        #expect(file.contains("- Submitted run: \(runID), public \(four(publicScore)), private \(four(privateScore))"), "\(file)")
        #expect(file.contains("Run \(runID) (gbm-5) scored \(publicScore) public and \(privateScore) private"), "\(file)")
        // submit_private without a path: the daemon replayed the saved MLflow model, which
        // reproduced the predictions the run was evaluated with.
        #expect(detail.submissions.map(\.outcome) == [.reproduced], "\(detail.submissions)")
        #expect(file.contains("- Private predictions: reproduced: the daemon replayed the saved model"), "\(file)")
        #expect(file.contains("whose learnings say: Linear models are a floor (run 1)."), "\(file)")
        let tokenCounts = [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens].map(USD.tokens)
        #expect(file.contains("- Cost: \(USD.format(reported)) (as reported by the agent's CLI)\n"), "\(file)")
        #expect(
            file.contains("- Tokens: \(tokenCounts[0]) input, \(tokenCounts[1]) output, \(tokenCounts[2]) cache read, \(tokenCounts[3]) cache write\n"),
            "\(file)")
        #expect(detail.run.status == .finished && detail.run.analysis?.contains("public roc_auc \(publicScore)") == true)
        #expect(detail.params == ["n_estimators": "5", "max_depth": "2", "learning_rate": "0.3", "random_state": "0"])

        // mlruns/ on main: every step of the curve as train.py printed it, and the model file
        // train.py saved (the same blob as on the job's branch).
        let record = "main:mlruns/\(ClaudeSession.direction)/\(runID)"
        let points = Self.objects(try daemon.git("show", "\(record)/metrics.jsonl").output)
        let losses = points.filter { $0["key"] as? String == "train_log_loss" }
        #expect(losses.compactMap { $0["step"] as? Int } == [1, 2, 3, 4, 5], "\(points)")
        #expect(losses.compactMap { ($0["value"] as? NSNumber)?.doubleValue } == curve)
        #expect(points.contains { $0["key"] as? String == "train_auc" && $0["step"] as? Int == 5 })
        let run = try JSONSerialization.jsonObject(with: Data(try daemon.git("show", "\(record)/run.json").output.utf8)) as? [String: Any]
        #expect(run?["status"] as? String == "finished" && run?["has_model"] as? Bool == true, "\(run ?? [:])")
        let landed = try daemon.git("rev-parse", "\(record)/artifacts/model")
        let saved = try daemon.git("rev-parse", "exp/\(ClaudeSession.direction):models/model")
        #expect(landed.status == 0 && landed.output == saved.output, "\(landed.output) \(saved.output)")
        #expect(try daemon.git("show", "exp/\(ClaudeSession.direction):train.py").output == ClaudeSession.trainScript, "what Write wrote")

        // The leaderboard lists the direction with the CLI's cost (not an estimate).
        let board = try daemon.ctl("leaderboard").stdout
        let row = board.split(separator: "\n").first { $0.contains(" \(ClaudeSession.direction) ") } ?? ""
        #expect(row.contains(USD.format(reported)) && !row.contains(USD.format(reported) + "~"), "\(board)")

        // The rendered log shows each tool call and the session's result.
        let logs = try daemon.ctl("logs", "2").stdout
        for tool in ["list_directions", "declare_direction", "start_run", "log_metrics", "log_artifact", "evaluate_public",
                     "end_run", "submit_private", "finish_direction"]
        {
            #expect(logs.contains("  → mcp__mlagent__\(tool)"), "\(tool) missing from:\n\(logs)")
        }
        #expect(logs.contains("  → Write: \(worktree)/train.py"), "\(logs)")
        #expect(logs.contains("  → Bash: \"$MLAGENT_PYTHON\" train.py"), "\(logs)")
        #expect(logs.contains("  → mcp__mlagent__evaluate_public: preds/public.csv"), "\(logs)")
        #expect(logs.contains("  ← {\"direction\":\"\(ClaudeSession.direction)\",\"has_model\":false,\"id\":\(runID),"), "\(logs)")
        #expect(logs.contains("● result: success"), "\(logs)")
        #expect(logs.contains(USD.format(reported) + " (reported by the CLI)"), "\(logs)")
        let show = try daemon.ctl("show", "2").stdout
        let counts = [usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens].map(USD.tokens)
        #expect(
            show.contains("cost       \(USD.format(reported)) (in \(counts[0]), out \(counts[1]), cache read \(counts[2]), cache write \(counts[3]) tokens)"),
            "\(show)")
        #expect(try daemon.terminate() == 0)
    }
}

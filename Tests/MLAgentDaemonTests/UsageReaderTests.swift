import Foundation
@testable import MLAgentDaemon
import MLAgentProtocol
import Testing

@Suite("Usage readers")
struct UsageReaderTests {
    /// Claude Code 2.x `--output-format stream-json --verbose`: one assistant line per content
    /// block (the same message id and usage repeated), tool results as user lines, then result.
    static let claudeSession = [
        #"{"type":"system","subtype":"init","cwd":"/w/job-1","session_id":"s1","tools":["Bash","Read"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"ANTHROPIC_API_KEY"}"#,
        #"{"type":"assistant","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Reading the \"usage\" notes first.\nThen I run it."}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":5,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"s1"}"#,
        #"{"type":"assistant","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"mlagentctl direction declare hgb --rationale \"gbm\"","description":"Declare"}}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":40,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"s1"}"#,
        #"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_1","type":"tool_result","content":"declared hgb on branch exp/hgb\n{\"usage\":{\"input_tokens\":999999}}","is_error":false}]},"parent_tool_use_id":null,"session_id":"s1"}"#,
        #"{"type":"assistant","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":50,"cache_read_input_tokens":2000,"output_tokens":20,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"s1"}"#,
    ]
    static let claudeResult =
        #"{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,"duration_api_ms":1000,"num_turns":2,"result":"Done.","session_id":"s1","total_cost_usd":0.0123,"usage":{"input_tokens":110,"cache_creation_input_tokens":2050,"cache_read_input_tokens":2000,"output_tokens":60,"server_tool_use":{"web_search_requests":0},"service_tier":"standard"},"permission_denials":[]}"#

    @Test("Claude stream-json: per-turn usage estimated (repeated message ids counted once), then the result's own figure")
    func claude() {
        var reader = ClaudeStreamJSONReader()
        for line in Self.claudeSession { reader.read(line) }
        let estimate = reader.tally.usage(prices: .claudeSonnet)
        #expect(estimate.inputTokens == 110)
        #expect(estimate.outputTokens == 60)
        #expect(estimate.cacheReadTokens == 2000)
        #expect(estimate.cacheWriteTokens == 2050)
        #expect(!estimate.reported)
        #expect(abs(estimate.costUSD - (110 * 3 + 60 * 15 + 2000 * 0.3 + 2050 * 3.75) / 1e6) < 1e-12)
        reader.read(Self.claudeResult)
        let final = reader.tally.usage(prices: .claudeSonnet)
        #expect(final == TokenUsage(
            inputTokens: 110, outputTokens: 60, cacheReadTokens: 2000, cacheWriteTokens: 2050, costUSD: 0.0123, reported: true))
        // A second attempt in the same log adds its own session.
        for line in Self.claudeSession { reader.read(line) }
        reader.read(Self.claudeResult)
        let twice = reader.tally.usage(prices: .claudeSonnet)
        #expect(twice.inputTokens == 220)
        #expect(abs(twice.costUSD - 0.0246) < 1e-12)
        #expect(twice.reported)
    }

    @Test("Codex exec --json: turn.completed usage, cached input priced as cache reads")
    func codex() {
        let lines = [
            #"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}"#,
            #"{"type":"turn.started"}"#,
            #"{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Scanning the knowledge base**"}}"#,
            #"{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'mlagentctl leaderboard'","aggregated_output":"","exit_code":null,"status":"in_progress"}}"#,
            #"{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc 'mlagentctl leaderboard'","aggregated_output":"usage: \"x\"\n","exit_code":0,"status":"completed"}}"#,
            #"{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Declared the direction."}}"#,
            #"{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}"#,
        ]
        var reader = CodexJSONReader()
        for line in lines { reader.read(line) }
        let usage = reader.tally.usage(prices: .gpt5)
        #expect(usage.inputTokens == 315)
        #expect(usage.cacheReadTokens == 24448)
        #expect(usage.outputTokens == 122)
        #expect(!usage.reported)
        #expect(abs(usage.costUSD - (315 * 1.25 + 24448 * 0.125 + 122 * 10) / 1e6) < 1e-12)
        reader.read(#"{"type":"turn.completed","usage":{"input_tokens":1000,"cached_input_tokens":0,"output_tokens":10}}"#)
        #expect(reader.tally.usage(prices: .gpt5).inputTokens == 1315)
    }

    @Test("mini-swe-agent: the running dollar figure before each step; a lower figure starts a new run")
    func miniSWEAgent() {
        var reader = MiniSWEAgentReader()
        // As mini-swe-agent 2.4.6 prints them when its output is not a terminal.
        for line in [
            "This is mini-swe-agent version 2.4.6.", "", "System:", "You are a helpful assistant that can interact with a computer.",
            "", "mini-swe-agent (step 1, $0.00):", "Look around first.", "", "```", "ls", "```", "", "Tool:", "<returncode>",
            "0", "<output>", "train.py", String(repeating: "\u{2500}", count: 80), "", "mini-swe-agent (step 2, $0.03):",
            "", "mini-swe-agent (step 3, $0.12):", "Done.", "", "```", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "```",
            "", "Exit:", "", "Saved trajectory to ", "'/tmp/home/.config/mini-swe-agent/last_mini_run.traj.json'",
        ] { reader.read(line) }
        #expect(reader.tally.usage(prices: nil) == TokenUsage(costUSD: 0.12, reported: true))
        reader.read("mini-swe-agent (step 1, $0.05):")
        #expect(abs(reader.tally.usage(prices: nil).costUSD - 0.17) < 1e-12)
    }

    /// A trajectory as mini-swe-agent 2.4.6 writes it (`-o`), cut to what matters: two model
    /// calls through litellm (OpenAI's usage shape), a format error whose call was billed too
    /// (kept as a user message), and the exit.
    static func trajectory(cost: String = "0.0521", usage: [String] = [], extra: String = "") -> String {
        let usages = usage.isEmpty
            ? [#"{"completion_tokens":120,"prompt_tokens":1500,"total_tokens":1620,"completion_tokens_details":null,"prompt_tokens_details":null}"#,
               #"{"completion_tokens":640,"prompt_tokens":2100,"total_tokens":2740,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":null}}"#,
               #"{"completion_tokens":30,"prompt_tokens":2600,"total_tokens":2630}"#]
            : usage
        func response(_ usage: String) -> String {
            #"{"id":"chatcmpl-1","created":1764633600,"model":"gpt-4.1","object":"chat.completion","choices":[{"finish_reason":"tool_calls","index":0,"message":{"content":"Look \"usage\" up.","role":"assistant","tool_calls":[{"function":{"arguments":"{\"command\":\"ls\"}","name":"bash"},"id":"call_1","type":"function"}]}}],"usage":"#
                + usage + "}"
        }
        return """
            {
              "info": {"model_stats": {"instance_cost": \(cost), "api_calls": 3}, "config": {"agent": {"cost_limit": 0.0}},
                       "mini_version": "2.4.6", "exit_status": "Submitted", "submission": ""\(extra)},
              "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Please solve this task."},
                {"role": "assistant", "content": "Look around.", "extra": {"actions": [{"command": "ls"}], "response": \(response(usages[0])), "cost": 0.0038, "timestamp": 1764633600.5}},
                {"role": "tool", "content": "<returncode>0</returncode>", "extra": {"raw_output": "train.py", "returncode": 0}},
                {"role": "user", "content": "Format error", "extra": {"interrupt_type": "FormatError", "cost": 0.0093, "response": \(response(usages[1]))}},
                {"role": "assistant", "content": "Done.", "extra": {"actions": [], "response": \(response(usages.count > 2 ? usages[2] : usages[0])), "cost": 0.0054}},
                {"role": "exit", "content": "", "extra": {"exit_status": "Submitted", "submission": ""}}
              ],
              "trajectory_format": "mini-swe-agent-1.1"
            }
            """
    }

    @Test("mini-swe-agent's trajectory: the exact cost, and every billed call's tokens (cached input as cache reads)")
    func miniTrajectory() throws {
        let parsed = try MiniSWEAgentTrajectory.parse(Data(Self.trajectory().utf8))
        #expect(parsed.usage == TokenUsage(
            inputTokens: 1500 + 1076 + 2600, outputTokens: 120 + 640 + 30, cacheReadTokens: 1024, costUSD: 0.0521, reported: true))
        #expect(parsed.apiCalls == 3 && parsed.responses == 3)
        // Anthropic through litellm: prompt_tokens counts cache reads and writes, named apart.
        let anthropic = try MiniSWEAgentTrajectory.parse(Data(Self.trajectory(usage: [
            #"{"completion_tokens":50,"prompt_tokens":3100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":1000,"prompt_tokens_details":{"cached_tokens":1000,"cache_creation_tokens":2000}}"#,
            #"{"completion_tokens":10,"prompt_tokens":3200,"prompt_tokens_details":{"cached_tokens":3000,"cache_creation_tokens":100}}"#,
        ]).utf8))
        #expect(anthropic.usage.inputTokens == 100 + 100 + 100)
        #expect(anthropic.usage.cacheReadTokens == 1000 + 3000 + 1000)
        #expect(anthropic.usage.cacheWriteTokens == 2000 + 100 + 2000)
        #expect(anthropic.usage.outputTokens == 50 + 10 + 50)

        // The reader: the trajectory's figures replace the last run's printed cost; earlier
        // runs of the log keep theirs.
        var reader = MiniSWEAgentReader()
        for line in ["mini-swe-agent (step 1, $0.01):", "mini-swe-agent (step 4, $0.07):", "mini-swe-agent (step 1, $0.00):",
                     "mini-swe-agent (step 3, $0.05):"] { reader.read(line) }
        let applied = reader.settle(lastRun: parsed)
        #expect(applied)
        let settled = reader.tally.usage(prices: nil)
        #expect(abs(settled.costUSD - (0.07 + 0.0521)) < 1e-12 && settled.reported)
        #expect(settled.inputTokens == parsed.usage.inputTokens && settled.outputTokens == 790)
        // One that cost less than the run printed belongs to another run: refused.
        var later = MiniSWEAgentReader()
        later.read("mini-swe-agent (step 9, $0.31):")
        let refused = !later.settle(lastRun: parsed)
        #expect(refused)
        #expect(later.tally.usage(prices: nil) == TokenUsage(costUSD: 0.31, reported: true))
    }

    @Test("an agent-written trajectory that is garbage is refused whole, or its bad values ignored; never a crash")
    func miniTrajectoryGarbage() throws {
        func refusal(_ text: String) -> String? {
            do {
                _ = try MiniSWEAgentTrajectory.parse(Data(text.utf8))
                return nil
            } catch {
                return error.description
            }
        }
        let whole = Self.trajectory()
        #expect(refusal(String(whole.prefix(whole.count / 2)))?.hasPrefix("not a JSON object") == true, "written half when the agent was killed")
        #expect(refusal("")?.hasPrefix("not a JSON object") == true)
        #expect(refusal("[1, 2]")?.hasPrefix("not a JSON object") == true)
        #expect(refusal(String(repeating: "[", count: 100_000))?.hasPrefix("not a JSON object") == true)
        #expect(refusal(#"{"messages": []}"#) == "no number at info.model_stats.instance_cost")
        #expect(refusal(#"{"info": "none"}"#) == "no number at info.model_stats.instance_cost")
        #expect(refusal(Self.trajectory(cost: #""0.05""#)) == "no number at info.model_stats.instance_cost")
        #expect(refusal(Self.trajectory(cost: "-1"))?.contains("not a dollar figure") == true)
        #expect(refusal(Self.trajectory(cost: "1e300"))?.contains("not a dollar figure") == true)
        // Values of the wrong type or out of range count as absent; sums stop at the cap.
        let odd = try MiniSWEAgentTrajectory.parse(Data(Self.trajectory(usage: [
            #"{"completion_tokens":"many","prompt_tokens":-5,"prompt_tokens_details":[1]}"#,
            #"{"completion_tokens":1e300,"prompt_tokens":1e15,"cache_read_input_tokens":2e15}"#,
            #"null"#,
        ]).utf8))
        #expect(odd.usage.outputTokens == 0)
        #expect(odd.usage.cacheReadTokens == 0 && odd.usage.inputTokens == MiniSWEAgentTrajectory.maxTokens)
        #expect(odd.usage.costUSD == 0.0521)
        // litellm's repr() fallback leaves a string where the response was.
        let repr = whole.replacingOccurrences(of: #""response": {"id""#, with: #""response": "ModelResponse(id", "x": {"id""#)
        #expect(try MiniSWEAgentTrajectory.parse(Data(repr.utf8)).responses == 0)
    }

    @Test("the trajectory is where the profile's -o puts it, beneath the job's home or worktree; read without links, bounded")
    func miniTrajectoryFile() throws {
        let home = "/s/logs/job-3.home"
        let worktree = "/s/worktrees/job-3"
        let shipped = try #require(DaemonConfig().agents["mini"]?.command)
        #expect(MiniSWEAgentTrajectory.location(command: shipped, home: home, worktree: worktree, jobID: 3)! == (home + "/mini.traj.json", home))
        #expect(MiniSWEAgentTrajectory.location(command: ["mini", "--task", "-o"], home: home, worktree: worktree, jobID: 3)! == (home + "/.config/mini-swe-agent/last_mini_run.traj.json", home), "no value: the default")
        #expect(MiniSWEAgentTrajectory.location(command: ["mini", "--output={worktree}/t-{job_id}.json"], home: home, worktree: worktree, jobID: 3)! == (worktree + "/t-3.json", worktree))
        #expect(MiniSWEAgentTrajectory.location(command: ["mini", "-o", "out/t.json"], home: home, worktree: worktree, jobID: 3)! == (worktree + "/out/t.json", worktree))
        #expect(MiniSWEAgentTrajectory.location(command: ["mini"], home: home, worktree: worktree, jobID: 3)! == (home + "/.config/mini-swe-agent/last_mini_run.traj.json", home))
        #expect(MiniSWEAgentTrajectory.location(command: ["mini", "-o", "/etc/shadow"], home: home, worktree: worktree, jobID: 3) == nil)
        #expect(MiniSWEAgentTrajectory.location(command: ["mini", "-o", "/s/logs/job-3.homer/t.json"], home: home, worktree: worktree, jobID: 3) == nil)

        var template = Array((NSTemporaryDirectory() + "mini-traj-XXXXXX").utf8CString)
        let root = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: root) }
        let control = CopyControl(timeLimit: .seconds(30))
        let path = root + "/mini.traj.json"
        try Self.trajectory().write(toFile: path, atomically: false, encoding: .utf8)
        let (data, modified) = try MiniSWEAgentTrajectory.read(path, beneath: root, control: control)
        #expect(try MiniSWEAgentTrajectory.parse(data).usage.costUSD == 0.0521)
        #expect(abs(modified.timeIntervalSinceNow) < 60)
        #expect(throws: RPCError.self) { try MiniSWEAgentTrajectory.read(root + "/../\((root as NSString).lastPathComponent)/mini.traj.json", beneath: root, control: control) }
        // A link (to a file the daemon can read and the agent cannot), a FIFO and a file over
        // the bound are refused without reading them.
        try FileManager.default.createSymbolicLink(atPath: root + "/link.json", withDestinationPath: path)
        #expect(throws: RPCError.self) { try MiniSWEAgentTrajectory.read(root + "/link.json", beneath: root, control: control) }
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: root + "/linked", withDestinationPath: root + "/sub")
        try Self.trajectory().write(toFile: root + "/sub/t.json", atomically: false, encoding: .utf8)
        #expect(throws: RPCError.self) { try MiniSWEAgentTrajectory.read(root + "/linked/t.json", beneath: root, control: control) }
        #expect(mkfifo(root + "/fifo.json", 0o600) == 0)
        #expect(throws: RPCError.self) { try MiniSWEAgentTrajectory.read(root + "/fifo.json", beneath: root, control: control) }
        #expect(truncate(path, off_t(MiniSWEAgentTrajectory.maxBytes + 1)) == 0)
        let large = #expect(throws: RPCError.self) { try MiniSWEAgentTrajectory.read(path, beneath: root, control: control) }
        #expect(large?.message.contains("the trajectory limit of") == true, "\(String(describing: large))")
    }

    @Test("usage lines are recognised without parsing the rest; text mentioning usage is not")
    func lines() {
        func parse(_ text: String) -> UsageLine? {
            var copy = text
            return copy.withUTF8 { UsageLine.parse(UnsafeRawBufferPointer($0)) }
        }
        func may(_ text: String) -> Bool {
            var copy = text
            return copy.withUTF8 { UsageLine.mayCarryUsage(UnsafeRawBufferPointer($0)) }
        }
        #expect(!may(Self.claudeSession[3].replacingOccurrences(of: #""type":"tool_result""#, with: "")) || true)
        #expect(!may(#"{"type":"user","message":{"content":"the \"usage\" key"}}"#))
        #expect(may(Self.claudeResult))
        let result = parse(Self.claudeResult)
        #expect(result?.type == "result")
        #expect(result?.totalCostUSD == 0.0123)
        #expect(result?.usage?["cache_read_input_tokens"] == 2000)
        let assistant = parse(Self.claudeSession[2])
        #expect(assistant?.messageID == "msg_01")
        #expect(assistant?.messageUsage?["output_tokens"] == 40)
        #expect(parse(#"{"type":"result","usage":{"input_tokens":1"#) == nil)
        #expect(parse("not json") == nil)
    }

    @Test("the log follower hands out whole lines across reads, and drops a line too long to keep")
    func follower() throws {
        let path = NSTemporaryDirectory() + "usage-follow-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data("one\ntw".utf8))
        var follower = LogFollower(path: path)
        var seen: [String] = []
        _ = follower.read { seen.append(String(decoding: $0, as: UTF8.self)) }
        #expect(seen == ["one"])
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("o\n".utf8))
        handle.write(Data(String(repeating: "x", count: LogFollower.maxLine + 10).utf8))
        handle.write(Data("\nthree\n".utf8))
        try handle.close()
        while follower.read({ seen.append(String(decoding: $0, as: UTF8.self)) }) {}
        #expect(seen == ["one", "two", "three"])
        // Nothing new: nothing read.
        #expect(!follower.read { _ in Issue.record("no line expected") })
    }

    @Test("usage keys of agent profiles and the session cap are read from the config file")
    func config() throws {
        let config = try ConfigLoader.parse(
            """
            [scheduler]
            max_session_cost_usd = 2.5
            [agents.fake]
            command = ["sh", "agent.sh"]
            usage = "claude-stream-json"
            max_cost_usd = 0.5
            price_per_mtok = { input = 3, output = 15.0, cache_read = 0.3, cache_write = 3.75 }
            """, source: "test.toml")
        #expect(config.maxSessionCostUSD == 2.5)
        let fake = try #require(config.agents["fake"])
        #expect(fake.usage == .claudeStreamJSON)
        #expect(fake.maxCostUSD == 0.5)
        #expect(fake.pricePerMTok == .claudeSonnet)
        #expect(DaemonConfig().agents["claude"]?.usage == .claudeStreamJSON)
        #expect(DaemonConfig().agents["codex"]?.command.contains("--json") == true)
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse("[agents.x]\ncommand = [\"a\"]\nusage = \"gemini\"\n", source: "t.toml")
        }
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse("[agents.x]\ncommand = [\"a\"]\nprice_per_mtok = { input = 1 }\n", source: "t.toml")
        }
    }
}

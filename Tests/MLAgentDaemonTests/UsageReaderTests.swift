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

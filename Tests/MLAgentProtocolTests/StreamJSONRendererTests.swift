import MLAgentProtocol
import Testing

@Suite("stream-json rendering")
struct StreamJSONRendererTests {
    @Test("assistant text, tool calls with their command, results cut short, running cost, the CLI's total")
    func renders() {
        var renderer = StreamJSONRenderer(prices: PricePerMTok(input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75))
        let long = String(repeating: "0.81 ", count: 100)
        let lines = [
            #"{"type":"system","subtype":"init","cwd":"/w","session_id":"s","tools":["Bash"],"model":"claude-sonnet-4-5"}"#,
            #"{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"Let me look."}],"usage":{"input_tokens":1000,"output_tokens":100,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}"#,
            #"{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"mlagentctl leaderboard","description":"x"}}],"usage":{"input_tokens":1000,"output_tokens":100}}}"#,
            #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"\#(long)"}]}}"#,
            #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"boom"}],"is_error":true}]}}"#,
            #"{"type":"result","subtype":"success","num_turns":1,"total_cost_usd":0.0045,"usage":{"input_tokens":1000,"output_tokens":100},"result":"All done."}"#,
            "plain text from a script",
        ]
        let out = lines.flatMap { renderer.render($0) }
        #expect(out[0] == "● session started: model claude-sonnet-4-5, 1 tools, in /w")
        #expect(out[1] == "── turn 1 · 1,100 tokens · $0.0045")
        #expect(out[2] == "  Let me look.")
        #expect(out[3] == "  → Bash: mlagentctl leaderboard")
        #expect(out[4].hasPrefix("  ← 0.81 0.81"))
        #expect(out[4].hasSuffix("… (500 chars)"))
        #expect(out[4].count < 240)
        #expect(out[5] == "  ← (error) boom")
        #expect(out[6] == "● result: success after 1 turns, 1,100 tokens, $0.0045 (reported by the CLI)")
        #expect(out[7] == "  All done.")
        #expect(out[8] == "plain text from a script")
    }

    @Test("lines that are not stream-json are returned as they are")
    func passthrough() {
        var renderer = StreamJSONRenderer()
        #expect(renderer.render("{not json") == ["{not json"])
        #expect(renderer.render(#"{"no_type":1}"#) == [#"{"no_type":1}"#])
        #expect(renderer.render("") == [""])
    }

    @Test("dollars and token counts as people read them")
    func formats() {
        #expect(USD.format(0.0123) == "$0.0123")
        #expect(USD.format(12.345) == "$12.35")
        #expect(USD.format(0) == "$0.00")
        #expect(USD.format(0.8) == "$0.80")
        #expect(USD.tokens(1234567) == "1,234,567")
        #expect(USD.tokens(12) == "12")
    }
}

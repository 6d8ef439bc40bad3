import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The real Claude Code CLI (bundled with PyPI's claude-agent-sdk, installed by `make venv`)
/// runs as an agent of a real daemon against the scripted Messages API server
/// (Tests/ScriptedAPI/messages_server.py): its Bash tool declares and finishes a direction
/// with mlagentctl, a later turn uses what an earlier tool returned, and the daemon's account
/// of the job is the CLI's own: its `total_cost_usd` and the script's tokens.
@Suite("real Claude Code CLI", .serialized)
struct ClaudeCLITests {
    static let python = Binaries.repositoryRoot.path + "/.venv/bin/python"
    static let claude = Binaries.repositoryRoot.path + "/.venv/lib/python3.11/site-packages/claude_agent_sdk/_bundled/claude"
    static let server = Binaries.repositoryRoot.path + "/Tests/ScriptedAPI/messages_server.py"

    static let script = #"""
        {"turns": [
          {"content": [{"text": "I will declare the direction first."},
                       {"tool": "Bash", "input": {"command": "mlagentctl direction declare scripted-cost --rationale 'a scripted Claude Code session'", "description": "Declare the direction"}}],
           "usage": {"input_tokens": 1200, "output_tokens": 80, "cache_creation_input_tokens": 500, "cache_read_input_tokens": 0}},
          {"content": [{"tool": "Bash", "input": {"command": "printf 'The daemon answered: %s\\n' '{{result}}' > learnings.md && mlagentctl direction finish --learnings learnings.md", "description": "Finish"}}],
           "usage": {"input_tokens": 300, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1700}},
          {"content": [{"text": "The direction is finished."}],
           "usage": {"input_tokens": 150, "output_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2000}}
        ], "final_text": "Nothing more to do."}
        """#

    /// Starts the scripted server; returns it with its port.
    func startServer(in daemon: TestDaemon) throws -> (ChildProcess, Int) {
        try daemon.write("scripted/session.json", Self.script)
        let portFile = daemon.dir.file("scripted/port")
        let server = try ChildProcess(
            executable: Self.python,
            arguments: [Self.server, daemon.dir.file("scripted/session.json"), portFile, daemon.dir.file("scripted/requests.jsonl")],
            environment: ProcessInfo.processInfo.environment, outputPath: daemon.dir.file("scripted/server.log"))
        var port = 0
        try waitUntil("the scripted server's port") {
            port = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
            return port > 0
        }
        return (server, port)
    }

    @Test("cost recorded equals the CLI's total_cost_usd; tokens equal the scripted usage; logs render the session")
    func scriptedSession() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.claude), "make venv installs claude-agent-sdk")
        let base = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            max_attempts = 1
            """
        let daemon = try TestDaemon(label: "claude", config: base)
        let (server, port) = try startServer(in: daemon)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // The sandbox's private /tmp is the CLI's writable home.
        let config = base + """

            [agents.claude]
            command = ["\(Self.claude)", "-p", "{prompt}", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]
            timeout = "5m"
            usage = "claude-stream-json"
            price_per_mtok = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }
            env = { ANTHROPIC_BASE_URL = "http://127.0.0.1:\(port)", ANTHROPIC_API_KEY = "sk-ant-scripted", IS_SANDBOX = "1", HOME = "/tmp/claude-home", DISABLE_AUTOUPDATER = "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1" }
            """
        try config.replacingOccurrences(of: "@DIR@", with: daemon.dir.path)
            .write(toFile: daemon.configPath!, atomically: true, encoding: .utf8)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_private_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n")
        try daemon.write("data/val_private_y.csv", "target\n1\n0\n")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "claude"))
        try waitUntil("the Claude Code session to end", timeout: .seconds(180)) { try client.show(id: 1).state.isFinal }
        let raw = try daemon.ctl("logs", "1", "--raw").stdout
        let job = try client.show(id: 1)
        #expect(job.state == .completed, "\(job.reason ?? "")\n\(raw)")

        // The CLI's own figures, from its result line.
        let result = try #require(
            raw.split(separator: "\n").compactMap { line -> [String: Any]? in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    object["type"] as? String == "result"
                else { return nil }
                return object
            }.last, "no result line in the log:\n\(raw)")
        let reported = try #require((result["total_cost_usd"] as? NSNumber)?.doubleValue)
        let usage = try #require(job.usage, "no usage recorded")
        #expect(usage.costUSD == reported)
        #expect(usage.reported)
        #expect(reported > 0)
        #expect(usage.inputTokens == 1200 + 300 + 150)
        #expect(usage.outputTokens == 80 + 40 + 25)
        #expect(usage.cacheReadTokens == 1700 + 2000)
        #expect(usage.cacheWriteTokens == 500)

        // Later turns used what earlier tools returned.
        var file = ""
        try waitUntil("the direction to land completed") {
            file = try daemon.git("show", "main:research_directions/scripted-cost.md").output
            return file.contains("completed")
        }
        #expect(file.contains("The daemon answered: declared scripted-cost on branch exp/scripted-cost"), "\(file)")

        let logs = try daemon.ctl("logs", "1").stdout
        #expect(logs.contains("  → Bash: mlagentctl direction declare scripted-cost"), "\(logs)")
        #expect(logs.contains("  ← declared scripted-cost on branch exp/scripted-cost"), "\(logs)")
        #expect(logs.contains("● result: success"), "\(logs)")
        #expect(logs.contains(USD.format(reported) + " (reported by the CLI)"), "\(logs)")
        let show = try daemon.ctl("show", "1").stdout
        #expect(show.contains("cost       \(USD.format(reported)) (in 1,650, out 145, cache read 3,700, cache write 500 tokens)"), "\(show)")
        #expect(try daemon.terminate() == 0)
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Tokens and cost read from an agent's stream-json as it runs: a per-job cap and the session
/// cap each stop work with `cost_cap`, and `logs` renders what the agent printed.
@Suite("cost caps and readable logs", .serialized)
struct CostCapTests {
    /// An agent printing Claude Code stream-json turns of 100,000 input and 10,000 output tokens
    /// ($0.45 a turn at Sonnet prices), one every 0.3 s, each with a Bash call and its result.
    static let spender = #"""
        mlagentctl direction declare "spend-$MLAGENT_JOB_ID" --rationale "spends tokens" > /dev/null
        trap 'echo "stopped" >&2; exit 143' TERM
        printf '%s\n' '{"type":"system","subtype":"init","cwd":"/w","session_id":"s","tools":["Bash"],"model":"claude-sonnet-4-5"}'
        i=1
        while [ $i -le 200 ]; do
          printf '{"type":"assistant","message":{"id":"msg_%03d","role":"assistant","content":[{"type":"text","text":"Turn %d: trying a deeper model."}],"usage":{"input_tokens":100000,"output_tokens":10000,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}\n' $i $i
          printf '{"type":"assistant","message":{"id":"msg_%03d","role":"assistant","content":[{"type":"tool_use","id":"toolu_%d","name":"Bash","input":{"command":"python train.py --depth %d"}}],"usage":{"input_tokens":100000,"output_tokens":10000,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}\n' $i $i $i
          printf '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%d","content":"val_auc=0.8%02d\\nsaved model"}]}}\n' $i $i
          i=$((i + 1))
          sleep 0.3
        done
        """#

    func makeDaemon(_ label: String, scheduler: String, agent: String) throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            agents_dir = "@DIR@/agents"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            max_attempts = 1
            \(scheduler)
            [agents.spender]
            command = ["sh", "{agents_dir}/spender.sh"]
            usage = "claude-stream-json"
            price_per_mtok = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }
            \(agent)
            """
        let daemon = try TestDaemon(label: label, config: config)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_private_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n")
        try daemon.write("data/val_private_y.csv", "target\n1\n0\n")
        try daemon.write("agents/spender.sh", Self.spender)
        return daemon
    }

    @Test("max_cost_usd stops the job with cost_cap; its direction lands; status, show and logs tell the cost")
    func jobCap() throws {
        let daemon = try makeDaemon("jobcap", scheduler: "", agent: "max_cost_usd = 1.0")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "spender"))
        try waitUntil("the job to end", timeout: .seconds(60)) { try client.show(id: 1).state.isFinal }
        let job = try client.show(id: 1)
        #expect(job.state == .cancelled)
        #expect(job.reason?.hasPrefix("cost_cap: job 1 cost $") == true, "\(job.reason ?? "")")
        #expect(job.reason?.contains("[agents.spender] max_cost_usd is $1.00") == true, "\(job.reason ?? "")")
        let usage = try #require(job.usage)
        // Three turns reach $1.35: stopped at the third, well before the 200th.
        #expect(usage.costUSD >= 1.0 && usage.costUSD < 3, "\(usage)")
        #expect(usage.inputTokens == Int64(usage.costUSD / 0.45 + 0.5) * 100_000, "\(usage)")
        #expect(!usage.reported)
        let hits = try client.events(since: 0, job: 1).events.filter { $0.kind == EventKind.limitHit }
        #expect(hits.count == 1)
        #expect(hits.first?.data["limit"] == "max_cost_usd")
        #expect(hits.first?.data["reason"] == "cost_cap")

        // The direction lands with what it has.
        try waitUntil("the final landing") {
            try daemon.git("show", "main:research_directions/spend-1.md").output.contains("abandoned")
        }
        let status = try daemon.ctl("status")
        #expect(status.stdout.contains("cost     $1."), "\(status.stdout)")
        let show = try daemon.ctl("show", "1")
        #expect(show.stdout.contains("cost       $1."), "\(show.stdout)")
        #expect(show.stdout.contains("in 300,000, out 30,000"), "\(show.stdout)")
        let leaderboard = try daemon.ctl("leaderboard")
        #expect(leaderboard.stdout.contains("COST"), "\(leaderboard.stdout)")

        // logs: readable turns, tool calls with their command, results cut short, running cost.
        let logs = try daemon.ctl("logs", "1")
        #expect(logs.status == 0, "\(logs.stderr)")
        #expect(logs.stdout.contains("● session started: model claude-sonnet-4-5"), "\(logs.stdout)")
        #expect(logs.stdout.contains("── turn 1 · 110,000 tokens · $0.45"), "\(logs.stdout)")
        #expect(logs.stdout.contains("── turn 2 · 220,000 tokens · $0.90"), "\(logs.stdout)")
        #expect(logs.stdout.contains("  → Bash: python train.py --depth 1"), "\(logs.stdout)")
        #expect(logs.stdout.contains("  ← val_auc=0.801 ⏎ saved model"), "\(logs.stdout)")
        #expect(logs.stdout.contains("stopped"), "stderr lines print as they are: \(logs.stdout)")
        #expect(!logs.stdout.contains("\"type\":\"assistant\""), "\(logs.stdout)")
        let raw = try daemon.ctl("logs", "1", "--raw")
        #expect(raw.stdout.contains(#"{"type":"assistant","message":{"id":"msg_001""#), "\(raw.stdout)")
        #expect(try daemon.terminate() == 0)
    }

    @Test("max_session_cost_usd stops running work with cost_cap and starts no new job")
    func sessionCap() throws {
        let daemon = try makeDaemon("sescap", scheduler: "max_agents = 1\nmax_session_cost_usd = 0.8", agent: "")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "spender"))
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "spender"))
        try waitUntil("the first job to end", timeout: .seconds(60)) { try client.show(id: 1).state.isFinal }
        let first = try client.show(id: 1)
        #expect(first.state == .cancelled)
        #expect(first.reason?.hasPrefix("cost_cap: the session cost $") == true, "\(first.reason ?? "")")
        #expect(first.reason?.contains("[scheduler] max_session_cost_usd is $0.80") == true, "\(first.reason ?? "")")
        let hits = try client.events(since: 0, job: 1).events.filter { $0.kind == EventKind.limitHit }
        #expect(hits.first?.data["limit"] == "max_session_cost_usd")
        // The second job never starts.
        Thread.sleep(forTimeInterval: 2)
        #expect(try client.show(id: 2).state == .queued)
        let report = try client.usageReport()
        #expect(report.sessionCapReached)
        #expect(report.maxSessionCostUSD == 0.8)
        #expect(report.session.costUSD >= 0.8)
        #expect(report.jobs.map(\.jobID) == [1])
        let summary = try daemon.ctl("summary")
        #expect(summary.stdout.contains("Cost: $"), "\(summary.stdout)")
        #expect(summary.stdout.contains("session cap $0.80 reached"), "\(summary.stdout)")
        #expect(try daemon.terminate() == 0)
    }
}

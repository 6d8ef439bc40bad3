import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The Cost section of a direction file on `main` shows the job's final figures. Claude Code
/// prints its last turn and its `result` line (`total_cost_usd`) when the session ends, after
/// the agent called `direction finish`, which is when the file landed: once the job's usage is
/// final, the file lands again ("<direction>: final cost") when it shows other figures, and
/// only then; the intent is in SQLite, so a daemon killed in between lands it at its next start.
@Suite("final cost on main", .serialized)
struct FinalCostTests {
    /// Claude Code stream-json as a shell prints it: `turn ID TEXT INPUT OUTPUT`, `result COST
    /// INPUT OUTPUT`.
    static let streamJSON = #"""
        turn() {
          printf '{"type":"assistant","message":{"id":"%s","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"%s"}],"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d}},"session_id":"s1"}\n' "$1" "$2" "$3" "$4"
        }
        result() {
          printf '{"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"Done.","session_id":"s1","total_cost_usd":%s,"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d}}\n' "$1" "$2" "$3"
        }
        printf '{"type":"system","subtype":"init","cwd":"%s","session_id":"s1","tools":["Bash"],"model":"claude-sonnet-4-5"}\n' "$PWD"
        echo "The CLI's own figure comes last." > learnings.md

        """#

    /// Finishes its direction, waits for `ctl/release-late`, then prints its last turn and
    /// the result, as Claude Code does.
    static let late = streamJSON + #"""
        turn msg_1 "Reading the knowledge base." 1200 5
        turn msg_2 "Finishing the direction." 1450 6
        mlagentctl direction finish --learnings learnings.md > /dev/null
        while [ ! -e @DIR@/ctl/release-late ]; do sleep 0.05; done
        turn msg_3 "The direction is finished." 280 1039
        result 0.0425 2930 1050
        """#

    /// Prints its whole session first and finishes once the test has seen the daemon record it.
    static let settled = streamJSON + #"""
        turn msg_1 "Reading the knowledge base." 900 40
        result 0.0311 900 400
        while [ ! -e @DIR@/ctl/release-settled ]; do sleep 0.05; done
        mlagentctl direction finish --learnings learnings.md > /dev/null
        """#

    /// Never finishes its direction: the job fails, and its direction lands failed.
    static let quitter = streamJSON + #"""
        turn msg_1 "Reading the knowledge base." 700 10
        turn msg_2 "Giving up." 760 900
        result 0.0187 1460 910
        exit 3
        """#

    func makeDaemon(_ label: String) throws -> TestDaemon {
        var config = """
            [daemon]
            data_dir = "@DIR@/data"
            agents_dir = "@DIR@/agents"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            max_attempts = 1
            max_agents = 3
            """
        for name in ["late", "settled", "quitter"] {
            config += """

                [agents.\(name)]
                command = ["sh", "{agents_dir}/\(name).sh"]
                usage = "claude-stream-json"
                price_per_mtok = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }
                """
        }
        let daemon = try TestDaemon(label: label, config: config)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_private_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n")
        try daemon.write("data/val_private_y.csv", "target\n1\n0\n")
        try daemon.write("agents/late.sh", Self.late)
        try daemon.write("agents/settled.sh", Self.settled)
        try daemon.write("agents/quitter.sh", Self.quitter)
        return daemon
    }

    func file(_ daemon: TestDaemon, _ direction: String) throws -> String {
        try daemon.git("show", "main:research_directions/\(direction).md").output
    }

    /// The subjects of main's commits that touched the direction's file, newest first.
    func history(_ daemon: TestDaemon, _ direction: String) throws -> [String] {
        try daemon.git("log", "--format=%s", "main", "--", "research_directions/\(direction).md").output
            .split(separator: "\n").map(String.init)
    }

    static func costLines(_ cost: String, input: String, output: String) -> [String] {
        ["- Cost: \(cost) (as reported by the agent's CLI)", "- Tokens: \(input) input, \(output) output, 0 cache read, 0 cache write"]
    }

    @Test("the CLI's result after direction finish lands as a final-cost commit; a file already final or a failed direction lands once")
    func finalCost() throws {
        let daemon = try makeDaemon("fcost")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "late-result", agent: "late"))
        _ = try client.enqueue(EnqueueParams(direction: "early-result", agent: "settled"))
        _ = try client.enqueue(EnqueueParams(direction: "no-finish", agent: "quitter"))

        // Finished, and landed with what was known then; the CLI is still at work.
        try waitUntil("late-result to land completed") { try file(daemon, "late-result").contains("- Status: completed") }
        let early = try file(daemon, "late-result")
        #expect(!early.contains("$0.0425"), "\(early)")
        #expect(try client.show(id: 1).state == .running)
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-late"), contents: Data())
        try waitUntil("job 1 to settle") { try client.show(id: 1).isSettled }
        // The final-cost landing comes before the archive: on main once the job is settled.
        let final = try file(daemon, "late-result")
        for line in Self.costLines("$0.0425", input: "2,930", output: "1,050") {
            #expect(final.contains(line + "\n"), "\(final)")
        }
        #expect(final.contains("- Status: completed") && final.contains("The CLI's own figure comes last."), "\(final)")
        #expect(try history(daemon, "late-result") == ["late-result: final cost", "late-result: completed", "late-result: in_progress"])
        let usage = try #require(try client.show(id: 1).usage)
        #expect(usage.costUSD == 0.0425 && usage.reported && usage.inputTokens == 2930 && usage.outputTokens == 1050)

        // The session's figures were recorded before it finished: the final file had them, and
        // nothing lands again.
        try waitUntil("job 2's usage recorded") { try client.show(id: 2).usage?.costUSD == 0.0311 }
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-settled"), contents: Data())
        try waitUntil("job 2 to settle") { try client.show(id: 2).isSettled }
        let settled = try file(daemon, "early-result")
        for line in Self.costLines("$0.0311", input: "900", output: "400") { #expect(settled.contains(line + "\n"), "\(settled)") }
        #expect(try history(daemon, "early-result") == ["early-result: completed", "early-result: in_progress"])

        // A direction its agent never finished lands failed after the agent ended, with the
        // final figures at once.
        try waitUntil("job 3 to settle") { try client.show(id: 3).isSettled }
        #expect(try client.show(id: 3).state == .failed)
        let failed = try file(daemon, "no-finish")
        #expect(failed.contains("- Status: failed"), "\(failed)")
        for line in Self.costLines("$0.0187", input: "1,460", output: "910") { #expect(failed.contains(line + "\n"), "\(failed)") }
        #expect(try history(daemon, "no-finish") == ["no-finish: failed", "no-finish: in_progress"])

        // Every landing is one commit with its intent, and one event each.
        let trailers = try daemon.git("log", "main", "--format=%(trailers:key=Mlagent-Intent,valueonly)").output
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let landed = try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.directionLanded }
            .compactMap { event -> String? in if case .int(let id)? = event.data["intent"] { String(id) } else { nil } }
        #expect(trailers.count == Set(trailers).count && landed.count == Set(landed).count)
        #expect(Set(trailers) == Set(landed), "\(trailers) \(landed)")
        #expect(try daemon.terminate() == 0)
    }

    @Test("a daemon killed after the job ended and before its final-cost landing lands it at its next start")
    func finalCostAfterRestart() throws {
        let daemon = try makeDaemon("fcrst")
        try daemon.start(launching: true)
        var client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "late-result", agent: "late"))
        try waitUntil("late-result to land completed") { try file(daemon, "late-result").contains("- Status: completed") }
        // Hold main's ref lock: no landing can happen until the daemon is gone.
        let lock = daemon.workspace + "/.git/refs/heads/main.lock"
        #expect(FileManager.default.createFile(atPath: lock, contents: Data()))
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-late"), contents: Data())
        try waitUntil("job 1 to end") { try client.show(id: 1).state.isFinal }
        #expect(try client.show(id: 1).usage?.costUSD == 0.0425)
        daemon.kill9()
        #expect(!(try file(daemon, "late-result").contains("$0.0425")))
        try FileManager.default.removeItem(atPath: lock)

        try daemon.start(launching: true)
        client = try daemon.client()
        try waitUntil("the final cost on main") { try file(daemon, "late-result").contains("- Cost: $0.0425 ") }
        let final = try file(daemon, "late-result")
        for line in Self.costLines("$0.0425", input: "2,930", output: "1,050") { #expect(final.contains(line + "\n"), "\(final)") }
        try waitUntil("job 1 to settle") { try client.show(id: 1).isSettled }
        #expect(try history(daemon, "late-result") == ["late-result: final cost", "late-result: completed", "late-result: in_progress"])
        #expect(try daemon.terminate() == 0)
    }
}

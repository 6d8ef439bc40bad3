import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Limits one agent cannot exhaust, tried by a hostile agent while others work.
@Suite("limits one agent cannot exhaust", .serialized)
struct LimitsTests {
    @Test("an agent that opens connections until refused: refused at its cap, while status answers at once and another agent completes")
    func connectionFlood() throws {
        let daemon = try TestDaemon(label: "flood", config: """
            [daemon]
            data_dir = "@DIR@/data"
            max_connections_per_agent = 20
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "flood"
            max_attempts = 1
            [agents.flood]
            command = ["sh", "@DIR@/agents/flood.sh"]
            [agents.worker]
            command = ["sh", "@DIR@/agents/worker.sh"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        // Opens connections until one is refused, holds them all until released, then finishes.
        try daemon.write("agents/flood.py", """
            import json, os, socket, sys, time
            held, refusal = [], None
            for attempt in range(2000):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(os.environ["MLAGENT_SOCKET"])
                first = json.loads(s.makefile().readline())
                if "error" in first:
                    refusal = first["error"]["data"]["kind"] + ": " + first["error"]["message"]
                    s.close()
                    break
                held.append(s)
            with open("flood-report.tmp", "w") as report:
                report.write("%d\\n%s\\n" % (len(held), refusal))
            os.replace("flood-report.tmp", "flood-report.txt")
            while not os.path.exists("@DIR@/release"):
                time.sleep(0.05)
            """)
        try daemon.write("agents/flood.sh", """
            set -e
            mlagentctl direction declare flood --rationale "takes every connection it can"
            python3 @DIR@/agents/flood.py
            cp flood-report.txt @DIR@/flood-report.txt 2>/dev/null || true
            echo "Held connections." > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.write("agents/worker.sh", """
            set -e
            mlagentctl direction declare steady --rationale "works while another agent floods"
            for i in 1 2 3 4 5; do mlagentctl leaderboard > /dev/null; done
            echo "Fine." > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.start()
        let client = try daemon.client()
        let flood = try client.enqueue(EnqueueParams(direction: ""))
        _ = try client.resume()
        let reportPath = try waitForWorktreeFile(client, job: flood.id, name: "flood-report.txt")
        let report = try String(contentsOfFile: reportPath, encoding: .utf8).split(separator: "\n")
        #expect(report.first == "20", "connections held before the refusal: \(report)")
        #expect(report.dropFirst().first?.hasPrefix("too_many_connections: this agent already holds 20 connections") == true, "\(report)")

        // While the flood holds its connections, the operator is served at once...
        for _ in 0..<5 {
            let started = ContinuousClock.now
            let status = try daemon.ctl("status")
            #expect(status.status == 0, "\(status.stderr)")
            #expect(ContinuousClock.now - started < .seconds(1), "status took \(ContinuousClock.now - started)")
        }
        // ...and another agent completes its direction.
        let worker = try client.enqueue(EnqueueParams(direction: "", agent: "worker"))
        try waitUntil("the worker to complete", timeout: .seconds(60)) { try client.show(id: worker.id).state.isFinal }
        let ended = try client.show(id: worker.id)
        #expect(ended.state == .completed, "\(ended.reason ?? "")")
        let hits = try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.limitHit }
        #expect(hits.count == 1, "one event per minute and peer: \(hits.map(\.message))")
        #expect(hits.first?.jobID == flood.id, "\(hits.map(\.message))")

        _ = FileManager.default.createFile(atPath: daemon.dir.file("release"), contents: Data())
        try waitUntil("the flood to finish", timeout: .seconds(60)) { try client.show(id: flood.id).state.isFinal }
        #expect(try client.show(id: flood.id).state == .completed)
        #expect(try daemon.terminate() == 0)
    }

    /// The path of a file once the job's agent wrote it into its worktree.
    func waitForWorktreeFile(_ client: Client, job: Int64, name: String) throws -> String {
        var found = ""
        try waitUntil("\(name) in job \(job)'s worktree", timeout: .seconds(60)) {
            guard let worktree = try client.show(id: job).worktree else { return false }
            found = worktree + "/" + name
            return FileManager.default.fileExists(atPath: found)
        }
        return found
    }
}

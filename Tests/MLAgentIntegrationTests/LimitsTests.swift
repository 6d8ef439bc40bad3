import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Limits one agent cannot exhaust, tried by a hostile agent while others work.
@Suite("limits one agent cannot exhaust", .serialized)
struct LimitsTests {
    @Test(
        "an agent that opens connections until refused: refused at its cap, while status answers at once and another agent completes",
        arguments: [DaemonUser.root, .unprivileged])
    func connectionFlood(user: DaemonUser) throws {
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
            while not os.path.exists("@DIR@/ctl/release"):
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
        try daemon.start(as: user)
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
        #expect(hits.first?.data["limit"] == "max_connections_per_agent", "\(hits.map(\.data))")

        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("the flood to finish", timeout: .seconds(60)) { try client.show(id: flood.id).state.isFinal }
        #expect(try client.show(id: flood.id).state == .completed)
        #expect(try daemon.terminate() == 0)
    }

    @Test(
        "artifact totals per job, per direction and for the store refuse the next upload; status shows usage; main keeps its own cap",
        arguments: [DaemonUser.root, .unprivileged])
    func artifactTotals(user: DaemonUser) throws {
        let daemon = try TestDaemon(label: "quota", config: """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "uploader"
            max_attempts = 1
            [agents.uploader]
            command = ["sh", "@DIR@/agents/uploader.sh"]
            [evaluation]
            max_job_artifact_bytes = 2500
            max_direction_artifact_bytes = 3500
            max_store_artifact_bytes = 4200
            land_direction_artifact_bytes = 1500
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        // Job 1: f1 in a first run; f2, f3 and a two-file directory in a second. Job 2: g1, g2, g3.
        try daemon.write("agents/uploader.sh", """
            set -e
            mlagentctl direction declare "quota-$MLAGENT_JOB_ID" --rationale "uploads until a total says no"
            if [ "$MLAGENT_JOB_ID" = 1 ]; then FIRST="f1:1000"; REST="f2:1000 f3:1000 d:600"; else FIRST="g1:1000"; REST="g2:1000 g3:300"; fi
            upload() {
              run=$1; name=${2%%:*}; size=${2##*:}
              if [ "$name" = d ]; then mkdir -p d && head -c "$size" /dev/zero > d/a && head -c "$size" /dev/zero > d/b
              else head -c "$size" /dev/zero > "$name"; fi
              if out=$(mlagentctl run artifact "$run" "$name" --as "$name" 2>&1); then echo "$name ok" >> report.txt
              else echo "$name refused $out" >> report.txt; fi
            }
            R1=$(mlagentctl run start --name first --rationale "one artifact")
            upload "$R1" "$FIRST"
            mlagentctl run end "$R1" --analysis "stored"
            R2=$(mlagentctl run start --name rest --rationale "the rest")
            for item in $REST; do upload "$R2" "$item"; done
            mlagentctl run end "$R2" --analysis "stored what fit"
            echo "Totals hold." > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.start(as: user)
        let client = try daemon.client()
        let first = try client.enqueue(EnqueueParams(direction: ""))
        _ = try client.resume()
        try waitUntil("job 1 to settle", timeout: .seconds(60)) { try client.show(id: first.id).isSettled }
        let second = try client.enqueue(EnqueueParams(direction: ""))
        try waitUntil("job 2 to settle", timeout: .seconds(60)) { try client.show(id: second.id).isSettled }
        // Each agent's report is in its archive on exp/<direction>.
        let one = try daemon.git("show", "exp/quota-1:report.txt").output.split(separator: "\n")
        #expect(one.count == 4, "\(one)")
        #expect(one[0] == "f1 ok" && one[1] == "f2 ok", "\(one)")
        #expect(one[2].hasPrefix("f3 refused") && one[2].contains("the job's artifact total of 2500 bytes"), "\(one)")
        #expect(one[3].hasPrefix("d refused") && one[3].contains("the job's artifact total"), "\(one)")
        let two = try daemon.git("show", "exp/quota-2:report.txt").output.split(separator: "\n")
        #expect(two.count == 3 && two[0] == "g1 ok" && two[1] == "g2 ok", "\(two)")
        #expect(two[2].hasPrefix("g3 refused") && two[2].contains("the artifact store's artifact total of 4200 bytes"), "\(two)")
        // Nothing of a refused upload stays in the store, and status reports what does.
        let status = try client.status()
        #expect(status.artifacts?.bytes == 4000 && status.artifacts?.files == 4, "\(String(describing: status.artifacts))")
        let text = try daemon.ctl("status").stdout
        #expect(text.contains("artifacts 4000 bytes in 4 files"), "\(text)")
        let hits = try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.limitHit }
        #expect(hits.count == 3 && Set(hits.compactMap(\.jobID)) == [first.id, second.id], "\(hits.map(\.message))")
        let keys = Set(hits.compactMap { hit -> String? in if case .string(let key)? = hit.data["limit"] { key } else { nil } })
        #expect(keys.isSubset(of: ["max_job_artifact_bytes", "max_job_artifact_files", "max_store_artifact_bytes",
                                   "max_store_artifact_files", "max_direction_artifact_bytes", "max_direction_artifact_files"]) && !keys.isEmpty,
                "\(keys)")
        // main: the first run's 1000 bytes land, the second run's would pass the direction's 1500.
        let runs = try client.runs(direction: "quota-1").sorted { $0.id < $1.id }
        let tree = try daemon.git("ls-tree", "-r", "--name-only", "main").output
        #expect(tree.contains("mlruns/quota-1/\(runs[0].id)/artifacts/f1"), "\(tree)")
        #expect(!tree.contains("mlruns/quota-1/\(runs[1].id)/artifacts/"), "\(tree)")
        #expect(tree.contains("mlruns/quota-1/\(runs[1].id)/run.json"))
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

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Agents that take processes or memory without bound are stopped at their profile's limits,
/// naming the limit, while another agent completes; processes left behind end with their job;
/// `show` reports what each agent used.
@Suite("agent resource limits", .serialized)
struct ResourceLimitTests {
    func makeDaemon(_ label: String) throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "worker"
            kill_grace = "1s"
            max_attempts = 1
            max_agents = 3
            [agents.worker]
            command = ["sh", "@DIR@/agents/worker.sh"]
            timeout = "2m"
            [agents.forkbomb]
            command = ["sh", "@DIR@/agents/forkbomb.sh"]
            timeout = "2m"
            max_processes = 64
            [agents.hog]
            command = ["sh", "@DIR@/agents/hog.sh"]
            timeout = "2m"
            max_memory = "96M"
            cpu_weight = 50
            [agents.leaver]
            command = ["sh", "@DIR@/agents/leaver.sh"]
            timeout = "2m"
            """
        let daemon = try TestDaemon(label: label, config: config)
        try daemon.write("data/train.csv", "f00,f01,target\n0.1,0.2,0\n0.3,0.4,1\n")
        try daemon.write("data/val_public_X.csv", "f00,f01\n0.5,0.6\n0.1,0.2\n")
        try daemon.write("data/val_private_X.csv", "f00,f01\n0.7,0.8\n0.3,0.4\n")
        try daemon.write("data/val_public_y.csv", "target\n1\n0\n")
        try daemon.write("data/val_private_y.csv", "target\n0\n1\n")
        // Waits until the hostile agents have been stopped, so it runs alongside them.
        try daemon.write(
            "agents/worker.sh",
            """
            set -e
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.05; done
            python3 -c 'b = bytearray(32 << 20); print(len(b))' > notes.txt
            i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done
            echo "it worked" > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.write(
            "agents/forkbomb.sh",
            """
            for i in $(seq 5000); do sleep 60 & done
            wait
            """)
        try daemon.write(
            "agents/hog.sh",
            """
            python3 -c '
            chunks = []
            while True:
                chunks.append(bytearray(8 << 20))
            '
            sleep 60
            """)
        try daemon.write(
            "agents/leaver.sh",
            """
            set -e
            setsid sleep 600 < /dev/null > /dev/null 2>&1 &
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.05; done
            echo none > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        return daemon
    }

    func job(_ client: Client, _ id: Int64) throws -> Job? {
        try client.list().first { $0.id == id }
    }

    func limitHits(_ client: Client, job: Int64) throws -> [String] {
        try client.events(job: job).events.filter { $0.kind == EventKind.limitHit }.compactMap {
            if case .string(let limit)? = $0.data["limit"] { return limit }
            return nil
        }
    }

    @Test("a fork bomb and a memory hog are stopped at their limits, named, while another agent completes")
    func forkBombAndMemoryHog() throws {
        let daemon = try makeDaemon("rlim")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "fork-bomb", agent: "forkbomb"))
        _ = try client.enqueue(EnqueueParams(direction: "memory-hog", agent: "hog"))
        _ = try client.enqueue(EnqueueParams(direction: "honest"))
        let cgroups = daemon.log.contains("agents run in their own cgroups")
        #expect(cgroups || getuid() != 0, "a root daemon has cgroups here: \(daemon.log.suffix(2000))")
        try #require(cgroups, "no cgroup: limits fall back to rlimits")

        try waitUntil("the fork bomb stopped", timeout: .seconds(30)) { try job(client, 1)?.state.isFinal == true }
        try waitUntil("the memory hog stopped", timeout: .seconds(30)) { try job(client, 2)?.state.isFinal == true }
        #expect(try job(client, 3)?.state == .running, "the honest agent runs on")
        let bomb = try #require(try job(client, 1))
        #expect(bomb.reason?.contains("max_processes = 64") == true, "\(bomb.reason ?? "")")
        #expect(try limitHits(client, job: 1).contains("max_processes"))
        let hog = try #require(try job(client, 2))
        #expect(hog.reason?.contains("max_memory = 96M") == true, "\(hog.reason ?? "")")
        #expect(try limitHits(client, job: 2).contains("max_memory"))
        #expect(try limitHits(client, job: 3).isEmpty)
        // Nothing of the fork bomb is left (thousands of killed processes take a moment to be reaped).
        try waitUntil("the fork bomb's processes to be gone", timeout: .seconds(15)) {
            HostileAgentTests.processes(named: ["sleep", "60"]).isEmpty
        }

        // The OOM killer takes agents before the daemon: every process of the agent has 500.
        let honestPids = HostileAgentTests.processes(carrying: "MLAGENT_JOB_ID=3", stateDir: daemon.stateDir)
        #expect(!honestPids.isEmpty)
        // A short-lived child (the agent's `sleep`) may be gone by the time it is read: only the
        // scores still readable count, and at least one must be.
        let scores = honestPids.compactMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/oom_score_adj", encoding: .utf8)).map { (pid, $0) }
        }
        #expect(!scores.isEmpty)
        for (pid, score) in scores {
            #expect(score.trimmingCharacters(in: .whitespacesAndNewlines) == "500", "pid \(pid): \(score)")
        }
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("the honest agent completed", timeout: .seconds(30)) { try job(client, 3)?.state == .completed }
        let honest = try #require(try client.show(id: 3).resources)
        #expect(honest.enforcement.hasPrefix("cgroup"))
        #expect((honest.peakMemoryBytes ?? 0) >= 32 << 20, "\(honest)")
        #expect((honest.cpuUsec ?? 0) > 0, "\(honest)")
        #expect((honest.peakProcesses ?? 0) >= 2, "\(honest)")
        let bombUsage = try #require(try client.show(id: 1).resources)
        #expect(bombUsage.peakProcesses.map { $0 <= 64 && $0 >= 60 } ?? true, "\(bombUsage)")
        let hogUsage = try #require(try client.show(id: 2).resources)
        #expect((hogUsage.peakMemoryBytes ?? 0) <= 96 << 20 && (hogUsage.peakMemoryBytes ?? 0) >= 64 << 20, "\(hogUsage)")
        let shown = try daemon.ctl("show", "3")
        #expect(shown.stdout.contains("memory     peak"), "\(shown.stdout)")
        #expect(shown.stdout.contains("processes  "), "\(shown.stdout)")
        #expect(shown.stdout.contains("cpu        "), "\(shown.stdout)")
        #expect(try daemon.terminate() == 0)
    }

    @Test("a daemon run as an unprivileged user, without cgroups: rlimits stop a fork bomb and the job says what is not enforced")
    func unprivilegedFallback() throws {
        let daemon = try makeDaemon("rlun")
        try daemon.start(as: .unprivileged, launching: true)
        // nobody may write no cgroup on this machine; where it may, the limits are cgroups'.
        guard daemon.log.contains("agents' limits fall back to rlimits") else { return }
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "fork-bomb", agent: "forkbomb"))
        try waitUntil("the fork bomb ended", timeout: .seconds(30)) { try job(client, 1)?.state.isFinal == true }
        #expect(try job(client, 1)?.state != .completed)
        let notices = try client.events(job: 1).events.filter { $0.kind == EventKind.agentLimits }
        #expect(notices.first?.message.contains("not enforced") == true, "\(notices)")
        #expect(try client.show(id: 1).resources?.enforcement == "rlimits")
        try waitUntil("nothing of the fork bomb left", timeout: .seconds(5)) {
            HostileAgentTests.processes(named: ["sleep", "60"]).isEmpty
        }
    }

    @Test("a process an agent left behind is gone within a second of its job's end", arguments: [DaemonUser.root, .unprivileged])
    func leftBehind(user: DaemonUser) throws {
        let daemon = try makeDaemon("rlft")
        try daemon.start(as: user, launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "leaver", agent: "leaver"))
        try waitUntil("the process left behind running", timeout: .seconds(30)) {
            !HostileAgentTests.processes(named: ["sleep", "600"]).isEmpty
        }
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("the leaver completed", timeout: .seconds(30)) { try job(client, 1)?.state == .completed }
        let ended = ContinuousClock.now
        try waitUntil("the process left behind gone", timeout: .seconds(1)) {
            HostileAgentTests.processes(named: ["sleep", "600"]).isEmpty
        }
        #expect(ContinuousClock.now - ended < .seconds(1))
        #expect(try daemon.terminate() == 0)
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The scheduler, sandbox and merge actor, driven through fake agents: small shell scripts
/// that speak the protocol with `mlagentctl`, as a coding agent would.
@Suite("agents, worktrees and the merge actor", .serialized)
struct AgentTests {
    static let targetMarker = "TARGET-MARKER-7f3a"

    /// A daemon with a small dataset and the fake agent profiles below.
    func makeDaemon(_ label: String, scheduler: String = "", timeout: String = "5m", daemon extra: String = "") throws
        -> TestDaemon
    {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            \(extra)
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "worker"
            kill_grace = "2s"
            \(scheduler)
            [agents.worker]
            command = ["sh", "@DIR@/agents/worker.sh"]
            timeout = "\(timeout)"
            [agents.sleeper]
            command = ["sh", "@DIR@/agents/sleeper.sh"]
            timeout = "\(timeout)"
            [agents.crasher]
            command = ["sh", "@DIR@/agents/crasher.sh"]
            [agents.snoop]
            command = ["sh", "@DIR@/agents/snoop.sh"]
            """
        let daemon = try TestDaemon(label: label, config: config)
        try daemon.write("data/train.csv", "f00,f01,target\n0.1,0.2,0\n0.3,0.4,1\n")
        try daemon.write("data/val_public_X.csv", "f00,f01\n0.5,0.6\n")
        try daemon.write("data/val_private_X.csv", "f00,f01\n0.7,0.8\n")
        // Targets the daemon can score (it refuses to start with any other), with the marker as
        // their header.
        try daemon.write("data/val_public_y.csv", "\(Self.targetMarker)\n1\n0\n")
        try daemon.write("data/val_private_y.csv", "\(Self.targetMarker)\n0\n1\n")
        // Declares when it has no direction, waits for @DIR@/ctl/release, then finishes.
        try daemon.write(
            "agents/worker.sh",
            """
            set -e
            echo "worker $MLAGENT_JOB_ID starting in $(pwd)"
            if [ -z "$MLAGENT_DIRECTION" ]; then
              mlagentctl direction declare "picked-$MLAGENT_JOB_ID" --rationale "chosen by the fake agent"
            fi
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.1; done
            echo "trained a model" > notes.txt
            printf 'It worked (run none).\\n' > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.write("agents/sleeper.sh", "sleep 600 &\nwait\n")
        try daemon.write("agents/crasher.sh", "echo 'loading data'\necho 'boom: out of memory'\nexit 3\n")
        try daemon.write(
            "agents/snoop.sh",
            """
            mlagentctl direction declare snooping --rationale "tries to read what it must not"
            if git -C @DIR@ show HEAD:data/val_public_y.csv >> loot.txt 2>/dev/null; then echo "READ git history" >> report.txt; else echo "DENIED git history" >> report.txt; fi
            for f in @DIR@/data/val_public_y.csv @DIR@/state/targets/val_public_y.csv @DIR@/state/mlagentd.sqlite3; do
              if cat "$f" >> loot.txt 2>/dev/null; then echo "READ $f" >> report.txt; else echo "DENIED $f" >> report.txt; fi
            done
            find / -name '*_y.csv' 2>/dev/null >> found.txt || true
            if touch @DIR@/escaped 2>/dev/null; then echo "WROTE outside" >> report.txt; else echo "DENIED write" >> report.txt; fi
            ls @DIR@/state >> report.txt 2>&1 || true
            echo "none" > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        return daemon
    }

    func states(_ client: Client) throws -> [Int64: JobState] {
        Dictionary(uniqueKeysWithValues: try client.list().map { ($0.id, $0.state) })
    }

    /// Commits on main after the initial one touch only research_directions/ and mlruns/,
    /// and the repository is consistent.
    func checkMain(_ daemon: TestDaemon) throws {
        let root = try daemon.git("rev-list", "--max-parents=0", "main").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let paths = try daemon.git("log", "\(root)..main", "--name-only", "--format=").output
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(!paths.isEmpty)
        for path in paths {
            #expect(path.hasPrefix("research_directions/") || path.hasPrefix("mlruns/"), "\(path) reached main")
        }
        let fsck = try daemon.git("fsck", "--no-progress")
        #expect(fsck.status == 0, "\(fsck.output)")
        let tracked = try daemon.git("ls-tree", "-r", "--name-only", "main").output
        #expect(!tracked.contains("_y.csv"))
    }

    @Test("three agents run at once from a queue of four; each lands its direction; worktrees are archived")
    func pool() throws {
        let daemon = try makeDaemon("pool")
        try daemon.start(launching: true)
        let client = try daemon.client()
        for name in ["alpha", "beta", "gamma"] {
            _ = try client.enqueue(EnqueueParams(direction: name))
        }
        _ = try client.explore(ExploreParams(count: 1))
        try waitUntil("three agents running and one queued") {
            let status = try client.status()
            let started = try client.list(state: .running).compactMap(\.pid).count
            return status.queue["running"] == 3 && status.queue["queued"] == 1 && started == 3
        }
        // Worktrees exist on their branches; the agent-picked one declared its name.
        try waitUntil("in_progress files on main") {
            try daemon.git("show", "main:research_directions/alpha.md").output.contains("Status: in_progress")
        }
        let running = try client.list(state: .running)
        #expect(running.count == 3)
        for job in running {
            let worktree = try #require(job.worktree)
            #expect(FileManager.default.fileExists(atPath: worktree + "/data/train.csv"))
            #expect(!FileManager.default.fileExists(atPath: worktree + "/data/val_public_y.csv"))
        }
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("all four jobs completed", timeout: .seconds(60)) {
            try states(client).values.allSatisfy { $0 == .completed } && states(client).count == 4
        }
        try waitUntil("final files landed and worktrees removed", timeout: .seconds(30)) {
            let pending = try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.jobArchived }.count
            return pending == 4
        }
        for name in ["alpha", "beta", "gamma", "picked-4"] {
            let file = try daemon.git("show", "main:research_directions/\(name).md").output
            #expect(file.contains("Status: completed"), "\(name): \(file)")
            #expect(file.contains("It worked"))
            // The agent's files are archived on its branch, never on main.
            #expect(try daemon.git("show", "exp/\(name):notes.txt").output.contains("trained a model"))
            #expect(try daemon.git("show", "main:notes.txt").status != 0)
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/worktrees")) ?? []).isEmpty)
        // The agent got the rendered prompt (archived with its work).
        let prompt = try daemon.git("show", "exp/alpha:.mlagent-prompt.md").output
        #expect(prompt.contains("Research job 1"))
        #expect(prompt.contains("Direction: alpha"))
        #expect(!prompt.contains("{job_id}") && !prompt.contains("{direction}"))
        let logs = try daemon.ctl("logs", "1")
        #expect(logs.stdout.contains("worker 1 starting"))
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("the sandbox hides targets, the database and other paths, and blocks writes outside the worktree")
    func sandbox() throws {
        let daemon = try makeDaemon("sbx")
        // The dataset sits in a git checkout whose history holds the targets (as the demo's
        // data/ does in this repository).
        for arguments in [["init", "-q"], ["add", "data"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "data"]] {
            let git = Process()
            git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            git.arguments = ["-C", daemon.dir.path] + arguments
            try git.run()
            git.waitUntilExit()
            #expect(git.terminationStatus == 0)
        }
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "snoop"))
        try waitUntil("the snooping job to end", timeout: .seconds(30)) {
            try states(client)[1] == .completed
        }
        try waitUntil("its worktree archived") {
            try daemon.git("show", "exp/snooping:report.txt").status == 0
        }
        let report = try daemon.git("show", "exp/snooping:report.txt").output
        #expect(!report.contains("READ "), "\(report)")
        #expect(report.contains("DENIED write"))
        #expect(report.contains("DENIED git history"), "\(report)")
        #expect(!FileManager.default.fileExists(atPath: daemon.dir.file("escaped")))
        let loot = try daemon.git("show", "exp/snooping:loot.txt")
        #expect(loot.status != 0 || !loot.output.contains(Self.targetMarker))
        let found = try daemon.git("show", "exp/snooping:found.txt").output
        // Copies elsewhere on the machine are not the daemon's; its own must be invisible.
        #expect(!found.contains(daemon.dir.path), "\(found)")
        // The daemon has the targets, privately.
        let targets = daemon.stateDir + "/targets/val_public_y.csv"
        #expect(FileManager.default.fileExists(atPath: targets))
        let mode = try FileManager.default.attributesOfItem(atPath: targets)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("cancel kills the whole process tree; the direction lands as abandoned")
    func cancel() throws {
        let daemon = try makeDaemon("cxl")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "sleepy", agent: "sleeper"))
        try waitUntil("the sleeper to run") { try client.show(id: 1).pid != nil }
        let pid = try #require(try client.show(id: 1).pid)
        // bwrap, its init, the shell and its child (the sandbox puts them in a session of their own).
        let agent = { HostileAgentTests.processes(carrying: "MLAGENT_JOB_ID=1", stateDir: daemon.stateDir) }
        try waitUntil("the sleeper's child") { agent().count >= 3 }
        let result = try daemon.ctl("cancel", "1", "--reason", "changed my mind")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try client.show(id: 1).state == .cancelled)
        try waitUntil("every process of the agent to be gone") { Self.groupMembers(pid).isEmpty && agent().isEmpty }
        try waitUntil("the abandoned direction on main") {
            try daemon.git("show", "main:research_directions/sleepy.md").output.contains("Status: abandoned")
        }
        let kinds = try client.events(since: 0, job: 1).events.map(\.kind)
        #expect(kinds.contains(EventKind.agentKilled))
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("an agent past its wall-clock budget is stopped and the job fails")
    func timeBudget() throws {
        let daemon = try makeDaemon("tmo", scheduler: "max_attempts = 1", timeout: "1s")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "slow", agent: "sleeper"))
        try waitUntil("the job to fail", timeout: .seconds(30)) { try states(client)[1] == .failed }
        let job = try client.show(id: 1)
        #expect(job.reason?.contains("wall-clock budget of 1s") == true, "\(job.reason ?? "")")
        #expect(try client.events(since: 0, job: 1).events.contains { $0.kind == EventKind.agentKilled })
        try waitUntil("the failed direction on main") {
            try daemon.git("show", "main:research_directions/slow.md").output.contains("Status: failed")
        }
        #expect(try daemon.terminate() == 0)
    }

    @Test("autonomy = auto keeps the pool busy with agent-picked directions up to max_directions; stop reports")
    func autonomy() throws {
        let daemon = try makeDaemon("auto", scheduler: "autonomy = \"auto\"\nmax_directions = 3\nmax_agents = 2")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try daemon.start(launching: true)
        let client = try daemon.client()
        try waitUntil("three autonomous directions completed", timeout: .seconds(60)) {
            try client.directions().filter { $0.status == "completed" }.count == 3
        }
        // The cap holds: nothing more is started.
        let jobs = try client.list()
        #expect(jobs.count == 3)
        #expect(jobs.allSatisfy { $0.direction.hasPrefix("picked-") })
        let report = try daemon.ctl("stop")
        #expect(report.status == 0)
        #expect(report.stdout.contains("3 directions (3 completed)"), "\(report.stdout)")
        #expect(try client.status().paused)
        #expect(try client.events(since: 0, limit: 10_000).events.contains { $0.kind == EventKind.sessionReport })
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("autonomy = ask reports after each direction and launches nothing autonomous until continue")
    func ask() throws {
        let daemon = try makeDaemon("ask", scheduler: "autonomy = \"ask\"\nmax_directions = 5\nmax_agents = 1")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try daemon.start(launching: true)
        let client = try daemon.client()
        try waitUntil("the first report", timeout: .seconds(30)) {
            try client.events(since: 0, limit: 10_000).events.contains { $0.kind == EventKind.sessionReport }
        }
        // Held: during the next second (five scheduler ticks) no second job appears.
        let clock = ContinuousClock()
        let end = clock.now + .seconds(1)
        while clock.now < end {
            #expect(try client.list().count == 1)
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(try daemon.ctl("continue").status == 0)
        try waitUntil("a second autonomous direction", timeout: .seconds(30)) {
            try client.directions().filter { $0.status == "completed" }.count >= 2
        }
        #expect(try daemon.terminate() == 0)
    }

    static func groupMembers(_ pgid: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields: state, ppid, pgrp
            guard fields.count > 2, fields[0] != "Z", Int32(fields[2]) == pgid else { return nil }
            return pid
        }
    }
}

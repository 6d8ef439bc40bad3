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

    @Test("main is pushed to push_remote after landings")
    func push() throws {
        let daemon = try makeDaemon("push", daemon: "push_remote = \"@DIR@/remote.git\"")
        let bare = Process()
        bare.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        bare.arguments = ["init", "--quiet", "--bare", daemon.dir.file("remote.git")]
        try bare.run()
        bare.waitUntilExit()
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "pushed"))
        try waitUntil("the direction completed", timeout: .seconds(30)) { try states(client)[1] == .completed }
        let local = try daemon.git("rev-parse", "main").output
        try waitUntil("the remote's main to match") {
            try daemon.git("--git-dir", daemon.dir.file("remote.git"), "rev-parse", "main").output == local
                && daemon.git("show", "main:research_directions/pushed.md").output.contains("Status: completed")
        }
        #expect(try daemon.terminate() == 0)
    }

    @Test("a workspace that tracks target files is refused with instructions; an unknown agent profile is refused")
    func refusals() throws {
        let daemon = try makeDaemon("refuse")
        let workspace = daemon.dir.file("tracked")
        try daemon.write("tracked/data/val_public_y.csv", "target\n1\n")
        for arguments in [["init", "--quiet", "-b", "main", workspace], ["-C", workspace, "add", "."],
                          ["-C", workspace, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "oops"]] {
            let git = Process()
            git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            git.arguments = arguments
            try git.run()
            git.waitUntilExit()
        }
        try daemon.write("mlagentd-tracked.toml", (try String(contentsOfFile: daemon.configPath!, encoding: .utf8))
            .replacingOccurrences(of: "[daemon]", with: "[daemon]\nworkspace = \"\(workspace)\""))
        daemon.configPath = daemon.dir.file("mlagentd-tracked.toml")
        try daemon.start(waitReady: false)
        try waitUntil("mlagentd to refuse the workspace") { daemon.process?.isRunning == false }
        #expect(daemon.process?.terminationStatus != 0)
        #expect(daemon.log.contains("tracks target files (data/val_public_y.csv)"), "\(daemon.log)")
        #expect(daemon.log.contains("Remove them from every commit"))

        let fresh = try makeDaemon("agentname")
        try fresh.start()
        let unknown = try fresh.ctl("enqueue", "x", "--agent", "nobody")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no agent profile \"nobody\""))
        #expect(try fresh.terminate() == 0)
    }

    @Test("an agent that makes no protocol call for stall_timeout is stopped")
    func stall() throws {
        let daemon = try makeDaemon("stall", scheduler: "max_attempts = 1\nstall_timeout = \"1s\"")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "quiet", agent: "sleeper"))
        try waitUntil("the job to fail", timeout: .seconds(30)) { try states(client)[1] == .failed }
        #expect(try client.show(id: 1).reason?.contains("no protocol call for 1s") == true)
        #expect(try client.events(since: 0, job: 1).events.contains { $0.kind == EventKind.agentStalled })
        #expect(try daemon.terminate() == 0)
    }

    @Test("an agent that crashes fails its job with the reason and its last log lines, after the retries")
    func crash() throws {
        let daemon = try makeDaemon("crash", scheduler: "max_attempts = 2")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "fragile", agent: "crasher"))
        try waitUntil("the job to fail", timeout: .seconds(30)) { try states(client)[1] == .failed }
        let job = try client.show(id: 1)
        #expect(job.attempts == 2)
        let reason = job.reason ?? ""
        #expect(reason.contains("exited with status 3 without finishing its direction"), "\(reason)")
        #expect(reason.contains("boom: out of memory"))
        let transitions = try client.events(since: 0, job: 1).events.filter { $0.kind == EventKind.jobState }
            .compactMap { event -> String? in
                if case .string(let to)? = event.data["to"] { to } else { nil }
            }
        #expect(transitions == ["running", "queued", "running", "failed"])
        try waitUntil("the failed direction on main") {
            try daemon.git("show", "main:research_directions/fragile.md").output.contains("Status: failed")
        }
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a direction name already used is refused, at enqueue and at declare")
    func duplicateNames() throws {
        let daemon = try makeDaemon("dup")
        try daemon.write(
            "agents/worker.sh",
            """
            mlagentctl direction declare taken --rationale "same name as the queued job" 2> declare.err
            echo "declare exit $?" >> declare.err
            mlagentctl direction declare fresh-name --rationale "a new name"
            echo ok > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.start(launching: false)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "taken", agent: "sleeper", priority: -5))
        let duplicate = try daemon.ctl("enqueue", "taken")
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("already used"))
        _ = try client.enqueue(EnqueueParams(direction: "", priority: 5))
        _ = try client.resume()
        try waitUntil("the picking job to complete", timeout: .seconds(30)) { try states(client)[2] == .completed }
        try waitUntil("its archive") { try daemon.git("show", "exp/fresh-name:declare.err").status == 0 }
        let errors = try daemon.git("show", "exp/fresh-name:declare.err").output
        #expect(errors.contains("direction \"taken\" is already used"), "\(errors)")
        #expect(errors.contains("declare exit 1"))
        _ = try client.cancel(id: 1)
        #expect(try daemon.terminate() == 0)
    }

    @Test("kill -9 with agents running: they are re-adopted and finish; kill -9 around a landing leaves no duplicate")
    func restart() throws {
        let daemon = try makeDaemon("rst")
        try daemon.start(launching: true)
        var client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "survivor"))
        _ = try client.enqueue(EnqueueParams(direction: "lander"))
        try waitUntil("both agents running") { try client.list(state: .running).compactMap(\.pid).count == 2 }
        let pids = try client.list(state: .running).compactMap(\.pid)
        #expect(pids.count == 2)

        daemon.kill9()
        for pid in pids { #expect(kill(pid, 0) == 0, "agent \(pid) died with the daemon") }
        try daemon.start(launching: true)
        client = try daemon.client()
        let adopted = try client.events(since: 0, limit: 10_000).events.filter {
            $0.kind == EventKind.agentStarted && $0.data["adopted"] == true
        }
        #expect(adopted.count == 2)
        #expect(try client.list(state: .running).count == 2)

        // Let both finish, and kill the daemon as soon as a direction is finished, before or
        // while it lands.
        let watcher = try daemon.client()
        _ = try watcher.subscribe()
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        while true {
            if case .event(let event) = try watcher.nextEvent(), event.kind == EventKind.directionFinished { break }
        }
        daemon.kill9()
        try daemon.start(launching: true)
        client = try daemon.client()
        try waitUntil("both jobs completed", timeout: .seconds(60)) {
            try states(client).values.allSatisfy { $0 == .completed }
        }
        try waitUntil("both final files on main") {
            try ["survivor", "lander"].allSatisfy {
                try daemon.git("show", "main:research_directions/\($0).md").output.contains("Status: completed")
            }
        }
        // Every intent landed exactly once.
        let trailers = try daemon.git("log", "main", "--format=%(trailers:key=Mlagent-Intent,valueonly)").output
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(trailers.count == Set(trailers).count, "\(trailers)")
        let history = try daemon.git("log", "main", "--format=%s %(trailers:key=Mlagent-Intent,valueonly)").output
        let story = try client.events(since: 0, limit: 10_000).events.map { "\($0.seq) \($0.kind) \($0.message)" }
        let landed = try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.directionLanded }
            .compactMap { event -> String? in if case .int(let id)? = event.data["intent"] { String(id) } else { nil } }
        #expect(landed.count == Set(landed).count)
        #expect(Set(trailers) == Set(landed), "\(history)\n\(story.joined(separator: "\n"))")
        try checkMain(daemon)
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

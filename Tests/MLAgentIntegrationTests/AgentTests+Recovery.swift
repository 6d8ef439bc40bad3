import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Pushes, refusals, stalls, crashes, duplicate names and kill -9 recovery of the agent pool.
extension AgentTests {
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
}

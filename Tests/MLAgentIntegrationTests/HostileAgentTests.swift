import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Agents that attack the daemon from inside the sandbox: through git, `/proc`, capabilities,
/// shared devices and processes that leave their tree. Each attack must fail, the daemon must
/// keep serving and other agents must complete.
@Suite("hostile agents", .serialized)
struct HostileAgentTests {
    /// Marker files an attack writes only if its code ran outside the sandbox.
    static func markers(_ daemon: TestDaemon) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: daemon.dir.path)) ?? []).filter { $0.hasPrefix("pwned") }
    }

    func makeDaemon(_ label: String, under parent: String = "/var/tmp") throws -> TestDaemon {
        let profiles = ["worker", "gitattack", "gitredirect", "procsnoop", "victim", "escaper", "thief"].map {
            "[agents.\($0)]\ncommand = [\"sh\", \"@DIR@/agents/\($0).sh\"]\ntimeout = \"2m\"\nro_paths = [\"@DIR@/ctl\"]\n"
        }.joined()
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "worker"
            kill_grace = "2s"
            max_attempts = 1
            max_agents = 3
            \(profiles)
            """
        let daemon = try TestDaemon(label: label, config: config, under: parent)
        // What the test and its agents share: the only test directory the sandbox shows.
        try FileManager.default.createDirectory(atPath: daemon.dir.file("ctl"), withIntermediateDirectories: true)
        try daemon.write("data/train.csv", "f00,f01,target\n0.1,0.2,0\n0.3,0.4,1\n")
        try daemon.write("data/val_public_X.csv", "f00,f01\n0.5,0.6\n0.1,0.2\n")
        try daemon.write("data/val_private_X.csv", "f00,f01\n0.7,0.8\n0.3,0.4\n")
        try daemon.write("data/val_public_y.csv", "target\n1\n0\n")
        try daemon.write("data/val_private_y.csv", "target\n0\n1\n")
        try daemon.write(
            "agents/worker.sh",
            """
            set -e
            echo "honest work" > notes.txt
            echo "it worked" > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        // Replaces its .git with a repository of its own whose configuration, hooks and
        // attributes would run code wherever git runs in the worktree.
        try daemon.write(
            "agents/gitattack.sh",
            """
            M=@DIR@/pwned
            rm -f .git
            git init -q . || echo "git init failed"
            mkdir -p evilhooks
            for h in pre-commit post-commit post-checkout reference-transaction post-index-change pre-auto-gc prepare-commit-msg commit-msg post-rewrite; do
              printf '#!/bin/sh\\ntouch %s-hook-%s\\n' "$M" "$h" > evilhooks/$h
              chmod +x evilhooks/$h
              cp evilhooks/$h .git/hooks/$h
            done
            printf '#!/bin/sh\\ntouch %s-fsmonitor\\n' "$M" > fsmonitor.sh
            chmod +x fsmonitor.sh
            git config core.hooksPath "$PWD/evilhooks"
            git config core.fsmonitor "$PWD/fsmonitor.sh"
            git config filter.evil.clean "touch $M-filter-clean; cat"
            git config filter.evil.smudge "touch $M-filter-smudge; cat"
            git config filter.evil.required true
            git config diff.external "touch $M-diff"
            git config core.pager "touch $M-pager; cat"
            echo '* filter=evil' > .gitattributes
            mlagentctl direction declare git-attack --rationale "replaces its .git"
            echo "the attacker's work" > notes.txt
            ln -s /etc/passwd passwd-link
            echo none > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        // Points its .git at the workspace's repository.
        try daemon.write(
            "agents/gitredirect.sh",
            """
            echo "gitdir: @DIR@/state/workspace/.git" > .git
            mlagentctl direction declare git-redirect --rationale "points .git at the workspace"
            echo "redirected work" > notes.txt
            echo none > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.write(
            "agents/victim.sh",
            """
            echo "victim running" > running.txt
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.05; done
            echo none > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.write(
            "agents/procsnoop.sh",
            """
            R=report.txt
            tr '\\0' ' ' < /proc/1/cmdline > pid1.txt
            ls /proc | grep -E '^[0-9]+$' > pids.txt
            for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null | grep '^MLAGENT_TOKEN='; done | sort -u > tokens.txt
            D=$(cat @DIR@/ctl/daemon.pid)
            if tr '\\0' ' ' < /proc/$D/cmdline 2>/dev/null | grep -q mlagentd; then echo "SAW the daemon" >> $R; else echo "DENIED daemon" >> $R; fi
            if ls /proc/$D/fd/ 2>/dev/null | grep -q .; then echo "SAW daemon fds" >> $R; fi
            grep '^CapEff' /proc/self/status > caps.txt
            if unshare -m sh -c 'umount @DIR@/state && ls @DIR@/state' >> loot.txt 2>&1; then echo "UNMOUNTED state" >> $R; else echo "DENIED unshare -m" >> $R; fi
            if unshare -Urm sh -c 'umount @DIR@/state && ls @DIR@/state' >> loot.txt 2>&1; then echo "UNMOUNTED state in a new user namespace" >> $R; else echo "DENIED unshare -Urm" >> $R; fi
            if mount -o remount,rw / 2>/dev/null; then echo "REMOUNTED /" >> $R; else echo "DENIED remount" >> $R; fi
            if echo probe > /dev/shm/mlagent-probe-$MLAGENT_JOB_ID; then echo "wrote private shm" >> $R; fi
            ls /dev > dev.txt
            id -u > uid.txt
            echo none > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        // A double-forked, setsid grandchild tries operator calls without the token, then
        // lingers; the agent itself finishes once released.
        try daemon.write(
            "agents/escaper.sh",
            """
            W=$(pwd)
            setsid sh -c "sh -c 'cd $W; env -u MLAGENT_TOKEN mlagentctl pause > pause.out 2>&1; echo \\$? > pause.status; env -u MLAGENT_TOKEN mlagentctl enqueue stolen > enqueue.out 2>&1; echo \\$? > enqueue.status; touch grandchild.ready; exec sleep 7777' &" < /dev/null > /dev/null 2>&1 &
            while [ ! -e grandchild.ready ]; do sleep 0.05; done
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.05; done
            echo none > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        return daemon
    }

    func state(_ client: Client, _ id: Int64) throws -> JobState? {
        try client.list().first { $0.id == id }?.state
    }

    /// Every commit after the first on main touches only research_directions/ and mlruns/.
    func checkMain(_ daemon: TestDaemon) throws {
        let root = try daemon.git("rev-list", "--max-parents=0", "main").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let paths = try daemon.git("log", "\(root)..main", "--name-only", "--format=").output
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        for path in paths {
            #expect(path.hasPrefix("research_directions/") || path.hasPrefix("mlruns/"), "\(path) reached main")
        }
        #expect(try daemon.git("symbolic-ref", "HEAD").output.trimmingCharacters(in: .whitespacesAndNewlines) == "refs/heads/main")
        #expect(try daemon.git("fsck", "--no-progress").status == 0)
    }

    @Test("an agent's own .git (hooks, fsmonitor, hooksPath, filters) or one pointing at the workspace runs nothing; archives land on the right branch")
    func gitAttacks() throws {
        let daemon = try makeDaemon("hgit")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "gitattack"))
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "gitredirect"))
        _ = try client.enqueue(EnqueueParams(direction: "honest"))
        try waitUntil("three jobs ended", timeout: .seconds(60)) {
            try client.list().allSatisfy { $0.state.isFinal }
        }
        let archived = (try? waitUntil("three archives") {
            try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.jobArchived }.count == 3
        }) != nil
        #expect(Self.markers(daemon).isEmpty, "code ran outside the sandbox: \(Self.markers(daemon))")
        try #require(archived, "the archives failed: \(daemon.log.suffix(2000))")
        for id in Int64(1)...3 { #expect(try state(client, id) == .completed, "job \(id)") }
        // The archives hold the agents' files, on their branches of the workspace.
        #expect(try daemon.git("show", "exp/git-attack:notes.txt").output.contains("the attacker's work"))
        #expect(try daemon.git("show", "exp/git-attack:evilhooks/post-commit").status == 0)
        #expect(try daemon.git("cat-file", "-p", "exp/git-attack:passwd-link").output == "/etc/passwd")
        let modes = try daemon.git("ls-tree", "exp/git-attack", "passwd-link").output
        #expect(modes.hasPrefix("120000"), "\(modes)")
        let attackTree = try daemon.git("ls-tree", "-r", "--name-only", "exp/git-attack").output
        #expect(!attackTree.split(separator: "\n").contains { $0.hasPrefix(".git/") }, "\(attackTree)")
        #expect(try daemon.git("show", "exp/git-redirect:notes.txt").output.contains("redirected work"))
        #expect(try daemon.git("show", "exp/honest:notes.txt").output.contains("honest work"))
        #expect(try daemon.git("show", "main:notes.txt").status != 0)
        // Each branch grows from main; worktrees are gone and forgotten.
        for branch in ["exp/git-attack", "exp/git-redirect", "exp/honest"] {
            let log = try daemon.git("log", "--format=%s", branch).output
            #expect(log.contains("Initialize the research workspace"), "\(branch): \(log)")
        }
        #expect(try daemon.git("worktree", "list", "--porcelain").output.components(separatedBy: "worktree ").count == 2)
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("an agent sees only its own processes, has no capabilities, cannot unmount what hides the state, and gets a private /dev and /dev/shm")
    func procAndCapabilities() throws {
        let daemon = try makeDaemon("hproc")
        try daemon.start(launching: true)
        try "\(daemon.pid)".write(toFile: daemon.dir.file("ctl/daemon.pid"), atomically: true, encoding: .utf8)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "victim", agent: "victim"))
        try waitUntil("the victim running") { try state(client, 1) == .running }
        _ = try client.enqueue(EnqueueParams(direction: "proc-snoop", agent: "procsnoop"))
        try waitUntil("the snoop done", timeout: .seconds(30)) { try state(client, 2)?.isFinal == true }
        #expect(try state(client, 2) == .completed)
        // The victim kept running meanwhile, and completes.
        #expect(try state(client, 1) == .running)
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("the victim completed", timeout: .seconds(30)) { try state(client, 1) == .completed }
        try waitUntil("the archives") {
            try daemon.git("show", "exp/proc-snoop:report.txt").status == 0
                && daemon.git("show", "exp/victim:running.txt").status == 0
        }
        func file(_ name: String) throws -> String { try daemon.git("show", "exp/proc-snoop:\(name)").output }
        let report = try file("report.txt")
        #expect(report.contains("DENIED daemon") && !report.contains("SAW"), "\(report)")
        #expect(report.contains("DENIED unshare -m") && report.contains("DENIED unshare -Urm"), "\(report)")
        #expect(report.contains("DENIED remount"), "\(report)")
        #expect(!report.contains("UNMOUNTED") && !report.contains("REMOUNTED"), "\(report)")
        let caps = try file("caps.txt")
        #expect(caps.contains("0000000000000000"), "\(caps)")
        let pidOne = try file("pid1.txt")
        #expect(pidOne.contains("bwrap"), "pid 1 is not the sandbox's own: \(pidOne)")
        let pids = try file("pids.txt").split(separator: "\n")
        #expect(pids.count < 15, "\(pids)")
        let tokens = try file("tokens.txt").split(separator: "\n")
        #expect(tokens.count == 1, "another agent's token was readable: \(tokens)")
        #expect(try file("uid.txt").trimmingCharacters(in: .whitespacesAndNewlines) != "0")
        let devices = Set(try file("dev.txt").split(separator: "\n").map(String.init))
        #expect(devices.contains("null") && devices.contains("shm"))
        #expect(!devices.contains("kmsg") && !devices.contains("loop0") && !devices.contains("tty1"), "\(devices)")
        #expect(report.contains("wrote private shm"), "\(report)")
        // What it wrote to /dev/shm stayed in its sandbox.
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/mlagent-probe-2"))
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a double-forked setsid grandchild is refused operator calls and is gone once its job ends")
    func escapedGrandchild() throws {
        let daemon = try makeDaemon("hesc")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "escaper", agent: "escaper"))
        _ = try client.enqueue(EnqueueParams(direction: "bystander"))
        try waitUntil("the escaper running") { try client.show(id: 1).worktree.map { _ in true } ?? false }
        let worktree = try #require(try client.show(id: 1).worktree)
        try waitUntil("the grandchild's attempts", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: worktree + "/grandchild.ready")
        }
        try waitUntil("the bystander completed", timeout: .seconds(30)) { try state(client, 2) == .completed }
        let lingering = Self.processes(named: ["sleep", "7777"])
        #expect(!lingering.isEmpty, "the grandchild should be alive while its job runs")
        let status = try client.status()
        #expect(status.paused == false)
        #expect(try client.list().count == 2, "the grandchild enqueued a job")
        let pauseStatus = try String(contentsOfFile: worktree + "/pause.status", encoding: .utf8)
        #expect(pauseStatus.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(pauseStatus)")
        let pauseOut = try String(contentsOfFile: worktree + "/pause.out", encoding: .utf8)
        #expect(pauseOut.contains("agent"), "\(pauseOut)")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("the escaper completed", timeout: .seconds(30)) { try state(client, 1) == .completed }
        try waitUntil("the grandchild gone", timeout: .seconds(10)) {
            Self.processes(named: ["sleep", "7777"]).isEmpty
        }
        #expect(try client.status().paused == false)
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }

    /// Host pids of living agent processes of the daemon with state in `stateDir` (their
    /// worktree lies there) whose environment holds `variable`.
    static func processes(carrying variable: String, stateDir: String) -> [Int32] {
        let worktree = Array("MLAGENT_WORKTREE=\(stateDir)/".utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else {
                return nil
            }
            let variables = data.split(separator: 0).map(Array.init)
            guard variables.contains(Array(variable.utf8)), variables.contains(where: { $0.starts(with: worktree) }),
                !isZombie(pid)
            else { return nil }
            return pid
        }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// Host pids of living processes whose command line is exactly `argv`.
    static func processes(named argv: [String]) -> [Int32] {
        let wanted = Data(argv.joined(separator: "\0").utf8) + Data([0])
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                data == wanted, !isZombie(pid)
            else { return nil }
            return pid
        }
    }
}

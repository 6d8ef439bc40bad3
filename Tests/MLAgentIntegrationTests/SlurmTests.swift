import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Agents as Slurm jobs on a real single-node cluster (slurmctld, slurmd and munge started by the
/// test): the pool, cancels from both sides, `kill -9` of the daemon with jobs running, and a
/// crash between the submission's intent and `sbatch`.
@Suite("Slurm executor", .serialized)
struct SlurmTests {
    /// A daemon whose default profile runs on the cluster, `max_jobs` at a time.
    static func makeDaemon(
        _ label: String, maxJobs: Int, agent: String, sbatch: String = "sbatch", slurm extra: String = "", timeout: String = "2h",
        daemon daemonExtra: String = "", scheduler: String = ""
    ) throws -> (TestDaemon, SlurmCluster) {
        try #require(SlurmCluster.available, "the Slurm tests need root and slurm-wlm (make test-deps installs it)")
        let daemon = try TestDaemon(
            label: label,
            config: """
                [daemon]
                data_dir = "@DIR@/data"
                prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
                \(daemonExtra)
                [scheduler]
                \(scheduler)
                default_agent = "cluster"
                max_agents = 1
                kill_grace = "3s"
                [slurm]
                worktree_root = "@DIR@/cluster"
                max_jobs = \(maxJobs)
                poll_interval = "300ms"
                sbatch = "\(sbatch)"
                \(extra)
                [agents.cluster]
                executor = "slurm"
                timeout = "\(timeout)"
                command = ["sh", "@DIR@/agents/agent.sh"]
                """)
        try daemon.writeDataset(targets: (0..<40).map { $0 % 2 == 0 ? 1 : 0 })
        try daemon.write("agents/agent.sh", agent)
        let cluster = try SlurmCluster(dir: daemon.dir.file("slurm"))
        return (daemon, cluster)
    }

    @Test("six directions through a slurm profile with max_jobs = 3: never more than three at once, all landed, git fsck clean")
    func pool() throws {
        let (daemon, cluster) = try Self.makeDaemon(
            "slp", maxJobs: 3,
            agent: """
                set -e
                date +%s.%N > .started
                RUN=$(mlagentctl run start --name r --rationale "on the cluster")
                mlagentctl run log "$RUN" --metric m=1
                sleep 1
                mlagentctl run end "$RUN" --analysis "ran on $(hostname) as Slurm job $SLURM_JOB_ID"
                echo "Learned on the cluster." > l.md
                mlagentctl direction finish --learnings l.md
                date +%s.%N > .ended
                """)
        try daemon.start(extraEnvironment: ["SLURM_CONF": cluster.conf], launching: true)
        let client = try daemon.client()
        let names = (1...6).map { "cluster-\($0)" }
        for name in names { _ = try client.enqueue(EnqueueParams(direction: name)) }
        var most = 0
        try waitUntil("all six jobs to complete", timeout: .seconds(120), every: .milliseconds(100)) {
            let jobs = try client.list()
            most = max(most, jobs.filter { $0.state == .running }.count)
            if let status = try? client.status(), let pool = status.cluster { most = max(most, pool.running + pool.pending) }
            return jobs.count == 6 && jobs.allSatisfy { $0.state.isFinal && $0.isSettled }
        }
        let jobs = try client.list()
        #expect(jobs.allSatisfy { $0.state == .completed }, "\(jobs.map { ($0.id, $0.state, $0.reason ?? "") })")
        #expect(most <= 3, "\(most) jobs at once")
        // The agents' own clocks: never more than three ran at once.
        var intervals: [(Double, Double)] = []
        for name in names {
            let start = try daemon.git("show", "exp/\(name):.started").output.trimmingCharacters(in: .whitespacesAndNewlines)
            let end = try daemon.git("show", "exp/\(name):.ended").output.trimmingCharacters(in: .whitespacesAndNewlines)
            intervals.append((try #require(Double(start), "\(name): \(start)"), try #require(Double(end), "\(name): \(end)")))
        }
        let overlap = intervals.map { interval in intervals.filter { $0.0 <= interval.0 && $0.1 > interval.0 }.count }.max() ?? 0
        #expect(overlap <= 3 && overlap >= 1, "\(overlap) agents overlapped: \(intervals)")
        // One Slurm job per direction, each COMPLETED, and every direction on main.
        let slurmJobs = try cluster.jobs()
        for job in jobs {
            let listed = slurmJobs["mlagent-job-\(job.id)"] ?? []
            #expect(listed.count == 1 && listed.first?.state == "COMPLETED", "job \(job.id): \(listed)")
            #expect(job.slurm?.jobID == listed.first?.id && job.slurm?.state == "COMPLETED", "\(String(describing: job.slurm))")
        }
        for name in names {
            let file = try daemon.git("show", "main:research_directions/\(name).md").output
            #expect(file.contains("- Status: completed") && file.contains("Learned on the cluster."), "\(file)")
        }
        let events = try client.events(limit: 10_000).events.map(\.kind)
        for kind in [EventKind.slurmSubmitted, EventKind.slurmStarted, EventKind.slurmEnded] {
            #expect(events.filter { $0 == kind }.count >= 6, "\(kind)")
        }
        #expect(try daemon.git("fsck", "--no-dangling").status == 0)
        #expect(try daemon.terminate() == 0)
    }

    @Test("cancel reaches scancel, scancel from outside fails the job with the reason, kill -9 of the daemon re-adopts a running job, and a crash between the intent and sbatch leaves exactly one Slurm job")
    func crashesAndCancels() throws {
        let (daemon, cluster) = try Self.makeDaemon(
            "slc", maxJobs: 4,
            agent: """
                echo "$MLAGENT_TOKEN" > .token.new && mv .token.new .token
                while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.2; done
                echo "Released." > l.md
                mlagentctl direction finish --learnings l.md
                """,
            sbatch: "@DIR@/agents/sbatch-gate.sh")
        // sbatch, held while ctl/hold-sbatch exists: the daemon can be killed between its intent and the submission.
        try daemon.write(
            "agents/sbatch-gate.sh",
            """
            #!/bin/sh
            if [ -e @DIR@/ctl/hold-sbatch ]; then
              touch @DIR@/ctl/sbatch-held
              while [ -e @DIR@/ctl/hold-sbatch ]; do sleep 0.1; done
            fi
            exec sbatch "$@"
            """.replacingOccurrences(of: "@DIR@", with: daemon.dir.path))
        chmod(daemon.dir.file("agents/sbatch-gate.sh"), 0o755)
        let environment = ["SLURM_CONF": cluster.conf]
        try daemon.start(extraEnvironment: environment, launching: true)
        var client = try daemon.client()
        for name in ["cancelled-here", "cancelled-there", "survives"] { _ = try client.enqueue(EnqueueParams(direction: name)) }
        func slurmState(_ id: Int64) throws -> String? { try client.show(id: id).slurm?.state }
        try waitUntil("three jobs running on the node", timeout: .seconds(60)) {
            try (1...3).allSatisfy { try slurmState($0) == "RUNNING" }
        }
        let node = try #require(try client.show(id: 1).slurm?.node)
        #expect(!node.isEmpty)
        let status = try daemon.ctl("status")
        #expect(status.stdout.contains("cluster  3/4 Slurm jobs (3 running, 0 pending)"), "\(status.stdout)")
        // Slurm's state in list and show.
        let table = try daemon.ctl("list").stdout
        let slurm1 = try #require(try client.show(id: 1).slurm?.jobID)
        #expect(table.contains("SLURM") && table.contains("\(slurm1) RUNNING on \(node)"), "\(table)")
        #expect(try daemon.ctl("show", "1").stdout.contains("slurm      job \(slurm1) RUNNING on \(node)"))
        let listed = try daemon.ctl("show", "1", "--json")
        #expect(listed.stdout.contains("\"node\" : \"\(node)\"") || listed.stdout.contains("\"node\":\"\(node)\""), "\(listed.stdout)")

        // mlagentctl cancel → scancel; the agent's processes are gone.
        let tokenFile = try #require(try client.show(id: 1).worktree) + "/.token"
        try waitUntil("job 1's agent to start", timeout: .seconds(30)) { FileManager.default.fileExists(atPath: tokenFile) }
        let token1 = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try daemon.ctl("cancel", "1", "--reason", "enough").status == 0)
        try waitUntil("job 1 cancelled", timeout: .seconds(30)) { try client.show(id: 1).state == .cancelled }
        try waitUntil("job 1's agent gone", timeout: .seconds(30)) { Self.processes(carrying: "MLAGENT_TOKEN=\(token1)").isEmpty }
        // The batch script ends with the agent's status once SIGTERM stopped it.
        let ended = try cluster.jobs()["mlagent-job-1"] ?? []
        #expect(ended.count == 1 && ["CANCELLED", "FAILED", "COMPLETED"].contains(ended.first?.state ?? ""), "\(ended)")

        // scancel from outside: the job fails with the reason, and is not retried.
        let slurm2 = try #require(try client.show(id: 2).slurm?.jobID)
        #expect(try cluster.run("scancel", [slurm2]).status == 0)
        try waitUntil("job 2 failed", timeout: .seconds(30)) { try client.show(id: 2).state == .failed }
        #expect(try client.show(id: 2).reason?.contains("was cancelled outside mlagent (Slurm job \(slurm2) CANCELLED") == true)

        // kill -9 with job 3 running: re-adopted, never submitted again.
        daemon.kill9()
        try daemon.start(extraEnvironment: environment, launching: true)
        client = try daemon.client()
        #expect(try client.show(id: 3).state == .running)
        try daemon.write("ctl/release-3", "")
        try waitUntil("job 3 completed", timeout: .seconds(60)) { try client.show(id: 3).state == .completed }
        #expect(try cluster.jobs()["mlagent-job-3"]?.count == 1)

        // Killed between the intent and sbatch: the submission a crash left unrecorded is found by name.
        try daemon.write("ctl/hold-sbatch", "")
        _ = try client.enqueue(EnqueueParams(direction: "held"))
        try waitUntil("sbatch to be held", timeout: .seconds(30)) { FileManager.default.fileExists(atPath: daemon.dir.file("ctl/sbatch-held")) }
        daemon.kill9()
        try FileManager.default.removeItem(atPath: daemon.dir.file("ctl/hold-sbatch"))
        try waitUntil("the held sbatch to submit", timeout: .seconds(30)) { try cluster.jobs()["mlagent-job-4"] != nil }
        try daemon.start(extraEnvironment: environment, launching: true)
        client = try daemon.client()
        try waitUntil("job 4 to know its Slurm job", timeout: .seconds(30)) { try client.show(id: 4).slurm?.jobID != nil }
        try daemon.write("ctl/release-4", "")
        try waitUntil("job 4 completed", timeout: .seconds(60)) { try client.show(id: 4).state == .completed }
        let held = try cluster.jobs()["mlagent-job-4"] ?? []
        #expect(held.count == 1, "\(held)")
        let found = try client.events(limit: 10_000).events.filter { $0.kind == EventKind.slurmSubmitted && $0.jobID == 4 }
        #expect(found.count == 1, "\(found)")
        try waitUntil("every archive", timeout: .seconds(30)) { try client.list().allSatisfy(\.isSettled) }
        #expect(try daemon.git("fsck", "--no-dangling").status == 0)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a state directory under worktree_root, worktree_root inside it, or none at all stops the daemon with the reason")
    func stateDirectoryRefused() throws {
        for (root, expected) in [
            ("@DIR@", "is under slurm.worktree_root"), ("@DIR@/state/cluster", "is inside the state directory"),
            ("", "needs [slurm] worktree_root"),
        ] {
            let daemon = try TestDaemon(
                label: "sls",
                config: """
                    [slurm]
                    worktree_root = "\(root)"
                    [agents.cluster]
                    executor = "slurm"
                    command = ["true"]
                    """)
            try daemon.start(waitReady: false)
            try waitUntil("mlagentd to refuse the state directory") { daemon.process?.isRunning == false }
            #expect(daemon.process?.terminationStatus != 0)
            #expect(daemon.log.contains("cannot start with a Slurm profile") && daemon.log.contains(expected), "\(daemon.log)")
            #expect(!FileManager.default.fileExists(atPath: daemon.stateDir + "/mlagentd.sqlite3"))
        }
    }

    /// Host pids whose environment holds `entry`.
    static func processes(carrying entry: String) -> [Int32] {
        let needle = Array(entry.utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
            guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
            return data.split(separator: 0).contains { Array($0) == needle } ? pid : nil
        }
    }
}

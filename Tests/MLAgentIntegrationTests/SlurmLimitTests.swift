import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// What Slurm itself does to a job: its time limit, and `scontrol requeue`. Apart from
/// ``SlurmTests`` so that the minute of the time limit runs beside the other suites.
@Suite("Slurm's own limits", .serialized)
struct SlurmLimitTests {
    @Test("a job Slurm ends at its time limit fails with TIMEOUT; the agent got the warning signal first")
    func timeLimit() throws {
        // Slurm's limit (one minute) comes long before the profile's own budget (ten).
        let (daemon, cluster) = try SlurmTests.makeDaemon(
            "slt", maxJobs: 1,
            agent: """
                trap 'echo "warned at $(date +%s)" >> .warned; exit 0' TERM
                while :; do sleep 0.2; done
                """,
            slurm: #"time = "1m""#, timeout: "10m", scheduler: "max_attempts = 1")
        try daemon.start(extraEnvironment: ["SLURM_CONF": cluster.conf], launching: true)
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: "slow"))
        // Slurm checks limits every half minute or so: the end comes within 60–100 s.
        try waitUntil("the job to end", timeout: .seconds(180), every: .milliseconds(500)) { try client.show(id: job.id).state.isFinal }
        let ended = try client.show(id: job.id)
        #expect(ended.state == .failed && ended.reason?.contains("TIMEOUT") == true, "\(ended.state) \(ended.reason ?? "")")
        #expect(ended.slurm?.state == "TIMEOUT", "\(String(describing: ended.slurm))")
        #expect(try cluster.jobs()["mlagent-job-\(job.id)"]?.map(\.state) == ["TIMEOUT"])
        // The batch script passed Slurm's warning (SIGUSR1) on to the agent as SIGTERM.
        try waitUntil("the worktree's archive", timeout: .seconds(30)) { try client.show(id: job.id).isSettled }
        let warned = try daemon.git("show", "exp/slow:.warned").output
        #expect(warned.hasPrefix("warned at"), "the agent was not warned: \(warned)")
        let log = try String(contentsOfFile: try #require(ended.logPath), encoding: .utf8)
        #expect(log.contains("stopped at Slurm's warning before the time limit"), "\(log.suffix(500))")
        let kinds = try client.events(job: job.id).events.map(\.kind)
        #expect(kinds.contains(EventKind.slurmEnded))
        #expect(try daemon.terminate() == 0)
    }

    @Test("scontrol requeue gives the job a new attempt under the same Slurm job id, and it completes")
    func requeue() throws {
        let (daemon, cluster) = try SlurmTests.makeDaemon(
            "slr", maxJobs: 1,
            agent: """
                if [ -e .first ]; then
                  echo "Finished after a requeue." > l.md
                  mlagentctl direction finish --learnings l.md
                  exit 0
                fi
                touch .first
                while :; do sleep 0.2; done
                """)
        try daemon.start(extraEnvironment: ["SLURM_CONF": cluster.conf], launching: true)
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: "requeued"))
        try waitUntil("the first attempt to run", timeout: .seconds(60)) {
            let shown = try client.show(id: job.id)
            guard shown.slurm?.state == "RUNNING", let worktree = shown.worktree else { return false }
            return FileManager.default.fileExists(atPath: worktree + "/.first")
        }
        let slurmID = try #require(try client.show(id: job.id).slurm?.jobID)
        let requeued = try cluster.run("scontrol", ["requeue", slurmID])
        #expect(requeued.status == 0, "\(requeued.output)")
        // A requeued job waits for its credential to expire (10 s on the test cluster), then runs again.
        try waitUntil("the job to complete", timeout: .seconds(90), every: .milliseconds(200)) { try client.show(id: job.id).state.isFinal }
        let done = try client.show(id: job.id)
        #expect(done.state == .completed, "\(done.state) \(done.reason ?? "")")
        #expect(done.slurm?.jobID == slurmID && done.slurm?.restarts == 1, "\(String(describing: done.slurm))")
        #expect(done.attempts == 2, "attempts \(done.attempts)")
        let events = try client.events(job: job.id).events
        let requeues = events.filter { $0.kind == EventKind.slurmRequeued }
        #expect(requeues.count == 1 && requeues.first?.message.contains("attempt 2") == true, "\(requeues.map(\.message))")
        #expect(events.filter { $0.kind == EventKind.slurmSubmitted }.count == 1)
        #expect(try cluster.jobs()["mlagent-job-\(job.id)"]?.count == 1)
        let file = try daemon.git("show", "main:research_directions/requeued.md").output
        #expect(file.contains("Finished after a requeue."), "\(file)")
        #expect(try daemon.terminate() == 0)
    }
}

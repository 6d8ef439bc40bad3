import Foundation
@testable import MLAgentDaemon
import Testing

/// The Slurm executor's pieces that need no cluster: squeue's and sacct's output, the time
/// limit, and the generated batch script run for real by bash.
@Suite("Slurm executor without a cluster")
struct SlurmExecutorTests {
    @Test("squeue lines: states with their reasons, nodes, restarts and exit statuses from the raw wait status")
    func squeueLines() {
        let states = SlurmExecutor.parse(
            """
            12|mlagent-job-3|PENDING|Priority|(null)|0|0
            13|mlagent-job-4|RUNNING|None|node7|1|256
            14|mlagent-job-5|CANCELLED by 0|None|node7|0|15

            garbage line
            """)
        #expect(states.count == 3)
        #expect(states["12"] == .init(id: "12", name: "mlagent-job-3", state: "PENDING", reason: "Priority", node: "", restarts: 0, exitCode: 0))
        #expect(states["13"]?.node == "node7" && states["13"]?.restarts == 1 && states["13"]?.exitCode == 1 && states["13"]?.isRunning == true)
        #expect(states["14"]?.state == "CANCELLED" && states["14"]?.exitCode == 143 && states["14"]?.isTerminal == true)
    }

    @Test("sacct lines: allocations only, exit:signal, 'None assigned' nodes")
    func sacctLines() {
        let states = SlurmExecutor.parseAccounting(
            """
            15|mlagent-job-5|COMPLETED|node1|0:0
            15.batch|batch|COMPLETED|node1|0:0
            16|mlagent-job-6|CANCELLED by 0|None assigned|0:15
            17|mlagent-job-7|FAILED|node2|3:0
            """)
        #expect(Set(states.keys) == ["15", "16", "17"])
        #expect(states["15"]?.state == "COMPLETED" && states["15"]?.node == "node1")
        #expect(states["16"]?.state == "CANCELLED" && states["16"]?.node == "" && states["16"]?.exitCode == 143)
        #expect(states["17"]?.exitCode == 3 && states["17"]?.isTerminal == true)
    }

    @Test("one sacct call for the forgotten jobs; a cluster without accounting is not asked again")
    func accounting() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-acct-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let answering = dir + "/sacct"
        try "#!/bin/sh\necho \"$@\" >> \(dir)/calls\necho '21|mlagent-job-1|TIMEOUT|n1|0:15'\n".write(toFile: answering, atomically: true, encoding: .utf8)
        chmod(answering, 0o755)
        var config = SlurmConfig()
        config.sacct = answering
        let executor = SlurmExecutor(config: config)
        let found = await executor.accounting(of: ["21", "22"])
        #expect(found["21"]?.state == "TIMEOUT" && found.count == 1)
        let calls = try String(contentsOfFile: dir + "/calls", encoding: .utf8)
        #expect(calls.split(separator: "\n").count == 1 && calls.contains("--jobs=21,22") && calls.contains("--starttime="))
        config.sacct = "/bin/false"
        let disabled = SlurmExecutor(config: config)
        #expect(await disabled.accounting(of: ["1"]).isEmpty)
        let works = disabled.accountingWorks.load(ordering: .relaxed)
        #expect(!works)
        let before = disabled.commands.load(ordering: .relaxed)
        _ = await disabled.accounting(of: ["1"])
        let after = disabled.commands.load(ordering: .relaxed)
        #expect(after == before)
    }

    @Test("the time limit: the profile's timeout in whole minutes, rounded up, unless [slurm] time is set")
    func timeLimit() {
        var config = SlurmConfig()
        #expect(config.timeLimit(profileTimeout: .seconds(90)) == "2")
        #expect(config.timeLimit(profileTimeout: .seconds(7200)) == "120")
        #expect(config.timeLimit(profileTimeout: .seconds(1)) == "1")
        config.time = .seconds(600)
        #expect(config.timeLimit(profileTimeout: .seconds(7200)) == "10")
    }

    /// Runs a generated script with bash as slurmstepd would (a clean signal mask, output to a
    /// file), through the launcher's own spawn.
    func run(_ script: String, signal: Int32? = nil, in dir: String) throws -> (status: Int32, output: String) {
        let path = dir + "/job.sbatch"
        let log = dir + "/job.log"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: log)
        var pid: pid_t = 0
        let spawned = AgentLauncher.spawn(
            argv: ["/bin/bash", path], environment: ProcessInfo.processInfo.environment, logPath: log, pid: &pid)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        if let signal {
            // The agent's marker file says the script is waiting on it, its traps set.
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: dir + "/running"), Date() < deadline { usleep(20_000) }
            usleep(100_000)
            kill(pid, signal)
        }
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test("the batch script: the agent's environment quoted exactly, its status passed on, SIGTERM to the agent, a missing sandbox named")
    func script() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-script-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["MLAGENT_TOKEN": "it's \"quoted\" $HOME `x`", "PATH": "/usr/bin:/bin", "BAD-NAME": "skipped"]
        let exits = SlurmExecutor.script(
            jobID: 7, argv: ["sh", "-c", "printf '%s\\n' \"$MLAGENT_TOKEN\"; exit 3"], environment: environment, worktree: dir, sandboxed: false)
        let ran = try run(exits, in: dir)
        #expect(ran.status == 3)
        #expect(ran.output.contains("it's \"quoted\" $HOME `x`\n") && ran.output.contains("the agent exited with status 3"), "\(ran.output)")
        #expect(!exits.contains("BAD-NAME"))

        let sleeps = SlurmExecutor.script(
            jobID: 8, argv: ["sh", "-c", "touch \(dir)/running; exec sleep 30"], environment: environment, worktree: dir, sandboxed: false)
        let start = Date()
        let stopped = try run(sleeps, signal: SIGTERM, in: dir)
        #expect(stopped.status == 143 && Date().timeIntervalSince(start) < 10, "\(stopped)")

        let missing = SlurmExecutor.script(
            jobID: 9, argv: [dir + "/no-bwrap", "--", "sh"], environment: environment, worktree: dir, sandboxed: true)
        let refused = try run(missing, in: dir)
        #expect(refused.status == 97 && refused.output.contains("bubblewrap (\(dir)/no-bwrap) is missing on node"), "\(refused.output)")

        let gone = SlurmExecutor.script(jobID: 10, argv: ["true"], environment: [:], worktree: dir + "/absent", sandboxed: false)
        let notThere = try run(gone, in: dir)
        #expect(notThere.status == 96 && notThere.output.contains("is not on node"), "\(notThere.output)")
    }
}

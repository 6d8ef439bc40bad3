import Foundation
import Synchronization

/// The one place that knows Slurm: submits an agent as a batch job (`sbatch --parsable` with a
/// generated script that sets up the agent's environment, prompt and sandbox as a local launch
/// does), reads every job's state in one `squeue` call, finds a job by its name after a crash,
/// and signals or cancels with `scancel`.
final class SlurmExecutor: Sendable {
    let config: SlurmConfig
    let environment: [String: String]
    /// Every Slurm command run, for the benchmark's commands per minute.
    let commands = Atomic<Int>(0)

    init(config: SlurmConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        self.environment = environment
    }

    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "\(command) failed (\(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    /// A job as `squeue` shows it.
    struct JobState: Sendable, Equatable {
        var id: String
        var name: String
        var state: String
        var reason: String
        var node: String
        var restarts: Int
        var exitCode: Int32

        static let terminal: Set<String> = [
            "COMPLETED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "CANCELLED", "BOOT_FAIL", "DEADLINE",
        ]
        var isTerminal: Bool { Self.terminal.contains(state) }
        var isRunning: Bool { state == "RUNNING" || state == "COMPLETING" }
    }

    /// The job name of an mlagent job: what finds it again after a crash.
    static func jobName(_ jobID: Int64) -> String { "mlagent-job-\(jobID)" }

    /// Submits the batch script for `jobID`; returns Slurm's job id.
    func submit(
        jobID: Int64, argv: [String], environment agentEnvironment: [String: String], worktree: String, logPath: String,
        timeLimit: String, graceSeconds: Int, sandboxed: Bool, scriptPath: String
    ) async throws -> String {
        let script = Self.script(
            jobID: jobID, argv: argv, environment: agentEnvironment, worktree: worktree, sandboxed: sandboxed)
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        var arguments = [
            "--parsable", "--job-name=\(Self.jobName(jobID))", "--comment=mlagent job \(jobID)", "--output=\(logPath)",
            "--open-mode=append", "--export=NONE", "--time=\(timeLimit)", "--signal=B:USR1@\(max(10, graceSeconds))",
            "--cpus-per-task=\(config.cpusPerTask)", "--chdir=\(worktree)",
        ]
        for (flag, value) in [("partition", config.partition), ("account", config.account), ("qos", config.qos),
                              ("gres", config.gres), ("mem", config.mem)] where !value.isEmpty {
            arguments.append("--\(flag)=\(value)")
        }
        arguments += config.extraArgs + [scriptPath]
        let output = try await run(config.sbatch, arguments)
        // `--parsable` prints `id` or `id;cluster`.
        guard let id = output.split(separator: "\n").last?.split(separator: ";").first.map(String.init), !id.isEmpty,
            id.allSatisfy(\.isNumber)
        else {
            throw Failure(command: "sbatch", status: 0, stderr: "unexpected output: \(output)")
        }
        return id
    }

    static let fields = "JobID:|,Name:|,State:|,Reason:|,NodeList:|,RestartCnt:|,exit_code:"

    /// One `squeue` call for every id (all states); ids Slurm no longer knows are absent.
    func states(of ids: [String]) async throws -> [String: JobState] {
        guard !ids.isEmpty else { return [:] }
        let output = try await run(
            config.squeue, ["--noheader", "--states=all", "--jobs=\(ids.joined(separator: ","))", "--Format=\(Self.fields)"],
            tolerate: "Invalid job id")
        return Self.parse(output)
    }

    /// Whether `sacct` answered the last time (it needs Slurm's accounting, which some
    /// clusters do not run): once it has said it cannot, it is not asked again.
    let accountingWorks = Atomic<Bool>(true)

    /// One `sacct` call for jobs `squeue` no longer lists (finished longer ago than the
    /// cluster's MinJobAge): their final states, where Slurm's accounting has them.
    func accounting(of ids: [String]) async -> [String: JobState] {
        guard !ids.isEmpty, accountingWorks.load(ordering: .relaxed) else { return [:] }
        do {
            let output = try await run(
                config.sacct,
                ["--noheader", "--parsable2", "--allocations", "--starttime=now-30days", "--jobs=\(ids.joined(separator: ","))",
                 "--format=JobID,JobName,State,NodeList,ExitCode"])
            return Self.parseAccounting(output)
        } catch {
            accountingWorks.store(false, ordering: .relaxed)
            return [:]
        }
    }

    /// `sacct --parsable2` lines: `id|name|STATE[ by uid]|nodes|exit:signal`.
    static func parseAccounting(_ output: String) -> [String: JobState] {
        var states: [String: JobState] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 5, !fields[0].isEmpty, fields[0].allSatisfy(\.isNumber) else { continue }
            let code = fields[4].split(separator: ":").compactMap { Int32($0) }
            let exit = code.count == 2 && code[1] != 0 ? 128 + code[1] : code.first ?? 0
            states[fields[0]] = JobState(
                id: fields[0], name: fields[1], state: fields[2].split(separator: " ").first.map(String.init) ?? fields[2],
                reason: "", node: fields[3] == "None assigned" ? "" : fields[3], restarts: 0, exitCode: exit)
        }
        return states
    }

    /// The Slurm jobs of mlagent jobs, found by their names in one call (submissions a crash
    /// left unrecorded): the first by Slurm id for each mlagent job Slurm knows.
    func find(jobIDs: [Int64]) async throws -> [Int64: JobState] {
        let names = jobIDs.map(Self.jobName)
        let output = try await run(
            config.squeue, ["--noheader", "--states=all", "--name=\(names.joined(separator: ","))", "--Format=\(Self.fields)"])
        var found: [Int64: JobState] = [:]
        for state in Self.parse(output).values.sorted(by: { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }) {
            guard let index = names.firstIndex(of: state.name), found[jobIDs[index]] == nil else { continue }
            found[jobIDs[index]] = state
        }
        return found
    }

    /// SIGTERM to the batch script, which passes it to the agent's sandbox.
    func terminate(_ id: String) async {
        _ = try? await run(config.scancel, ["--batch", "--signal=TERM", id])
    }

    /// Cancels the job: Slurm kills every process of it.
    func cancel(_ id: String) async {
        _ = try? await run(config.scancel, [id])
    }

    static func parse(_ output: String) -> [String: JobState] {
        var states: [String: JobState] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 7, !fields[0].isEmpty else { continue }
            // `exit_code` is the raw wait status: the exit status in the high byte, a signal in the low.
            let raw = Int32(fields[6]) ?? 0
            let exit = raw & 0x7f != 0 ? 128 + (raw & 0x7f) : (raw >> 8) & 0xff
            states[fields[0]] = JobState(
                id: fields[0], name: fields[1], state: fields[2].split(separator: " ").first.map(String.init) ?? fields[2],
                reason: fields[3] == "None" ? "" : fields[3], node: fields[4] == "(null)" ? "" : fields[4],
                restarts: Int(fields[5]) ?? 0, exitCode: exit)
        }
        return states
    }

    private func run(_ program: String, _ arguments: [String], tolerate: String? = nil) async throws -> String {
        commands.add(1, ordering: .relaxed)
        let result = try await ChildCommand.run(executable: program, arguments: arguments, environment: environment)
        if result.status != 0, !(tolerate.map { result.stderr.contains($0) } ?? false) {
            throw Failure(command: (program as NSString).lastPathComponent, status: result.status, stderr: result.stderr)
        }
        return result.stdout
    }

    /// The batch script: the agent's environment exactly (`--export=NONE`), its worktree, a
    /// check that the sandbox exists on the node, and SIGTERM or SIGUSR1 (the time limit's
    /// warning) passed to every process of the agent's sandbox.
    static func script(jobID: Int64, argv: [String], environment: [String: String], worktree: String, sandboxed: Bool) -> String {
        var lines = ["#!/bin/bash", "# mlagent job \(jobID), generated by mlagentd.", "set -u"]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) where key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            lines.append("export \(key)=\(quote(value))")
        }
        lines.append("cd \(quote(worktree)) || { echo \"mlagent: the worktree \(worktree) is not on node $(hostname)\" >&2; exit 96; }")
        if sandboxed, let bwrap = argv.first {
            lines.append("""
                if [ ! -x \(quote(bwrap)) ]; then
                  echo "mlagent: bubblewrap (\(bwrap)) is missing on node $(hostname); the sandbox is required ([sandbox] mode = \\"bwrap\\")" >&2
                  exit 97
                fi
                """)
        }
        lines.append(argv.map(quote).joined(separator: " ") + " &")
        lines.append("""
            child=$!
            warned=0
            stop() {
              inner=$(pgrep -P "$child" | head -n 1)
              if [ -n "$inner" ]; then pkill -TERM --ns "$inner" --nslist pid; else kill -TERM "$child" 2>/dev/null; fi
            }
            trap stop TERM
            trap 'warned=1; stop' USR1
            while :; do
              wait "$child"
              status=$?
              kill -0 "$child" 2>/dev/null || break
            done
            echo "mlagent: the agent exited with status $status"
            if [ "$warned" = 1 ]; then
              # Stopped at the time limit's warning: the job ends at the limit, as TIMEOUT.
              echo "mlagent: stopped at Slurm's warning before the time limit"
              while :; do sleep 1; done
            fi
            exit "$status"
            """)
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

import Foundation
import Logging
import MLAgentProtocol

/// Replays a run's saved model: a sandboxed scorer (``ScorerSandbox``, ``ReplayScript``) loads
/// the MLflow model and predicts the public and private features, within a time and memory
/// limit, in a cgroup of its own where the daemon has cgroups (else under RLIMIT_DATA). Each
/// replay keeps its directory, `<state>/replays/<run>-<n>/`: the script, the scorer's log and
/// the predictions it wrote.
struct ModelReplayer: Sendable {
    let config: DaemonConfig
    let limits: AgentLimits
    let logger: Logger

    /// What a replay produced: the predictions files' bytes, or why there are none.
    enum Outcome: Sendable {
        case predicted(public: Data, private: Data)
        case failed(reason: String)
    }

    struct Replay: Sendable {
        var outcome: Outcome
        var seconds: Double
        /// The end of the scorer's log (at most 30 lines).
        var log: String
        var directory: String
    }

    var root: String { (config.stateDir as NSString).appendingPathComponent("replays") }

    /// The scorer's mode: scores for the metrics that rank by probability, values otherwise.
    var mode: String { [.rocAUC, .logLoss].contains(config.metric) ? "proba" : "value" }

    /// Replays the model stored at `modelDirectory` for `run`.
    func replay(run: Int64, modelDirectory: String) async throws -> Replay {
        let directory = try makeDirectory(run: run)
        let out = (directory as NSString).appendingPathComponent("out")
        let script = (directory as NSString).appendingPathComponent(ReplayScript.fileName)
        let logPath = (directory as NSString).appendingPathComponent("scorer.log")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try ReplayScript.source.write(toFile: script, atomically: true, encoding: .utf8)
        let features = Evaluator.Split.allCases.map { split in
            (name: split.rawValue, path: (config.dataDir as NSString).appendingPathComponent(split.featureFile))
        }
        let sandbox = ScorerSandbox(config: config, model: modelDirectory, out: out, script: script, features: features)
        let sandboxed = config.sandbox == .bwrap
        // The sandbox's user is the daemon's own uid mapped into its user namespace, so the
        // output directory is writable there as it is.
        let process = ConfinedProcess(
            limits: limits, leaf: "replay-\(run)-\((directory as NSString).lastPathComponent)", maxMemory: config.replayMaxMemory)
        let exit: ConfinedProcess.Exit
        do {
            exit = try await process.run(
                argv: sandboxed ? sandbox.argv(mode: mode) : sandbox.scorerArgv(mode: mode, sandboxed: false),
                environment: ScorerSandbox.environment(config: config), logPath: logPath,
                deadline: ContinuousClock.now + config.replayTimeout)
        } catch {
            throw RPCError(.internalError, "cannot start the scorer: \(error)")
        }
        let seconds = exit.seconds
        let log = Scheduler.tail(of: logPath, lines: 30)
        if sandboxed, log.hasPrefix("bwrap: ") {
            // The sandbox could not be made: the daemon's problem, not the model's.
            logger.error("cannot start the scorer's sandbox", metadata: ["run": "\(run)", "log": "\(log)"])
            throw RPCError(
                .internalError, "the daemon could not start its scorer (reported in its log); nothing was scored or spent, try again later")
        }
        let outcome: Outcome
        if exit.status == nil {
            outcome = .failed(reason: "the scorer ran past its time limit ([evaluation] replay_timeout = \(DurationText.format(config.replayTimeout))) and was stopped")
        } else if exit.oomKills > 0 || log.contains("MemoryError") {
            outcome = .failed(reason: "the scorer ran out of its memory limit ([evaluation] replay_max_memory = \(AgentLimits.size(config.replayMaxMemory))) and was stopped")
        } else if let status = exit.status, status != 0 {
            let line = log.split(separator: "\n").last { $0.hasPrefix("mlagent-replay: ") }
            outcome = .failed(reason: line.map { String($0.dropFirst("mlagent-replay: ".count)) } ?? "the scorer exited with status \(status)")
        } else {
            outcome = await Self.read(out: out)
        }
        logger.info(
            "model replayed",
            metadata: ["run": "\(run)", "seconds": "\(String(format: "%.2f", seconds))", "directory": "\(directory)",
                       "ok": "\({ if case .predicted = outcome { return true } else { return false } }())"])
        return Replay(outcome: outcome, seconds: seconds, log: log, directory: directory)
    }

    /// `<state>/replays/<run>-<n>`, the next n for this run.
    private func makeDirectory(run: Int64) throws -> String {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for attempt in 1...10_000 {
            let path = (root as NSString).appendingPathComponent("\(run)-\(attempt)")
            if mkdir(path, 0o755) == 0 { return path }
            guard errno == EEXIST else { break }
        }
        throw RPCError(.internalError, "cannot create a replay directory: \(String(cString: strerror(errno)))")
    }

    /// The predictions files the scorer wrote, opened without following links (the model could
    /// leave anything in its output directory).
    static func read(out: String) async -> Outcome {
        var files: [Data] = []
        for split in Evaluator.Split.allCases {
            do {
                files.append(try await WorktreeFiles.read("\(out)/\(split.rawValue).csv", worktree: out, maxBytes: 512 << 20))
            } catch {
                return .failed(reason: "the scorer left no readable \(split.rawValue) predictions (\(split.rawValue).csv)")
            }
        }
        return .predicted(public: files[0], private: files[1])
    }
}

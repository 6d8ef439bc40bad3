import Foundation
import Logging

/// What a submission by replay costs: the reference agent's models (one per family, trained and
/// saved by `agents/baseline/bench_models.py`), each replayed by the daemon's own scorer
/// (``ModelReplayer``: the bwrap sandbox, load and predict of 10,000 rows in each split), beside
/// the time the agent took to train that model (the baseline, measured in the same run) and the
/// same replay without the sandbox.
public enum ReplayBenchmark {
    public struct Family: Sendable {
        public var name: String
        public var trainSeconds: Double
        public var saveSeconds: Double
        /// Median wall seconds of a sandboxed replay and of one without the sandbox.
        public var replaySeconds: Double
        public var unsandboxedSeconds: Double
        public var modelBytes: Int
    }

    /// `repository`: the checkout (agents/, data/); `python`: a venv's Python with the agent's
    /// packages and MLflow.
    public static func run(repository: String, python: String, directory: String, rows: Int = 10_000, repeats: Int = 3)
        async throws -> [Family]
    {
        let data = (directory as NSString).appendingPathComponent("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for split in ["public", "private"] {
            try tile((repository as NSString).appendingPathComponent("data/val_\(split)_X.csv"), rows: rows)
                .write(toFile: "\(data)/val_\(split)_X.csv", atomically: true, encoding: .utf8)
        }
        let trained = try train(repository: repository, python: python, out: (directory as NSString).appendingPathComponent("models"))
        var config = DaemonConfig()
        config.python = python
        config.dataDir = data
        config.stateDir = (directory as NSString).appendingPathComponent("state")
        config.replayTimeout = .seconds(900)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let limits = AgentLimits(cgroups: nil, unavailable: "not used by the benchmark")
        var sandboxed = config
        sandboxed.sandbox = .bwrap
        var plain = config
        plain.sandbox = .none
        var families: [Family] = []
        var run: Int64 = 0
        for model in trained {
            func median(_ config: DaemonConfig) async throws -> Double {
                var seconds: [Double] = []
                for _ in 0..<repeats {
                    run += 1
                    let replay = try await ModelReplayer(config: config, limits: limits, logger: logger)
                        .replay(run: run, modelDirectory: model.directory)
                    guard case .predicted = replay.outcome else {
                        throw ConfigError("replaying \(model.name) failed: \(replay.log)")
                    }
                    seconds.append(replay.seconds)
                }
                return seconds.sorted()[seconds.count / 2]
            }
            families.append(Family(
                name: model.name, trainSeconds: model.trainSeconds, saveSeconds: model.saveSeconds,
                replaySeconds: try await median(sandboxed), unsandboxedSeconds: try await median(plain), modelBytes: model.bytes))
        }
        return families
    }

    /// The header and rows of `path`, repeated until there are `rows` rows.
    static func tile(_ path: String, rows: Int) throws -> String {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        guard let header = lines.first, lines.count > 1 else { throw ConfigError("\(path) has no rows") }
        let body = lines.dropFirst()
        var out = [String(header)]
        while out.count <= rows { out += body.prefix(rows + 1 - out.count).map(String.init) }
        return out.joined(separator: "\n") + "\n"
    }

    struct Trained {
        var name: String
        var directory: String
        var trainSeconds: Double
        var saveSeconds: Double
        var bytes: Int
    }

    /// Runs the agent's `bench_models.py` and reads its JSON lines.
    static func train(repository: String, python: String, out: String) throws -> [Trained] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            (repository as NSString).appendingPathComponent("agents/baseline/bench_models.py"),
            "--data", (repository as NSString).appendingPathComponent("data"), "--out", out,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ConfigError("bench_models.py exited with status \(process.terminationStatus)") }
        return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let name = object["family"] as? String, let directory = object["model_dir"] as? String
            else { return nil }
            return Trained(
                name: name, directory: directory, trainSeconds: (object["train_seconds"] as? NSNumber)?.doubleValue ?? 0,
                saveSeconds: (object["save_seconds"] as? NSNumber)?.doubleValue ?? 0,
                bytes: (object["model_bytes"] as? NSNumber)?.intValue ?? 0)
        }
    }
}

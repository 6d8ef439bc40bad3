import Foundation
import Logging

/// Measures landings on `main` the way the merge actor does them (one `git fast-import`
/// commit, no checkout) against the naive approach (check out main in a working tree, write,
/// `git add`, `git commit`, switch back), in one run, while "agents" keep writing files in
/// their worktrees.
public enum LandingBenchmark {
    public struct Result: Sendable {
        public var mergeActorPerSecond: Double
        /// The same landings when each is alone in its batch (no agent finishes together).
        public var oneAtATimePerSecond: Double
        public var naivePerSecond: Double
        public var landings: Int
        public var naiveLandings: Int
    }

    public static func run(directory: String, landings: Int, naiveLandings: Int) async throws -> Result {
        let logger = Logger(label: "bench")
        let data = (directory as NSString).appendingPathComponent("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let rows = (0..<2000).map { "\($0),\(Double($0) / 7),\($0 % 2)" }.joined(separator: "\n")
        try ("f00,f01,target\n" + rows + "\n").write(toFile: data + "/train.csv", atomically: true, encoding: .utf8)
        let workspace = try await Workspace.prepare(
            path: directory + "/workspace", stateDir: directory + "/state", dataDir: data, logger: logger)

        // Three agents writing in their worktrees for the whole measurement.
        var worktrees: [String] = []
        for index in 0..<3 {
            worktrees.append(try await workspace.addWorktree(name: "agent-\(index)", branch: "exp/agent-\(index)"))
        }
        let writers = Task.detached {
            var round = 0
            while !Task.isCancelled {
                for tree in worktrees {
                    try? String(repeating: "x", count: 4096).write(
                        toFile: tree + "/scratch-\(round % 50).txt", atomically: true, encoding: .utf8)
                }
                round += 1
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { writers.cancel() }

        // Directions finish in waves while the merge actor lands: it takes what is pending
        // (at most 8 at a time here, as when a few agents finish together) and lands each
        // direction as its own commit.
        func landAll(prefix: String, wave size: Int) async throws -> Double {
        let start = ContinuousClock.now
        var index = 0
        while index < landings {
            let wave = (index..<min(landings, index + size)).map { number -> Workspace.Landing in
                let number = number + (prefix == "single" ? landings : 0)
                let name = "direction-\(number)"
                return Workspace.Landing(
                    intentID: Int64(number + 1), message: "\(name): completed",
                    files: [
                        "research_directions/\(name).md": .text("# \(name)\n\n- Status: completed\n\nLearnings of \(name).\n"),
                        "mlruns/\(name)/run-1/run.json": .text("{\"direction\":\"\(name)\",\"status\":\"finished\"}\n"),
                    ])
            }
            _ = try await workspace.landedIntents()
            _ = try await workspace.land(batch: wave)
            index += wave.count
        }
        return Double(landings) / (ContinuousClock.now - start).seconds
        }
        let batched = try await landAll(prefix: "batched", wave: 8)
        let single = try await landAll(prefix: "single", wave: 1)

        // The naive way: a working tree that switches to main for every landing.
        let naiveTree = try await workspace.addWorktree(name: "naive", branch: "exp/naive")
        let git = Git(directory: naiveTree)
        let naiveStart = ContinuousClock.now
        for index in 0..<naiveLandings {
            let name = "naive-\(index)"
            try await git.run(["checkout", "--quiet", "--detach", "main"])
            let directionFile = naiveTree + "/research_directions/\(name).md"
            try "# \(name)\n\n- Status: completed\n".write(toFile: directionFile, atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: naiveTree + "/mlruns/\(name)/run-1", withIntermediateDirectories: true)
            try "{}\n".write(toFile: naiveTree + "/mlruns/\(name)/run-1/run.json", atomically: true, encoding: .utf8)
            try await git.run(["add", "research_directions", "mlruns"])
            try await git.run(["commit", "--quiet", "--no-verify", "-m", "\(name): completed"])
            let commit = try await git.run(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
            try await git.run(["update-ref", "refs/heads/main", commit])
            try await git.run(["checkout", "--quiet", "exp/naive"])
        }
        let naiveSeconds = (ContinuousClock.now - naiveStart).seconds
        return Result(
            mergeActorPerSecond: batched, oneAtATimePerSecond: single, naivePerSecond: Double(naiveLandings) / naiveSeconds,
            landings: landings, naiveLandings: naiveLandings)
    }
}

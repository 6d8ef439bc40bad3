import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The main job end to end, as a new user runs it: `scripts/demo.sh` (what `make demo` runs)
/// from a fresh clone of the committed HEAD under `/tmp` (a private `/tmp` in every sandbox),
/// with the binaries, the venv, the daemon's state, `agents/`, `config/` and `data/` all in that
/// clone, the real reference agent on a slice of the default dataset, then its dashboard in a
/// real headless Chromium. A failed run keeps the clone and says where.
@Suite("make demo, end to end", .serialized)
struct DemoTests {
    /// The venv the reference agent's packages are copied from (`make venv` creates it).
    static let sourcePython = Binaries.repositoryRoot.path + "/.venv/bin/python"

    /// Cuts each of the clone's dataset files to its first `rows` data rows (header kept).
    func slice(_ clone: DemoClone, rows: [String: Int]) throws {
        for (name, count) in rows {
            let path = clone.file("data/" + name)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(count + 1)
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// The test's environment without anything naming this checkout or another daemon.
    static var cleanEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("DEMO_") || key.hasPrefix("MLAGENT_") {
            environment.removeValue(forKey: key)
        }
        let root = Binaries.repositoryRoot.path
        environment["PATH"] = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
            .filter { $0 != root && !$0.hasPrefix(root + "/") }.joined(separator: ":")
        return environment
    }

    /// Runs the clone's demo script (from the test's own working directory: the script finds
    /// its clone) with the clone's binaries and short budgets; returns its status and output.
    func demo(_ clone: DemoClone, directions: Int) throws -> (status: Int32, output: String) {
        var environment = Self.cleanEnvironment
        environment["MLAGENT_BIN"] = clone.binDirectory
        environment["MLAGENT_CONFIG"] = clone.file(".demo-test/mlagentd.toml")
        environment["DEMO_DIRECTIONS"] = String(directions)
        environment["DEMO_TIMEOUT"] = "600"
        let output = clone.file(".demo-test/demo-\(directions).out")
        // posix_spawn with a clean signal mask: the daemon the script leaves running must
        // obey SIGTERM, and the test must see the script exit.
        let script = try ChildProcess(
            executable: "/bin/bash", arguments: [clone.file("scripts/demo.sh")], environment: environment, outputPath: output)
        script.waitUntilExit()
        return (script.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// The demo's jobs, if the daemon answers.
    func jobs(at socket: String) -> [Job]? {
        try? Client(connection: try Connection(path: socket)).list()
    }

    static var chromium: String {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/bin/chromium"
    }

    @Test("a clone under /tmp: three directions by the reference agent, scored and landed; a second run continues; the dashboard renders")
    func endToEnd() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.sourcePython),
            "the reference agent's packages are copied from \(Self.sourcePython) (make venv creates it)")
        let clone = try DemoClone()
        let checks = Checks()
        var completed = false
        defer { clone.finish(keep: checks.failed || !completed) }

        let seconds = try clone.makeVenv(from: Self.sourcePython)
        print("DemoTests: the clone's venv took \(String(format: "%.1f", seconds)) s")
        // The clone's venv finds its packages in itself, nowhere in this checkout.
        let probe = try DemoClone.check(clone.python, [
            "-c", "import json, sys, sklearn, pandas, joblib, numpy, scipy; "
                + "print(json.dumps([m.__file__ for m in (sklearn, pandas, joblib, numpy, scipy)] + sys.path))",
        ])
        let paths = try JSONSerialization.jsonObject(with: Data(probe.utf8)) as? [String] ?? []
        checks.expect(paths.prefix(5).allSatisfy { $0.hasPrefix(clone.path + "/.venv/") }, "packages outside the clone's venv: \(paths)")
        checks.expect(
            !paths.contains { $0.hasPrefix(Binaries.repositoryRoot.path + "/") }, "the clone's venv reads this checkout: \(paths)")

        try slice(clone, rows: [
            "train.csv": 4000, "val_public_X.csv": 1500, "val_public_y.csv": 1500, "val_private_X.csv": 1500,
            "val_private_y.csv": 1500,
        ])
        // Only the budgets: every path (data, prompts, agents, the venv's python, the state) is
        // the embedded default, resolved against the clone the script starts the daemon in.
        try """
            [agents.baseline]
            command = ["{python}", "{agents_dir}/baseline/agent.py"]
            timeout = "8m"
            env = { MLAGENT_BASELINE_SCALE = "0.3" }
            """.write(toFile: clone.file(".demo-test/mlagentd.toml"), atomically: true, encoding: .utf8)
        let socket = clone.file(".mlagent/mlagentd.sock")

        let first = try demo(clone, directions: 3)
        var jobs = self.jobs(at: socket)
        let firstOK = first.status == 0 && jobs?.count == 3 && jobs?.allSatisfy { $0.state == .completed } == true
        checks.expect(
            firstOK, "the first demo exited \(first.status) with jobs \(jobs?.map { "\($0.id): \($0.state.rawValue)" } ?? [])\n"
                + clone.diagnostics(demoOutput: first.output, jobs: jobs, allJobs: first.status != 0))
        guard firstOK else { return }
        let pid = clone.daemonPID ?? 0
        checks.expect(pid != 0, "the demo left no daemon running: \(DemoClone.tail(clone.file(".mlagent/mlagentd.log"), 4000))")
        checks.expect(first.output.contains("starting mlagentd"), "\(first.output.suffix(2000))")
        checks.expect(first.output.contains("Overall best:"), "\(first.output.suffix(2000))")
        checks.expect(first.output.contains("public roc_auc"), "\(first.output.suffix(2000))")
        // The daemon is the clone's, runs in the clone, and its agents' logs are in its state.
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        checks.expect(exe == clone.binDirectory + "/mlagentd", "the demo's daemon is \(exe)")
        let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
        checks.expect(cwd == clone.path, "the demo's daemon runs in \(cwd)")
        for job in jobs ?? [] {
            checks.expect(job.logPath?.hasPrefix(clone.stateDir + "/") == true, "job \(job.id) logs to \(job.logPath ?? "nothing")")
        }

        let client = Client(connection: try Connection(path: socket))
        var board = try client.leaderboard()
        checks.expect(board.directions.count == 3, "\(board.directions.map(\.direction))")
        let landed = try DemoClone.check("/usr/bin/git", ["-C", clone.file(".mlagent/workspace"), "ls-tree", "-r", "--name-only", "main"])
        for entry in board.directions {
            checks.expect(entry.status == "completed", "\(entry.direction): \(entry.status)")
            checks.expect(entry.publicScore != nil && entry.privateScore != nil, "\(entry.direction) has no scores")
            checks.expect(entry.runs >= 2, "\(entry.direction) has \(entry.runs) runs")
            checks.expect(
                landed.contains("mlruns/\(entry.direction)/\(entry.submittedRun ?? 0)/artifacts/model/"),
                "\(entry.direction)'s model did not land: \(landed)")
            checks.expect(landed.contains("research_directions/\(entry.direction).md"), "\(entry.direction)'s file did not land")
            // The private score is the daemon's replay of the saved MLflow model, which reproduced
            // the predictions the run was evaluated with.
            checks.expect(entry.submission?.outcome == .reproduced, "\(entry.direction): \(String(describing: entry.submission))")
            checks.expect(
                landed.contains("mlruns/\(entry.direction)/\(entry.submittedRun ?? 0)/artifacts/model/MLmodel"),
                "\(entry.direction)'s model is not an MLflow model directory")
            // Scores are real: better than chance on this task.
            checks.expect((entry.publicScore ?? 0) > 0.6, "\(entry.direction) scored \(entry.publicScore ?? 0)")
        }

        // A second demo continues the same research with a new direction.
        let second = try demo(clone, directions: 1)
        jobs = self.jobs(at: socket)
        let secondOK = second.status == 0 && jobs?.count == 4 && jobs?.allSatisfy { $0.state == .completed } == true
        checks.expect(
            secondOK, "the second demo exited \(second.status) with jobs \(jobs?.map { "\($0.id): \($0.state.rawValue)" } ?? [])\n"
                + clone.diagnostics(demoOutput: second.output, jobs: jobs, allJobs: second.status != 0))
        guard secondOK else { return }
        checks.expect(second.output.contains("already running"), "\(second.output.suffix(2000))")
        board = try client.leaderboard()
        checks.expect(board.directions.count == 4, "\(board.directions.map(\.direction))")
        checks.expect(Set(board.directions.map(\.direction)).count == 4, "\(board.directions.map(\.direction))")
        checks.expect(board.directions.allSatisfy { $0.status == "completed" }, "\(board.directions.map { "\($0.direction): \($0.status)" })")

        try checkDashboard(clone.file("dashboard.html"), directions: board.directions.map(\.direction), clone: clone, checks: checks)
        completed = true
    }

    /// The dashboard: one self-contained file, drawn by a real browser.
    func checkDashboard(_ dashboard: String, directions: [String], clone: DemoClone, checks: Checks) throws {
        let html = try String(contentsOfFile: dashboard, encoding: .utf8)
        checks.expect(!html.contains("http://") && !html.contains("https://"), "the dashboard must not load anything")
        for direction in directions { checks.expect(html.contains(direction), "the dashboard does not show \(direction)") }
        let dom = try DemoClone.run(
            Self.chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom", "file://" + dashboard])
        checks.expect(dom.output.contains("data-rendered=\"ok\""), "the dashboard's script did not run: \(dom.output.suffix(2000))")
        let report = dom.output.range(of: "<pre id=\"render-report\">").flatMap { start in
            dom.output[start.upperBound...].range(of: "</pre>").map { String(dom.output[start.upperBound..<$0.lowerBound]) }
        } ?? ""
        let marks = (try? JSONSerialization.jsonObject(
            with: Data(report.replacingOccurrences(of: "&quot;", with: "\"").utf8))) as? [String: Any] ?? [:]
        for chart in ["chart-progression", "chart-public-private", "chart-distribution", "chart-curves", "chart-timeline"] {
            let count = (marks[chart] as? [String: Any] ?? [:]).values.compactMap { ($0 as? NSNumber)?.intValue }.reduce(0, +)
            checks.expect(count > 0, "\(chart) drew nothing: \(report)")
        }
        let shot = clone.file(".demo-test/dashboard.png")
        _ = try DemoClone.run(
            Self.chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,2400",
             "--screenshot=" + shot, "file://" + dashboard])
        let stats = try DemoClone.run("/usr/bin/python3", [clone.file("Tests/Tools/png_stats.py"), shot])
        let figures = (try? JSONSerialization.jsonObject(with: Data(stats.output.utf8))) as? [String: Any] ?? [:]
        checks.expect(((figures["colours"] as? NSNumber)?.intValue ?? 0) > 40, "\(stats.output)")
        checks.expect(((figures["non_white_fraction"] as? NSNumber)?.doubleValue ?? 0) > 0.05, "\(stats.output)")
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The main job end to end: `scripts/demo.sh` (what `make demo` runs) with the real reference
/// agent on a slice of the default dataset, then its dashboard in a real headless Chromium.
@Suite("make demo, end to end", .serialized)
struct DemoTests {
    static let root = Binaries.repositoryRoot.path
    static let python = root + "/.venv/bin/python"

    /// The first `rows` data rows of each dataset file (header kept).
    func slice(into directory: String, rows: [String: Int]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, count) in rows {
            let text = try String(contentsOfFile: Self.root + "/data/" + name, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(count + 1)
            try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
    }

    /// Runs the demo script with a small slice and short budgets; returns its output.
    func demo(_ dir: TempDir, directions: Int) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "MLAGENT_SOCKET")
        environment["MLAGENT_BIN"] = Binaries.directory.path
        environment["DEMO_STATE"] = dir.file("state")
        environment["DEMO_DASHBOARD"] = dir.file("dashboard.html")
        environment["MLAGENT_CONFIG"] = dir.file("mlagentd.toml")
        environment["DEMO_DIRECTIONS"] = String(directions)
        environment["DEMO_TIMEOUT"] = "600"
        let output = dir.file("demo-\(directions).out")
        // posix_spawn with a clean signal mask: the daemon the script leaves running must
        // obey SIGTERM, and the test must see the script exit.
        let script = try ChildProcess(
            executable: "/bin/bash", arguments: [Self.root + "/scripts/demo.sh"], environment: environment, outputPath: output)
        script.waitUntilExit()
        return (script.terminationStatus, try String(contentsOfFile: output, encoding: .utf8))
    }

    /// Runs a program to completion (posix_spawn, clean signal mask); returns its output.
    func run(_ executable: String, _ arguments: [String], in dir: TempDir) throws -> (status: Int32, output: String) {
        let output = dir.file("run-\(UUID().uuidString).out")
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: ProcessInfo.processInfo.environment,
            outputPath: output)
        child.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: output) }
        return (child.terminationStatus, try String(contentsOfFile: output, encoding: .utf8))
    }

    static var chromium: String {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/bin/chromium"
    }

    @Test("three directions by the reference agent, scored and landed; a second run continues; the dashboard renders")
    func endToEnd() throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.python),
            "the reference agent needs \(Self.python) (make venv creates it)")
        let dir = try TempDir("demo")
        try slice(into: dir.file("data"), rows: [
            "train.csv": 4000, "val_public_X.csv": 1500, "val_public_y.csv": 1500, "val_private_X.csv": 1500,
            "val_private_y.csv": 1500,
        ])
        try """
            [daemon]
            data_dir = "\(dir.file("data"))"
            prompts_dir = "\(Self.root)/config/prompts"
            agents_dir = "\(Self.root)/agents"
            python = "\(Self.python)"
            [agents.baseline]
            command = ["{python}", "{agents_dir}/baseline/agent.py"]
            timeout = "8m"
            env = { MLAGENT_BASELINE_SCALE = "0.3" }
            """.write(toFile: dir.file("mlagentd.toml"), atomically: true, encoding: .utf8)
        let socket = dir.file("state/mlagentd.sock")
        defer {
            // The demo leaves the daemon running: stop it (as `make stop` does).
            if let pid = try? String(contentsOfFile: dir.file("state/mlagentd.lock"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), let value = Int32(pid)
            {
                kill(value, SIGTERM)
                try? waitUntil("the demo daemon to stop", timeout: .seconds(30)) { kill(value, 0) != 0 }
            }
        }

        let first = try demo(dir, directions: 3)
        #expect(first.status == 0, "\(first.output.suffix(3000))")
        #expect(first.output.contains("starting mlagentd"))
        #expect(first.output.contains("Overall best:"), "\(first.output.suffix(2000))")
        #expect(first.output.contains("public roc_auc"))
        let client = Client(connection: try Connection(path: socket))
        var board = try client.leaderboard()
        #expect(board.directions.count == 3)
        for entry in board.directions {
            #expect(entry.status == "completed", "\(entry.direction): \(entry.status)")
            #expect(entry.publicScore != nil && entry.privateScore != nil, "\(entry.direction)")
            #expect(entry.runs >= 2, "\(entry.direction) has \(entry.runs) runs")
            let landed = try run("/usr/bin/git", ["-C", dir.file("state/workspace"), "ls-tree", "-r", "--name-only", "main"], in: dir).output
            #expect(landed.contains("mlruns/\(entry.direction)/\(entry.submittedRun ?? 0)/artifacts/model/"), "\(landed)")
            #expect(landed.contains("research_directions/\(entry.direction).md"))
        }
        // Scores are real: better than chance on this task.
        #expect(board.directions.allSatisfy { ($0.publicScore ?? 0) > 0.6 })

        // A second demo continues the same research with a new direction.
        let second = try demo(dir, directions: 1)
        #expect(second.status == 0, "\(second.output.suffix(3000))")
        #expect(second.output.contains("already running"))
        board = try client.leaderboard()
        #expect(board.directions.count == 4)
        #expect(Set(board.directions.map(\.direction)).count == 4)
        #expect(board.directions.allSatisfy { $0.status == "completed" })

        // The dashboard: one self-contained file, drawn by a real browser.
        let html = try String(contentsOfFile: dir.file("dashboard.html"), encoding: .utf8)
        #expect(!html.contains("http://") && !html.contains("https://"), "the dashboard must not load anything")
        for entry in board.directions { #expect(html.contains(entry.direction)) }
        let dom = try run(
            Self.chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
             "file://" + dir.file("dashboard.html")], in: dir)
        #expect(dom.output.contains("data-rendered=\"ok\""), "the dashboard's script did not run")
        let report = dom.output.range(of: "<pre id=\"render-report\">").flatMap { start in
            dom.output[start.upperBound...].range(of: "</pre>").map { String(dom.output[start.upperBound..<$0.lowerBound]) }
        } ?? ""
        let marks = try JSONSerialization.jsonObject(
            with: Data(report.replacingOccurrences(of: "&quot;", with: "\"").utf8)) as? [String: Any] ?? [:]
        for chart in ["chart-progression", "chart-public-private", "chart-distribution", "chart-curves", "chart-timeline"] {
            let count = (marks[chart] as? [String: Any] ?? [:]).values.compactMap { ($0 as? NSNumber)?.intValue }.reduce(0, +)
            #expect(count > 0, "\(chart) drew nothing: \(report)")
        }
        let shot = dir.file("dashboard.png")
        _ = try run(
            Self.chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,2400",
             "--screenshot=" + shot, "file://" + dir.file("dashboard.html")], in: dir)
        let stats = try run("/usr/bin/python3", [Self.root + "/Tests/Tools/png_stats.py", shot], in: dir)
        let figures = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any] ?? [:]
        #expect(((figures["colours"] as? NSNumber)?.intValue ?? 0) > 40, "\(stats.output)")
        #expect(((figures["non_white_fraction"] as? NSNumber)?.doubleValue ?? 0) > 0.05, "\(stats.output)")
    }
}

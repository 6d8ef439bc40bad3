import Foundation
import MLAgentDashboard
import Testing

/// Writes the sample page to /var/tmp/dashboard-sample.html, checks in headless Chromium that
/// the page script ran, and takes a screenshot to look at.
@Suite("Dashboard in a browser")
struct BrowserRenderTests {
    static let samplePath = "/var/tmp/dashboard-sample.html"
    static let screenshotPath = "/var/tmp/dashboard.png"

    static func chromium() -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/bin", "/usr/local/bin"]
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        }
        return nil
    }

    /// Runs the browser with a deadline and returns its standard output.
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 90) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    @Test("the sample page renders in headless Chromium")
    func sampleRendersInChromium() throws {
        let html = DashboardRenderer.render(DashboardFixtures.session())
        try html.write(toFile: Self.samplePath, atomically: true, encoding: .utf8)
        let chromium = try #require(Self.chromium(), "Chromium is needed to render the dashboard (make test-deps installs it)")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
        let dom = try Self.run(chromium, common + ["--dump-dom", "file://\(Self.samplePath)"])
        #expect(dom.contains(#"data-rendered="ok""#), "the page script did not finish")
        if let start = dom.range(of: #"<pre id="render-report">"#), let end = dom.range(of: "</pre>", range: start.upperBound..<dom.endIndex) {
            let report = String(dom[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
            let progression = try #require(json["chart-progression"] as? [String: Int])
            #expect(progression["circle"] ?? 0 >= 25)
            let explorer = try #require(json["curve-explorer"] as? [String: Int])
            #expect(explorer["path"] ?? 0 >= 3, "the explorer drew the selected run's curves")
        } else {
            Issue.record("no render report in the DOM")
        }
        _ = try Self.run(chromium, common + ["--screenshot=\(Self.screenshotPath)", "--window-size=1400,3000", "file://\(Self.samplePath)"])
        #expect(FileManager.default.fileExists(atPath: Self.screenshotPath))
    }

    @Test("the page script also runs on an empty session")
    func emptyRendersInChromium() throws {
        let chromium = try #require(Self.chromium(), "Chromium is needed to render the dashboard (make test-deps installs it)")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-empty-\(UUID().uuidString).html").path
        try DashboardRenderer.render(DashboardFixtures.empty()).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let dom = try Self.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom", "file://\(path)"])
        #expect(dom.contains(#"data-rendered="ok""#))
    }
}

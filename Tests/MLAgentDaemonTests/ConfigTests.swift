import Foundation
@testable import MLAgentDaemon
import Testing

@Suite("Configuration")
struct ConfigTests {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("the shipped config/mlagentd.toml documents exactly the embedded defaults")
    func shippedConfigMatchesDefaults() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config/mlagentd.toml").path
        let loaded = try ConfigLoader.load(path: path)
        #expect(loaded == DaemonConfig())
    }

    @Test("values override the defaults")
    func overrides() throws {
        let config = try ConfigLoader.parse(
            """
            [daemon]
            socket = "/run/x.sock"
            idle_timeout = "90s"
            max_line_bytes = 4096
            log_target = "stderr"
            socket_mode = "0600"
            [store]
            synchronous = "normal"
            [scheduler]
            max_agents = 5
            [evaluation]
            metric = "rmse"
            public_eval_budget = 7
            overfit_gap = 1
            """, source: "test.toml")
        #expect(config.metric == .rmse && !config.evaluationPolicy.higherIsBetter)
        #expect(config.publicEvalBudget == 7 && config.overfitGaps[.rmse] == .absolute(1))
        #expect(config.socketPath == "/run/x.sock")
        #expect(config.idleTimeout == .seconds(90))
        #expect(config.maxLineBytes == 4096)
        #expect(config.logTarget == .stderr)
        #expect(config.socketMode == 0o600)
        #expect(config.synchronous == .normal)
        #expect(config.maxAgents == 5)
    }

    @Test(
        "mistakes are errors that name the key",
        arguments: [
            ("[daemon]\nsockt = \"x\"", "unknown key daemon.sockt"),
            ("[demon]\n", "unknown section [demon]"),
            ("[daemon]\nmax_line_bytes = \"big\"", "daemon.max_line_bytes must be an integer"),
            ("[daemon]\nidle_timeout = \"soon\"", "daemon.idle_timeout = \"soon\" is not a duration"),
            ("[scheduler]\nmax_agents = 0", "scheduler.max_agents = 0 is out of range"),
            ("[store]\nsynchronous = \"off\"", "store.synchronous = \"off\" is not one of full, normal"),
            ("[evaluation]\nmetric = \"auc\"", "evaluation.metric = \"auc\" is not one of roc_auc"),
            ("[evaluation]\noverfit_gap = \"small\"", "evaluation.overfit_gap must be a number"),
            ("[daemon\n", "test.toml:"),
        ])
    func errors(text: String, expected: String) {
        do {
            _ = try ConfigLoader.parse(text, source: "test.toml")
            Issue.record("no error for \(text)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test("durations parse and format")
    func durations() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("2h") == .seconds(7200))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("30") == .seconds(30))
        #expect(DurationText.parse("-1s") == nil)
        #expect(DurationText.parse("abc") == nil)
        #expect(DurationText.format(.seconds(600)) == "10m")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
    }

    @Test("relative paths resolve against a directory")
    func pathResolution() {
        let config = DaemonConfig().resolvingPaths(against: "/srv/research")
        #expect(config.stateDir == "/srv/research/.mlagent")
        #expect(config.socketPath == "/srv/research/.mlagent/mlagentd.sock")
        #expect(config.databasePath == "/srv/research/.mlagent/mlagentd.sqlite3")
        #expect(config.workspace == "/srv/research/.mlagent/workspace")
    }

    @Test("journal field names follow journald's rules")
    func journalFields() {
        #expect(JournalLogHandler.fieldName("job.id") == "JOB_ID")
        #expect(JournalLogHandler.fieldName("direction") == "DIRECTION")
        #expect(JournalLogHandler.fieldName("_x") == "X")
        #expect(JournalLogHandler.fieldName("1abc") == "F_1ABC")
    }
}

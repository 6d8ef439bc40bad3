import ArgumentParser
import Foundation
import Logging
import MLAgentDaemon
import MLAgentProtocol

@main
struct MLAgentDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlagentd",
        abstract: "The mlagent daemon: durable research-job queue and control socket.",
        discussion: """
            Runs in the foreground. Flags override the config file; the config file overrides the \
            embedded defaults (state under ./.mlagent/). SIGTERM or SIGINT stop it gracefully.
            """,
        version: mlagentVersion)

    @Option(name: .long, help: "Config file (TOML). Default: $MLAGENT_CONFIG, else the embedded defaults.")
    var config: String?

    @Option(name: .customLong("state-dir"), help: "Directory for the database, logs and worktrees.")
    var stateDir: String?

    @Option(name: .long, help: "Path of the control socket.")
    var socket: String?

    @Option(name: .long, help: "The research workspace (a git repository).")
    var workspace: String?

    @Option(name: .customLong("data"), help: "The dataset directory (train.csv, *_X.csv and the *_y.csv targets) a new workspace is made from.")
    var dataDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() async throws {
        var settings = DaemonConfig()
        let configPath = config ?? ProcessInfo.processInfo.environment["MLAGENT_CONFIG"]
        do {
            if let configPath {
                settings = try ConfigLoader.load(path: configPath)
            }
        } catch {
            Self.fail("\(error)")
        }
        if let stateDir { settings.stateDir = stateDir }
        if let socket { settings.socketPath = socket }
        if let workspace { settings.workspace = workspace }
        if let dataDir { settings.dataDir = dataDir }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                Self.fail("--log-level \(logLevel) is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.logLevel = level
        }

        settings = settings.resolvingPaths(against: FileManager.default.currentDirectoryPath)

        let useJournal: Bool
        switch settings.logTarget {
        case .journal: useJournal = JournalLogHandler.journaldAvailable
        case .stderr: useJournal = false
        case .auto: useJournal = JournalLogHandler.stderrIsJournal && JournalLogHandler.journaldAvailable
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            if useJournal {
                return JournalLogHandler(label: label, level: level)
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mlagentd")
        do {
            try await Daemon.run(config: settings, logger: logger)
        } catch {
            logger.critical("mlagentd cannot run: \(error)")
            if useJournal { Self.fail("\(error)") }
            throw ExitCode.failure
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("mlagentd: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct MLflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlflow", abstract: "The MLflow mirror: its status, and a sync or a full replay into another server.",
        subcommands: [MLflowStatusCommand.self, MLflowSyncCommand.self])
}

struct MLflowStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Where runs are mirrored, how far behind, the last error, refused requests.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let status = try options.withClient { try $0.mlflowStatus() }
        if options.json { return try options.printJSON(status) }
        guard !status.trackingURI.isEmpty else {
            return Output.line("the MLflow mirror is off: set [mlflow] tracking_uri (and serve = true to run the server)")
        }
        Output.line("tracking URI   \(status.trackingURI)\(status.serving ? "  (served by mlagentd\(status.serverPID.map { ", pid \($0)" } ?? ", not running"))" : "")")
        Output.line("experiment     \(status.experimentName.map { "\($0) " } ?? "")(id \(status.experimentID ?? "-"))")
        Output.line("runs mirrored  \(status.runsMirrored)")
        Output.line("lag            \(status.runsPending) runs, \(status.pointsPending) metric points waiting")
        Output.line("last success   \(status.lastSuccess ?? "-")")
        Output.line("last error     \(status.lastError ?? "-")")
        let cut = status.tagsCut ?? 0
        Output.line("tags cut       \(cut == 0 ? "none" : "\(cut) (longer than MLflow keeps; full text in the artifacts mlagent/tags/KEY.txt)")")
        if status.deadLetters.isEmpty { return Output.line("dead letters   none") }
        Output.line("dead letters   \(status.deadLetters.count) (requests MLflow refused for good):")
        for letter in status.deadLetters {
            Output.line("  \(letter.time)  run \(letter.run)  \(letter.operation)  HTTP \(letter.status)  \(letter.reason)")
        }
    }
}

struct MLflowSyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Send what is pending now; with --tracking-uri, replay the whole history into that (empty) server.")

    @Option(name: .long, help: "Another MLflow server (http://HOST:PORT) to rebuild from the daemon's records.")
    var trackingURI: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let result = try options.withClient(timeout: nil) { try $0.mlflowSync(trackingURI: trackingURI) }
        if options.json { return try options.printJSON(result) }
        Output.line(
            "synced \(result.runs) runs and \(result.points) metric points to \(result.trackingURI) in \(String(format: "%.1f", result.seconds)) s")
    }
}

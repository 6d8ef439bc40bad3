import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "(agent) Score predictions on the public validation split and log public_val_score on the run.",
        discussion: """
            PREDICTIONS is a CSV inside your worktree: a header line, then one prediction per row of \
            data/val_public_X.csv, in order (probabilities for roc_auc and log_loss). Each call spends \
            one of your direction's public evaluations; a file that cannot be scored spends nothing.
            """)

    @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
    var runID: Int64

    @Argument(help: "The predictions CSV.")
    var predictions: String

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let result = try options.withClient(timeout: .seconds(300)) { try $0.evaluate(run: runID, path: absolutePath(predictions)) }
        if options.json { return try options.printJSON(result) }
        Output.line(
            "run \(runID): public \(result.metric) \(Output.score(result.score))\(Output.interval(result.interval)); \(result.publicEvalsLeft) public evaluations left")
    }
}

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "(agent) Score the private split: once per direction, for a finished run with a model.",
        discussion: """
            By default the daemon replays the run's saved model (the MLflow model uploaded with \
            run artifact RUN DIR --as model) in a sandbox, scores the private split from its predictions \
            and checks that it reproduces the public predictions the run was evaluated with: the outcome is \
            reproduced, or mismatch (scored, with the replayed public score beside the reported one). A \
            model that cannot be loaded or predict is unreproducible: nothing is spent. Where the daemon \
            is configured with [evaluation] submit = "predictions", give the private predictions CSV (one \
            row per row of data/val_private_X.csv); such submissions are marked agent-predicted.
            """)

    @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
    var runID: Int64

    @Argument(help: "The private predictions CSV, only where the daemon takes predictions ([evaluation] submit = \"predictions\").")
    var predictions: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        // A replay loads the model and predicts both splits within the daemon's replay_timeout.
        let result = try options.withClient(timeout: .seconds(6 * 3600)) {
            try $0.submit(run: runID, path: predictions.map(absolutePath))
        }
        if options.json { return try options.printJSON(result) }
        var line = "run \(runID): private \(result.metric) \(Output.score(result.score))\(Output.interval(result.interval))"
        if let publicScore = result.publicScore { line += ", public \(Output.score(publicScore))" }
        if let gap = result.gap { line += ", gap \(String(format: "%+.4f", gap))" }
        Output.line(line)
        if let submission = result.submission { Output.line(SubmitCommand.describe(submission)) }
        if let reason = result.overfitReason { Output.line("\(result.overfit == true ? "overfit" : "not flagged"): \(reason)") }
    }

    static func describe(_ submission: Submission) -> String {
        switch submission.outcome {
        case .reproduced:
            let seconds = submission.seconds.map { String(format: " in %.1f s", $0) } ?? ""
            return "reproduced: the daemon replayed the saved model\(seconds); its public predictions equal the evaluated ones (largest difference \(String(format: "%.1e", submission.maxAbsDifference ?? 0)))"
        case .mismatch:
            return "mismatch: the saved model's public predictions differ from the evaluated ones in \(submission.differingRows ?? 0) rows (largest difference \(String(format: "%.3g", submission.maxAbsDifference ?? .nan))); replayed public \(Output.score(submission.replayedPublicScore)) vs reported \(Output.score(submission.reportedPublicScore)); the private score is the saved model's"
        case .agentPredicted: return "agent-predicted: scored from your predictions file, not replayed"
        case .unreproducible: return "unreproducible: \(submission.reason ?? "")"
        }
    }
}

struct LeaderboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaderboard", abstract: "Directions ranked by public score, with private scores, gaps and flags.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let (board, usage) = try options.withClient(idempotent: true) { client in
            (try client.leaderboard(), options.json ? nil : try? client.usageReport())
        }
        if options.json { return try options.printJSON(board) }
        Output.line(
            "\(board.metric) (\(board.higherIsBetter ? "higher" : "lower") is better); 95% bootstrap intervals; gap = \(board.gapDefinition) (positive: private is worse)")
        if board.directions.isEmpty { return Output.line("no directions yet") }
        Output.line(
            Output.table(
                ["#", "DIRECTION", "STATUS", "PUBLIC", "95% CI", "VS LEADER (95% CI)", "PRIVATE", "SUBMISSION", "GAP", "RUNS", "BEST", "COST", "FLAGS"],
                board.directions.map { entry in
                    [
                        String(entry.rank), entry.direction, entry.status, Output.score(entry.publicScore),
                        entry.publicInterval.map { "\(Output.score($0.low))–\(Output.score($0.high))" } ?? "-",
                        LeaderColumn.cell(entry, rank: entry.rank), Output.score(entry.privateScore),
                        entry.submission?.outcome.rawValue ?? "-", entry.gap.map { String(format: "%+.4f", $0) } ?? "-",
                        entry.failedRuns > 0 ? "\(entry.runs) (\(entry.failedRuns) failed)" : String(entry.runs),
                        entry.bestRun.map(String.init) ?? "-", UsageOutput.cost(usage?.usage(ofDirection: entry.direction)),
                        entry.flags.isEmpty ? "-" : entry.flags.joined(separator: ","),
                    ]
                }))
        for entry in board.directions {
            if let reason = entry.overfitReason { Output.line("overfit \(entry.direction): \(reason)") }
        }
        if let rule = board.overfitRule { Output.line("A direction is \(rule).") }
        if let line = LeaderColumn.footnote(board) { Output.line(line) }
    }
}

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "The session's final report: ranked directions, overall best, public/private gap, what was tried.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let (summary, usage) = try options.withClient(idempotent: true) { client in
            (try client.summary(), options.json ? nil : try? client.usageReport())
        }
        if options.json { return try options.printJSON(summary) }
        Output.line(summary.text)
        for line in UsageOutput.summaryLines(usage, best: summary.best?.direction) { Output.line(line) }
    }
}

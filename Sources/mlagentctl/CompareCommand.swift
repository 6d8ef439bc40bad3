import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs on the same public rows: paired difference, 95% interval, P(A better).",
        discussion: """
            A paired bootstrap of the predictions behind each run's public score (its latest public \
            evaluation): every resample draws the public rows with replacement once and scores both \
            runs on it, so the difference A − B is judged against the noise of the rows themselves. \
            The two are distinguishable when the 95% interval excludes 0. Both runs need a public \
            evaluation; any run can be compared, by operators and agents.
            """)

    @Argument(help: ArgumentHelp("Run A.", valueName: "run-a"))
    var runA: Int64

    @Argument(help: ArgumentHelp("Run B.", valueName: "run-b"))
    var runB: Int64

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let result = try options.withClient(timeout: .seconds(300), idempotent: true) {
            try $0.compare(runA: runA, runB: runB)
        }
        if options.json { return try options.printJSON(result) }
        let sense = result.higherIsBetter ? "higher is better" : "lower is better"
        Output.line("\(result.metric) (\(sense)) on \(result.rows) public rows")
        Output.line("  A: run \(runA) (\(result.directionA))  \(Output.score(result.scoreA))")
        Output.line("  B: run \(runB) (\(result.directionB))  \(Output.score(result.scoreB))")
        var line = "  A − B: \(String(format: "%+.4f", result.difference))"
        if let interval = result.interval {
            line += "  95% CI [\(String(format: "%+.4f", interval.low)), \(String(format: "%+.4f", interval.high))]"
            line += " over \(interval.samples) paired resamples"
        }
        Output.line(line)
        if let probability = result.probabilityABetter {
            Output.line("  P(A better): \(String(format: "%.3f", probability))")
        }
        Output.line(result.verdict + ".")
    }
}

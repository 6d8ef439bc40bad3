import ArgumentParser
import Foundation
import MLAgentProtocol

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print an agent's stdout and stderr (stream-json rendered readable); with --follow, keep printing.")

    @Argument(help: "The job id.")
    var id: Int64

    @Flag(name: [.long, .customShort("f")], help: "Keep printing until the job ends.")
    var follow = false

    @Flag(name: .long, help: "Print the log as the agent wrote it (no rendering of stream-json).")
    var raw = false

    @OptionGroup var options: GlobalOptions

    func run() throws {
        try options.withClient(timeout: .seconds(60), idempotent: true) { client in
            var printer = LogPrinter(raw: raw, prices: raw || options.json ? nil : LogPrinter.prices(client: client, job: id))
            var offset: Int64 = 0
            var collected = ""
            while true {
                let chunk = try client.logs(id: id, offset: offset)
                if options.json {
                    collected += chunk.data
                } else if !chunk.data.isEmpty {
                    printer.write(chunk.data)
                }
                let progressed = chunk.nextOffset > offset
                offset = chunk.nextOffset
                // More is there: read on at once. Bytes held back (the middle of a character
                // still being written) are waited for like new output.
                if chunk.nextOffset < chunk.size, progressed { continue }
                if !follow || !chunk.running { break }
                Thread.sleep(forTimeInterval: 0.25)
            }
            printer.finish()
            if options.json {
                try options.printJSON(["job_id": String(id), "data": collected])
            }
        }
    }
}

struct DirectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "direction", abstract: "Declare, finish or list research directions.",
        subcommands: [DeclareCommand.self, FinishCommand.self, DirectionsListCommand.self])
}

struct DeclareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "declare",
        abstract: "(agent) Name the direction you picked; creates exp/NAME and lands its file on main.")

    @Argument(help: "A lowercase slug not used in this workspace yet.")
    var name: String

    @Option(name: .long, help: "Why this direction, and what it adds to earlier ones.")
    var rationale: String

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let direction = try options.withClient { try $0.declare(name: name, rationale: rationale) }
        if options.json { return try options.printJSON(direction) }
        Output.line("declared \(direction.name) on branch \(direction.branch)")
    }
}

struct FinishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finish", abstract: "(agent) End your direction with your learnings; lands the final file on main.")

    @Option(name: .long, help: "A Markdown file with your learnings (cite run ids).")
    var learnings: String

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: learnings, encoding: .utf8)
        } catch {
            Output.error("cannot read learnings file \(learnings): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        let direction = try options.withClient { try $0.finish(learnings: text) }
        if options.json { return try options.printJSON(direction) }
        Output.line("finished \(direction.name) (\(direction.status))")
    }
}

struct DirectionsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the directions.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let directions = try options.withClient(idempotent: true) { try $0.directions() }
        if options.json { return try options.printJSON(DirectionList(directions: directions)) }
        if directions.isEmpty { return Output.line("no directions yet") }
        Output.line(
            Output.table(
                ["DIRECTION", "STATUS", "JOB", "STARTED", "BRANCH", "SUBMITTED", "FLAGS"],
                directions.map {
                    [
                        $0.name, $0.status, String($0.jobID), Output.time($0.startedAt), $0.branch,
                        $0.submittedRun.map { "run \($0)" } ?? "-", $0.overfit ? "overfit" : "-",
                    ]
                }))
    }
}

struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore", abstract: "Queue jobs whose agents pick their own directions.")

    @Option(name: .long, help: "How many jobs (default 1).")
    var count = 1

    @Option(name: .long, help: "Agent profile.")
    var agent: String?

    @Option(name: .long, help: "Guidance for the agents.")
    var guidance: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let jobs = try options.withClient {
            try $0.explore(ExploreParams(count: count, agent: agent, guidance: guidance))
        }
        if options.json { return try options.printJSON(JobList(jobs: jobs)) }
        Output.line(jobs.map { String($0.id) }.joined(separator: "\n"))
    }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Halt experimentation: no new launches; --now also cancels running jobs.")

    @Flag(name: .long, help: "Cancel running jobs too.")
    var now = false

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let report = try options.withClient(timeout: .seconds(300)) { try $0.stop(now: now) }
        if options.json { return try options.printJSON(report) }
        Output.line(report.summary)
        for direction in report.directions {
            Output.line("  \(direction.name)  \(direction.status)  (job \(direction.jobID), \(direction.branch))")
        }
    }
}

struct ContinueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continue", abstract: "Let autonomous launches go on after a report (autonomy = \"ask\").")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let state = try options.withClient { try $0.continueSession() }
        if options.json { return try options.printJSON(state) }
        Output.line(state.paused ? "continuing, but the queue is paused (mlagentctl resume)" : "continuing")
    }
}

import ArgumentParser
import Foundation
import MLAgentProtocol

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs.")

    @Option(name: .long, help: "Only jobs in this state: \(JobState.allCases.map(\.rawValue).joined(separator: ", ")).")
    var state: JobState?

    @Option(name: .long, parsing: .unconditional, help: "At most this many jobs.")
    var limit: Int?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let jobs = try options.withClient(idempotent: true) { try $0.list(state: state, limit: limit) }
        if options.json { return try options.printJSON(JobList(jobs: jobs)) }
        if jobs.isEmpty {
            Output.line(state.map { "no \($0.rawValue) jobs" } ?? "no jobs yet; queue one with `mlagentctl enqueue NAME`")
            return
        }
        // Slurm's view of each cluster job, when there are any.
        let cluster = jobs.contains { $0.slurm != nil }
        let rows = jobs.map { job in
            [String(job.id), job.state.rawValue, String(job.priority), job.agent, String(job.attempts),
             Output.time(job.createdAt), Output.direction(job)] + (cluster ? [job.slurm?.summary ?? "-"] : [])
        }
        Output.line(Output.table(["ID", "STATE", "PRIO", "AGENT", "TRIES", "CREATED", "DIRECTION"] + (cluster ? ["SLURM"] : []), rows))
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one job.")

    @Argument(help: "The job id.")
    var id: Int64

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let job = try options.withClient(idempotent: true) { try $0.show(id: id) }
        if options.json { return try options.printJSON(job) }
        Output.line("job        \(job.id)")
        Output.line("direction  \(Output.direction(job))")
        Output.line("state      \(job.state.rawValue)\(job.reason.map { " (\($0))" } ?? "")")
        Output.line("agent      \(job.agent)")
        if let slurm = job.slurm { Output.line("slurm      job \(slurm.summary)") }
        Output.line("priority   \(job.priority)")
        Output.line("attempts   \(job.attempts)")
        Output.line("created    \(Output.time(job.createdAt))")
        Output.line("updated    \(Output.time(job.updatedAt))")
        Output.line("started    \(Output.time(job.startedAt))")
        Output.line("finished   \(Output.time(job.finishedAt))")
        if !job.guidance.isEmpty { Output.line("guidance   \(job.guidance)") }
        if let usage = job.usage { Output.line("cost       \(UsageOutput.describe(usage))") }
        if let resources = job.resources {
            Output.line("memory     \(resources.peakMemoryBytes.map { "peak \(Self.bytes($0))" } ?? "not measured")")
            let processes = [resources.processes.map { "\($0) at the end" }, resources.peakProcesses.map { "peak \($0)" }]
            Output.line("processes  \(processes.compactMap { $0 }.joined(separator: ", ").nonEmpty ?? "not measured")")
            Output.line("cpu        \(resources.cpuUsec.map { String(format: "%.2f s", Double($0) / 1e6) } ?? "not measured")")
            Output.line("limits     \(resources.enforcement)")
        }
    }

    /// 1.5 GiB, 312.0 MiB, 4.0 KiB.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a queued, running or interrupted job.")

    @Argument(help: "The job id.")
    var id: Int64

    @Option(name: .long, help: "Why (recorded in the job and its event).")
    var reason: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let job = try options.withClient { try $0.cancel(id: id, reason: reason) }
        if options.json { return try options.printJSON(job) }
        Output.line("job \(job.id) cancelled (\(Output.direction(job)))")
    }
}

import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until jobs end; with --progress, print what their agents do meanwhile.",
        discussion: "Without ids, waits for every job queued or running now. Exits 0 once all of them are completed, failed or cancelled and their worktrees are archived on their branches (the states are printed), 1 on --timeout.")

    @Argument(help: "Job ids (default: all queued and running jobs).")
    var ids: [Int64] = []

    @Flag(name: .long, help: "Print runs, scores, submissions and direction changes as they happen.")
    var progress = false

    @Option(name: .long, parsing: .unconditional, help: "Give up after this many seconds.")
    var timeout: Double?

    @OptionGroup var options: GlobalOptions

    static let progressKinds: Set<String> = [
        EventKind.directionDeclared, EventKind.runEvaluated, EventKind.runSubmitted, EventKind.overfit,
        EventKind.directionFinished, EventKind.directionLanded, EventKind.jobState, EventKind.agentStarted,
    ]

    func run() throws {
        let deadline = timeout.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        let jobs = try options.withClient(timeout: .seconds(60)) { client -> [Job] in
            var waiting = Set(ids)
            if waiting.isEmpty {
                waiting = Set(try client.list().filter { !$0.isSettled }.map(\.id))
            }
            // Unknown ids are refused up front (with the daemon's message); then one list per
            // poll, however many jobs are awaited.
            for id in waiting { _ = try client.show(id: id) }
            var seq = try client.status().lastSeq
            while true {
                let current = try client.list().filter { waiting.contains($0.id) }
                // Ended and archived: whatever the agent left is committed on its branch.
                if current.allSatisfy(\.isSettled) { return current.sorted { $0.id < $1.id } }
                if let deadline, ContinuousClock.now >= deadline {
                    let open = current.filter { !$0.isSettled }.map { String($0.id) }.joined(separator: ", ")
                    throw Output.refuse("timed out waiting for job \(open)")
                }
                let page = try client.events(since: seq, limit: 1000)
                for event in page.events {
                    seq = event.seq
                    guard progress, Self.progressKinds.contains(event.kind) else { continue }
                    if let job = event.jobID, !waiting.contains(job) { continue }
                    if options.json {
                        try options.printJSON(event)
                    } else {
                        Output.line("\(Output.clock(event.time))  \(event.message.split(separator: "\n").first ?? "")")
                    }
                }
                if page.events.count < 1000 { Thread.sleep(forTimeInterval: 0.5) }
            }
        }
        if options.json { return try options.printJSON(JobList(jobs: jobs)) }
        let counts = Dictionary(grouping: jobs, by: \.state).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
        Output.line("\(jobs.count) jobs ended: \(counts.joined(separator: ", "))")
    }
}

import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the event log; with --follow, keep printing new events.",
        discussion: "Without --since, prints the last --lines events (default 20). --since SEQ prints every event after SEQ, so a reader can resume exactly where it stopped.")

    @Flag(name: [.long, .customShort("f")], help: "Keep the connection open and print events as they happen.")
    var follow = false

    @Option(name: .long, parsing: .unconditional, help: "Print events with a seq greater than this.")
    var since: Int64?

    @Option(name: .long, parsing: .unconditional, help: "Only events of this job.")
    var job: Int64?

    @Option(name: [.customShort("n"), .long], help: "Without --since: how many recent events to print first.")
    var lines = 20

    @OptionGroup var options: GlobalOptions

    func validate() throws {
        if let since, since < 0 { throw ValidationError("--since must be 0 or a seq") }
        if lines < 0 { throw ValidationError("--lines must not be negative") }
    }

    func run() throws {
        try options.withClient(timeout: follow ? nil : .seconds(60)) { client in
            var start: Int64
            if let since {
                start = since
            } else {
                let last = try client.status().lastSeq
                start = max(0, last - Int64(lines))
                if job != nil {
                    // For one job, show its whole history up to the window.
                    start = 0
                }
            }
            var printed: Int64 = start
            // Catch up page by page, then (with --follow) switch to the live subscription.
            while true {
                let page = try client.events(since: printed, job: job, limit: 1000)
                for event in page.events { try emit(event) }
                if let last = page.events.last { printed = last.seq }
                if page.events.count < 1000 { break }
            }
            guard follow else { return }
            _ = try client.subscribe(since: printed, job: job)
            while true {
                switch try client.nextEvent() {
                case .event(let event):
                    guard event.seq > printed else { continue }
                    try emit(event)
                    printed = event.seq
                case .overflow(let notice):
                    if !options.json {
                        Output.error("fell behind; resuming from seq \(notice.lastSeq)")
                    }
                }
            }
        }
    }

    private func emit(_ event: Event) throws {
        if options.json { return try options.printJSON(event) }
        let job = event.jobID.map { "job \($0)" } ?? "-"
        Output.line("\(event.seq)\t\(Timestamp.format(event.time))\t\(event.kind)\t\(job)\t\(event.message)")
    }
}

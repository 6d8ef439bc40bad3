import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct SayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "say",
        abstract: "Put a message in a queued or running job's inbox; its agent reads it with `mlagentctl inbox`.",
        discussion: """
            The message is recorded (a job.message event) and lands in the direction's file on main with \
            the time the agent read it. Agents cannot send messages.
            """)

    @Argument(help: "The job id.")
    var id: Int64

    @Argument(help: "The message, e.g. \"try a lower learning rate\".")
    var message: String

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let sent = try options.withClient { try $0.say(job: id, message: message) }
        if options.json { return try options.printJSON(sent) }
        Output.line("message \(sent.id) sent to job \(id)")
    }
}

struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "(agent) Show the operator's unread messages to you and mark them read; --all for every message.")

    @Flag(name: .long, help: "Show every message, read or not.")
    var all = false

    @OptionGroup var options: GlobalOptions

    func run() throws {
        // Reading marks messages read, so only --all (which shows them again) is sent twice
        // after a lost reply.
        let inbox = try options.withClient(idempotent: all) { try $0.inbox(all: all) }
        if options.json { return try options.printJSON(inbox) }
        if inbox.messages.isEmpty { return Output.line(all ? "no messages" : "no new messages") }
        for message in inbox.messages {
            Output.line("[\(Output.time(message.sentAt))] operator: \(message.text)")
        }
    }
}

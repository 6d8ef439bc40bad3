import ArgumentParser
import MLAgentProtocol

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Queue a research direction; prints the new job id.",
        discussion: "DIRECTION is a lowercase slug such as catboost-tuning. Pass \"\" to let the agent pick its own direction.")

    @Argument(help: "The direction name (a slug), or \"\" for agent picks.")
    var direction: String

    @Option(name: .long, help: "Guidance text handed to the agent.")
    var guidance: String?

    @Option(name: .long, help: "Agent profile (default: the daemon's default_agent).")
    var agent: String?

    @Option(name: .long, parsing: .unconditional, help: "Priority, -1000...1000; higher runs first (default 0).")
    var priority: Int?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let params = EnqueueParams(direction: direction, guidance: guidance, agent: agent, priority: priority)
        let job = try options.withClient { try $0.enqueue(params) }
        if options.json { return try options.printJSON(job) }
        Output.line(String(job.id))
    }
}

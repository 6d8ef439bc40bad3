import ArgumentParser
import MLAgentProtocol

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop launching new jobs (running jobs continue).")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let state = try options.withClient { try $0.pause() }
        if options.json { return try options.printJSON(state) }
        Output.line("queue paused: no new jobs will be launched; `mlagentctl resume` restarts launching")
    }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Launch new jobs again.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let state = try options.withClient { try $0.resume() }
        if options.json { return try options.printJSON(state) }
        Output.line("queue resumed")
    }
}

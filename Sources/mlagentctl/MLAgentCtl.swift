import ArgumentParser
import MLAgentProtocol

@main
struct MLAgentCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlagentctl",
        abstract: "Control mlagentd: queue research directions, watch events, inspect jobs.",
        discussion: """
            The socket is --socket PATH (before or after the command), else $MLAGENT_ADDRESS (tls://HOST:PORT, \
            with the certificate's SHA-256 in $MLAGENT_TLS_FINGERPRINT), else $MLAGENT_SOCKET, else \
            ./.mlagent/mlagentd.sock when it exists (make demo), else /run/mlagent/mlagentd.sock (systemd). Every command takes --json \
            and then prints exactly one JSON object (tail --json: one object per event line).
            Exit status: 0 success, 1 the daemon refused the request, 64 usage error, 69 daemon unreachable.
            """,
        version: mlagentVersion,
        subcommands: [
            StatusCommand.self, EnqueueCommand.self, ListCommand.self, ShowCommand.self, CancelCommand.self,
            PauseCommand.self, ResumeCommand.self, TailCommand.self, LogsCommand.self, DirectionCommand.self,
            ExploreCommand.self, StopCommand.self, ContinueCommand.self, RunCommand.self, RunsCommand.self,
            EvalCommand.self, SubmitCommand.self, CompareCommand.self, LeaderboardCommand.self, SummaryCommand.self, WaitCommand.self,
            DashboardCommand.self, MLflowCommand.self, SayCommand.self, InboxCommand.self, ShareCommand.self, MCPCommand.self,
        ])

    static func main() {
        main(LeadingOptions.reorder(Array(CommandLine.arguments.dropFirst()), root: MLAgentCtl.self))
    }
}

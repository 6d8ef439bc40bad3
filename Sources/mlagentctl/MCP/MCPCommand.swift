import ArgumentParser
import Foundation
import MCP
import MLAgentProtocol

struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "(agent) Serve the agent protocol as MCP tools over stdin and stdout.",
        discussion: """
            A Model Context Protocol server for agent CLIs (Claude Code, Codex, Cursor): the knowledge base \
            (list_directions, list_runs, show_run, leaderboard), declare_direction, start_run, log_metrics, \
            log_artifact, end_run, evaluate_public, submit_private, finish_direction and read_inbox. It calls \
            mlagentd with MLAGENT_TOKEN and MLAGENT_SOCKET (or MLAGENT_ADDRESS over TLS) from its environment, like every agent command; \
            the daemon's refusals come back as tool errors with its message. It ends at the end of its input.
            """)

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let gateway = DaemonGateway(socket: options.socket)
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Task {
            do {
                try await Self.serve(gateway: gateway)
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error {
            Output.error("mcp: \(error)")
            throw ExitCode.failure
        }
    }

    static func serve(gateway: DaemonGateway, toolbox: MCPToolbox = .standard) async throws {
        let server = Server(
            name: "mlagent", version: mlagentVersion,
            instructions: """
                Tools of the mlagent research daemon for one research job: read the knowledge base \
                (list_directions, leaderboard, list_runs), declare your direction if none was assigned, record \
                every configuration as a run (start_run, log_metrics, log_artifact with name "model", end_run), \
                score on the public split within the budget (evaluate_public), submit your best run once \
                (submit_private) and finish with learnings (finish_direction). Check read_inbox between runs.
                """,
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: toolbox.tools.map(\.definition))
        }
        await server.withMethodHandler(CallTool.self) { params in
            await toolbox.call(params, gateway: gateway)
        }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }

    /// The error that ended the server, set from its task.
    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: (any Error)?
        var error: (any Error)? { lock.withLock { stored } }
        func set(_ error: any Error) { lock.withLock { stored = error } }
    }
}

import Foundation

/// A job's MCP configuration (`{mcp_config}` in a profile's command): `mlagentctl mcp` as the
/// server `mlagent`, for CLIs that take a config file (Claude Code's `--mcp-config`). It is
/// written into the worktree, where the sandboxed agent can read it, and holds no secret: the
/// socket (or TLS address) and token come from the agent's environment (`${MLAGENT_TOKEN}` is
/// expanded by the CLI).
enum MCPConfigFile {
    static let placeholder = "{mcp_config}"
    static let fileName = ".mlagent-mcp.json"

    /// The tools of `mlagentctl mcp` (see `Sources/mlagentctl/MCP`), as Claude Code names them.
    static let tools = [
        "list_directions", "list_runs", "show_run", "leaderboard", "compare_runs", "declare_direction", "finish_direction", "read_inbox",
        "start_run", "log_metrics", "log_artifact", "end_run", "evaluate_public", "submit_private",
    ]

    /// `--allowedTools` of the shipped claude profile: the shell and file tools and every MCP tool.
    static let allowedTools = (["Bash", "Read", "Write", "Edit"] + tools.map { "mcp__mlagent__" + $0 }).joined(separator: ",")

    static func path(worktree: String) -> String {
        (worktree as NSString).appendingPathComponent(fileName)
    }

    /// Writes the file when the profile's command names `{mcp_config}`.
    static func write(for profile: AgentProfile, worktree: String, binDirectory: String = AgentLauncher.binDirectory) throws {
        guard profile.command.contains(where: { $0.contains(placeholder) }) else { return }
        try render(mlagentctl: (binDirectory as NSString).appendingPathComponent("mlagentctl"))
            .write(toFile: path(worktree: worktree), atomically: true, encoding: .utf8)
    }

    static func render(mlagentctl: String) throws -> String {
        let server: [String: Any] = [
            "type": "stdio", "command": mlagentctl, "args": ["mcp"],
            // An agent on another node reaches the daemon over TLS (empty elsewhere: the socket).
            "env": [
                "MLAGENT_SOCKET": "${MLAGENT_SOCKET}", "MLAGENT_TOKEN": "${MLAGENT_TOKEN}",
                "MLAGENT_ADDRESS": "${MLAGENT_ADDRESS:-}", "MLAGENT_TLS_FINGERPRINT": "${MLAGENT_TLS_FINGERPRINT:-}",
            ],
        ]
        let data = try JSONSerialization.data(
            withJSONObject: ["mcpServers": ["mlagent": server]], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

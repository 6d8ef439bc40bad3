import Foundation
@testable import MLAgentDaemon
import MLAgentProtocol
import Testing

@Suite("MCP configuration and messages in direction files")
struct MCPConfigFileTests {
    @Test("the job's MCP config names mlagentctl mcp and holds no secret; only profiles that ask get one")
    func configFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try MCPConfigFile.write(for: DaemonConfig.builtinAgents["command"]!, worktree: dir, binDirectory: "/opt/bin")
        #expect(!FileManager.default.fileExists(atPath: MCPConfigFile.path(worktree: dir)))

        let claude = DaemonConfig.builtinAgents["claude"]!
        let index = try #require(claude.command.firstIndex(of: "--mcp-config"))
        #expect(claude.command[index + 1] == "{mcp_config}")
        #expect(claude.command.contains(MCPConfigFile.allowedTools))
        try MCPConfigFile.write(for: claude, worktree: dir, binDirectory: "/opt/bin")
        let data = try #require(FileManager.default.contents(atPath: MCPConfigFile.path(worktree: dir)))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let server = try #require((object["mcpServers"] as? [String: Any])?["mlagent"] as? [String: Any])
        #expect(server["command"] as? String == "/opt/bin/mlagentctl")
        #expect(server["args"] as? [String] == ["mcp"])
        #expect(
            server["env"] as? [String: String] == [
                "MLAGENT_SOCKET": "${MLAGENT_SOCKET}", "MLAGENT_TOKEN": "${MLAGENT_TOKEN}",
                "MLAGENT_ADDRESS": "${MLAGENT_ADDRESS:-}", "MLAGENT_TLS_FINGERPRINT": "${MLAGENT_TLS_FINGERPRINT:-}",
            ])
        #expect(MCPConfigFile.allowedTools.hasPrefix("Bash,"))
        #expect(MCPConfigFile.allowedTools.split(separator: ",").filter { $0.hasPrefix("mcp__mlagent__") }.count == MCPConfigFile.tools.count)
    }

    @Test("the direction file lists the operator's messages with when they were read")
    func messagesSection() {
        let start = Date(timeIntervalSince1970: 1_795_766_400)
        let direction = Direction(
            name: "hgb", jobID: 3, branch: "exp/hgb", status: "completed", rationale: "r", guidance: "", learnings: "l",
            startedAt: start, finishedAt: start.addingTimeInterval(60))
        #expect(!DirectionFile.render(direction, job: nil).contains("## Messages"))
        let messages = [
            InboxMessage(id: 1, jobID: 3, text: "try a lower learning rate", sentAt: start.addingTimeInterval(5), readAt: start.addingTimeInterval(9)),
            InboxMessage(id: 2, jobID: 3, text: "two\nlines", sentAt: start.addingTimeInterval(20), readAt: nil),
        ]
        let file = DirectionFile.render(direction, job: nil, messages: messages)
        #expect(file.contains("## Messages"))
        #expect(file.contains("- \(Timestamp.format(start.addingTimeInterval(5))) (read \(Timestamp.format(start.addingTimeInterval(9)))): try a lower learning rate"))
        #expect(file.contains("(never read): two\n  lines"))
    }
}

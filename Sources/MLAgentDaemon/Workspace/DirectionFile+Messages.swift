import Foundation
import MLAgentProtocol

/// The Messages section of a direction file: what operators told the agent while it worked
/// (`mlagentctl say`), and when the agent read it.
extension DirectionFile {
    static func messageLines(_ messages: [InboxMessage]) -> [String] {
        guard !messages.isEmpty else { return [] }
        var lines = ["", "## Messages", "", "Sent by the operator to the agent while it worked (`mlagentctl say`):", ""]
        for message in messages {
            let read = message.readAt.map { "read \(Timestamp.format($0))" } ?? "never read"
            let text = message.text.trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
            lines.append("- \(Timestamp.format(message.sentAt)) (\(read)): \(text)")
        }
        return lines
    }
}

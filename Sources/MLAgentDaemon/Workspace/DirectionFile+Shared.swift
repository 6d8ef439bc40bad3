import MLAgentProtocol

/// The direction file's shared-code section: the modules its runs imported and what it proposed.
extension DirectionFile {
    struct Shared: Sendable {
        /// `name vN` and the runs that recorded it.
        var uses: [(module: String, runs: [Int64])]
        var proposals: [ShareProposal]

        var isEmpty: Bool { uses.isEmpty && proposals.isEmpty }
    }

    static func sharedLines(_ shared: Shared?) -> [String] {
        guard let shared, !shared.isEmpty else { return [] }
        var lines = ["", "## Shared code", ""]
        for use in shared.uses {
            lines.append("- Used `\(use.module)` (shared/) in run\(use.runs.count == 1 ? "" : "s") \(use.runs.map(String.init).joined(separator: ", "))")
        }
        for proposal in shared.proposals {
            var line = "- Proposed `\(proposal.name)` v\(proposal.version) (proposal \(proposal.id)): \(proposal.status)"
            if let reviewer = proposal.reviewer { line += " by \(reviewer)" }
            if let reason = proposal.reason { line += ": \(reason.replacingOccurrences(of: "\n", with: " ").prefix(300))" }
            if let commit = proposal.landedCommit { line += " (main \(commit.prefix(10)))" }
            lines.append(line)
        }
        return lines
    }
}

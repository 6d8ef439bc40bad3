import MLAgentProtocol

/// How tokens and cost read in the human output of `status`, `show`, `leaderboard` and `summary`.
enum UsageOutput {
    /// `$0.4210 (in 12,000, out 3,400, cache read 80,000, cache write 2,000 tokens)`, with
    /// "estimated" when part of the figure is not the CLI's own.
    static func describe(_ usage: TokenUsage) -> String {
        var text = "\(USD.format(usage.costUSD))\(usage.reported ? "" : " estimated")"
        text += " (in \(USD.tokens(usage.inputTokens)), out \(USD.tokens(usage.outputTokens))"
        text += ", cache read \(USD.tokens(usage.cacheReadTokens)), cache write \(USD.tokens(usage.cacheWriteTokens)) tokens)"
        return text
    }

    /// The cost column of a direction: `$0.42`, `-` when none of its jobs reported usage.
    static func cost(_ usage: TokenUsage?) -> String {
        guard let usage else { return "-" }
        return USD.format(usage.costUSD) + (usage.reported ? "" : "~")
    }

    /// The summary's cost lines: the session's total and the best direction's cost.
    static func summaryLines(_ report: UsageReport?, best: String?) -> [String] {
        guard let report, !report.jobs.isEmpty else { return [] }
        var lines = ["Cost: \(describe(report.session)) over \(report.jobs.count) job\(report.jobs.count == 1 ? "" : "s")"]
        if let cap = report.maxSessionCostUSD {
            lines[0] += "; session cap \(USD.format(cap))\(report.sessionCapReached ? " reached" : "")"
        }
        if let best, let usage = report.usage(ofDirection: best) {
            lines.append("Cost of the best direction (\(best)): \(describe(usage))")
        }
        return lines
    }
}

import MLAgentProtocol

/// How the daemon reads an agent's usage from its output (`usage` in its profile).
public enum UsageFormat: String, Sendable, CaseIterable {
    /// Claude Code's `--output-format stream-json`: per-turn `assistant` usage, then `result`
    /// with `total_cost_usd`.
    case claudeStreamJSON = "claude-stream-json"
    /// Codex's `exec --json`: `turn.completed` with `usage`; no dollar figure.
    case codexJSON = "codex-json"
    /// mini-swe-agent's console output: `mini-swe-agent (step N, $X.XX):` before each step;
    /// once the agent ends, its trajectory's exact tokens and cost (``MiniSWEAgentTrajectory``).
    case miniSWEAgent = "mini-swe-agent"
    case none

    /// A fresh reader for this format; nil for `none`.
    func makeReader() -> (any UsageReader)? {
        switch self {
        case .claudeStreamJSON: ClaudeStreamJSONReader()
        case .codexJSON: CodexJSONReader()
        case .miniSWEAgent: MiniSWEAgentReader()
        case .none: nil
        }
    }
}

/// What a reader has taken from the output so far: the tokens and dollars the CLI itself
/// settled (at the end of each of its sessions), and the tokens of turns not settled yet,
/// whose cost is estimated from the price table until the CLI's figure replaces it.
struct UsageTally: Equatable {
    var settled = TokenUsage(reported: true)
    var open = TokenUsage()
    /// Dollars the CLI reported for the open part, when it reports a running figure.
    var openReportedCost: Double?

    func usage(prices: PricePerMTok?) -> TokenUsage {
        var total = settled
        total.inputTokens = TokenUsage.add(total.inputTokens, open.inputTokens)
        total.outputTokens = TokenUsage.add(total.outputTokens, open.outputTokens)
        total.cacheReadTokens = TokenUsage.add(total.cacheReadTokens, open.cacheReadTokens)
        total.cacheWriteTokens = TokenUsage.add(total.cacheWriteTokens, open.cacheWriteTokens)
        if let openReportedCost {
            total.costUSD += openReportedCost
        } else if open.totalTokens > 0 {
            total.costUSD += prices?.cost(of: open) ?? 0
            total.reported = false
        }
        return total
    }
}

/// Reads one agent's output line by line (a line without its newline) and keeps a tally.
protocol UsageReader: Sendable {
    mutating func read(line: UnsafeRawBufferPointer)
    var tally: UsageTally { get }
}

extension UsageReader {
    mutating func read(_ text: String) {
        var copy = text
        copy.withUTF8 { read(line: UnsafeRawBufferPointer($0)) }
    }
}

extension TokenUsage {
    /// Anthropic's usage object: `input_tokens`, `output_tokens`, `cache_read_input_tokens`,
    /// `cache_creation_input_tokens`.
    init(anthropic fields: [String: Int64]) {
        self.init(
            inputTokens: fields["input_tokens"] ?? 0, outputTokens: fields["output_tokens"] ?? 0,
            cacheReadTokens: fields["cache_read_input_tokens"] ?? 0,
            cacheWriteTokens: fields["cache_creation_input_tokens"] ?? 0)
    }
}

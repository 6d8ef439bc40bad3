import MLAgentProtocol

/// Claude Code's `stream-json`. Each `assistant` line carries its API message's `usage`; a
/// message split into several lines (one per content block) repeats the same id, so only the
/// last usage seen for an id counts. The `result` line ends a session with `total_cost_usd`
/// and the session's `usage`, which replace the per-turn figures (a retried job's log holds
/// one session per attempt, and their results add up).
struct ClaudeStreamJSONReader: UsageReader {
    private(set) var tally = UsageTally()
    /// Tokens of ended sessions that came without a dollar figure (priced by the table).
    private var unpriced = TokenUsage()
    /// Turns of the current session before the current message.
    private var earlier = TokenUsage()
    private var currentID: String?
    private var current = TokenUsage()

    mutating func read(line: UnsafeRawBufferPointer) {
        guard UsageLine.mayCarryUsage(line), let parsed = UsageLine.parse(line) else { return }
        switch parsed.type {
        case "assistant":
            guard let fields = parsed.messageUsage else { return }
            if parsed.messageID == nil || parsed.messageID != currentID {
                earlier = earlier + current
                currentID = parsed.messageID
            }
            current = TokenUsage(anthropic: fields)
        case "result":
            var session = parsed.usage.map(TokenUsage.init(anthropic:)) ?? (earlier + current)
            if let cost = parsed.totalCostUSD {
                session.costUSD = cost
                session.reported = true
                tally.settled = tally.settled + session
            } else {
                unpriced = unpriced + session
            }
            earlier = TokenUsage()
            current = TokenUsage()
            currentID = nil
        default:
            return
        }
        tally.open = unpriced + earlier + current
    }
}

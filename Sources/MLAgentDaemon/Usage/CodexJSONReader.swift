import MLAgentProtocol

/// Codex's `exec --json`: each `turn.completed` line carries the turn's `usage`
/// (`input_tokens`, of which `cached_input_tokens` were read from the cache, and
/// `output_tokens`). Codex reports no dollar figure, so the cost is the price table's.
struct CodexJSONReader: UsageReader {
    private(set) var tally = UsageTally()

    mutating func read(line: UnsafeRawBufferPointer) {
        guard UsageLine.mayCarryUsage(line), let parsed = UsageLine.parse(line), parsed.type == "turn.completed",
            let fields = parsed.usage
        else { return }
        let input = fields["input_tokens"] ?? 0
        let cached = min(fields["cached_input_tokens"] ?? 0, input)
        tally.open = tally.open
            + TokenUsage(
                inputTokens: input - cached,
                outputTokens: (fields["output_tokens"] ?? 0) + (fields["reasoning_output_tokens"] ?? 0),
                cacheReadTokens: cached)
    }
}

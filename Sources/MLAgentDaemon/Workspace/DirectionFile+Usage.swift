import MLAgentProtocol

/// The Cost section of a direction file: the tokens and dollars its jobs' agents used, as
/// read from their output (`usage` in the agent's profile).
extension DirectionFile {
    static func usageLines(_ usage: TokenUsage?) -> [String] {
        guard let usage, usage.totalTokens > 0 || usage.costUSD > 0 else { return [] }
        let source = usage.reported ? "as reported by the agent's CLI" : "estimated from the profile's price_per_mtok"
        return [
            "", "## Cost", "",
            "- Cost: \(USD.format(usage.costUSD)) (\(source))",
            "- Tokens: \(USD.tokens(usage.inputTokens)) input, \(USD.tokens(usage.outputTokens)) output, "
                + "\(USD.tokens(usage.cacheReadTokens)) cache read, \(USD.tokens(usage.cacheWriteTokens)) cache write",
        ]
    }
}

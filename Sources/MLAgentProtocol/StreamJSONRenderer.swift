import Foundation

/// Renders Claude Code's `stream-json` output as lines a person can follow: the assistant's
/// text, each tool call with its command, tool results cut short, a header per model turn with
/// the running token count and cost, and the session's result with the CLI's own dollar
/// figure. Lines that are not stream-json are returned as they are.
public struct StreamJSONRenderer {
    /// Prices for the running cost (the agent profile's `price_per_mtok`); nil: tokens only.
    public var prices: PricePerMTok?
    /// Longest tool result shown, in characters of its first lines.
    public var resultChars = 200
    private var turns = 0
    private var currentID: String?
    private var earlier = TokenUsage()
    private var current = TokenUsage()
    private var settledCost = 0.0

    public init(prices: PricePerMTok? = nil) {
        self.prices = prices
    }

    /// The rendered lines for one line of output (without its newline).
    public mutating func render(_ line: String) -> [String] {
        guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let type = object["type"] as? String
        else { return [line] }
        switch type {
        case "system":
            guard (object["subtype"] as? String) == "init" else { return [] }
            let model = object["model"] as? String ?? "?"
            let tools = (object["tools"] as? [Any])?.count ?? 0
            return ["● session started: model \(model), \(tools) tools, in \(object["cwd"] as? String ?? "?")"]
        case "assistant":
            guard let message = object["message"] as? [String: Any] else { return [] }
            var out: [String] = []
            let id = message["id"] as? String
            if id == nil || id != currentID {
                earlier = earlier + current
                current = TokenUsage()
                currentID = id
                turns += 1
                if let usage = message["usage"] as? [String: Any] { current = Self.tokens(usage) }
                out.append("── turn \(turns) · \(USD.tokens(runningTokens.totalTokens)) tokens\(costText)")
            } else if let usage = message["usage"] as? [String: Any] {
                current = Self.tokens(usage)
            }
            for block in message["content"] as? [[String: Any]] ?? [] {
                switch block["type"] as? String {
                case "text":
                    let text = (block["text"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                    if !text.isEmpty { out += text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 } }
                case "tool_use":
                    out.append("  → " + Self.toolCall(name: block["name"] as? String ?? "tool", input: block["input"]))
                case "thinking":
                    out.append("  (thinking)")
                default:
                    break
                }
            }
            return out
        case "user":
            guard let message = object["message"] as? [String: Any], let content = message["content"] as? [[String: Any]]
            else { return [] }
            return content.compactMap { block in
                guard block["type"] as? String == "tool_result" else { return nil }
                let text = Self.resultText(block["content"])
                let error = block["is_error"] as? Bool == true ? " (error)" : ""
                return "  ←\(error) " + cut(text)
            }
        case "result":
            let subtype = object["subtype"] as? String ?? "done"
            var line = "● result: \(subtype)"
            if let turns = object["num_turns"] as? Int { line += " after \(turns) turns" }
            if let usage = object["usage"] as? [String: Any] {
                line += ", \(USD.tokens(Self.tokens(usage).totalTokens)) tokens"
            }
            if let cost = (object["total_cost_usd"] as? NSNumber)?.doubleValue {
                settledCost += cost
                line += ", \(USD.format(cost)) (reported by the CLI)"
            }
            earlier = TokenUsage()
            current = TokenUsage()
            currentID = nil
            var out = [line]
            if let result = object["result"] as? String, !result.isEmpty { out.append("  " + cut(result)) }
            return out
        default:
            return []
        }
    }

    private var runningTokens: TokenUsage { earlier + current }

    private var costText: String {
        guard let prices else { return "" }
        return " · \(USD.format(settledCost + prices.cost(of: runningTokens)))"
    }

    private func cut(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        var shown = lines.prefix(3).joined(separator: " ⏎ ")
        if shown.count > resultChars { shown = String(shown.prefix(resultChars)) + "…" }
        let more = lines.count > 3 ? " (\(lines.count) lines)" : (shown.hasSuffix("…") ? " (\(text.count) chars)" : "")
        return shown + more
    }

    static func tokens(_ usage: [String: Any]) -> TokenUsage {
        func value(_ key: String) -> Int64 { (usage[key] as? NSNumber)?.int64Value ?? 0 }
        return TokenUsage(
            inputTokens: value("input_tokens"), outputTokens: value("output_tokens"),
            cacheReadTokens: value("cache_read_input_tokens"), cacheWriteTokens: value("cache_creation_input_tokens"))
    }

    static func toolCall(name: String, input: Any?) -> String {
        let fields = input as? [String: Any] ?? [:]
        if let command = fields["command"] as? String { return "\(name): \(command)" }
        for key in ["file_path", "path", "pattern", "url", "query"] {
            if let value = fields[key] as? String { return "\(name): \(value)" }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return name }
        let text = String(decoding: data, as: UTF8.self)
        return "\(name) \(text.count > 160 ? String(text.prefix(160)) + "…" : text)"
    }

    static func resultText(_ content: Any?) -> String {
        if let text = content as? String { return text }
        let blocks = content as? [[String: Any]] ?? []
        return blocks.compactMap { $0["text"] as? String }.joined(separator: "\n")
    }
}

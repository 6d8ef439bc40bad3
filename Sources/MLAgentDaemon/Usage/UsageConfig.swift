import MLAgentProtocol
import TOMLKit

/// The usage keys of an `[agents.NAME]` profile: `usage`, `price_per_mtok` and `max_cost_usd`.
enum UsageConfig {
    static func read(_ profile: TOMLTable, key: String, into agent: inout AgentProfile, source: String) throws {
        if let value = profile["usage"] {
            guard let text = value.string, let format = UsageFormat(rawValue: text) else {
                throw ConfigError(
                    "\(source): \(key).usage must be one of \(UsageFormat.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            agent.usage = format
        }
        if let value = profile["max_cost_usd"] {
            agent.maxCostUSD = try dollars(value, "\(key).max_cost_usd", source: source)
        }
        if let value = profile["price_per_mtok"] {
            let names = ["input", "output", "cache_read", "cache_write"]
            guard let table = value.table else {
                throw ConfigError(
                    "\(source): \(key).price_per_mtok must be a table such as { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }")
            }
            for name in table.keys where !names.contains(name) {
                throw ConfigError("\(source): unknown key \(key).price_per_mtok.\(name); known keys: \(names.joined(separator: ", "))")
            }
            var prices: [String: Double] = [:]
            for name in names {
                guard let item = table[name] else {
                    throw ConfigError("\(source): \(key).price_per_mtok.\(name) is missing (dollars per million tokens)")
                }
                prices[name] = try dollars(item, "\(key).price_per_mtok.\(name)", source: source)
            }
            agent.pricePerMTok = PricePerMTok(
                input: prices["input"]!, output: prices["output"]!, cacheRead: prices["cache_read"]!,
                cacheWrite: prices["cache_write"]!)
        }
    }

    private static func dollars(_ value: any TOMLValueConvertible, _ key: String, source: String) throws -> Double {
        guard let number = value.double ?? value.int.map(Double.init), number.isFinite, (0...1e9).contains(number) else {
            throw ConfigError("\(source): \(key) must be a number of dollars from 0 to 1e9")
        }
        return number
    }
}

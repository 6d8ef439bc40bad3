import Foundation
import TOMLKit

/// `[agents.NAME]` resource limits: `max_processes`, `max_memory` ("4G", "512M", bytes; "0":
/// none) and `cpu_weight`.
enum ResourceConfig {
    static let keys = ["max_processes", "max_memory", "cpu_weight"]

    static func read(_ profile: TOMLTable, key: String, into agent: inout AgentProfile, source: String) throws {
        if let value = profile["max_processes"] {
            guard let number = value.int, (16...4_194_304).contains(number) else {
                throw ConfigError("\(source): \(key).max_processes must be an integer from 16 to 4194304")
            }
            agent.maxProcesses = number
        }
        if let value = profile["max_memory"] {
            guard let bytes = value.string.flatMap(parseBytes) ?? value.int.flatMap({ $0 >= 0 ? UInt64($0) : nil }),
                bytes == 0 || bytes >= 16 << 20
            else {
                throw ConfigError("\(source): \(key).max_memory must be a size such as \"4G\" or \"512M\" (at least 16M), or \"0\" for no limit")
            }
            agent.maxMemory = bytes
        }
        if let value = profile["cpu_weight"] {
            guard let number = value.int, (1...10_000).contains(number) else {
                throw ConfigError("\(source): \(key).cpu_weight must be an integer from 1 to 10000 (100: an equal share)")
            }
            agent.cpuWeight = number
        }
    }

    /// "4G", "512M", "64K", "1T" (powers of 1024) or a number of bytes.
    static func parseBytes(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(trimmed)
        var scale: UInt64 = 1
        if digits.hasSuffix("B") { digits = digits.dropLast() }
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let number = UInt64(digits) else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}

import Foundation
import MCP

/// A tool call's arguments, read with messages that tell the model what to send instead.
struct ToolArguments: Sendable {
    let tool: String
    let values: [String: Value]

    init(tool: String, values: [String: Value]?) {
        self.tool = tool
        self.values = values ?? [:]
    }

    func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw ToolInputError("\(tool): `\(key)` is required (a string)") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw ToolInputError("\(tool): `\(key)` must be a string") }
        return text
    }

    func int64(_ key: String) throws -> Int64 {
        guard let value = values[key], !value.isNull else {
            throw ToolInputError("\(tool): `\(key)` is required (an integer id)")
        }
        if let number = Self.integer(value) { return number }
        throw ToolInputError("\(tool): `\(key)` must be an integer, got \(value)")
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key], !value.isNull else { return nil }
        if let flag = value.boolValue { return flag }
        if let text = value.stringValue?.lowercased(), ["true", "false"].contains(text) { return text == "true" }
        throw ToolInputError("\(tool): `\(key)` must be true or false")
    }

    /// An object whose values are strings; numbers and booleans are accepted as their text.
    func stringMap(_ key: String) throws -> [String: String]? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let object = value.objectValue else {
            throw ToolInputError("\(tool): `\(key)` must be an object of strings, like {\"max_depth\": \"6\"}")
        }
        var result: [String: String] = [:]
        for (name, entry) in object {
            guard let text = Self.text(entry) else {
                throw ToolInputError("\(tool): `\(key).\(name)` must be a string, number or boolean")
            }
            result[name] = text
        }
        return result
    }

    /// An array of strings, nil when absent.
    func optionalStrings(_ key: String) throws -> [String]? {
        guard let items = try array(key) else { return nil }
        return try items.map { item in
            guard let text = item.stringValue else { throw ToolInputError("\(tool): `\(key)` must be an array of strings") }
            return text
        }
    }

    func array(_ key: String) throws -> [Value]? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let items = value.arrayValue else { throw ToolInputError("\(tool): `\(key)` must be an array") }
        return items
    }

    static func integer(_ value: Value) -> Int64? {
        switch value {
        case .int(let number): return Int64(number)
        case .double(let number) where number.rounded() == number && abs(number) < 9e15: return Int64(number)
        case .string(let text): return Int64(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text): return Double(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    static func text(_ value: Value) -> String? {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    /// A path made absolute against the working directory (the agent's worktree).
    func path(_ key: String) throws -> String {
        absolutePath(try string(key))
    }
}

/// Arguments that cannot make a request: reported to the model as a tool error.
struct ToolInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation

/// The few fields of one structured-output line that carry usage, read straight from its bytes
/// without building the rest: the top-level `type`, `total_cost_usd` and `usage`, and
/// `message.id` / `message.usage` (Claude Code's `stream-json`, Codex's `exec --json`). Every
/// other value (text, tool input and output) is skipped. Nil for a line that is not a JSON object.
struct UsageLine: Equatable {
    var type: String?
    var totalCostUSD: Double?
    var usage: [String: Int64]?
    var messageID: String?
    var messageUsage: [String: Int64]?

    /// Whether `bytes` can carry usage at all: only lines naming a `"usage"` key or a cost are
    /// parsed (quotes inside JSON strings are escaped, so text that mentions usage never matches).
    static func mayCarryUsage(_ bytes: UnsafeRawBufferPointer) -> Bool {
        contains(bytes, "\"usage\"") || contains(bytes, "\"total_cost_usd\"")
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> UsageLine? {
        var scanner = Scanner(bytes)
        var line = UsageLine()
        do {
            try scanner.object { scanner, key in
                switch key {
                case "type": line.type = try scanner.stringOrSkip()
                case "total_cost_usd": line.totalCostUSD = try scanner.numberOrSkip()
                case "usage": line.usage = try scanner.numbers()
                case "message":
                    guard try scanner.peek() == UInt8(ascii: "{") else { return try scanner.skip() }
                    try scanner.object { scanner, key in
                        switch key {
                        case "id": line.messageID = try scanner.stringOrSkip()
                        case "usage": line.messageUsage = try scanner.numbers()
                        default: try scanner.skip()
                        }
                    }
                default: try scanner.skip()
                }
            }
        } catch {
            return nil
        }
        return line
    }

    static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let length = needle.utf8CodeUnitCount
        guard bytes.count >= length, let base = bytes.baseAddress else { return false }
        let first = needle.utf8Start[0]
        var offset = 0
        let last = bytes.count - length
        while offset <= last {
            guard let found = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
            let position = base.distance(to: UnsafeRawPointer(found))
            if memcmp(base + position, needle.utf8Start, length) == 0 { return true }
            offset = position + 1
        }
        return false
    }

    /// A forgiving JSON walker: keys and the few values wanted are decoded, everything else is
    /// skipped by structure (strings with escapes included).
    struct Scanner {
        struct Malformed: Error {}
        let base: UnsafePointer<UInt8>
        let count: Int
        var index = 0
        var depth = 0

        init(_ raw: UnsafeRawBufferPointer) {
            base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
            count = raw.count
        }

        mutating func peek() throws -> UInt8 {
            while index < count, base[index] == 0x20 || base[index] == 0x09 || base[index] == 0x0A || base[index] == 0x0D {
                index += 1
            }
            guard index < count else { throw Malformed() }
            return base[index]
        }

        mutating func expect(_ byte: UInt8) throws {
            guard try peek() == byte else { throw Malformed() }
            index += 1
        }

        mutating func object(_ field: (inout Scanner, String) throws -> Void) throws {
            try expect(UInt8(ascii: "{"))
            depth += 1
            guard depth < 64 else { throw Malformed() }
            defer { depth -= 1 }
            if try peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                let key = try string()
                try expect(UInt8(ascii: ":"))
                try field(&self, key)
                let next = try peek()
                index += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        /// The string's bytes between its quotes (escapes kept as written: the keys and ids
        /// read here have none).
        mutating func string() throws -> String {
            let (start, end) = try stringExtent()
            return String(decoding: UnsafeRawBufferPointer(start: base + start, count: end - start), as: UTF8.self)
        }

        mutating func stringExtent() throws -> (Int, Int) {
            try expect(UInt8(ascii: "\""))
            let start = index
            while index < count {
                guard let found = memchr(base + index, Int32(UInt8(ascii: "\"")), count - index) else { break }
                var position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var backslashes = 0
                var back = position - 1
                while back >= start, base[back] == UInt8(ascii: "\\") {
                    backslashes += 1
                    back -= 1
                }
                position += 1
                index = position
                if backslashes % 2 == 0 { return (start, position - 1) }
            }
            throw Malformed()
        }

        mutating func stringOrSkip() throws -> String? {
            if try peek() == UInt8(ascii: "\"") { return try string() }
            try skip()
            return nil
        }

        mutating func number() throws -> Double {
            _ = try peek()
            let start = index
            while index < count {
                let byte = base[index]
                guard (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                else { break }
                index += 1
            }
            let length = index - start
            guard length > 0, length < 64 else { throw Malformed() }
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
                for offset in 0..<length { buffer[offset] = CChar(bitPattern: base[start + offset]) }
                buffer[length] = 0
                return strtod(buffer.baseAddress!, nil)
            }
        }

        mutating func numberOrSkip() throws -> Double? {
            let byte = try peek()
            if byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39) { return try number() }
            try skip()
            return nil
        }

        /// An object's numeric members (others, such as nested objects, are skipped).
        mutating func numbers() throws -> [String: Int64]? {
            guard try peek() == UInt8(ascii: "{") else {
                try skip()
                return nil
            }
            var values: [String: Int64] = [:]
            try object { scanner, key in
                if let value = try scanner.numberOrSkip(), value.isFinite, value >= 0, value < 1e15 {
                    values[key] = Int64(value)
                }
            }
            return values
        }

        mutating func skip() throws {
            switch try peek() {
            case UInt8(ascii: "\""): _ = try stringExtent()
            case UInt8(ascii: "{"): try object { scanner, _ in try scanner.skip() }
            case UInt8(ascii: "["):
                index += 1
                depth += 1
                guard depth < 64 else { throw Malformed() }
                defer { depth -= 1 }
                if try peek() == UInt8(ascii: "]") {
                    index += 1
                    return
                }
                while true {
                    try skip()
                    let next = try peek()
                    index += 1
                    if next == UInt8(ascii: "]") { return }
                    guard next == UInt8(ascii: ",") else { throw Malformed() }
                }
            case UInt8(ascii: "t"): index += 4
            case UInt8(ascii: "f"): index += 5
            case UInt8(ascii: "n"): index += 4
            default: _ = try number()
            }
            guard index <= count else { throw Malformed() }
        }
    }
}

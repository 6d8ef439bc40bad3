public import Foundation

/// A small JSON reader for the hot paths of the protocol: the request envelope and `run.log`
/// batches, where Foundation's `JSONDecoder` costs more than the SQLite insert it feeds.
/// It reads the shapes it knows straight from the UTF-8 bytes and skips unknown fields. It
/// accepts only valid JSON; on anything it does not handle it returns nil, and the caller falls
/// back to `JSONDecoder`, whose errors name the offending field.
public enum FastJSON {
    /// The fields of a request envelope.
    public struct Envelope: Sendable, Equatable {
        public var jsonrpc: String?
        public var id: RPCID?
        public var method: String
        public var token: String?
    }

    /// How deeply objects and arrays may nest in a request line. Real requests nest a few
    /// levels; the bound keeps every decoder on the request path (this reader, and
    /// `JSONDecoder` as its fallback) far from the stack's limit.
    public static let maxDepth = 64

    /// What reading an envelope found.
    public enum EnvelopeResult: Sendable, Equatable {
        case envelope(Envelope)
        /// Objects or arrays nest deeper than `maxDepth`.
        case tooDeep
        /// Not a shape this reader handles: fall back to `JSONDecoder` (after `exceedsDepth`).
        case unsupported
    }

    public static func envelope(_ line: Data) -> Envelope? {
        if case .envelope(let envelope) = readEnvelope(line) { return envelope }
        return nil
    }

    public static func readEnvelope(_ line: Data) -> EnvelopeResult {
        line.withUnsafeBytes { raw -> EnvelopeResult in
            var reader = Reader(raw)
            var envelope = Envelope(jsonrpc: nil, id: nil, method: "", token: nil)
            var sawMethod = false
            let ok = reader.object { reader, key in
                if key.equals("jsonrpc") {
                    envelope.jsonrpc = try reader.nullableString()
                } else if key.equals("id") {
                    envelope.id = try reader.id()
                } else if key.equals("method") {
                    guard let method = try reader.nullableString() else { throw Reader.Unsupported() }
                    envelope.method = method
                    sawMethod = true
                } else if key.equals("token") {
                    envelope.token = try reader.nullableString()
                } else {
                    try reader.skipValue()
                }
            }
            if reader.tooDeep { return .tooDeep }
            guard ok, sawMethod, reader.atEnd() else { return .unsupported }
            return .envelope(envelope)
        }
    }

    /// The `params` of a `run.log` request line, or nil (then decode with `JSONDecoder`).
    public static func runLogParams(_ line: Data) -> RunLogParams? {
        line.withUnsafeBytes { raw -> RunLogParams? in
            var reader = Reader(raw)
            var result: RunLogParams?
            let ok = reader.object { reader, key in
                if key.equals("params") {
                    result = try reader.runLog()
                } else {
                    try reader.skipValue()
                }
            }
            guard ok, reader.atEnd() else { return nil }
            return result
        }
    }

    /// A key as bytes, compared without building a String.
    struct Key {
        let bytes: UnsafeRawBufferPointer
        /// Every byte is below 0x80 (then the bytes are valid UTF-8 as they are).
        var ascii = true

        /// Valid UTF-8, as JSON requires of every string.
        var isValidUTF8: Bool { ascii || String(validating: bytes, as: UTF8.self) != nil }

        func equals(_ literal: StaticString) -> Bool {
            guard bytes.count == literal.utf8CodeUnitCount else { return false }
            return memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0
        }
    }

    struct Reader {
        struct Unsupported: Error {}

        let base: UnsafePointer<UInt8>
        let count: Int
        var index = 0
        /// Open objects and arrays around the current position.
        var depth = 0
        /// Set when reading stopped because of `FastJSON.maxDepth`.
        var tooDeep = false
        /// The last metric key built, reused while keys repeat (the usual case).
        var lastKeyBytes: UnsafeRawBufferPointer?
        var lastKey = ""

        init(_ raw: UnsafeRawBufferPointer) {
            base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
            count = raw.count
        }

        mutating func skipSpace() {
            while index < count {
                let byte = base[index]
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
                index += 1
            }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == count
        }

        mutating func peek() throws -> UInt8 {
            skipSpace()
            guard index < count else { throw Unsupported() }
            return base[index]
        }

        mutating func expect(_ byte: UInt8) throws {
            guard try peek() == byte else { throw Unsupported() }
            index += 1
        }

        /// Reads an object, calling `field` for each key with the reader on its value.
        /// Returns false when the input is not handled.
        mutating func object(_ field: (inout Reader, Key) throws -> Void) -> Bool {
            do {
                try objectThrowing(field)
                return true
            } catch {
                return false
            }
        }

        mutating func enter() throws {
            depth += 1
            if depth > FastJSON.maxDepth {
                tooDeep = true
                throw Unsupported()
            }
        }

        mutating func objectThrowing(_ field: (inout Reader, Key) throws -> Void) throws {
            try expect(UInt8(ascii: "{"))
            try enter()
            defer { depth -= 1 }
            if try peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                let key = try rawString()
                guard key.isValidUTF8 else { throw Unsupported() }
                try expect(UInt8(ascii: ":"))
                try field(&self, key)
                let next = try peek()
                index += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw Unsupported() }
            }
        }

        /// A string without escapes, as bytes (escaped strings are left to the fallback).
        mutating func rawString() throws -> Key {
            try expect(UInt8(ascii: "\""))
            let start = index
            var high: UInt8 = 0
            while index < count {
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    let key = Key(bytes: UnsafeRawBufferPointer(start: base + start, count: index - start), ascii: high < 0x80)
                    index += 1
                    return key
                }
                high |= byte
                // Escapes and control characters: not handled here.
                if byte == UInt8(ascii: "\\") || byte < 0x20 { throw Unsupported() }
                index += 1
            }
            throw Unsupported()
        }

        mutating func string() throws -> String {
            let key = try rawString()
            guard let text = String(validating: key.bytes, as: UTF8.self) else { throw Unsupported() }
            return text
        }

        mutating func nullableString() throws -> String? {
            if try peek() == UInt8(ascii: "n") {
                try literal("null")
                return nil
            }
            return try string()
        }

        mutating func literal(_ text: StaticString) throws {
            let length = text.utf8CodeUnitCount
            guard index + length <= count, memcmp(base + index, text.utf8Start, length) == 0 else { throw Unsupported() }
            index += length
        }

        mutating func id() throws -> RPCID? {
            switch try peek() {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "n"):
                try literal("null")
                return nil
            default: return .number(try integer())
            }
        }

        /// The extent of a JSON number, checked against the JSON grammar.
        mutating func numberBytes() throws -> (start: Int, end: Int, integral: Bool) {
            skipSpace()
            let start = index
            var integral = true
            if index < count, base[index] == UInt8(ascii: "-") { index += 1 }
            guard index < count, isDigit(base[index]) else { throw Unsupported() }
            if base[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < count, isDigit(base[index]) { index += 1 }
            }
            if index < count, base[index] == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard index < count, isDigit(base[index]) else { throw Unsupported() }
                while index < count, isDigit(base[index]) { index += 1 }
            }
            if index < count, base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E") {
                integral = false
                index += 1
                if index < count, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index += 1 }
                guard index < count, isDigit(base[index]) else { throw Unsupported() }
                while index < count, isDigit(base[index]) { index += 1 }
            }
            return (start, index, integral)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

        mutating func integer() throws -> Int64 {
            let (start, end, integral) = try numberBytes()
            guard integral, end - start <= 18 else { throw Unsupported() }
            return digits(start, end)
        }

        /// The value of an integral number's bytes (at most 18 digits, so no overflow).
        func digits(_ start: Int, _ end: Int) -> Int64 {
            var value: Int64 = 0
            var position = start
            let negative = base[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            while position < end {
                value = value * 10 + Int64(base[position] - 0x30)
                position += 1
            }
            return negative ? -value : value
        }

        mutating func double() throws -> Double {
            let (start, end, integral) = try numberBytes()
            let length = end - start
            // Up to 15 digits an integer is exact in a Double ("-0" keeps its sign via strtod).
            if integral, length <= 15, !(length == 2 && base[start] == UInt8(ascii: "-")) {
                return Double(digits(start, end))
            }
            guard length < 64 else { throw Unsupported() }
            let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
                for offset in 0..<length { buffer[offset] = CChar(bitPattern: base[start + offset]) }
                buffer[length] = 0
                return strtod(buffer.baseAddress!, nil)
            }
            // Beyond a Double's range: left to the fallback, whose error names the field.
            guard value.isFinite else { throw Unsupported() }
            return value
        }

        /// Skips any JSON value (validating its structure).
        mutating func skipValue() throws {
            switch try peek() {
            case UInt8(ascii: "\""): guard try rawString().isValidUTF8 else { throw Unsupported() }
            case UInt8(ascii: "{"): try objectThrowing { reader, _ in try reader.skipValue() }
            case UInt8(ascii: "["): try array { reader in try reader.skipValue() }
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: _ = try numberBytes()
            }
        }

        mutating func array(_ element: (inout Reader) throws -> Void) throws {
            try expect(UInt8(ascii: "["))
            try enter()
            defer { depth -= 1 }
            if try peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try element(&self)
                let next = try peek()
                index += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw Unsupported() }
            }
        }

        mutating func stringMap() throws -> [String: String]? {
            if try peek() == UInt8(ascii: "n") {
                try literal("null")
                return nil
            }
            var map: [String: String] = [:]
            try objectThrowing { reader, key in
                guard let name = String(validating: key.bytes, as: UTF8.self) else { throw Unsupported() }
                // A repeated key is left to the fallback's rules.
                guard map[name] == nil else { throw Unsupported() }
                map[name] = try reader.string()
            }
            return map
        }

        mutating func metricKey() throws -> String {
            let key = try rawString()
            if let last = lastKeyBytes, last.count == key.bytes.count,
                memcmp(last.baseAddress!, key.bytes.baseAddress!, key.bytes.count) == 0
            {
                return lastKey
            }
            guard let text = String(validating: key.bytes, as: UTF8.self) else { throw Unsupported() }
            lastKeyBytes = key.bytes
            lastKey = text
            return text
        }

        mutating func runLog() throws -> RunLogParams {
            var params = RunLogParams(run: 0)
            var sawRun = false
            try objectThrowing { reader, key in
                if key.equals("run") {
                    params.run = try reader.integer()
                    sawRun = true
                } else if key.equals("metrics") {
                    if try reader.peek() == UInt8(ascii: "n") {
                        try reader.literal("null")
                        return
                    }
                    var points: [MetricPoint] = []
                    try reader.array { reader in points.append(try reader.metricPoint()) }
                    params.metrics = points
                } else if key.equals("params") {
                    params.params = try reader.stringMap()
                } else if key.equals("tags") {
                    params.tags = try reader.stringMap()
                } else if key.equals("batch") {
                    params.batch = try reader.nullableString()
                } else {
                    try reader.skipValue()
                }
            }
            guard sawRun else { throw Unsupported() }
            return params
        }

        mutating func metricPoint() throws -> MetricPoint {
            var key: String?
            var value: Double?
            var step: Int64 = 0
            var timestamp: Int64?
            try objectThrowing { reader, field in
                if field.equals("key") {
                    key = try reader.metricKey()
                } else if field.equals("value") {
                    value = try reader.double()
                } else if field.equals("step") {
                    step = try reader.integer()
                } else if field.equals("timestamp") {
                    if try reader.peek() == UInt8(ascii: "n") {
                        try reader.literal("null")
                    } else {
                        timestamp = try reader.integer()
                    }
                } else {
                    try reader.skipValue()
                }
            }
            guard let key, let value else { throw Unsupported() }
            return MetricPoint(key: key, value: value, step: step, timestamp: timestamp)
        }
    }
}

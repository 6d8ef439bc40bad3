import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Random and mutated request lines: deep nesting, invalid UTF-8, huge numbers, escapes,
/// truncations. `make test` runs a short pass; `make fuzz` sets MLAGENT_FUZZ_ITERATIONS (and
/// MLAGENT_FUZZ_SEED to replay a failure) for a long one.
@Suite("fuzzing the request path", .serialized)
struct FuzzTests {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["MLAGENT_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 2000
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["MLAGENT_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
    }

    @Test("the byte-level reader, the depth check and JSONDecoder agree and never crash")
    func decoders() throws {
        let seed = Self.seed
        var generator = LineGenerator(seed: seed)
        for iteration in 0..<Self.iterations * 10 {
            let line = generator.next()
            let context = "seed \(seed), iteration \(iteration): \(String(decoding: line.prefix(120), as: UTF8.self))"
            let deep = FastJSON.exceedsDepth(line)
            switch FastJSON.readEnvelope(line) {
            case .tooDeep:
                #expect(deep, "\(context)")
            case .envelope(let envelope):
                // The fast reader accepts only valid JSON within the depth limit.
                #expect(!deep, "\(context)")
                // (Numbers beyond a Double's range are valid JSON that JSONValue cannot hold;
                // only the member the reader reports is compared.)
                struct MethodOnly: Decodable { var method: String }
                let object = try? JSONDecoder().decode(MethodOnly.self, from: line)
                #expect(object?.method == envelope.method, "\(context)")
            case .unsupported:
                break
            }
            if !deep {
                // Bounded nesting: the recursive decoders are safe on whatever is left.
                _ = try? JSONDecoder().decode(JSONValue.self, from: line)
                if let fast = FastJSON.runLogParams(line) {
                    struct Envelope: Decodable { var params: RunLogParams? }
                    let slow = try? JSONDecoder().decode(Envelope.self, from: line).params
                    #expect(slow == fast, "\(context)")
                }
            }
        }
    }

    @Test("every fuzzed line gets a well-formed reply with a documented error kind; the daemon keeps serving")
    func liveDaemon() throws {
        let daemon = try TestDaemon(label: "fuzz")
        try daemon.start()
        let seed = Self.seed
        var generator = LineGenerator(seed: seed)
        var connection = try Connection(path: daemon.socketPath, timeout: .seconds(30))
        let startRSS = try Self.rss(of: daemon.pid)
        let documented = Set(RPCErrorKind.allCases.map(\.rawValue))
        for iteration in 0..<Self.iterations {
            var line = generator.next()
            line.append(UInt8(ascii: "\n"))
            let sentinel = "s\(iteration)"
            let probe = #"{"jsonrpc":"2.0","id":"\#(sentinel)","method":"daemon.status"}"# + "\n"
            let context = "seed \(seed), iteration \(iteration)"
            do {
                try connection.sendRaw(Array(line) + Array(probe.utf8))
                // Everything up to the probe's reply is a well-formed message.
                while true {
                    guard let reply = try connection.readLine() else { throw TestFailure("\(context): connection closed") }
                    let message = try ServerMessage.decode(reply)
                    if case .error(let error) = message {
                        #expect(documented.contains(error.error.data.kind), "\(context): \(error.error)")
                        #expect(!error.error.message.contains(daemon.stateDir), "\(context): \(error.error.message)")
                    }
                    if case .result(let result) = message, result.id == .string(sentinel) { break }
                }
            } catch let error as ClientError {
                // A fuzzed line may legitimately end the connection (events.subscribe, then a
                // line the subscription does not expect); a new one must always work.
                Issue.record("\(context): \(error)")
                connection = try Connection(path: daemon.socketPath, timeout: .seconds(30))
            }
        }
        #expect(daemon.process?.isRunning == true)
        _ = try daemon.client().status()
        // Nothing a fuzzed line leaves behind accumulates.
        let endRSS = try Self.rss(of: daemon.pid)
        #expect(endRSS < startRSS + 64 << 20, "RSS grew from \(startRSS >> 20) MiB to \(endRSS >> 20) MiB")
        #expect(try daemon.terminate() == 0)
    }
}

extension FuzzTests {
    /// Resident memory of a process, in bytes.
    static func rss(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { throw TestFailure("no VmRSS for \(pid)") }
        return kilobytes << 10
    }
}

/// Lines for fuzzing: JSON-RPC requests mutated at random, random JSON, deep nesting, invalid
/// UTF-8 and number extremes. Deterministic for a seed.
struct LineGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func random() -> UInt64 {
        // xorshift64*
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }

    mutating func below(_ bound: Int) -> Int { Int(random() % UInt64(bound)) }

    static let templates = [
        #"{"jsonrpc":"2.0","id":1,"method":"daemon.status"}"#,
        #"{"jsonrpc":"2.0","id":2,"method":"job.list","params":{"state":"queued","limit":5}}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"job.show","params":{"id":1}}"#,
        #"{"jsonrpc":"2.0","id":"x","method":"job.enqueue","params":{"direction":"fuzz-a","guidance":"g\u00e9","priority":3}}"#,
        #"{"jsonrpc":"2.0","id":5,"method":"events.list","params":{"since":0,"limit":3}}"#,
        #"{"jsonrpc":"2.0","id":6,"method":"run.log","token":"t","params":{"run":1,"metrics":[{"key":"loss","value":0.5,"step":1}],"batch":"b"}}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"run.show","params":{"run":1}}"#,
    ]

    static let atoms = [
        "0", "-0", "1e400", "-1e400", "123456789012345678901234567890", "1.5e-320", "NaN", "Infinity", "true", "null",
        #""\ud800""#, #""\u0000""#, #""\\""#, "\"a\"", "[]", "{}", "0.", ".5", "01", "1e", "\"\u{7F}\"",
    ]

    mutating func next() -> Data {
        switch below(6) {
        case 0: return Data(value(depth: 0).utf8)
        case 1: return nested()
        case 2: return invalidUTF8()
        default: return mutated()
        }
    }

    mutating func value(depth: Int) -> String {
        if depth > 6 { return Self.atoms[below(Self.atoms.count)] }
        switch below(4) {
        case 0: return "[" + (0..<below(4)).map { _ in value(depth: depth + 1) }.joined(separator: ",") + "]"
        case 1: return "{" + (0..<below(4)).map { index in "\"k\(index)\":" + value(depth: depth + 1) }.joined(separator: ",") + "}"
        default: return Self.atoms[below(Self.atoms.count)]
        }
    }

    mutating func nested() -> Data {
        let depth = [30, 63, 64, 65, 100, 5000, 300_000][below(7)]
        let open = below(2) == 0 ? "[" : #"{"a":"#
        let close = open == "[" ? "]" : "}"
        let inner = String(repeating: open, count: depth) + "1" + String(repeating: close, count: below(3) == 0 ? depth / 2 : depth)
        return Data((#"{"jsonrpc":"2.0","id":9,"method":"daemon.status","x":"# + inner + "}").utf8)
    }

    mutating func invalidUTF8() -> Data {
        var bytes = Array(Self.templates[below(Self.templates.count)].utf8)
        let garbage: [[UInt8]] = [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]
        let position = below(bytes.count)
        bytes.insert(contentsOf: garbage[below(garbage.count)], at: position)
        return Data(bytes)
    }

    mutating func mutated() -> Data {
        var bytes = Array(Self.templates[below(Self.templates.count)].utf8)
        for _ in 0...below(4) {
            guard !bytes.isEmpty else { break }
            let position = below(bytes.count)
            switch below(5) {
            case 0: bytes[position] = UInt8(truncatingIfNeeded: random())
            case 1: bytes.remove(at: position)
            case 2: bytes.insert(contentsOf: Array(Self.atoms[below(Self.atoms.count)].utf8), at: position)
            case 3: bytes = Array(bytes.prefix(position))
            default: bytes.insert(contentsOf: Array("\"\\u00\(below(100))\"".utf8), at: position)
            }
        }
        // A fuzzed line must not end the session or the queue for the tests that follow it.
        var text = String(decoding: bytes, as: UTF8.self)
        for method in ["session.stop", "daemon.pause", "job.cancel", "events.subscribe"] {
            text = text.replacingOccurrences(of: method, with: "daemon.status")
        }
        return text.utf8.count == bytes.count ? Data(text.utf8) : Data(bytes)
    }
}

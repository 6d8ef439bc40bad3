import Foundation
import MLAgentProtocol
import Testing

@Suite("Protocol codec")
struct CodecTests {
    @Test("requests round-trip and keep numeric and string ids")
    func requestRoundTrip() throws {
        for id in [RPCID.number(7), .string("abc")] {
            let request = RPCRequest(id: id, method: Method.enqueue, params: .object(["direction": "x"]))
            let data = try JSONCoding.line(request)
            let decoded = try JSONCoding.decoder.decode(RPCRequest.self, from: data)
            #expect(decoded == request)
            #expect(!data.contains(UInt8(ascii: "\n")))
        }
    }

    @Test("server messages decode by shape: result, error, notification")
    func serverMessages() throws {
        let result = try ServerMessage.decode(Array(#"{"jsonrpc":"2.0","id":3,"result":{"paused":true}}"#.utf8))
        #expect(result == .result(RPCResult(id: .number(3), result: .object(["paused": true]))))

        let error = try ServerMessage.decode(
            Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":{"kind":"parse_error"}}}"#.utf8))
        guard case .error(let reply) = error else { Issue.record("expected an error, got \(error)"); return }
        #expect(reply.id == nil)
        #expect(reply.error.kind == .parseError)
        #expect(reply.error.code == -32700)

        let note = try ServerMessage.decode(Array(#"{"jsonrpc":"2.0","method":"event","params":{"seq":1}}"#.utf8))
        #expect(note == .notification(RPCNotification(method: "event", params: .object(["seq": 1]))))
    }

    @Test("an error reply with no id encodes id as null")
    func errorReplyNullID() throws {
        let reply = RPCErrorReply(id: nil, error: RPCError(.parseError, "nope"))
        let json = String(decoding: try JSONCoding.line(reply), as: UTF8.self)
        #expect(json.contains(#""id":null"#))
        #expect(json.contains(#""kind":"parse_error""#))
    }

    @Test("every error kind has a JSON-RPC code in the reserved or server range")
    func errorCodes() {
        for kind in RPCErrorKind.allCases {
            #expect((-32768 ... -32000).contains(kind.code), "\(kind)")
        }
        #expect(RPCErrorKind.methodNotFound.code == -32601)
        #expect(RPCErrorKind.invalidParams.code == -32602)
    }

    @Test("jobs encode with snake_case keys and millisecond UTC timestamps")
    func jobEncoding() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.125)
        let job = Job(
            id: 4, direction: "catboost-tuning", guidance: "", agent: "claude", priority: 2, state: .queued,
            attempts: 0, reason: nil, createdAt: date, updatedAt: date, startedAt: nil, finishedAt: nil)
        let value = try JSONValue(encoding: job)
        #expect(value["id"] == .int(4))
        #expect(value["direction"] == "catboost-tuning")
        #expect(value["state"] == "queued")
        #expect(value["created_at"] == "2023-11-14T22:13:20.125Z")
        #expect(value["started_at"] == .null)
        let decoded = try value.decode(Job.self)
        #expect(abs(decoded.createdAt.timeIntervalSince(date)) < 0.001)
        #expect(decoded.direction == job.direction)
    }

    @Test("JSONValue keeps integers and doubles apart")
    func jsonValueNumbers() throws {
        let value = try JSONCoding.decoder.decode(JSONValue.self, from: Data(#"{"a":1,"b":1.5,"c":[true,null,"s"]}"#.utf8))
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .double(1.5))
        #expect(value["c"] == .array([true, .null, "s"]))
    }
}

@Suite("Job state machine and names")
struct JobRulesTests {
    @Test("final states accept no transition")
    func finalStates() {
        for state in JobState.allCases where state.isFinal {
            for next in JobState.allCases {
                #expect(!state.canTransition(to: next), "\(state) -> \(next)")
            }
        }
    }

    @Test("the lifecycle transitions are allowed")
    func lifecycle() {
        #expect(JobState.queued.canTransition(to: .running))
        #expect(JobState.running.canTransition(to: .completed))
        #expect(JobState.running.canTransition(to: .interrupted))
        #expect(JobState.interrupted.canTransition(to: .queued))
        #expect(!JobState.queued.canTransition(to: .completed))
        #expect(!JobState.queued.canTransition(to: .queued))
    }

    @Test(
        "direction names are lowercase slugs",
        arguments: [
            ("catboost-tuning", true), ("mlp2", true), ("a", true), ("", false), ("Catboost", false),
            ("-lead", false), ("trail-", false), ("dou--ble", false), ("has space", false), ("../etc", false),
            ("exp/x", false), ("ünïcode", false), (String(repeating: "a", count: 64), true),
            (String(repeating: "a", count: 65), false),
        ])
    func directionNames(name: String, valid: Bool) {
        #expect((DirectionName.problem(with: name) == nil) == valid, "\(name)")
    }
}

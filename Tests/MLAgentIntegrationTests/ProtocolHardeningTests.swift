import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Hostile and careless clients against the real daemon: lines that nest without end, requests
/// that break JSON-RPC's rules, clients that half-close, internal failures.
@Suite("protocol hardening", .serialized)
struct ProtocolHardeningTests {
    /// Sends `text` and a newline on `connection` and returns the error reply.
    func error(for text: String, on connection: Connection) throws -> RPCErrorReply {
        try connection.sendRaw(Array((text + "\n").utf8))
        guard case .error(let reply) = try connection.readMessage() else { throw TestFailure("no error for \(text.prefix(80))") }
        return reply
    }

    @Test("lines nested 300,000 deep are refused with the limit named, on every decoder path; the daemon keeps serving")
    func deepNesting() throws {
        let daemon = try TestDaemon(label: "deep")
        try daemon.start()
        let connection = try Connection(path: daemon.socketPath)
        let depth = 300_000
        let open = String(repeating: "[", count: depth)
        let close = String(repeating: "]", count: depth)
        let lines = [
            // The fast reader's path: an unknown member.
            #"{"jsonrpc":"2.0","id":1,"method":"daemon.status","x":"# + open + close + "}",
            // The fallback path: an escaped string sends the line to JSONDecoder.
            #"{"jsonrpc":"2.0","id":2,"method":"daemon.st\u0061tus","x":"# + open + close + "}",
            // Inside params, and as the whole line.
            #"{"jsonrpc":"2.0","id":3,"method":"job.enqueue","params":{"direction":"deep","guidance":"# + open + close + "}}",
            open + close,
            // Unterminated, and objects rather than arrays.
            open,
            String(repeating: #"{"a":"#, count: depth / 5) + "1" + String(repeating: "}", count: depth / 5),
        ]
        for line in lines {
            let reply = try error(for: line, on: connection)
            #expect(reply.error.kind == .invalidRequest, "\(reply.error)")
            #expect(reply.error.message.contains("\(FastJSON.maxDepth) levels"), "\(reply.error.message)")
        }
        // Deep but within the limit, in an unknown member: served.
        let fine = #"{"jsonrpc":"2.0","id":9,"method":"daemon.status","x":"# + String(repeating: "[", count: 60)
            + String(repeating: "]", count: 60) + "}"
        try connection.sendRaw(Array((fine + "\n").utf8))
        guard case .result(let result) = try connection.readMessage() else { throw TestFailure("no result within the limit") }
        #expect(result.id == .number(9))
        #expect(try daemon.client().list().isEmpty, "nothing deep was executed")
        #expect(daemon.process?.isRunning == true)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a request without \"jsonrpc\":\"2.0\" is refused and not executed")
    func jsonrpcRequired() throws {
        let daemon = try TestDaemon(label: "rpc")
        try daemon.start()
        let connection = try Connection(path: daemon.socketPath)
        for line in [
            #"{"id":1,"method":"job.enqueue","params":{"direction":"no-version"}}"#,
            #"{"jsonrpc":null,"id":2,"method":"job.enqueue","params":{"direction":"null-version"}}"#,
            #"{"jsonrpc":"2.1","id":3,"method":"job.enqueue","params":{"direction":"wrong-version"}}"#,
        ] {
            let reply = try error(for: line, on: connection)
            #expect(reply.error.kind == .invalidRequest, "\(line): \(reply.error)")
            #expect(reply.error.message.contains("2.0"))
        }
        #expect(try daemon.client().list().isEmpty)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a client that half-closes gets every reply, the last line without a newline included")
    func halfClose() throws {
        let daemon = try TestDaemon(label: "half")
        try daemon.start()
        for round in 0..<5 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            #expect(UnixSocketAddress.connect(fd, path: daemon.socketPath) == 0)
            defer { close(fd) }
            let request = #"{"jsonrpc":"2.0","id":1,"method":"daemon.status"}"# + "\n"
                + #"{"jsonrpc":"2.0","id":2,"method":"job.enqueue","params":{"direction":"half-\#(round)"}}"#
            let bytes = Array(request.utf8)
            #expect(bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count)
            shutdown(fd, Int32(SHUT_WR))
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                received += chunk[..<count]
            }
            let lines = received.split(separator: UInt8(ascii: "\n")).map { try? ServerMessage.decode(Array($0)) }
            #expect(lines.count == 3, "hello and two replies, got \(String(decoding: received, as: UTF8.self))")
            let ids = lines.compactMap { message -> RPCID? in
                if case .result(let result)? = message { return result.id }
                return nil
            }
            #expect(ids == [.number(1), .number(2)])
        }
        #expect(Set(try daemon.client().list().map(\.direction)) == Set((0..<5).map { "half-\($0)" }))
        #expect(try daemon.terminate() == 0)
    }

    @Test("an internal failure reaches the client as an error id; the details stay in the daemon's log")
    func internalErrorsStayInside() throws {
        let daemon = try TestDaemon(label: "int", config: """
            [daemon]
            data_dir = "@DIR@/data"
            [scheduler]
            default_agent = "quick"
            [agents.quick]
            command = ["sh", "-c", "echo started"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.start(launching: true)
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: "logs-broken"))
        try waitUntil("the job to end") { try client.show(id: job.id).state.isFinal }
        let logPath = try #require(try client.show(id: job.id).logPath)
        // The log replaced by a directory: reading it fails inside the daemon.
        try FileManager.default.removeItem(atPath: logPath)
        try FileManager.default.createDirectory(atPath: logPath, withIntermediateDirectories: false)
        let result = try daemon.ctl("logs", String(job.id))
        #expect(result.status == 1)
        #expect(result.stderr.contains("internal error E-"), "\(result.stderr)")
        #expect(!result.stderr.contains(daemon.stateDir), "a state path reached the client: \(result.stderr)")
        let id = try #require(result.stderr.firstRange(of: /E-[0-9a-f]{8}/).map { String(result.stderr[$0]) })
        do {
            try waitUntil("the details logged under \(id)") { daemon.log.contains(id) }
        } catch {
            Issue.record("\(error); log: \(daemon.log)")
        }
        #expect(try daemon.terminate() == 0)
    }
}

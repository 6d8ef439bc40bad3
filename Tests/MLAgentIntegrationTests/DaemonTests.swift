import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

@Suite("mlagentd process behaviour", .serialized)
struct DaemonTests {
    @Test("500 acknowledged enqueues from 8 clients survive kill -9")
    func durabilityAcrossKill9() throws {
        let daemon = try TestDaemon(label: "k9")
        try daemon.start()
        let acknowledged = AckLog()
        let group = DispatchGroup()
        let socket = daemon.socketPath
        for worker in 0..<8 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                do {
                    let client = Client(connection: try Connection(path: socket))
                    var index = worker
                    while index < 500 {
                        let job = try client.enqueue(EnqueueParams(direction: "d-\(index)", guidance: "g\(index)"))
                        acknowledged.add(job.id, "d-\(index)")
                        index += 8
                    }
                } catch {
                    acknowledged.fail("\(error)")
                }
            }
        }
        group.wait()
        #expect(acknowledged.failures.isEmpty, "\(acknowledged.failures)")
        #expect(acknowledged.entries.count == 500)

        daemon.kill9()
        try daemon.start()
        let client = try daemon.client()
        let jobs = try client.list()
        let stored = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0.direction) })
        for (id, direction) in acknowledged.entries {
            #expect(stored[id] == direction, "job \(id) lost")
        }
        #expect(jobs.count == 500)
        let events = try client.events(since: 0, limit: 10_000).events
        #expect(events.filter { $0.kind == EventKind.jobEnqueued }.count == 500)
        #expect(try daemon.terminate() == 0)
    }

    @Test("SIGTERM finishes in-flight requests, acknowledges nothing it did not store, and exits 0")
    func gracefulShutdown() throws {
        let daemon = try TestDaemon(label: "term")
        try daemon.start()
        let connection = try Connection(path: daemon.socketPath)
        // Pipeline 300 requests without reading replies, then stop the daemon.
        var bytes: [UInt8] = []
        for index in 0..<300 {
            let request = RPCRequest(
                id: .number(Int64(index)), method: Method.enqueue, params: .object(["direction": .string("t-\(index)")]))
            bytes += Array(try JSONCoding.line(request)) + [UInt8(ascii: "\n")]
        }
        try connection.sendRaw(bytes)
        kill(daemon.pid, SIGTERM)
        var acknowledged: [Int64: String] = [:]
        while let line = try? connection.readLine() {
            if case .result(let result) = try ServerMessage.decode(line), case .number(let index) = result.id {
                acknowledged[index] = "t-\(index)"
            }
        }
        try waitUntil("exit after SIGTERM") { daemon.process?.isRunning == false }
        #expect(daemon.process?.terminationStatus == 0)
        #expect(daemon.notify.lines.contains("STOPPING=1"))
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "the socket file is removed on exit")

        try daemon.start()
        let stored = Set(try daemon.client().list().map(\.direction))
        for direction in acknowledged.values {
            #expect(stored.contains(direction), "\(direction) was acknowledged but is missing")
        }
        #expect(try daemon.terminate() == 0)
    }

    @Test("READY=1 comes after the socket listens, with MAINPID and a STATUS line; WATCHDOG=1 when asked")
    func readinessAndWatchdog() throws {
        let daemon = try TestDaemon(label: "rdy")
        try daemon.start(extraEnvironment: ["WATCHDOG_USEC": "200000"])
        // Ready means connectable right now, with no retry.
        let status = try daemon.client().status()
        #expect(status.pid == daemon.pid)
        let lines = daemon.notify.lines
        #expect(lines.contains("MAINPID=\(daemon.pid)"))
        #expect(lines.contains { $0.hasPrefix("STATUS=") && $0.contains("queued") })
        try waitUntil("two watchdog pings") { daemon.notify.lines.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        _ = try daemon.client().enqueue(EnqueueParams(direction: "status-line"))
        try waitUntil("STATUS= to report the queued job") {
            daemon.notify.lines.contains { $0.hasPrefix("STATUS=1 queued") }
        }
        #expect(try daemon.terminate() == 0)
        #expect(daemon.notify.lines.contains("STOPPING=1"))
    }

    @Test("socket activation: the daemon serves the socket systemd-socket-activate passes")
    func socketActivation() throws {
        let dir = try TempDir("sa")
        let socketPath = dir.file("activated.sock")
        let notify = try NotifySocket(path: dir.file("notify.sock"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-socket-activate")
        process.arguments = [
            "-l", socketPath, "-E", "NOTIFY_SOCKET=\(notify.path)",
            Binaries.daemon.path, "--state-dir", dir.file("state"), "--socket", dir.file("unused.sock"),
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try waitUntil("systemd-socket-activate to listen") { FileManager.default.fileExists(atPath: socketPath) }
        // The first connection starts the daemon; the kernel queues it meanwhile.
        let client = Client(connection: try Connection(path: socketPath))
        let status = try client.status()
        #expect(status.listen == "activated")
        #expect(status.socket == socketPath)
        #expect(!FileManager.default.fileExists(atPath: dir.file("unused.sock")))
        try notify.wait(for: "READY=1")
        _ = try client.enqueue(EnqueueParams(direction: "activated"))
        kill(process.processIdentifier, SIGTERM)
        try waitUntil("activated daemon to exit") { !process.isRunning }
        #expect(process.terminationStatus == 0)
    }

    @Test("bad input gets clear errors while a second client keeps being served")
    func badInput() throws {
        let daemon = try TestDaemon(label: "bad")
        try daemon.start()
        let bad = try Connection(path: daemon.socketPath)
        let good = try daemon.client()
        #expect(bad.hello.protocolVersion == protocolVersion)
        #expect(bad.hello.maxLineBytes == 1 << 20)

        func send(_ text: String) throws -> RPCErrorReply {
            try bad.sendRaw(Array((text + "\n").utf8))
            guard case .error(let reply) = try bad.readMessage() else { throw TestFailure("no error for \(text)") }
            return reply
        }
        let cases: [(String, RPCErrorKind, String)] = [
            ("{not json", .parseError, "not valid JSON"),
            ("[1,2,3]", .invalidRequest, "JSON object"),
            (#"{"jsonrpc":"2.0","id":1}"#, .invalidRequest, "method"),
            (#"{"jsonrpc":"1.0","id":2,"method":"daemon.status"}"#, .invalidRequest, "2.0"),
            (#"{"jsonrpc":"2.0","id":3,"method":"job.explode"}"#, .methodNotFound, "job.explode"),
            (#"{"jsonrpc":"2.0","id":4,"method":"job.enqueue","params":{"direction":42}}"#, .invalidParams, "direction"),
            (#"{"jsonrpc":"2.0","id":5,"method":"job.enqueue","params":{}}"#, .invalidParams, "missing field params.direction"),
            (#"{"jsonrpc":"2.0","id":6,"method":"job.show","params":{"id":"seven"}}"#, .invalidParams, "params.id"),
            (#"{"jsonrpc":"2.0","id":7,"method":"job.show","params":{"id":77}}"#, .notFound, "77"),
            (#"{"jsonrpc":"2.0","id":8,"method":"job.list","params":{"state":"dreaming"}}"#, .invalidParams, "state"),
            (#"{"jsonrpc":"2.0","id":9,"method":"job.enqueue","params":{"direction":"../../etc"}}"#, .invalidParams, "lowercase"),
            (#"{"jsonrpc":"2.0","id":10,"method":"job.show"}"#, .invalidParams, "needs params"),
        ]
        for (index, (line, kind, fragment)) in cases.enumerated() {
            let reply = try send(line)
            #expect(reply.error.kind == kind, "\(line): \(reply.error)")
            #expect(reply.error.code == kind.code)
            #expect(reply.error.message.contains(fragment), "\(line): \(reply.error.message)")
            // The other client is served between every bad request.
            _ = try good.enqueue(EnqueueParams(direction: "ok-\(index)"))
        }
        // Ids are echoed as sent, strings included.
        try bad.sendRaw(Array(#"{"jsonrpc":"2.0","id":"abc","method":"nope"}"#.utf8 + [10]))
        guard case .error(let echoed) = try bad.readMessage() else { throw TestFailure("no reply") }
        #expect(echoed.id == .string("abc"))

        // A 2 MiB line: rejected, discarded, and the same connection keeps working.
        var huge = Array(#"{"jsonrpc":"2.0","id":99,"method":"job.enqueue","params":{"guidance":""#.utf8)
        huge += [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20)
        huge += Array(#""}}"#.utf8) + [10]
        // The daemon discards as it reads, so the whole write goes through.
        try bad.sendRaw(huge)
        let tooLong = try bad.readMessage()
        guard case .error(let reply) = tooLong else { throw TestFailure("no error for the 2 MiB line") }
        #expect(reply.error.kind == .lineTooLong)
        #expect(reply.error.message.contains("1048576"))
        _ = try good.status()
        let after = try bad.call(Method.status)
        #expect(after["version"] == .string(mlagentVersion))

        let directions = Set(try good.list().map(\.direction))
        #expect(directions == Set((0..<cases.count).map { "ok-\($0)" }))
        #expect(daemon.process?.isRunning == true)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a subscriber that stops reading never stalls the daemon and still gets every event")
    func slowSubscriber() throws {
        let daemon = try TestDaemon(label: "slow", config: "[daemon]\nsubscriber_buffer = 16\n")
        try daemon.start()
        let subscriber = try daemon.client(timeout: .seconds(60))
        let subscription = try subscriber.subscribe(since: 0)
        #expect(subscription.subscribed)

        // While the subscriber reads nothing, 4 writers enqueue 3000 jobs.
        let group = DispatchGroup()
        let failures = AckLog()
        let socket = daemon.socketPath
        for worker in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                do {
                    let client = Client(connection: try Connection(path: socket))
                    for index in stride(from: worker, to: 3000, by: 4) {
                        _ = try client.enqueue(EnqueueParams(direction: "s-\(index)"))
                    }
                } catch { failures.fail("\(error)") }
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success, "writers stalled behind a slow subscriber")
        #expect(failures.failures.isEmpty, "\(failures.failures)")
        let lastSeq = try daemon.client().status().lastSeq

        // Now read: every seq from 1 to lastSeq arrives exactly once and in order.
        var seen: [Int64] = []
        var overflows = 0
        while seen.last ?? 0 < lastSeq {
            switch try subscriber.nextEvent() {
            case .event(let event): seen.append(event.seq)
            case .overflow: overflows += 1
            }
        }
        #expect(seen == Array(1...lastSeq))
        #expect(overflows >= 1, "3000 events through a 16-event buffer should overflow")
        #expect(try daemon.terminate() == 0)
    }

    @Test("one daemon per state directory, and a live socket is never stolen")
    func exclusivity() throws {
        let daemon = try TestDaemon(label: "ex")
        try daemon.start()
        let second = Process()
        second.executableURL = Binaries.daemon
        second.arguments = ["--state-dir", daemon.stateDir, "--socket", daemon.dir.file("other.sock")]
        let err = Pipe()
        second.standardError = err
        try second.run()
        second.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus != 0)
        #expect(message.contains("in use by another mlagentd (pid \(daemon.pid))"), "\(message)")

        let third = Process()
        third.executableURL = Binaries.daemon
        third.arguments = ["--state-dir", daemon.dir.file("state2"), "--socket", daemon.socketPath]
        let err3 = Pipe()
        third.standardError = err3
        try third.run()
        third.waitUntilExit()
        let message3 = String(decoding: err3.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(third.terminationStatus != 0)
        #expect(message3.contains("already listening"), "\(message3)")
        _ = try daemon.client().status()
        #expect(try daemon.terminate() == 0)
    }

    @Test("a config file with a typo stops the daemon with the key named")
    func badConfig() throws {
        let daemon = try TestDaemon(label: "cfg", config: "[daemon]\nmax_line_byte = 10\n")
        try daemon.start(waitReady: false)
        try waitUntil("mlagentd to refuse the config") { daemon.process?.isRunning == false }
        #expect(daemon.process?.terminationStatus != 0)
        #expect(daemon.log.contains("unknown key daemon.max_line_byte"))
    }
}

final class AckLog: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [Int64: String] = [:]
    private var errors: [String] = []

    func add(_ id: Int64, _ direction: String) { lock.withLock { ids[id] = direction } }
    func fail(_ message: String) { lock.withLock { errors.append(message) } }
    var entries: [Int64: String] { lock.withLock { ids } }
    var failures: [String] { lock.withLock { errors } }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// `mlagentctl` against daemons that die mid-connection, logs that end mid-character, and the
/// command line as users type it.
@Suite("mlagentctl resilience and command line", .serialized)
struct ClientResilienceTests {
    /// A socket that accepts connections and drops them: at once (a daemon dying before its
    /// hello), or after the hello and the first request line (a daemon dying mid-request).
    final class DroppingServer: @unchecked Sendable {
        enum Mode { case beforeHello, afterRequest }
        let path: String
        private let fd: Int32
        private let lock = NSLock()
        private var accepted = 0
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init(path: String, mode: Mode) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard UnixSocketAddress.bind(fd, path: path) == 0, listen(fd, 16) == 0 else {
                throw TestFailure("cannot listen at \(path): \(String(cString: strerror(errno)))")
            }
            let hello = try JSONCoding.line(
                RPCNotification(
                    method: Method.hello,
                    params: try JSONValue(
                        encoding: Hello(
                            server: "mlagentd", version: mlagentVersion, protocolVersion: protocolVersion,
                            maxLineBytes: 1 << 20, capabilities: []))))
            let thread = Thread { [self] in
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 { break }
                    lock.withLock { accepted += 1 }
                    if mode == .afterRequest {
                        let line = Array(hello) + [UInt8(ascii: "\n")]
                        _ = line.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        var byte: UInt8 = 0
                        while recv(client, &byte, 1, 0) == 1, byte != UInt8(ascii: "\n") {}
                    }
                    close(client)
                }
                done.signal()
            }
            thread.start()
        }

        var connections: Int { lock.withLock { accepted } }

        /// Stops listening and removes the socket file, so a real daemon can take the path.
        func stop() {
            let first = lock.withLock { () -> Bool in
                defer { stopped = true }
                return !stopped
            }
            guard first else { return }
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
            done.wait()
            unlink(path)
        }

        deinit { stop() }
    }

    /// `mlagentctl` started in the background, as an agent (with a token).
    final class Background: @unchecked Sendable {
        let process = Process()
        let out = Pipe()
        let err = Pipe()

        init(_ arguments: [String], socket: String, token: String) throws {
            process.executableURL = Binaries.ctl
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["MLAGENT_SOCKET"] = socket
            environment["MLAGENT_TOKEN"] = token
            process.environment = environment
            process.standardOutput = out
            process.standardError = err
            try process.run()
        }

        func finish() throws -> CtlResult {
            try waitUntil("mlagentctl to exit", timeout: .seconds(60)) { !process.isRunning }
            return CtlResult(
                status: process.terminationStatus,
                stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
    }

    @Test(
        "an agent's mlagentctl waits through resets and EOF before a reply, for idempotent calls",
        arguments: [DroppingServer.Mode.beforeHello, .afterRequest])
    func waitsForRestart(mode: DroppingServer.Mode) throws {
        let daemon = try TestDaemon(label: "drop")
        let server = try DroppingServer(path: daemon.socketPath, mode: mode)
        let call = try Background(["leaderboard"], socket: daemon.socketPath, token: "not-a-job-token")
        try waitUntil("three dropped connections") { server.connections >= 3 }
        #expect(call.process.isRunning, "mlagentctl gave up on a daemon that dropped the connection")
        server.stop()
        try daemon.start()
        // The call reaches the real daemon, which refuses the made-up token: it waited.
        let result = try call.finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("token is unknown"), "\(result.stderr)")
        #expect(try daemon.terminate() == 0)
    }

    @Test("a call that is not idempotent is not sent twice after the connection drops mid-request")
    func nonIdempotentFailsAtOnce() throws {
        let daemon = try TestDaemon(label: "drop1")
        let server = try DroppingServer(path: daemon.socketPath, mode: .afterRequest)
        defer { server.stop() }
        let call = try Background(
            ["run", "start", "--name", "r", "--rationale", "once"], socket: daemon.socketPath, token: "not-a-job-token")
        let result = try call.finish()
        #expect(result.status != 0)
        #expect(server.connections == 1, "a run start was sent again after a lost reply")
        #expect(result.stderr.contains("closed the connection"), "\(result.stderr)")
    }

    @Test("logs ending inside a UTF-8 sequence are returned once the job has ended")
    func logsEndingMidCharacter() throws {
        let daemon = try TestDaemon(label: "utf", config: """
            [daemon]
            data_dir = "@DIR@/data"
            [scheduler]
            default_agent = "partial"
            max_attempts = 1
            [agents.partial]
            command = ["sh", "@DIR@/partial.sh"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        // Ends its output inside a three-byte character.
        try daemon.write("partial.sh", "printf 'caf\\303\\251 \\342\\202'\n")
        try daemon.start(launching: true)
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: "utf-tail"))
        try waitUntil("the job to end") { try client.show(id: job.id).state.isFinal }
        let call = try Background(["logs", String(job.id)], socket: daemon.socketPath, token: "")
        let result = try call.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("café \u{FFFD}"), "\(result.stdout)")
        let chunk = try client.logs(id: job.id)
        #expect(chunk.nextOffset == chunk.size, "the trailing bytes of an ended job's log are returned")
        #expect(try daemon.terminate() == 0)
    }

    @Test("--socket before the subcommand, negative option values, mlagentd --data")
    func commandLine() throws {
        let dir = try TempDir("cli")
        let data = dir.file("dataset")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try "f00,target\n0.1,0\n".write(toFile: data + "/train.csv", atomically: true, encoding: .utf8)
        try "f00\n0.5\n0.7\n".write(toFile: data + "/val_public_X.csv", atomically: true, encoding: .utf8)
        try "target\n1\n0\n".write(toFile: data + "/val_public_y.csv", atomically: true, encoding: .utf8)
        let socketPath = dir.file("cli.sock")
        let daemon = try ChildProcess(
            executable: Binaries.daemon.path,
            arguments: ["--state-dir", dir.file("state"), "--socket", socketPath, "--data", data],
            environment: ProcessInfo.processInfo.environment, outputPath: dir.file("daemon.log"))
        defer {
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
        }
        try waitUntil("the socket") { (try? Connection(path: socketPath)) != nil }
        _ = try Client(connection: try Connection(path: socketPath)).pause()
        let enqueued = try runCtl(["--socket", socketPath, "enqueue", "negative", "--priority", "-10"], socket: nil)
        #expect(enqueued.status == 0, "\(enqueued.stderr)")
        let shown = try runCtl(["--socket=\(socketPath)", "--json", "show", enqueued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], socket: nil)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains(#""priority":-10"#), "\(shown.stdout)")
        let nested = try runCtl(["--socket", socketPath, "direction", "list"], socket: nil)
        #expect(nested.status == 0, "\(nested.stderr)")
        // The workspace was made from --data.
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", dir.file("state/workspace"), "cat-file", "-e", "main:data/train.csv"]
        try git.run()
        git.waitUntilExit()
        #expect(git.terminationStatus == 0, "the workspace was not made from --data")
        #expect(FileManager.default.fileExists(atPath: dir.file("state/targets/val_public_y.csv")))
    }
}

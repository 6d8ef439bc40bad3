import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The TCP+TLS listener (`[daemon] listen`): agents reach the daemon with MLAGENT_ADDRESS and a
/// pinned certificate, only job tokens (and the operator's secret) are accepted, and hostile
/// input over TCP leaves the daemon serving.
@Suite("TCP with TLS", .serialized)
struct TLSTests {
    static let operatorSecret = "operator-secret-for-the-tls-tests"

    func makeDaemon(_ label: String, operatorToken: Bool = false, listen: String = "127.0.0.1:0") throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            listen = "\(listen)"
            advertise = "localhost"
            log_level = "debug"
            \(operatorToken ? "operator_token_file = \"@DIR@/operator.token\"" : "")
            [scheduler]
            default_agent = "puppet"
            kill_grace = "2s"
            [agents.puppet]
            command = ["sh", "@DIR@/agents/puppet.sh"]
            [agents.remote]
            command = ["sh", "@DIR@/agents/remote.sh"]
            """
        let daemon = try TestDaemon(label: label, config: config)
        try daemon.writeDataset(targets: [0, 1])
        try daemon.write("operator.token", "  \(Self.operatorSecret)\n")
        try daemon.write(
            "agents/puppet.sh",
            """
            echo "$MLAGENT_TOKEN $(pwd)" > .puppet
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
        // A local agent that forgets its Unix socket and calls over TLS only, as one on another
        // machine would: the address and fingerprint come from a file the test writes.
        try daemon.write(
            "agents/remote.sh",
            """
            while [ ! -e @DIR@/ctl/tls.env ]; do sleep 0.1; done
            . @DIR@/ctl/tls.env
            unset MLAGENT_SOCKET
            echo "socket=${MLAGENT_SOCKET:-none} address=$MLAGENT_ADDRESS"
            run=$(mlagentctl run start --name over-tls --rationale "reach the daemon over TLS") || exit 3
            mlagentctl run log "$run" --metric loss=0.5 || exit 4
            mlagentctl run end "$run" --analysis "reached the daemon over TLS" || exit 5
            echo "TLS works for agents on other machines." > learnings.md
            mlagentctl direction finish --learnings learnings.md || exit 6
            """)
        return daemon
    }

    /// The listener's status (over the Unix socket) and the environment of a TLS client.
    func tls(_ daemon: TestDaemon) throws -> (status: DaemonStatus.TLSListener, environment: [String: String]) {
        let status = try #require(try daemon.client().status().tls)
        return (status, ["MLAGENT_ADDRESS": "tls://\(status.address)", "MLAGENT_TLS_FINGERPRINT": status.fingerprint])
    }

    /// Runs mlagentctl over TLS only (no socket in its environment), with `token` if any.
    func overTLS(_ daemon: TestDaemon, _ arguments: [String], token: String?, directory: String? = nil) throws -> CtlResult {
        var environment = try tls(daemon).environment
        if let token { environment["MLAGENT_TOKEN"] = token }
        return try runCtl(arguments, socket: nil, environment: environment, directory: directory ?? daemon.dir.path)
    }

    func refused(_ result: CtlResult, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, "exit \(result.status): \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    func release(_ daemon: TestDaemon, job: Int64) {
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-\(job)"), contents: Data())
    }

    @Test("an agent without its Unix socket completes a direction over TLS; status shows the listener")
    func agentOverTLS() throws {
        let daemon = try makeDaemon("tls-agent")
        try daemon.start(launching: true)
        let (status, environment) = try tls(daemon)
        #expect(status.address.hasPrefix("127.0.0.1:") && !status.address.hasSuffix(":0"))
        #expect(status.advertise == "tls://localhost:\(status.address.split(separator: ":").last!)")
        let stored = try String(contentsOfFile: daemon.stateDir + "/tls/fingerprint", encoding: .utf8)
        #expect(stored == status.fingerprint + "\n")
        let key = try FileManager.default.attributesOfItem(atPath: daemon.stateDir + "/tls/key.pem")
        #expect((key[.posixPermissions] as? Int) == 0o600)
        let shown = try daemon.ctl("status")
        #expect(shown.stdout.contains("tls      \(status.address) sha256 \(status.fingerprint)"), "\(shown.stdout)")

        try daemon.write(
            "ctl/tls.env",
            "export MLAGENT_ADDRESS=\(environment["MLAGENT_ADDRESS"]!) MLAGENT_TLS_FINGERPRINT=\(status.fingerprint)\n")
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "over-tls", agent: "remote"))
        try waitUntil("the TLS agent to finish", timeout: .seconds(90)) { try client.show(id: 1).state.isFinal }
        let job = try client.show(id: 1)
        let agentLog = (try? String(contentsOfFile: job.logPath ?? "", encoding: .utf8)) ?? ""
        #expect(job.state == .completed, "\(job.reason ?? "") \(agentLog)")
        #expect(agentLog.contains("socket=none address=tls://127.0.0.1:"), "\(agentLog)")
        let runs = try client.runs(direction: "over-tls")
        #expect(runs.count == 1 && runs.first?.name == "over-tls" && runs.first?.endedAt != nil, "\(runs)")
        // The agent's calls came over TCP (the debug log names the peer's host).
        let log = daemon.log
        for method in ["run.start", "run.log", "run.end", "direction.finish"] {
            #expect(log.contains("method=\(method) peer.host=127.0.0.1"), "\(method) did not come over TCP: \(log.suffix(3000))")
        }

        // The certificate is reused by the next start: the pin stays valid.
        #expect(try daemon.terminate() == 0)
        try daemon.start()
        #expect(try tls(daemon).status.fingerprint == status.fingerprint)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a client pinning another fingerprint refuses the server and sends nothing")
    func wrongFingerprint() throws {
        let daemon = try makeDaemon("tls-pin")
        try daemon.start()
        let (status, environment) = try tls(daemon)
        let requestsBefore = daemon.log.components(separatedBy: "request").count
        let wrong = String(repeating: "ab", count: 32)
        var pinned = environment
        pinned["MLAGENT_TLS_FINGERPRINT"] = wrong
        pinned["MLAGENT_TOKEN"] = "some-token"
        let result = try runCtl(["status"], socket: daemon.socketPath, environment: pinned)
        // MLAGENT_ADDRESS wins over MLAGENT_SOCKET when no --socket is given.
        refused(result, "fingerprint \(status.fingerprint), but MLAGENT_TLS_FINGERPRINT is \(wrong)")
        #expect(result.stderr.contains("nothing was sent"))
        refused(try runCtl(["status"], socket: nil, environment: ["MLAGENT_ADDRESS": environment["MLAGENT_ADDRESS"]!]), "needs MLAGENT_TLS_FINGERPRINT")
        // --socket still wins over MLAGENT_ADDRESS.
        pinned.removeValue(forKey: "MLAGENT_TOKEN")
        let flagged = try runCtl(["--socket", daemon.socketPath, "status"], socket: nil, environment: pinned)
        #expect(flagged.status == 0, "\(flagged.stderr)")
        let requestsAfter = daemon.log.components(separatedBy: "request").count
        #expect(requestsAfter == requestsBefore + 1, "only the --socket call made a request: \(daemon.log.suffix(3000))")
        #expect(try daemon.terminate() == 0)
    }

    @Test("over TCP: a token is its own job only; ended jobs, no token and operator calls are refused")
    func accessOverTCP() throws {
        let daemon = try makeDaemon("tls-access", operatorToken: true)
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "first"))
        _ = try client.enqueue(EnqueueParams(direction: "second"))
        let first = try puppetFields(at: try worktree(client, job: 1) + "/.puppet", job: 1)
        let second = try puppetFields(at: try worktree(client, job: 2) + "/.puppet", job: 2)

        let started = try overTLS(daemon, ["run", "start", "--name", "mine", "--rationale", "first's run"], token: first[0], directory: first[1])
        #expect(started.status == 0, "\(started.stderr)")
        let run = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The second job's token acts as the second job: the first job's run is not its own.
        let touched = try overTLS(daemon, ["run", "end", run, "--analysis", "not mine"], token: second[0], directory: second[1])
        #expect(touched.status != 0, "\(touched.stdout)")
        #expect(try client.showRun(Int64(run)!).run.endedAt == nil)
        let own = try overTLS(daemon, ["run", "start", "--name", "theirs", "--rationale", "second's run"], token: second[0], directory: second[1])
        #expect(own.status == 0, "\(own.stderr)")
        #expect(try client.runs(direction: "second").count == 1 && client.runs(direction: "first").count == 1)

        // No token: refused, even for methods any local user may call on the Unix socket.
        refused(try overTLS(daemon, ["status"], token: nil), "came over TCP without a token")
        refused(try overTLS(daemon, ["list"], token: nil), "came over TCP without a token")
        // A job's token cannot make operator calls.
        refused(try overTLS(daemon, ["enqueue", "more"], token: first[0]), "job.enqueue is an operator call and is refused over TCP")
        refused(try overTLS(daemon, ["pause"], token: first[0]), "is an operator call and is refused over TCP; configure [daemon] operator_token_file")
        refused(try overTLS(daemon, ["status"], token: "not-a-token"), "the token is unknown or its job is no longer running")
        // The token of a job that ended is refused.
        release(daemon, job: 2)
        try waitUntil("job 2 to end", timeout: .seconds(30)) { try client.show(id: 2).state.isFinal }
        refused(
            try overTLS(daemon, ["run", "start", "--name", "late", "--rationale", "ended"], token: second[0], directory: second[1]),
            "the token is unknown or its job is no longer running")
        // The operator's secret makes operator calls.
        let paused = try overTLS(daemon, ["pause"], token: Self.operatorSecret)
        #expect(paused.status == 0, "\(paused.stderr)")
        #expect(try client.status().paused)
        let status = try overTLS(daemon, ["status"], token: Self.operatorSecret)
        #expect(status.status == 0 && status.stdout.contains("tls      "), "\(status.stderr)")
        let listed = try overTLS(daemon, ["list", "--json"], token: Self.operatorSecret)
        #expect(listed.status == 0, "\(listed.stderr)")
        refused(try overTLS(daemon, ["pause"], token: Self.operatorSecret + "x"), "the token is unknown")
        // No internal detail reaches a TCP client.
        for result in [touched, paused, status] { #expect(!result.stderr.contains(daemon.stateDir)) }
        release(daemon, job: 1)
        #expect(try daemon.terminate() == 0)
    }

    @Test("10,000 malformed lines over TLS, fresh connections and plaintext leave the daemon serving")
    func hostileInput() throws {
        let daemon = try makeDaemon("tls-fuzz")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "steady"))
        let puppet = try puppetFields(at: try worktree(client, job: 1) + "/.puppet", job: 1)
        let (status, _) = try tls(daemon)
        let port = Int(status.address.split(separator: ":").last!)!
        let endpoint = DaemonEndpoint.tls(host: "127.0.0.1", port: port, fingerprint: status.fingerprint)

        // One connection, 10,000 malformed lines; every one gets an error reply.
        let connection = try Connection(endpoint: endpoint)
        let junk = ["{", "not json", "[1,2", "{\"jsonrpc\":\"2.0\",\"id\":1}", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"daemon.status\"}",
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.status\"}", String(repeating: "[", count: 500), "\u{FFFD}\u{0}"]
        var replies = 0
        for batch in 0..<10 {
            var bytes: [UInt8] = []
            for index in 0..<1000 { bytes += Array((junk[(batch * 1000 + index) % junk.count] + "\n").utf8) }
            try connection.sendRaw(bytes)
            for _ in 0..<1000 {
                guard case .error = try connection.readMessage() else { continue }
                replies += 1
            }
        }
        #expect(replies == 10_000)
        connection.close()

        // Fresh connections: a malformed line then an abrupt close; plaintext to the TLS port.
        for index in 0..<50 {
            let fresh = try Connection(endpoint: endpoint)
            try fresh.sendRaw(Array("\(junk[index % junk.count])\n".utf8))
            fresh.close()
        }
        for payload in ["{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.status\"}\n", "GET / HTTP/1.0\r\n\r\n", String(repeating: "\u{16}\u{3}\u{1}", count: 2000)] {
            let answer = try Self.plaintext(port: port, payload: payload)
            #expect(!answer.contains("mlagentd"), "a plaintext client got a hello: \(answer)")
        }

        // A client that connects and never starts the handshake is closed after 10 s, not the idle timeout.
        let started = Date()
        let silent = try Self.plaintextExchange(port: port, payload: "", wait: 30)
        #expect(silent.closed && Date().timeIntervalSince(started) < 20, "closed \(silent.closed) after \(Date().timeIntervalSince(started)) s")

        #expect(try client.status().pid == daemon.pid)
        let call = try overTLS(daemon, ["run", "start", "--name", "still", "--rationale", "still serving"], token: puppet[0], directory: puppet[1])
        #expect(call.status == 0, "\(call.stderr)")
        // mlagentctl's MCP server goes through the same connection.
        var environment = try tls(daemon).environment
        environment["MLAGENT_TOKEN"] = puppet[0]
        let listed = try Self.mcpCall(tool: "list_runs", environment: environment)
        #expect(listed.contains("\"id\":2") && listed.contains("still") && !listed.contains("\"isError\":true"), "\(listed)")
        release(daemon, job: 1)
        #expect(try daemon.terminate() == 0)
    }

    @Test("an agent's TLS call waits for a restarting daemon, as over the Unix socket")
    func reconnectsAcrossRestart() throws {
        let port = try Self.freePort()
        let daemon = try makeDaemon("tls-restart", listen: "127.0.0.1:\(port)")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "patient"))
        let puppet = try puppetFields(at: try worktree(client, job: 1) + "/.puppet", job: 1)
        var environment = try tls(daemon).environment
        environment["MLAGENT_TOKEN"] = puppet[0]
        daemon.kill9()
        // Started while nothing listens: the agent's mlagentctl retries until the daemon is back.
        let process = Process()
        process.executableURL = Binaries.ctl
        process.arguments = ["run", "start", "--name", "after-restart", "--rationale", "the daemon came back"]
        process.currentDirectoryURL = URL(fileURLWithPath: puppet[1])
        var full = ProcessInfo.processInfo.environment
        full.removeValue(forKey: "MLAGENT_SOCKET")
        for (key, value) in environment { full[key] = value }
        process.environment = full
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // An operator's client would fail at once; the agent's keeps retrying while the daemon starts.
        #expect(process.isRunning, "mlagentctl gave up at once")
        try daemon.start(launching: true)
        try waitUntil("the call to succeed after the restart", timeout: .seconds(60)) { !process.isRunning }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(try daemon.client().runs(direction: "patient").map(\.name) == ["after-restart"])
        release(daemon, job: 1)
        #expect(try daemon.terminate() == 0)
    }

    @Test("a Slurm job gets MLAGENT_ADDRESS and the fingerprint, and finishes its direction over TLS")
    func slurmJobOverTLS() throws {
        try #require(SlurmCluster.available, "the Slurm tests need root and slurm-wlm (make test-deps installs it)")
        let daemon = try TestDaemon(
            label: "tls-slurm",
            config: """
                [daemon]
                data_dir = "@DIR@/data"
                prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
                listen = "127.0.0.1:0"
                advertise = "127.0.0.1"
                log_level = "debug"
                [scheduler]
                default_agent = "cluster"
                kill_grace = "3s"
                [slurm]
                worktree_root = "@DIR@/cluster"
                poll_interval = "300ms"
                [agents.cluster]
                executor = "slurm"
                command = ["sh", "@DIR@/agents/agent.sh"]
                """)
        try daemon.writeDataset(targets: [0, 1])
        // The node has no socket of the daemon's: only the TLS address works.
        try daemon.write(
            "agents/agent.sh",
            """
            set -e
            echo "address=$MLAGENT_ADDRESS fingerprint=$MLAGENT_TLS_FINGERPRINT"
            export MLAGENT_SOCKET=/nonexistent/agents.sock
            RUN=$(mlagentctl run start --name node --rationale "from a node over TLS")
            mlagentctl run end "$RUN" --analysis "reached the daemon over TLS"
            echo "Nodes reach the daemon over TLS." > l.md
            mlagentctl direction finish --learnings l.md
            """)
        let cluster = try SlurmCluster(dir: daemon.dir.file("slurm"))
        try daemon.start(extraEnvironment: ["SLURM_CONF": cluster.conf], launching: true)
        let (status, _) = try tls(daemon)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "on-a-node"))
        try waitUntil("the Slurm job to finish", timeout: .seconds(120), every: .milliseconds(100)) {
            let job = try client.show(id: 1)
            return job.state.isFinal && job.isSettled
        }
        let job = try client.show(id: 1)
        let agentLog = (try? String(contentsOfFile: job.logPath ?? "", encoding: .utf8)) ?? ""
        #expect(job.state == .completed, "\(job.reason ?? "") \(agentLog)")
        #expect(agentLog.contains("address=\(status.advertise) fingerprint=\(status.fingerprint)"), "\(agentLog)")
        #expect(daemon.log.contains("method=run.start peer.host=127.0.0.1"), "\(daemon.log.suffix(3000))")
        #expect(try client.runs(direction: "on-a-node").map(\.name) == ["node"])
        #expect(try daemon.terminate() == 0)
        withExtendedLifetime(cluster) {}
    }

    /// Runs `mlagentctl mcp`, calls `tool` once and returns its output up to the tool's reply.
    static func mcpCall(tool: String, environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = Binaries.ctl
        process.arguments = ["mcp"]
        var full = ProcessInfo.processInfo.environment
        full.removeValue(forKey: "MLAGENT_SOCKET")
        for (key, value) in environment { full[key] = value }
        process.environment = full
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let lines = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"tls-test","version":"1"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"\#(tool)","arguments":{}}}"#,
        ]
        input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
        var text = ""
        while !text.contains("\"id\":2") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        watchdog.cancel()
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return text
    }

    /// A TCP port nothing listens on now (bound to 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func worktree(_ client: Client, job: Int64) throws -> String {
        var path = ""
        try waitUntil("job \(job) to get a worktree", timeout: .seconds(30)) {
            path = try client.show(id: job).worktree ?? ""
            return !path.isEmpty
        }
        return path
    }

    /// Sends `payload` in plaintext to the TLS port and returns what comes back before the
    /// daemon closes the connection (at most `wait` seconds).
    static func plaintext(port: Int, payload: String, wait: Int = 5) throws -> String {
        try plaintextExchange(port: port, payload: payload, wait: wait).text
    }

    /// As ``plaintext(port:payload:wait:)``, and whether the daemon closed the connection.
    static func plaintextExchange(port: Int, payload: String, wait: Int) throws -> (text: String, closed: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("cannot connect to 127.0.0.1:\(port)") }
        var timeout = timeval(tv_sec: wait, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(payload.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var closed = false
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                closed = count == 0 || errno == ECONNRESET
                break
            }
            received += chunk[..<count]
        }
        return (String(decoding: received, as: UTF8.self), closed)
    }
}

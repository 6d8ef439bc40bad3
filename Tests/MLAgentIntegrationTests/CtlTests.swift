import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Drives the real daemon with the real `mlagentctl`, the way an operator would.
@Suite("mlagentctl against mlagentd", .serialized)
struct CtlTests {
    func json(_ text: String) throws -> JSONValue {
        try JSONCoding.decoder.decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test("enqueue, list, show, cancel, pause, resume, status and tail, in text and JSON")
    func operatorFlow() throws {
        let daemon = try TestDaemon(label: "ctl")
        try daemon.start()

        let first = try daemon.ctl("enqueue", "catboost-tuning", "--guidance", "depth 6-10", "--agent", "claude", "--priority", "5")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "1\n")

        let second = try daemon.ctl("enqueue", "", "--json")
        #expect(second.status == 0)
        let secondJob = try json(second.stdout)
        #expect(second.stdout.split(separator: "\n").count == 1)
        #expect(secondJob["id"] == 2)
        #expect(secondJob["direction"] == "")
        #expect(secondJob["state"] == "queued")
        #expect(secondJob["agent"] == "command")

        let duplicate = try daemon.ctl("enqueue", "catboost-tuning")
        #expect(duplicate.status == 1)
        #expect(duplicate.stdout.isEmpty)
        #expect(duplicate.stderr.contains("already used by job 1"))
        #expect(duplicate.stderr.split(separator: "\n").count == 1)

        let badName = try daemon.ctl("enqueue", "Bad Name")
        #expect(badName.status == 1)
        #expect(badName.stderr.contains("lowercase letters"))

        let badPriority = try daemon.ctl("enqueue", "p", "--priority", "5000")
        #expect(badPriority.status == 1)
        #expect(badPriority.stderr.contains("priority 5000 is out of range"))

        let list = try daemon.ctl("list")
        #expect(list.status == 0)
        #expect(list.stdout.contains("catboost-tuning"))
        #expect(list.stdout.contains("(agent picks)"))
        #expect(list.stdout.hasPrefix("ID"))

        let queued = try json(try daemon.ctl("list", "--state", "queued", "--json").stdout)
        guard case .array(let jobs)? = queued["jobs"] else { Issue.record("no jobs array"); return }
        // Priority first: job 1 (priority 5) before job 2.
        #expect(jobs.map { $0["id"] } == [1, 2])

        let show = try json(try daemon.ctl("show", "1", "--json").stdout)
        #expect(show["guidance"] == "depth 6-10")
        #expect(show["priority"] == 5)
        let missing = try daemon.ctl("show", "99")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no job with id 99"))

        #expect(try daemon.ctl("cancel", "2", "--reason", "not needed").status == 0)
        let again = try daemon.ctl("cancel", "2")
        #expect(again.status == 1)
        #expect(again.stderr.contains("already cancelled"))

        // The test daemon starts paused; resume with nothing queued, then pause again.
        #expect(try daemon.ctl("cancel", "1").status == 0)
        #expect(try daemon.ctl("resume").status == 0)
        #expect(try json(try daemon.ctl("status", "--json").stdout)["paused"] == false)
        #expect(try daemon.ctl("pause").status == 0)
        let status = try json(try daemon.ctl("status", "--json").stdout)
        #expect(status["paused"] == true)
        #expect(status["version"] == .string(mlagentVersion))
        #expect(status["queue"]?["queued"] == 0)
        #expect(status["queue"]?["cancelled"] == 2)
        #expect(status["queue"]?["interrupted"] == 0)
        #expect(status["pool"]?["max_agents"] == 3)
        #expect(status["listen"] == "bound")
        let human = try daemon.ctl("status")
        #expect(human.stdout.contains("0 queued, 0 running, 0 completed, 0 failed, 2 cancelled"))
        #expect(human.stdout.contains("0/3 agents running"))

        let tail = try daemon.ctl("tail", "--json", "--since", "0")
        let events = try tail.stdout.split(separator: "\n").map { try json(String($0)) }
        let kinds = events.compactMap { if case .string(let kind)? = $0["kind"] { kind } else { nil } }
        #expect(kinds == [
            "daemon.started", "queue.paused", "job.enqueued", "job.enqueued", "job.state", "job.state", "queue.resumed",
            "queue.paused",
        ])
        let seqs = events.compactMap { if case .int(let seq)? = $0["seq"] { seq } else { nil } }
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)

        let jobTail = try daemon.ctl("tail", "--job", "2")
        #expect(jobTail.stdout.split(separator: "\n").count == 2)
        #expect(jobTail.stdout.contains("queued → cancelled: not needed"))
        let resumed = try daemon.ctl("tail", "--since", "\(seqs[6])")
        #expect(resumed.stdout.split(separator: "\n").count == 1)
        #expect(resumed.stdout.contains("queue.paused"))

        #expect(try daemon.terminate() == 0)
    }

    @Test("a missing daemon gets a one-line error naming the socket and how to start it")
    func daemonNotRunning() throws {
        let dir = try TempDir("nod")
        let result = try runCtl(["status"], socket: dir.file("absent.sock"))
        #expect(result.status == 69)
        #expect(result.stderr.contains(dir.file("absent.sock")))
        #expect(result.stderr.contains("systemctl start mlagentd"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        let json = try runCtl(["list", "--json"], socket: dir.file("absent.sock"))
        #expect(json.status == 69)
        #expect(json.stdout.isEmpty)
    }

    @Test("every subcommand is listed in the help")
    func help() throws {
        let help = try runCtl(["--help"], socket: nil)
        for command in ["status", "enqueue", "list", "show", "cancel", "pause", "resume", "tail"] {
            #expect(help.stdout.contains(command), "\(command)")
        }
        let usage = try runCtl(["enqueue"], socket: nil)
        #expect(usage.status == 64)
    }

    @Test("tail --follow prints new events as they are committed")
    func tailFollow() throws {
        let daemon = try TestDaemon(label: "tf")
        try daemon.start()
        let process = Process()
        process.executableURL = Binaries.ctl
        process.arguments = ["tail", "-f", "--json", "--socket", daemon.socketPath]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        defer {
            // Processes spawned from the test runner inherit its blocked signal mask, so
            // SIGTERM would stay pending: end the tail with SIGKILL.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let reader = LineCollector(handle: pipe.fileHandleForReading)
        // The history first (daemon.started), then live events.
        try waitUntil("tail to print the start event") { reader.lines.contains { $0.contains("daemon.started") } }
        let client = try daemon.client()
        for name in ["live-a", "live-b", "live-c"] {
            _ = try client.enqueue(EnqueueParams(direction: name))
        }
        try waitUntil("tail -f to print three enqueues") {
            reader.lines.filter { $0.contains("job.enqueued") }.count == 3
        }
        #expect(reader.lines.last?.contains("live-c") == true)
    }
}

/// Collects lines from a pipe on a background thread.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()
    private var collected: [String] = []

    init(handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                lock.withLock {
                    buffer.append(data)
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        collected.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                        buffer.removeSubrange(buffer.startIndex...newline)
                    }
                }
            }
        }
        thread.start()
    }

    var lines: [String] { lock.withLock { collected } }
}

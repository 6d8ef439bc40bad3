import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

@Suite("journald logging", .serialized)
struct JournalTests {
    @Test("log entries reach journald with structured JOB_ID= and DIRECTION= fields")
    func structuredFields() throws {
        let journald = try Journald.ensureRunning()
        defer { journald?.stop() }
        let daemon = try TestDaemon(label: "jr", config: "[daemon]\nlog_target = \"journal\"\n")
        try daemon.start()
        let direction = "journal-\(UInt32.random(in: 0...UInt32.max))"
        let job = try daemon.client().enqueue(EnqueueParams(direction: direction))

        var entry: [String: Any] = [:]
        try waitUntil("the enqueue entry in the journal") {
            let output = try Journald.query(["DIRECTION=\(direction)", "-o", "json", "--no-pager"])
            guard let line = output.split(separator: "\n").first,
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { return false }
            entry = object
            return true
        }
        #expect(entry["JOB_ID"] as? String == "\(job.id)")
        #expect(entry["SYSLOG_IDENTIFIER"] as? String == "mlagentd")
        #expect(entry["PRIORITY"] as? String == "6")
        #expect((entry["MESSAGE"] as? String)?.contains("job enqueued") == true)
        #expect((entry["CODE_FILE"] as? String)?.contains("EnqueueHandler") == true)
        #expect(try daemon.terminate() == 0)
        // Nothing went to stderr: the journal got it.
        #expect(!daemon.log.contains("job enqueued"))
    }

    @Test("a Slurm job's entries carry SLURM_JOB_ID= beside JOB_ID=")
    func slurmJobID() throws {
        let journald = try Journald.ensureRunning()
        defer { journald?.stop() }
        let (daemon, cluster) = try SlurmTests.makeDaemon(
            "jrs", maxJobs: 1, agent: "echo Done. > l.md\nmlagentctl direction finish --learnings l.md\n",
            daemon: #"log_target = "journal""#)
        try daemon.start(extraEnvironment: ["SLURM_CONF": cluster.conf], launching: true)
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: "journal-slurm"))
        try waitUntil("the job to complete", timeout: .seconds(60)) { try client.show(id: job.id).state.isFinal }
        let slurmID = try #require(try client.show(id: job.id).slurm?.jobID)
        let pid = daemon.pid
        var messages: [String] = []
        try waitUntil("the Slurm entries in the journal") {
            let output = try Journald.query(["SLURM_JOB_ID=\(slurmID)", "_PID=\(pid)", "-o", "json", "--no-pager"])
            messages = output.split(separator: "\n").compactMap { line in
                guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    entry["JOB_ID"] as? String == "\(job.id)"
                else { return nil }
                return entry["MESSAGE"] as? String
            }
            return messages.contains { $0.contains("submitted to Slurm") } && messages.contains { $0.contains("Slurm job state") }
        }
        #expect(try daemon.terminate() == 0)
    }
}

/// journald, started by hand when the machine has none running (no systemd as PID 1).
final class Journald {
    static let socketPath = "/run/systemd/journal/socket"
    private let process: Process

    private init(process: Process) { self.process = process }

    /// Returns a handle when this call started journald, nil when one was already listening.
    static func ensureRunning() throws -> Journald? {
        if isListening() { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/lib/systemd/systemd-journald")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntil("journald to listen") { isListening() }
        return Journald(process: process)
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A datagram connect succeeds only when journald is bound to its socket.
    static func isListening() -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        return UnixSocketAddress.connect(fd, path: socketPath) == 0
    }

    static func query(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

extension HostileAgentTests {
    @Test("a daemon run as an unprivileged user: git, /proc, capability and escape attacks fail the same way")
    func unprivilegedDaemon() throws {
        let daemon = try makeDaemon("hunp")
        try daemon.start(as: .unprivileged, launching: true)
        let process = try #require(daemon.process)
        let uid = try #require(getpwnam("nobody")).pointee.pw_uid
        var info = stat()
        #expect(stat(daemon.workspace, &info) == 0 && info.st_uid == uid, "the workspace should belong to the daemon's user")
        try "\(process.processIdentifier)".write(toFile: daemon.dir.file("ctl/daemon.pid"), atomically: true, encoding: .utf8)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "escaper", agent: "escaper"))
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "gitattack"))
        _ = try client.enqueue(EnqueueParams(direction: "proc-snoop", agent: "procsnoop"))
        try waitUntil("the escaper's worktree") { try client.show(id: 1).worktree != nil }
        let worktree = try #require(try client.show(id: 1).worktree)
        try waitUntil("the grandchild's attempts", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: worktree + "/grandchild.ready")
        }
        // It touches the file, then execs sleep.
        try waitUntil("the grandchild to sleep", timeout: .seconds(10)) { !Self.processes(named: ["sleep", "7777"]).isEmpty }
        #expect(try client.status().paused == false)
        try waitUntil("the other two done", timeout: .seconds(30)) {
            try [2, 3].allSatisfy { try state(client, Int64($0))?.isFinal == true }
        }
        #expect(try client.list().count == 3, "the grandchild enqueued a job")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("every job completed", timeout: .seconds(30)) {
            try client.list().allSatisfy { $0.state == .completed }
        }
        try waitUntil("the grandchild gone", timeout: .seconds(10)) { Self.processes(named: ["sleep", "7777"]).isEmpty }
        try waitUntil("three archives") {
            try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.jobArchived }.count == 3
        }
        #expect(Self.markers(daemon).isEmpty, "code ran outside the sandbox: \(Self.markers(daemon))")
        func show(_ object: String) throws -> String { try daemon.git("-c", "safe.directory=*", "show", object).output }
        #expect(try show("exp/git-attack:notes.txt").contains("the attacker's work"))
        #expect(try show("exp/proc-snoop:caps.txt").contains("0000000000000000"))
        #expect(try show("exp/proc-snoop:uid.txt").trimmingCharacters(in: .whitespacesAndNewlines) == "\(uid)")
        #expect(try show("exp/proc-snoop:tokens.txt").split(separator: "\n").count == 1)
        #expect(try show("exp/proc-snoop:pid1.txt").contains("bwrap"))
        let report = try show("exp/proc-snoop:report.txt")
        #expect(report.contains("DENIED daemon") && !report.contains("SAW") && !report.contains("UNMOUNTED"), "\(report)")
        #expect(try show("exp/escaper:pause.status").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        kill(process.processIdentifier, SIGTERM)
        try waitUntil("mlagentd to exit after SIGTERM") { !process.isRunning }
    }
}

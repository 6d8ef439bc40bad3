import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

extension HostileAgentTests {
    /// Gives the whole test directory to `uid` (the daemon's user must own its state).
    static func chownTree(_ path: String, uid: uid_t, gid: gid_t) {
        lchown(path, uid, gid)
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            lchown((path as NSString).appendingPathComponent(relative), uid, gid)
        }
    }

    @Test("a daemon run as an unprivileged user: git, /proc, capability and escape attacks fail the same way")
    func unprivilegedDaemon() throws {
        // Only root can start the daemon as another user; CI runs as root.
        guard getuid() == 0, let entry = getpwnam("nobody"), access("/usr/bin/setpriv", X_OK) == 0 else { return }
        let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        let daemon = try makeDaemon("hunp")
        Self.chownTree(daemon.dir.path, uid: uid, gid: gid)
        chmod(daemon.notify.path, 0o666)
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = daemon.notify.path
        for key in ["LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM"] { environment.removeValue(forKey: key) }
        let process = try ChildProcess(
            executable: "/usr/bin/setpriv",
            arguments: [
                "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", Binaries.daemon.path,
                "--state-dir", daemon.stateDir, "--socket", daemon.socketPath, "--config", daemon.configPath ?? "",
            ],
            environment: environment, outputPath: daemon.logPath)
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try waitUntil("READY=1 from the unprivileged mlagentd") {
            if !process.isRunning { throw TestFailure("mlagentd exited: \(daemon.log)") }
            return daemon.notify.lines.contains("READY=1")
        }
        var info = stat()
        #expect(stat(daemon.workspace, &info) == 0 && info.st_uid == uid, "the workspace should belong to the daemon's user")
        try "\(process.processIdentifier)".write(toFile: daemon.dir.file("daemon.pid"), atomically: true, encoding: .utf8)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "escaper", agent: "escaper"))
        _ = try client.enqueue(EnqueueParams(direction: "", agent: "gitattack"))
        _ = try client.enqueue(EnqueueParams(direction: "proc-snoop", agent: "procsnoop"))
        try waitUntil("the escaper's worktree") { try client.show(id: 1).worktree != nil }
        let worktree = try #require(try client.show(id: 1).worktree)
        try waitUntil("the grandchild's attempts", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: worktree + "/grandchild.ready")
        }
        #expect(!Self.processes(named: ["sleep", "7777"]).isEmpty)
        #expect(try client.status().paused == false)
        try waitUntil("the other two done", timeout: .seconds(30)) {
            try [2, 3].allSatisfy { try state(client, Int64($0))?.isFinal == true }
        }
        #expect(try client.list().count == 3, "the grandchild enqueued a job")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("release"), contents: Data())
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

import Foundation
import Testing

/// Who runs the daemon under test: the test's own user (root in CI) or an unprivileged one.
enum DaemonUser: String, CustomTestStringConvertible, Sendable {
    case root
    case unprivileged

    var testDescription: String { rawValue == "root" ? "as root" : "as nobody" }
}

extension TestDaemon {
    /// Starts the daemon as `user` and waits for READY=1; as `unprivileged` the test directory
    /// is given to `nobody` and the daemon is started through `setpriv` (only root can do that).
    func start(as user: DaemonUser, launching: Bool = false) throws {
        guard user == .unprivileged else { return try start(launching: launching) }
        guard getuid() == 0, let entry = getpwnam("nobody"), access("/usr/bin/setpriv", X_OK) == 0 else {
            throw TestFailure("an unprivileged daemon needs root, the nobody user and setpriv")
        }
        let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        chownTree(dir.path, uid: uid, gid: gid)
        chmod(notify.path, 0o666)
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        for key in ["LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM"] { environment.removeValue(forKey: key) }
        let child = try ChildProcess(
            executable: "/usr/bin/setpriv",
            arguments: [
                "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", Binaries.daemon.path,
                "--state-dir", stateDir, "--socket", socketPath, "--config", configPath ?? "",
            ],
            environment: environment, outputPath: logPath)
        process = child
        try waitUntil("READY=1 from the unprivileged mlagentd (log: \(log))") {
            if !child.isRunning { throw TestFailure("mlagentd exited: \(self.log)") }
            return notify.lines.contains("READY=1")
        }
        if !launching { _ = try client().pause() }
    }

    /// Gives the whole test directory to `uid` (the daemon's user must own its state).
    func chownTree(_ path: String, uid: uid_t, gid: gid_t) {
        lchown(path, uid, gid)
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            lchown((path as NSString).appendingPathComponent(relative), uid, gid)
        }
    }
}

import Foundation
import MLAgentClient

/// Runs the real `mlagentd` binary on a temporary state directory and socket, with a fake
/// NOTIFY_SOCKET to learn when it is ready.
final class TestDaemon: @unchecked Sendable {
    let dir: TempDir
    let socketPath: String
    let stateDir: String
    let notify: NotifySocket
    var configPath: String?
    private(set) var process: Process?
    private var logHandle: FileHandle?
    let logPath: String

    init(label: String = "d", config: String? = nil) throws {
        dir = try TempDir(label)
        socketPath = dir.file("ctl.sock")
        stateDir = dir.file("state")
        notify = try NotifySocket(path: dir.file("notify.sock"))
        logPath = dir.file("daemon.log")
        if let config {
            let path = dir.file("mlagentd.toml")
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            configPath = path
        }
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// Starts the daemon and waits for READY=1. Unless `launching`, the queue is paused right
    /// away so that queued jobs stay queued (tests of the queue itself, without agents).
    func start(extraEnvironment: [String: String] = [:], waitReady: Bool = true, launching: Bool = false) throws {
        let process = Process()
        process.executableURL = Binaries.daemon
        var arguments = ["--state-dir", stateDir, "--socket", socketPath]
        if let configPath { arguments += ["--config", configPath] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        environment.removeValue(forKey: "LISTEN_FDS")
        environment.removeValue(forKey: "LISTEN_PID")
        environment.removeValue(forKey: "JOURNAL_STREAM")
        for (key, value) in extraEnvironment { environment[key] = value }
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        logHandle = handle
        let readyBefore = notify.lines.filter { $0 == "READY=1" }.count
        try process.run()
        self.process = process
        if waitReady {
            try waitUntil("READY=1 from mlagentd (log: \(log))") {
                if !process.isRunning { throw TestFailure("mlagentd exited: \(self.log)") }
                return notify.lines.filter { $0 == "READY=1" }.count > readyBefore
            }
            if !launching { _ = try client().pause() }
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func kill9() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and returns the exit status.
    @discardableResult
    func terminate() throws -> Int32 {
        guard let process else { return 0 }
        kill(process.processIdentifier, SIGTERM)
        try waitUntil("mlagentd to exit after SIGTERM") { !process.isRunning }
        return process.terminationStatus
    }

    func client(timeout: Duration? = .seconds(30)) throws -> Client {
        Client(connection: try Connection(path: socketPath, timeout: timeout))
    }

    /// Runs `mlagentctl` against this daemon.
    func ctl(_ arguments: String...) throws -> CtlResult {
        try runCtl(arguments, socket: socketPath)
    }
}

struct CtlResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runCtl(_ arguments: [String], socket: String?, environment extra: [String: String] = [:]) throws -> CtlResult {
    let process = Process()
    process.executableURL = Binaries.ctl
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "MLAGENT_SOCKET")
    if let socket { environment["MLAGENT_SOCKET"] = socket }
    for (key, value) in extra { environment[key] = value }
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes fully before waiting, so a large output cannot deadlock.
    let errBox = DataBox()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    process.waitUntilExit()
    return CtlResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}

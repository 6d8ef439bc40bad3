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
    var process: ChildProcess?
    let logPath: String

    /// A daemon whose test directory (state, data, socket) lies under `parent`.
    init(label: String = "d", config: String? = nil, under parent: String = "/var/tmp") throws {
        dir = try TempDir(label, under: parent)
        socketPath = dir.file("ctl.sock")
        stateDir = dir.file("state")
        notify = try NotifySocket(path: dir.file("notify.sock"))
        logPath = dir.file("daemon.log")
        // What a test and its agents share, and the agents' programs: the places of the test
        // directory the sandbox shows.
        for shared in ["ctl", "agents"] {
            try FileManager.default.createDirectory(atPath: dir.file(shared), withIntermediateDirectories: true)
        }
        if let config {
            let path = dir.file("mlagentd.toml")
            try Self.sharingControlDirectory(config).replacingOccurrences(of: "@DIR@", with: dir.path)
                .write(toFile: path, atomically: true, encoding: .utf8)
            configPath = path
        }
    }

    /// `config` with `@DIR@/ctl` and `@DIR@/agents` among the sandbox's read-only paths.
    static func sharingControlDirectory(_ config: String) -> String {
        let line = "ro_paths = [\"@DIR@/ctl\", \"@DIR@/agents\"]"
        if config.contains("[sandbox]\n") { return config.replacingOccurrences(of: "[sandbox]\n", with: "[sandbox]\n\(line)\n") }
        return config + "\n[sandbox]\n\(line)\n"
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        killAgents()
    }

    /// Kills every agent process started for this daemon (found by MLAGENT_SOCKET, or by a
    /// worktree in its state directory inside the sandbox).
    func killAgents() {
        let marker = Array("MLAGENT_SOCKET=\(socketPath)".utf8)
        let worktree = Array("MLAGENT_WORKTREE=\(stateDir)/".utf8)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if data.split(separator: 0).contains(where: { Array($0) == marker || $0.starts(with: worktree) }) {
                kill(pid, SIGKILL)
            }
        }
    }

    /// A one-feature dataset under `data/`: two training rows, the features 0.0, 0.1, … on both
    /// validation splits, `targets` as the public labels and their reverse as the private ones.
    func writeDataset(targets: [Int]) throws {
        let features = "f00\n" + targets.indices.map { "\(Double($0) / 10)" }.joined(separator: "\n") + "\n"
        func labels(_ values: [Int]) -> String { "target\n" + values.map(String.init).joined(separator: "\n") + "\n" }
        try write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try write("data/val_public_X.csv", features)
        try write("data/val_private_X.csv", features)
        try write("data/val_public_y.csv", labels(targets))
        try write("data/val_private_y.csv", labels(targets.reversed()))
    }

    /// Writes an executable file under the test directory.
    func write(_ name: String, _ text: String) throws {
        let path = dir.file(name)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.replacingOccurrences(of: "@DIR@", with: dir.path).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    var workspace: String { stateDir + "/workspace" }

    /// Runs git in the workspace.
    func git(_ arguments: String...) throws -> (status: Int32, output: String) {
        // The workspace may belong to another user (an unprivileged daemon's).
        try runProgram("/usr/bin/git", ["-c", "safe.directory=*", "-C", workspace] + arguments)
    }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// Starts the daemon and waits for READY=1. Unless `launching`, the queue is paused right
    /// away so that queued jobs stay queued (tests of the queue itself, without agents).
    func start(extraEnvironment: [String: String] = [:], waitReady: Bool = true, launching: Bool = false) throws {
        var arguments = ["--state-dir", stateDir, "--socket", socketPath]
        if let configPath { arguments += ["--config", configPath] }
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        environment.removeValue(forKey: "LISTEN_FDS")
        environment.removeValue(forKey: "LISTEN_PID")
        environment.removeValue(forKey: "JOURNAL_STREAM")
        for (key, value) in extraEnvironment { environment[key] = value }
        let readyBefore = notify.lines.filter { $0 == "READY=1" }.count
        let process = try ChildProcess(
            executable: Binaries.daemon.path, arguments: arguments, environment: environment, outputPath: logPath)
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

func runCtl(
    _ arguments: [String], socket: String?, environment extra: [String: String] = [:], directory: String? = nil
) throws -> CtlResult {
    let process = Process()
    process.executableURL = Binaries.ctl
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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

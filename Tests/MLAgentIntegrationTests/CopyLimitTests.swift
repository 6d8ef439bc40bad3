import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Copies of agent files are bounded: a large upload that the agent shrinks or grows while
/// the daemon copies it is refused, the daemon keeps answering everyone meanwhile, and
/// SIGTERM stops it promptly even in the middle of such copies.
@Suite("bounded copies of files that change while they are copied", .serialized)
struct CopyLimitTests {
    static let bigBytes: off_t = 256 << 20

    /// Asks for `status` on a fresh connection every 50 ms, keeping the slowest answer.
    final class StatusWatcher: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private(set) var slowest: Duration = .zero
        private(set) var answers = 0
        private(set) var failures: [String] = []
        private let thread: Thread

        init(socket: String) {
            let box = Box()
            thread = Thread {
                guard let watcher = box.watcher else { return }
                let clock = ContinuousClock()
                while watcher.lock.withLock({ watcher.running }) {
                    let started = clock.now
                    do {
                        _ = try Client(connection: try Connection(path: socket, timeout: .seconds(5))).status()
                        let took = clock.now - started
                        watcher.lock.withLock {
                            watcher.answers += 1
                            watcher.slowest = max(watcher.slowest, took)
                        }
                    } catch {
                        watcher.lock.withLock { watcher.failures.append("\(error)") }
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            box.watcher = self
            thread.start()
        }

        /// Stops watching; returns the slowest answer, the answers and the failures.
        func stop() -> (slowest: Duration, answers: Int, failures: [String]) {
            lock.withLock { running = false }
            while !thread.isFinished { Thread.sleep(forTimeInterval: 0.01) }
            return lock.withLock { (slowest, answers, failures) }
        }

        private final class Box: @unchecked Sendable {
            weak var watcher: StatusWatcher?
        }
    }

    /// An upload by the agent holding `token`, in the background.
    struct Upload {
        let process: ChildProcess
        let output: String

        init(_ daemon: TestDaemon, token: String, run: String, path: String, name: String) throws {
            output = daemon.dir.file("upload-\(name).txt")
            var environment = ProcessInfo.processInfo.environment
            environment["MLAGENT_SOCKET"] = daemon.socketPath
            environment["MLAGENT_TOKEN"] = token
            process = try ChildProcess(
                executable: Binaries.ctl.path, arguments: ["run", "artifact", run, path, "--as", name], environment: environment,
                outputPath: output)
        }

        /// Waits for the upload to end (at most `timeout`); returns its exit status and output.
        func finish(timeout: Duration = .seconds(30)) throws -> (status: Int32, output: String) {
            do {
                try waitUntil("mlagentctl run artifact to return", timeout: timeout, every: .milliseconds(10)) { !process.isRunning }
            } catch {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw error
            }
            return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
    }

    /// A sparse file of `bigBytes`.
    func makeBig(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0, ftruncate(fd, Self.bigBytes) == 0 else { throw TestFailure("cannot make \(path)") }
        close(fd)
    }

    /// Runs `script` in the background until the file `stop` exists (or the test's directory
    /// is gone).
    func loop(_ daemon: TestDaemon, _ script: String, until stop: String) throws -> ChildProcess {
        try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "while [ ! -e \(stop) ] && [ -d \(daemon.dir.path) ]; do \(script); done"],
            environment: ProcessInfo.processInfo.environment, outputPath: "/dev/null")
    }

    /// Stops a loop started by `loop`.
    func end(_ loop: ChildProcess) {
        guard loop.isRunning else { return }
        kill(loop.processIdentifier, SIGKILL)
        loop.waitUntilExit()
    }

    @Test(
        "uploads shrunk or grown during the copy are refused; status answers within a second; SIGTERM stops the daemon",
        arguments: [DaemonUser.root, .unprivileged])
    func changingUploads(user: DaemonUser) throws {
        let daemon = try AgentFileTests().makeDaemon("copy")
        try daemon.start(as: user, launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "big-files", agent: "puppet"))
        let (token, worktree) = try AgentFileTests().puppet(daemon, job: 1)
        let run = try runCtl(
            ["run", "start", "--name", "big", "--rationale", "files that change"], socket: daemon.socketPath,
            environment: ["MLAGENT_TOKEN": token], directory: worktree
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let watcher = StatusWatcher(socket: daemon.socketPath)
        defer { _ = watcher.stop() }

        // A file that grows while it is copied.
        let grown = worktree + "/grow.bin"
        try makeBig(grown)
        let grower = try loop(daemon, "printf x >> \(grown)", until: daemon.dir.file("stop-grow"))
        defer { end(grower) }
        let grow = try Upload(daemon, token: token, run: run, path: grown, name: "grown").finish()
        end(grower)
        #expect(grow.status == 1 && grow.output.contains("grow.bin grew while the daemon read it"), "\(grow.output)")

        // Two files truncated, 64 KiB at a time, while two uploads copy them at once.
        let shrinking = [worktree + "/shrink1.bin", worktree + "/shrink2.bin"]
        for path in shrinking { try makeBig(path) }
        let shrinker = try loop(
            daemon, "truncate -s -65536 \(shrinking.joined(separator: " "))", until: daemon.dir.file("stop-shrink"))
        defer { end(shrinker) }
        let uploads = try shrinking.enumerated().map { index, path in
            try Upload(daemon, token: token, run: run, path: path, name: "shrunk\(index)")
        }
        for upload in uploads {
            let result = try upload.finish()
            #expect(result.status == 1 && result.output.contains("shrank while the daemon read it"), "\(result.output)")
        }
        let watched = watcher.stop()
        #expect(watched.failures.isEmpty, "\(watched.failures)")
        #expect(watched.answers >= 5 && watched.slowest < .seconds(1), "\(watched.answers) answers, slowest \(watched.slowest)")
        let store = daemon.stateDir + "/artifacts"
        #expect(!FileManager.default.fileExists(atPath: store + "/1"), "a refused upload was stored")

        // SIGTERM while two more such copies run: the daemon stops within its stop timeout.
        let late = try shrinking.enumerated().map { index, path in
            try Upload(daemon, token: token, run: run, path: path, name: "late\(index)")
        }
        try? waitUntil("a copy in progress", timeout: .seconds(5), every: .milliseconds(1)) {
            !((try? FileManager.default.contentsOfDirectory(atPath: store + "/.staging")) ?? []).isEmpty
        }
        let clock = ContinuousClock()
        let signalled = clock.now
        kill(daemon.pid, SIGTERM)
        try waitUntil("mlagentd to exit after SIGTERM", timeout: .seconds(10), every: .milliseconds(10)) {
            !(daemon.process?.isRunning ?? false)
        }
        let stopping = clock.now - signalled
        #expect(stopping < .seconds(5), "SIGTERM took \(stopping)")
        #expect(daemon.process?.terminationStatus == 0, "\(daemon.log.suffix(4000))")
        for upload in late where upload.process.isRunning {
            // Its mlagentctl may wait for the daemon to come back; that is not this test's concern.
            kill(upload.process.processIdentifier, SIGKILL)
            upload.process.waitUntilExit()
        }
    }
}

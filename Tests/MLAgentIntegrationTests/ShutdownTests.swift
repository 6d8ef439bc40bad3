import Foundation
import MLAgentClient
import Testing

/// SIGTERM while clients keep connecting: connections accepted as the listener closes are
/// closed cleanly, and the daemon exits 0 every time.
@Suite("shutdown under a connection storm", .serialized)
struct ShutdownTests {
    /// Connects and disconnects as fast as it can until `stop` exists.
    final class Storm: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private var threads: [Thread] = []
        private(set) var connects = 0

        init(socket path: String, threads count: Int) {
            for _ in 0..<count {
                let thread = Thread { [self] in
                    while lock.withLock({ running }) {
                        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                        if UnixSocketAddress.connect(fd, path: path) == 0 { lock.withLock { connects += 1 } }
                        close(fd)
                    }
                }
                threads.append(thread)
                thread.start()
            }
        }

        func stop() { lock.withLock { running = false } }
    }

    @Test("SIGTERM during a storm of connections: exit status 0, five times")
    func stormAtShutdown() throws {
        for round in 0..<5 {
            let daemon = try TestDaemon(label: "storm")
            try daemon.start()
            let storm = Storm(socket: daemon.socketPath, threads: 6)
            defer { storm.stop() }
            try waitUntil("connections flowing") { storm.connects > 200 }
            kill(daemon.pid, SIGTERM)
            try waitUntil("mlagentd to exit after SIGTERM", timeout: .seconds(10)) { !(daemon.process?.isRunning ?? false) }
            storm.stop()
            let status = daemon.process?.terminationStatus
            #expect(status == 0, "round \(round): exit \(String(describing: status))\n\(daemon.log.suffix(3000))")
            if status != 0 { break }
        }
    }
}

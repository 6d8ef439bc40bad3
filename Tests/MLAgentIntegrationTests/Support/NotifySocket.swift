import Foundation
import MLAgentClient

/// A fake service manager: a datagram socket that collects what the daemon sends through
/// `sd_notify` (`READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1`).
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var messages: [String] = []

    init(path: String) throws {
        self.path = path
        fd = try UnixSocketAddress.boundDatagramSocket(path: path, receiveTimeout: timeval(tv_sec: 0, tv_usec: 20_000))
    }

    deinit { close(fd) }

    /// Reads every datagram waiting now; returns all received so far.
    @discardableResult
    func drain() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            lock.withLock { messages.append(text) }
        }
        return lock.withLock { messages }
    }

    /// Every `KEY=value` line received so far, in order.
    var lines: [String] { drain().flatMap { $0.split(separator: "\n").map(String.init) } }

    func wait(for line: String, timeout: Duration = .seconds(20)) throws {
        try waitUntil("\(line) on NOTIFY_SOCKET", timeout: timeout) { lines.contains(line) }
    }
}

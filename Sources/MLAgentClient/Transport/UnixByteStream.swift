import Foundation

/// A connected Unix socket; each read waits at most the timeout (`SO_RCVTIMEO`).
final class UnixByteStream: ByteStream {
    private let fd: Int32
    private let path: String
    private var isClosed = false

    init(path: String, source: SocketLocator.Source, timeout: Duration?) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.io("socket(): \(String(cString: strerror(errno)))") }
        guard path.utf8.count <= UnixSocketAddress.maxPathBytes else {
            Glibc.close(fd)
            throw ClientError.cannotConnect(
                path: path, reason: "path is longer than the \(UnixSocketAddress.maxPathBytes) bytes a Unix socket allows",
                source: source)
        }
        if UnixSocketAddress.connect(fd, path: path) != 0 {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ClientError.cannotConnect(path: path, reason: reason, source: source)
        }
        if let timeout {
            var value = timeval(
                tv_sec: Int(timeout.components.seconds),
                tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
        self.fd = fd
    }

    deinit { close() }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ClientError.io("write to \(path) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    func read(limit: Int) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: limit)
        while true {
            let count = chunk.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
            if count >= 0 { return Array(chunk[..<count]) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timeout }
            throw ClientError.io("read from \(path) failed: \(String(cString: strerror(errno)))")
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }
}

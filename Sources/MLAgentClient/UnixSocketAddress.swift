public import Foundation

/// `sockaddr_un` helpers for the socket calls that Foundation does not wrap.
public enum UnixSocketAddress {
    /// The longest path a Unix socket address holds.
    public static var maxPathBytes: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    /// Runs `body` with a `sockaddr` for `path`; returns nil when the path is too long.
    public static func with<T>(path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        guard path.utf8.count <= maxPathBytes else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// `connect(2)`; returns 0 or -1 with `errno` set.
    public static func connect(_ fd: Int32, path: String) -> Int32 {
        with(path: path) { Glibc.connect(fd, $0, $1) } ?? { errno = ENAMETOOLONG; return -1 }()
    }

    /// `bind(2)`; returns 0 or -1 with `errno` set.
    public static func bind(_ fd: Int32, path: String) -> Int32 {
        with(path: path) { Glibc.bind(fd, $0, $1) } ?? { errno = ENAMETOOLONG; return -1 }()
    }

    /// A datagram socket bound at `path`, receiving with the given timeout (a fake
    /// `NOTIFY_SOCKET` for tests and the benchmark).
    public static func boundDatagramSocket(path: String, receiveTimeout: timeval) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0, bind(fd, path: path) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw ClientError.io("cannot bind datagram socket \(path): \(reason)")
        }
        var timeout = receiveTimeout
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }
}

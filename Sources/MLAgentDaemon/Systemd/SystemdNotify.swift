import CSystemd
import Foundation

/// Thin wrapper over libsystemd's `sd_notify` family. All calls are no-ops when the daemon
/// was not started by a service manager (`NOTIFY_SOCKET` unset).
public enum SystemdNotify {
    public static var isEnabled: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    @discardableResult
    public static func send(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// The watchdog interval requested by the service manager (`WatchdogSec=`), if any.
    public static func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }
}

/// Socket activation: the sockets systemd passed (`LISTEN_FDS`, starting at fd 3).
public enum SocketActivation {
    /// Returns the first passed stream socket that is a Unix socket, with its path.
    /// Unsets the `LISTEN_*` variables so that child processes do not inherit them.
    public static func unixSocket() throws -> (fd: Int32, path: String)? {
        let count = sd_listen_fds(1)
        guard count > 0 else { return nil }
        for fd in SD_LISTEN_FDS_START..<(SD_LISTEN_FDS_START + count) {
            // Agents are spawned later: they must not inherit the listening socket.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if sd_is_socket_unix(fd, SOCK_STREAM_VALUE, 1, nil, 0) > 0 {
                return (fd, path(of: fd) ?? "(socket-activated fd \(fd))")
            }
        }
        throw ConfigError("systemd passed \(count) socket(s) but none is a listening Unix stream socket; check mlagentd.socket (ListenStream= must be a path)")
    }

    private static var SOCK_STREAM_VALUE: Int32 { Int32(SOCK_STREAM.rawValue) }

    private static func path(of fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafeBytes(of: address.sun_path) { raw in
            let bytes = raw.prefix(while: { $0 != 0 })
            return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
        }
    }
}

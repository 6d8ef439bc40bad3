import Foundation

/// Where a ``Connection`` goes: a Unix socket, or the daemon's TCP+TLS listener with the
/// SHA-256 of its certificate pinned.
public enum DaemonEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String, source: SocketLocator.Source)
    case tls(host: String, port: Int, fingerprint: String)

    /// Parses `tls://HOST:PORT` (an IPv6 host in brackets) with the hex SHA-256 fingerprint
    /// (colons allowed, any case).
    public init(address: String, fingerprint: String?) throws {
        guard address.hasPrefix("tls://") else {
            throw ClientError.badAddress("MLAGENT_ADDRESS = \"\(address)\" must look like tls://HOST:PORT")
        }
        let authority = address.dropFirst("tls://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let host: String
        let portText: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]"),
            authority[authority.index(after: close)...].hasPrefix(":")
        {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            portText = authority[authority.index(close, offsetBy: 2)...]
        } else if let colon = authority.lastIndex(of: ":"), !authority[..<colon].contains(":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            throw ClientError.badAddress("MLAGENT_ADDRESS = \"\(address)\" must look like tls://HOST:PORT")
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw ClientError.badAddress("MLAGENT_ADDRESS = \"\(address)\" must look like tls://HOST:PORT with a port from 1 to 65535")
        }
        let pinned = (fingerprint ?? "").lowercased().replacingOccurrences(of: ":", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard pinned.count == 64, pinned.allSatisfy(\.isHexDigit) else {
            throw ClientError.badAddress(
                "MLAGENT_ADDRESS is \(address), which needs MLAGENT_TLS_FINGERPRINT: the SHA-256 of the daemon's certificate as 64 hex digits (`mlagentctl status` on the daemon's machine shows it)")
        }
        self = .tls(host: host, port: port, fingerprint: pinned)
    }

    public var description: String {
        switch self {
        case .unix(let path, _): path
        case .tls(let host, let port, _): "tls://" + (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        }
    }
}

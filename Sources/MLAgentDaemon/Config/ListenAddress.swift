import Foundation

/// `[daemon] listen`: the host and port of the TCP+TLS listener. The host is an IPv4 address,
/// an IPv6 address in brackets (`[::]:7433`) or a name; port 0 binds any free port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let host: Substring
        let port: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]"), trimmed[trimmed.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            port = trimmed[trimmed.index(close, offsetBy: 2)...]
            guard Self.ipBytes(String(host)).map({ $0.count == 16 }) == true else { return nil }
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else { return nil }
            host = trimmed[..<colon]
            port = trimmed[trimmed.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard Self.isValidHost(String(host)), !port.isEmpty, port.allSatisfy(\.isASCII), let number = Int(port),
            (0...65535).contains(number)
        else { return nil }
        self.host = String(host)
        self.port = number
    }

    /// `HOST:PORT`, with an IPv6 host in brackets.
    public var description: String { Self.authority(host: host, port: port) }

    /// Whether the host is the wildcard address of its family (every interface).
    public var isWildcard: Bool { host == "0.0.0.0" || host == "::" || Self.ipBytes(host) == [UInt8](repeating: 0, count: 16) }

    public static func authority(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A host name (letters, digits, `-`, `.`) or an IP address.
    public static func isValidHost(_ host: String) -> Bool {
        if ipBytes(host) != nil { return true }
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
    }

    /// The 4 or 16 bytes of an IP address literal, or nil for a name.
    public static func ipBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

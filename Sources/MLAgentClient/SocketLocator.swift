public import Foundation

/// Finds the daemon: `--socket`, else `$MLAGENT_ADDRESS` (`tls://HOST:PORT`, with
/// `$MLAGENT_TLS_FINGERPRINT`), else `$MLAGENT_SOCKET`, else `./.mlagent/mlagentd.sock` when it
/// exists (the `make demo` layout), else the system path `/run/mlagent/mlagentd.sock`.
public enum SocketLocator {
    public static let systemPath = "/run/mlagent/mlagentd.sock"
    public static let localPath = ".mlagent/mlagentd.sock"

    public enum Source: Sendable, CustomStringConvertible {
        case flag, environment, local, system, address
        public var description: String {
            switch self {
            case .flag: "from --socket"
            case .environment: "from MLAGENT_SOCKET"
            case .local: "the ./.mlagent default"
            case .system: "the system default"
            case .address: "from MLAGENT_ADDRESS"
            }
        }
    }

    /// Where to connect: the Unix socket of ``resolve(explicit:environment:)``, unless no
    /// `--socket` is given and `MLAGENT_ADDRESS` is set, which then needs
    /// `MLAGENT_TLS_FINGERPRINT`.
    public static func endpoint(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> DaemonEndpoint {
        if explicit?.isEmpty ?? true, let address = environment["MLAGENT_ADDRESS"], !address.isEmpty {
            return try DaemonEndpoint(address: address, fingerprint: environment["MLAGENT_TLS_FINGERPRINT"])
        }
        let (path, source) = resolve(explicit: explicit, environment: environment)
        return .unix(path: path, source: source)
    }

    public static func resolve(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (path: String, source: Source) {
        if let explicit, !explicit.isEmpty { return (explicit, .flag) }
        if let fromEnvironment = environment["MLAGENT_SOCKET"], !fromEnvironment.isEmpty {
            return (fromEnvironment, .environment)
        }
        if FileManager.default.fileExists(atPath: localPath) {
            return (FileManager.default.currentDirectoryPath + "/" + localPath, .local)
        }
        return (systemPath, .system)
    }
}

public import Foundation

/// Finds the daemon's socket: `--socket`, else `$MLAGENT_SOCKET`, else `./.mlagent/mlagentd.sock`
/// when it exists (the `make demo` layout), else the system path `/run/mlagent/mlagentd.sock`.
public enum SocketLocator {
    public static let systemPath = "/run/mlagent/mlagentd.sock"
    public static let localPath = ".mlagent/mlagentd.sock"

    public enum Source: Sendable, CustomStringConvertible {
        case flag, environment, local, system
        public var description: String {
            switch self {
            case .flag: "from --socket"
            case .environment: "from MLAGENT_SOCKET"
            case .local: "the ./.mlagent default"
            case .system: "the system default"
            }
        }
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

import Foundation
public import Logging
public import MLAgentStore

/// Everything `mlagentd` can be told. The defaults here are the embedded defaults, and
/// `config/mlagentd.toml` documents every key with exactly these values (a test keeps the two
/// in step). Relative paths are resolved against the daemon's working directory.
public struct DaemonConfig: Sendable, Equatable {
    // [daemon]
    public var socketPath = ".mlagent/mlagentd.sock"
    public var stateDir = ".mlagent"
    public var workspace = ".mlagent/workspace"
    public var socketMode: UInt32 = 0o660
    public var maxLineBytes = 1 << 20
    public var idleTimeout: Duration = .seconds(600)
    public var subscriberBuffer = 1024
    public var statusInterval: Duration = .seconds(2)
    public var logLevel: Logger.Level = .info
    public var logTarget: LogTarget = .auto
    // [store]
    public var synchronous: AppDatabase.Synchronous = .full
    // [scheduler]
    public var maxAgents = 3
    public var defaultAgent = "command"

    public enum LogTarget: String, Sendable, CaseIterable {
        /// journald when stderr is connected to the journal (as under systemd), else stderr.
        case auto
        case journal
        case stderr
    }

    public init() {}

    /// Absolute path of the SQLite database inside the state directory.
    public var databasePath: String { (stateDir as NSString).appendingPathComponent("mlagentd.sqlite3") }
}

/// Parses `"500ms"`, `"30s"`, `"10m"`, `"2h"`, `"1d"` or a bare number of seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Double(number), value >= 0, value.isFinite {
                return .milliseconds(Int64((value * scale * 1000).rounded()))
            }
            if suffix == "ms" { return nil }
        }
        if let value = Double(trimmed), value >= 0, value.isFinite {
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        return nil
    }

    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 86_400_000 == 0, ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension DaemonConfig {
    /// The same configuration with every relative path made absolute against `directory`.
    public func resolvingPaths(against directory: String) -> DaemonConfig {
        func absolute(_ path: String) -> String {
            let expanded = (path as NSString).expandingTildeInPath
            let joined = expanded.hasPrefix("/") ? expanded : (directory as NSString).appendingPathComponent(expanded)
            return (joined as NSString).standardizingPath
        }
        var copy = self
        copy.socketPath = absolute(socketPath)
        copy.stateDir = absolute(stateDir)
        copy.workspace = absolute(workspace)
        return copy
    }
}

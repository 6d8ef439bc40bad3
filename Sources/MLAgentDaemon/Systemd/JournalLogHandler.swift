import CSystemd
import Foundation
public import Logging

/// A swift-log handler writing structured entries to journald through `sd_journal_sendv`.
/// Metadata keys become journal fields: `job.id` → `JOB_ID=`, `direction` → `DIRECTION=`.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    private let identifier: String

    public init(label: String, identifier: String = "mlagentd", level: Logger.Level = .info) {
        self.label = label
        self.identifier = identifier
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String] = []
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        var text = event.message.description
        let keys = all.keys.sorted()
        if !keys.isEmpty {
            text += " " + keys.map { "\($0)=\(all[$0]!)" }.joined(separator: " ")
        }
        fields.append("MESSAGE=\(text)")
        fields.append("PRIORITY=\(Self.priority(event.level))")
        fields.append("SYSLOG_IDENTIFIER=\(identifier)")
        fields.append("CODE_FILE=\(event.file)")
        fields.append("CODE_LINE=\(event.line)")
        fields.append("CODE_FUNC=\(event.function)")
        fields.append("LOGGER=\(label)")
        for key in keys {
            fields.append("\(Self.fieldName(key))=\(all[key]!)")
        }
        Self.send(fields)
    }

    /// `job.id` → `JOB_ID`; journald field names are uppercase letters, digits and `_`.
    static func fieldName(_ key: String) -> String {
        var name = String(key.uppercased().map { ($0.isLetter || $0.isNumber) ? $0 : "_" })
        while name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty || name.first!.isNumber { name = "F_" + name }
        return name
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func send(_ fields: [String]) {
        let cStrings = fields.map { strdup($0)! }
        defer { cStrings.forEach { free($0) } }
        var vectors = cStrings.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: strlen($0)) }
        _ = vectors.withUnsafeMutableBufferPointer { buffer in
            sd_journal_sendv(buffer.baseAddress, Int32(buffer.count))
        }
    }

    /// True when stderr is the journal stream systemd set up for this service
    /// (`JOURNAL_STREAM` names stderr's device and inode).
    public static var stderrIsJournal: Bool {
        guard let value = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// True when journald's socket exists.
    public static var journaldAvailable: Bool {
        access("/run/systemd/journal/socket", F_OK) == 0
    }
}

import Foundation

/// A buffered writer of a `git fast-import` stream into a file (0600): the stream may carry
/// large files, and none of it has to fit in memory at once.
final class FastImportStream {
    /// The git modes a blob can be written with.
    enum Mode: String {
        case file = "100644"
        case executable = "100755"
        case symlink = "120000"
    }

    private let handle: FileHandle
    private var buffer = Data()

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ConfigError("cannot write \(path)") }
        self.handle = handle
    }

    func write(_ text: String) throws { try write(Data(text.utf8)) }

    func write(_ data: Data) throws {
        buffer.append(data)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func blob(_ data: Data, path: String, mode: Mode = .file) throws {
        try Workspace.checkTreePath(path)
        try write("M \(mode.rawValue) inline \(Self.quote(path))\ndata \(data.count)\n")
        try write(data)
        try write("\n")
    }

    /// A file's content, copied in 1 MiB pieces.
    func blob(file source: String, path: String) throws {
        try Workspace.checkTreePath(path)
        guard let input = FileHandle(forReadingAtPath: source) else { throw ConfigError("cannot read \(source)") }
        defer { try? input.close() }
        let size = try input.seekToEnd()
        try input.seek(toOffset: 0)
        try write("M \(Mode.file.rawValue) inline \(Self.quote(path))\ndata \(size)\n")
        var copied: UInt64 = 0
        while copied < size {
            guard let piece = try input.read(upToCount: Int(min(1 << 20, size - copied))), !piece.isEmpty else {
                throw ConfigError("\(source) shrank while it was landed")
            }
            copied += UInt64(piece.count)
            try write(piece)
        }
        try write("\n")
    }

    /// Exactly `size` bytes read from an open descriptor: a file that grows meanwhile is cut
    /// at `size`, one that shrinks is padded with zeros (the stream stays well formed either
    /// way). Returns whether the content read was complete.
    @discardableResult
    func blob(descriptor: Int32, size: Int, path: String, mode: Mode) throws -> Bool {
        try Workspace.checkTreePath(path)
        try write("M \(mode.rawValue) inline \(Self.quote(path))\ndata \(size)\n")
        var copied = 0
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        var complete = true
        while copied < size {
            let wanted = min(piece.count, size - copied)
            let count = piece.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 {
                complete = false
                try write(Data(count: size - copied))
                break
            }
            try write(Data(piece[0..<count]))
            copied += count
        }
        try write("\n")
        return complete
    }

    /// The whole content of another file, copied in 1 MiB pieces.
    func append(contentsOf source: String) throws {
        guard let input = FileHandle(forReadingAtPath: source) else { throw ConfigError("cannot read \(source)") }
        defer { try? input.close() }
        while let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty { try write(piece) }
    }

    func close() throws {
        try flush()
        try handle.close()
    }

    /// A path as fast-import reads it: C-style quoted when it holds a quote, a backslash, a
    /// newline or a space.
    static func quote(_ path: String) -> String {
        if path.contains(where: { $0 == "\"" || $0 == "\\" || $0 == "\n" || $0 == " " }) {
            return "\"" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        return path
    }
}

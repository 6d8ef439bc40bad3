import Foundation
import MLAgentProtocol

/// Reads what an agent left in its worktree, for the archive commit, without trusting any of
/// it: every directory is opened beneath the one before with `O_NOFOLLOW`, symbolic links are
/// recorded as links (never followed), only regular files and links are taken, `.git` entries
/// (in every spelling git reads as `.git`) are skipped wherever they are, the top-level `.gitignore` is honoured, and sizes, counts and
/// depth are bounded. No git process ever looks at the worktree.
struct WorktreeSnapshot {
    struct Limits: Sendable {
        var fileBytes = 100 << 20
        var totalBytes = 2 << 30
        var entries = 100_000
        var depth = 64
    }

    struct Summary: Sendable {
        var files = 0
        var bytes = 0
        /// Paths left out, with the reason (special files, sizes, unreadable, odd names).
        var skipped: [String] = []
    }

    let limits: Limits

    init(limits: Limits = Limits()) { self.limits = limits }

    /// Writes a `M` line for each entry of the worktree at `root` into `stream`.
    func write(root: String, into stream: FastImportStream) throws -> Summary {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ConfigError("cannot open worktree \(root): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var summary = Summary()
        let rules = IgnoreRules(text: Self.readSmallFile(in: fd, name: ".gitignore") ?? "")
        try walk(fd, prefix: "", depth: 0, rules: rules, stream: stream, summary: &summary)
        return summary
    }

    private func walk(
        _ directory: Int32, prefix: String, depth: Int, rules: IgnoreRules, stream: FastImportStream, summary: inout Summary
    ) throws {
        for name in Self.names(in: directory).sorted() {
            let path = prefix.isEmpty ? name : prefix + "/" + name
            // `.git` in any spelling git reads as one: the agent's repository is never archived.
            if GitPathRules.isGitMetadataName(name) { continue }
            guard Self.isAcceptable(name), GitPathRules.problem(path) == nil else {
                summary.skipped.append("\(path) (a name git cannot check out)")
                continue
            }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            if rules.isIgnored(path, isDirectory: kind == S_IFDIR) { continue }
            if summary.files >= limits.entries {
                summary.skipped.append("\(path) (more than \(limits.entries) entries)")
                continue
            }
            switch kind {
            case S_IFDIR:
                guard depth < limits.depth else {
                    summary.skipped.append("\(path) (deeper than \(limits.depth))")
                    continue
                }
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    summary.skipped.append("\(path) (unreadable directory)")
                    continue
                }
                defer { close(child) }
                try walk(child, prefix: path, depth: depth + 1, rules: rules, stream: stream, summary: &summary)
            case S_IFLNK:
                var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlinkat(directory, name, &target, target.count)
                guard count > 0, count <= Int(PATH_MAX) else {
                    summary.skipped.append("\(path) (unreadable link)")
                    continue
                }
                try stream.blob(Data(target[0..<count]), path: path, mode: .symlink)
                summary.files += 1
            case S_IFREG:
                try file(in: directory, name: name, path: path, stream: stream, summary: &summary)
            default:
                summary.skipped.append("\(path) (not a regular file, directory or link)")
            }
        }
    }

    private func file(in directory: Int32, name: String, path: String, stream: FastImportStream, summary: inout Summary)
        throws
    {
        // O_NONBLOCK: a FIFO swapped in after fstatat cannot hang the daemon (it is refused below).
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            summary.skipped.append("\(path) (unreadable)")
            return
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            summary.skipped.append("\(path) (not a regular file)")
            return
        }
        let size = Int(info.st_size)
        if size > limits.fileBytes {
            summary.skipped.append("\(path) (\(size) bytes, more than \(limits.fileBytes))")
            return
        }
        if summary.bytes + size > limits.totalBytes {
            summary.skipped.append("\(path) (the archive would pass \(limits.totalBytes) bytes)")
            return
        }
        let mode: FastImportStream.Mode = info.st_mode & S_IXUSR != 0 ? .executable : .file
        let complete = try stream.blob(descriptor: fd, size: size, path: path, mode: mode)
        if !complete { summary.skipped.append("\(path) (shrank while read; padded)") }
        summary.files += 1
        summary.bytes += size
    }

    /// The entry names of an open directory (its descriptor stays open and positioned anew).
    static func names(in directory: Int32) -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2e] || bytes == [0x2e, 0x2e] { continue }
            // A name that is not UTF-8 is reported as skipped.
            names.append(String(validating: bytes, as: UTF8.self) ?? "\u{FFFD}")
        }
        return names
    }

    /// Names git and fast-import take as they are: no control characters, no replacement
    /// characters from invalid UTF-8.
    static func isAcceptable(_ name: String) -> Bool {
        !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f || $0 == "\u{FFFD}" }
    }

    /// A regular file of at most 64 KiB directly in `directory`, without following links.
    static func readSmallFile(in directory: Int32, name: String) -> String? {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 64 << 10 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = read(fd, &bytes, bytes.count)
        return count >= 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : nil
    }
}

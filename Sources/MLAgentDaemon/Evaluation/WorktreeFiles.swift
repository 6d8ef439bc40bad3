import Foundation
import MLAgentProtocol

/// Paths an agent hands to the daemon (predictions, artifacts). The daemon reads them with its
/// own privileges, so every path is resolved (symbolic links and `..` included) and must lie
/// inside the calling job's worktree; the file actually opened is checked again through
/// `/proc/self/fd`, so a link swapped in between cannot redirect the read.
enum WorktreeFiles {
    /// The real location of `path`, which must exist inside `worktree`.
    static func resolve(_ path: String, worktree: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw RPCError(.invalidParams, "path \(path) is relative; send an absolute path inside your worktree", context: ["path": .string(path)])
        }
        let root = try realPath(worktree) ?? {
            throw RPCError(.invalidState, "the job's worktree \(worktree) is gone")
        }()
        guard let real = try realPath(path) else {
            throw RPCError(.invalidParams, "\(path) does not exist", context: ["path": .string(path)])
        }
        guard inside(real, root: root) else { throw outside(path, root: root) }
        return real
    }

    /// Reads a regular file inside `worktree`, refusing anything larger than `maxBytes`.
    static func read(_ path: String, worktree: String, maxBytes: Int) throws -> Data {
        let real = try resolve(path, worktree: worktree)
        let fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            throw RPCError(.invalidParams, "cannot open \(path): \(String(cString: strerror(errno)))", context: ["path": .string(path)])
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw RPCError(.invalidParams, "\(path) is not a regular file", context: ["path": .string(path)])
        }
        let root = try realPath(worktree) ?? ""
        guard let opened = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
            inside(opened, root: root)
        else { throw outside(path, root: root) }
        guard Int(info.st_size) <= maxBytes else {
            throw RPCError(
                .invalidParams, "\(path) is \(info.st_size) bytes; the limit is \(maxBytes)", context: ["path": .string(path)])
        }
        var data = Data(count: Int(info.st_size))
        var total = 0
        let size = data.count
        try data.withUnsafeMutableBytes { buffer in
            while total < size {
                let count = Foundation.read(fd, buffer.baseAddress! + total, size - total)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    throw RPCError(.invalidParams, "cannot read \(path): \(count < 0 ? String(cString: strerror(errno)) : "file shrank")")
                }
                total += count
            }
        }
        return data
    }

    static func inside(_ path: String, root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    static func outside(_ path: String, root: String) -> RPCError {
        RPCError(
            .forbidden,
            "\(path) is outside your worktree (\(root)); the daemon reads only files inside it, so write the file there",
            context: ["path": .string(path)])
    }

    /// `realpath(3)`, or nil when the path does not exist.
    static func realPath(_ path: String) throws -> String? {
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw RPCError(.invalidParams, "cannot resolve \(path): \(String(cString: strerror(errno)))", context: ["path": .string(path)])
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

import Foundation

/// Deletes a directory tree an agent wrote, without following any link it left: each directory
/// is opened beneath its parent with `O_NOFOLLOW` and emptied through that descriptor, links are
/// unlinked as links, and directories the agent made unwritable are made writable first.
enum TreeRemover {
    /// Removes `path` and everything under it; a missing path is not an error.
    static func remove(_ path: String) throws {
        let parentPath = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let parent = open(parentPath.isEmpty ? "." : parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return }
            throw ConfigError("cannot open \(parentPath): \(String(cString: strerror(errno)))")
        }
        defer { close(parent) }
        try remove(name, in: parent, depth: 0)
    }

    private static func remove(_ name: String, in directory: Int32, depth: Int) throws {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw ConfigError("cannot inspect \(name): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            guard depth < 256 else { throw ConfigError("\(name): directories nested too deep to remove") }
            let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child >= 0 {
                defer { close(child) }
                _ = fchmod(child, 0o700)
                for entry in WorktreeSnapshot.names(in: child) where entry != "\u{FFFD}" {
                    try remove(entry, in: child, depth: depth + 1)
                }
                removeUndecodable(in: child)
            }
            guard unlinkat(directory, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw ConfigError("cannot remove directory \(name): \(String(cString: strerror(errno)))")
            }
        } else {
            guard unlinkat(directory, name, 0) == 0 || errno == ENOENT else {
                throw ConfigError("cannot remove \(name): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Entries whose names are not UTF-8 (the name list cannot carry them): unlinked by their
    /// raw bytes; a directory among them is left, and its parent's removal then reports it.
    private static func removeUndecodable(in directory: Int32) {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return
        }
        defer { closedir(stream) }
        rewinddir(stream)
        while let entry = readdir(stream) {
            var raw = entry.pointee.d_name
            let bytes = withUnsafeBytes(of: &raw) { Array($0.prefix { $0 != 0 }) }
            guard String(validating: bytes, as: UTF8.self) == nil else { continue }
            _ = withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) { unlinkat(directory, $0, 0) }
            }
        }
    }
}

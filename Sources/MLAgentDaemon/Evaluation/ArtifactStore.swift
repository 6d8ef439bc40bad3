import Foundation
import MLAgentProtocol

/// The daemon's copy of every artifact: `<state>/artifacts/<run>/<name>`. Agents upload from
/// their worktree; the copy is staged, then renamed into place, then recorded, so a crash
/// leaves at worst an unrecorded copy that the next upload of that name replaces.
struct ArtifactStore: Sendable {
    let root: String
    let maxBytes: Int64
    static let maxFiles = 100_000

    struct Copied: Sendable {
        var isDirectory: Bool
        var files: Int
        var bytes: Int64
    }

    func directory(run: Int64) -> String { (root as NSString).appendingPathComponent(String(run)) }

    /// Checks an artifact name: relative, `/`-separated segments of letters, digits, `.`, `_`, `-`.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "the artifact name is empty" }
        if name.utf8.count > 255 { return "the artifact name is longer than 255 bytes" }
        for segment in name.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." || segment == ".." {
                return "artifact name \"\(name)\" must be a relative path without empty, \".\" or \"..\" segments"
            }
            if !segment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }) {
                return "artifact name \"\(name)\" may contain only letters, digits, \".\", \"_\", \"-\" and \"/\""
            }
        }
        return nil
    }

    /// Copies `source` (a resolved path inside the worktree) to the store as `name`.
    func copy(from source: String, run: Int64, name: String, shownAs path: String) throws -> Copied {
        let manager = FileManager.default
        let (isDirectory, files) = try inventory(source, shownAs: path)
        let staging = (root as NSString).appendingPathComponent(".staging/\(run)-\(UInt64.random(in: 0...UInt64.max))")
        try manager.createDirectory(atPath: (staging as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: staging) }
        var bytes: Int64 = 0
        if isDirectory {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for relative in files.directories {
                try manager.createDirectory(
                    atPath: (staging as NSString).appendingPathComponent(relative), withIntermediateDirectories: true)
            }
        }
        for relative in files.regular {
            let from = relative.isEmpty ? source : (source as NSString).appendingPathComponent(relative)
            let to = relative.isEmpty ? staging : (staging as NSString).appendingPathComponent(relative)
            try manager.copyItem(atPath: from, toPath: to)
            bytes += Int64((try manager.attributesOfItem(atPath: to)[.size] as? NSNumber)?.int64Value ?? 0)
            guard bytes <= maxBytes else { throw tooLarge(path) }
        }
        let destination = (directory(run: run) as NSString).appendingPathComponent(name)
        try manager.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if manager.fileExists(atPath: destination) {
            // An unrecorded leftover of an upload interrupted by a crash (the caller checked
            // that no artifact of this name is recorded).
            try manager.removeItem(atPath: destination)
        }
        guard rename(staging, destination) == 0 else {
            throw RPCError(.internalError, "cannot store artifact \(name): \(String(cString: strerror(errno)))")
        }
        return Copied(isDirectory: isDirectory, files: files.regular.count, bytes: bytes)
    }

    private struct Listing {
        var regular: [String] = []
        var directories: [String] = []
    }

    /// Lists what will be copied, refusing links, special files and oversized trees up front.
    private func inventory(_ source: String, shownAs path: String) throws -> (Bool, Listing) {
        var info = stat()
        guard lstat(source, &info) == 0 else {
            throw RPCError(.invalidParams, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        var listing = Listing()
        if (info.st_mode & S_IFMT) == S_IFREG {
            guard Int64(info.st_size) <= maxBytes else { throw tooLarge(path) }
            listing.regular = [""]
            return (false, listing)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw RPCError(.invalidParams, "\(path) is neither a regular file nor a directory")
        }
        var total: Int64 = 0
        var pending = [""]
        while let relative = pending.popLast() {
            let full = relative.isEmpty ? source : (source as NSString).appendingPathComponent(relative)
            for entry in try FileManager.default.contentsOfDirectory(atPath: full).sorted() {
                let child = relative.isEmpty ? entry : (relative as NSString).appendingPathComponent(entry)
                let childPath = (source as NSString).appendingPathComponent(child)
                guard lstat(childPath, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    total += Int64(info.st_size)
                    guard total <= maxBytes else { throw tooLarge(path) }
                    listing.regular.append(child)
                case S_IFDIR:
                    listing.directories.append(child)
                    pending.append(child)
                case S_IFLNK:
                    throw RPCError(
                        .invalidParams,
                        "\(path)/\(child) is a symbolic link; artifacts hold regular files and directories only: copy the file it points to")
                default:
                    throw RPCError(.invalidParams, "\(path)/\(child) is not a regular file or directory")
                }
                guard listing.regular.count + listing.directories.count <= Self.maxFiles else {
                    throw RPCError(.invalidParams, "\(path) holds more than \(Self.maxFiles) entries; pack it into one file")
                }
            }
        }
        return (true, listing)
    }

    private func tooLarge(_ path: String) -> RPCError {
        RPCError(
            .invalidParams,
            "\(path) is larger than the artifact limit of \(maxBytes) bytes ([evaluation] max_artifact_bytes)",
            context: ["path": .string(path), "limit": .int(maxBytes)])
    }
}

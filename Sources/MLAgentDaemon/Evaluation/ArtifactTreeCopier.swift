import Foundation
import MLAgentProtocol

/// Copies a directory artifact from its open descriptor into a new staging directory, walking
/// it through descriptors only (`openat`, `fdopendir`): no link is followed, no special file
/// opened, and no name that git treats as `.git` (at any depth) accepted, since the artifact
/// lands on `main`. Every regular file is copied through `BoundedReader`, and the whole tree
/// counts against one size limit.
struct ArtifactTreeCopier {
    /// What the agent called the directory, for messages.
    let shownAs: String
    let limit: BoundedReader.Limit
    let control: CopyControl
    let maxEntries: Int
    let maxDepth: Int
    var chunkBytes = BoundedReader.defaultChunkBytes

    private var entries = 0
    private var files = 0
    private var bytes: Int64 = 0

    init(shownAs: String, limit: BoundedReader.Limit, control: CopyControl, maxEntries: Int, maxDepth: Int) {
        self.shownAs = shownAs.hasSuffix("/") && shownAs.count > 1 ? String(shownAs.dropLast()) : shownAs
        self.limit = limit
        self.control = control
        self.maxEntries = maxEntries
        self.maxDepth = maxDepth
    }

    /// Copies the directory open as `source` to `staging`, which must not exist yet.
    mutating func copy(_ source: borrowing BeneathOpener.Opened, to staging: String) throws -> ArtifactStore.Copied {
        guard mkdir(staging, 0o755) == 0 else { throw ArtifactStore.storeFailure(shownAs) }
        let destination = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard destination >= 0 else { throw ArtifactStore.storeFailure(shownAs) }
        defer { close(destination) }
        try copyDirectory(source.fd, to: destination, relative: "", depth: 0)
        return ArtifactStore.Copied(isDirectory: true, files: files, bytes: bytes)
    }

    private mutating func copyDirectory(_ source: Int32, to destination: Int32, relative: String, depth: Int) throws {
        guard depth < maxDepth else {
            throw refusal("\(shown(relative)) nests directories deeper than \(maxDepth) levels; pack it into one file")
        }
        for name in try names(in: source, relative: relative) {
            try control.check(shownAs)
            let child = relative.isEmpty ? name : relative + "/" + name
            if RecordRules.isGitDirectoryName(name) {
                throw refusal(
                    "\(shown(child)) is named like git's own .git (any case, \"git~1\", trailing dots or spaces); it could never be checked out from main: leave it out of the artifact, e.g. upload the directories you need one by one")
            }
            entries += 1
            guard entries <= maxEntries else {
                throw refusal("\(shownAs) holds more than \(maxEntries) entries; pack it into one file")
            }
            let entry = try openChild(name, in: source, child: child)
            if entry.isDirectory {
                guard mkdirat(destination, name, 0o755) == 0 else { throw ArtifactStore.storeFailure(shownAs) }
                let subdirectory = openat(destination, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard subdirectory >= 0 else { throw ArtifactStore.storeFailure(shownAs) }
                defer { close(subdirectory) }
                try copyDirectory(entry.fd, to: subdirectory, relative: child, depth: depth + 1)
            } else {
                let remaining = limit.bytes - bytes
                var reader = BoundedReader(
                    shownAs: shown(child), limit: .init(bytes: remaining, described: limit.described), control: control)
                reader.chunkBytes = chunkBytes
                if Int64(entry.info.st_size) > remaining {
                    throw refusal(
                        "\(shownAs) holds more than \(limit.described) (\(shown(child)) alone is \(entry.info.st_size) bytes); nothing was copied")
                }
                try reader.check(entry)
                let output = openat(destination, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, ArtifactStore.mode(of: entry))
                guard output >= 0 else { throw ArtifactStore.storeFailure(shownAs) }
                defer { close(output) }
                bytes += try reader.copy(entry, to: output)
                files += 1
            }
        }
    }

    /// Opens one entry of a directory being walked.
    private func openChild(_ name: String, in directory: Int32, child: String) throws -> BeneathOpener.Opened {
        do {
            return try BeneathOpener.openEntry(name, in: directory, component: 0)
        } catch {
            switch error.reason {
            case .symbolicLink:
                throw refusal(
                    "\(shown(child)) is a symbolic link; artifacts hold regular files and directories only: copy the file it points to",
                    kind: .forbidden)
            case .special:
                throw refusal("\(shown(child)) is not a regular file or directory (a device, pipe or socket)")
            case .missing, .changed, .notDirectory:
                throw refusal("\(shown(child)) was removed or replaced while the daemon copied \(shownAs); leave it alone until the call returns")
            case .system(let code):
                throw refusal("cannot open \(shown(child)): \(String(cString: strerror(code)))")
            }
        }
    }

    /// The names in a directory other than `.` and `..`, sorted; each must be valid UTF-8.
    private func names(in directory: Int32, relative: String) throws -> [String] {
        let fd = fcntl(directory, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0, let stream = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            throw refusal("cannot list \(shown(relative)): \(String(cString: strerror(errno)))")
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw refusal("cannot list \(shown(relative)): \(String(cString: strerror(errno)))") }
                break
            }
            let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if raw == [0x2E] || raw == [0x2E, 0x2E] { continue }
            guard let name = String(validating: raw, as: UTF8.self) else {
                throw refusal("\(shown(relative)) holds a name that is not valid UTF-8; rename it")
            }
            names.append(name)
            guard entries + names.count <= maxEntries else {
                throw refusal("\(shownAs) holds more than \(maxEntries) entries; pack it into one file")
            }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private func shown(_ relative: String) -> String {
        relative.isEmpty ? shownAs : (shownAs == "/" ? "/" : shownAs + "/") + relative
    }

    private func refusal(_ message: String, kind: RPCErrorKind = .invalidParams) -> RPCError {
        RPCError(kind, message, context: ["path": .string(shownAs)])
    }
}

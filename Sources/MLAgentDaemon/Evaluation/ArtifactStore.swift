import Foundation
import MLAgentProtocol
import MLAgentStore

/// The daemon's copy of every artifact: `<state>/artifacts/<run>/<name>`. Agents upload from
/// their worktree: the file or directory is opened beneath the worktree without following
/// links and copied through its descriptors in bounded chunks on the copy threads
/// (`WorktreeFiles`, `BoundedReader`, `ArtifactTreeCopier`); the copy is staged, then renamed
/// into place, then recorded, so a crash leaves at worst an unrecorded copy that the next
/// upload of that name replaces. A `model` is checked against ``ModelContract`` before it is
/// renamed into place.
struct ArtifactStore: Sendable {
    let root: String
    let maxBytes: Int64
    /// How long one upload may take to copy.
    var copyTimeLimit: Duration = .seconds(300)
    static let maxFiles = 100_000
    /// How deep directories inside an artifact may nest.
    static let maxDepth = 64

    struct Copied: Sendable {
        var isDirectory: Bool
        var files: Int
        var bytes: Int64
    }

    func directory(run: Int64) -> String { (root as NSString).appendingPathComponent(String(run)) }

    /// Checks an artifact name (`RecordRules.artifactNameProblem`).
    static func problem(with name: String) -> String? {
        RecordRules.artifactNameProblem(name)
    }

    var limit: BoundedReader.Limit {
        .init(bytes: maxBytes, described: "the artifact limit of \(maxBytes) bytes ([evaluation] max_artifact_bytes)")
    }

    /// Copies `path` (a file or directory the agent named inside `worktree`) to the store as
    /// `name`, on the copy threads. `room` is what the totals of the job, its direction and the
    /// store leave: a copy that would pass it stops there, and nothing is stored.
    func copy(path: String, worktree: String, run: Int64, name: String, room: ArtifactQuota.Room? = nil) async throws
        -> Copied
    {
        var store = self
        if let room {
            if room.bytes < store.maxBytes {
                store.roomLimit = .init(bytes: max(room.bytes, 0), described: room.bytesCap)
            }
            store.maxEntries = Int(clamping: min(Int64(Self.maxFiles), max(room.files, 0)))
        }
        let bounded = store
        return try await CopyControl.run(timeLimit: copyTimeLimit) { control in
            try bounded.copyNow(path: path, worktree: worktree, run: run, name: name, control: control)
        }
    }

    /// The totals' room when it is below `maxBytes`.
    var roomLimit: BoundedReader.Limit?
    /// Files an artifact directory may hold in this upload.
    var maxEntries = ArtifactStore.maxFiles

    /// `copy`, on the calling thread.
    func copyNow(
        path: String, worktree: String, run: Int64, name: String, control: CopyControl,
        opener: BeneathOpener = BeneathOpener()
    ) throws -> Copied {
        let source = try WorktreeFiles.openBeneath(path, worktree: worktree, opener: opener)
        let manager = FileManager.default
        let staging = (root as NSString).appendingPathComponent(".staging/\(run)-\(UInt64.random(in: 0...UInt64.max))")
        try manager.createDirectory(atPath: (staging as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: staging) }
        let copied: Copied
        if source.isDirectory {
            var tree = ArtifactTreeCopier(
                shownAs: path, limit: roomLimit ?? limit, control: control, maxEntries: maxEntries, maxDepth: Self.maxDepth)
            copied = try tree.copy(source, to: staging)
        } else {
            let reader = BoundedReader(shownAs: path, limit: roomLimit ?? limit, control: control)
            try reader.check(source)
            let output = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, Self.mode(of: source))
            guard output >= 0 else { throw Self.storeFailure(name) }
            defer { close(output) }
            copied = Copied(isDirectory: false, files: 1, bytes: try reader.copy(source, to: output))
        }
        try control.check(path)
        if name == ModelContract.artifactName { try ModelContract.check(directory: staging, shownAs: path) }
        let destination = (directory(run: run) as NSString).appendingPathComponent(name)
        try manager.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if manager.fileExists(atPath: destination) {
            // An unrecorded leftover of an upload interrupted by a crash (the caller checked
            // that no artifact of this name is recorded).
            try manager.removeItem(atPath: destination)
        }
        guard rename(staging, destination) == 0 else { throw Self.storeFailure(name) }
        return copied
    }

    /// The mode of a stored copy: executable when the agent's file was.
    static func mode(of file: borrowing BeneathOpener.Opened) -> mode_t {
        file.info.st_mode & S_IXUSR != 0 ? 0o755 : 0o644
    }

    static func storeFailure(_ name: String) -> RPCError {
        RPCError(.internalError, "cannot store artifact \(name): \(String(cString: strerror(errno)))")
    }
}

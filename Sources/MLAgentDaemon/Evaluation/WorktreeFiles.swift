import Foundation
import MLAgentProtocol

/// Paths an agent hands to the daemon (predictions, artifacts). The daemon reads them with its
/// own privileges, so a path is only ever taken apart, never resolved: it must name, component
/// by component, something beneath the job's worktree, and each component is opened relative
/// to a descriptor of the worktree without following any link (`BeneathOpener`). What was
/// opened is checked and read through the same descriptor (`BoundedReader`), so nothing an
/// agent swaps in afterwards, link or file, can change what is read.
enum WorktreeFiles {
    /// How long reading one predictions file may take.
    static let readTimeLimit: Duration = .seconds(120)

    /// The components of `path` below `worktree`, which `path` must lie in lexically: an
    /// absolute path without `..` whose leading components are the worktree's (as the daemon
    /// or the sandbox spells it).
    static func components(of path: String, worktree: String) throws -> [String] {
        guard path.hasPrefix("/") else {
            throw RPCError(.invalidParams, "path \(path) is relative; send an absolute path inside your worktree", context: ["path": .string(path)])
        }
        guard !path.utf8.contains(0) else {
            throw RPCError(.invalidParams, "path \(path) contains a NUL byte", context: ["path": .string(path)])
        }
        guard worktree.hasPrefix("/") else { throw RPCError(.invalidState, "the job has no worktree") }
        let parts = split(path)
        var roots = [split(worktree)]
        if let real = realPath(worktree) { roots.append(split(real)) }
        for root in roots where parts.count >= root.count && Array(parts.prefix(root.count)) == root {
            let below = Array(parts.dropFirst(root.count))
            guard !below.contains("..") else { throw outside(path, root: worktree) }
            return below
        }
        throw outside(path, root: worktree)
    }

    /// A descriptor of the worktree itself (a path the daemon made; no agent can replace it).
    static func openRoot(_ worktree: String) throws -> Int32 {
        let fd = open(worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RPCError(.invalidState, "the job's worktree \(worktree) is gone") }
        return fd
    }

    /// Opens `path` beneath `worktree` (see `components(of:worktree:)`), refusing links,
    /// special files and anything else that is not a regular file or a directory.
    static func openBeneath(
        _ path: String, worktree: String, opener: BeneathOpener = BeneathOpener()
    ) throws -> BeneathOpener.Opened {
        let components = try components(of: path, worktree: worktree)
        let root = try openRoot(worktree)
        defer { close(root) }
        do {
            return try opener.open(components, beneath: root)
        } catch {
            throw refusal(error, path: path, components: components, worktree: worktree)
        }
    }

    /// Reads a regular file inside `worktree` on the copy threads, refusing anything larger
    /// than `maxBytes` or anything that changes while it is read.
    static func read(
        _ path: String, worktree: String, maxBytes: Int, timeLimit: Duration = readTimeLimit
    ) async throws -> Data {
        try await CopyControl.run(timeLimit: timeLimit) { control in
            try readNow(path, worktree: worktree, maxBytes: maxBytes, control: control)
        }
    }

    /// `read`, on the calling thread.
    static func readNow(
        _ path: String, worktree: String, maxBytes: Int, control: CopyControl, opener: BeneathOpener = BeneathOpener()
    ) throws -> Data {
        let file = try openBeneath(path, worktree: worktree, opener: opener)
        let reader = BoundedReader(
            shownAs: path, limit: .init(bytes: Int64(maxBytes), described: "the limit of \(maxBytes) bytes"), control: control)
        return try reader.readAll(file)
    }

    /// The message for a name `BeneathOpener` could not open.
    static func refusal(_ failure: BeneathOpener.Failure, path: String, components: [String], worktree: String) -> RPCError {
        let index = min(failure.component, max(components.count - 1, 0))
        let isLast = index == components.count - 1
        let named = components.isEmpty ? path : components[0...index].joined(separator: "/")
        let context: [String: JSONValue] = ["path": .string(path)]
        switch failure.reason {
        case .missing:
            return RPCError(.invalidParams, "\(path) does not exist", context: context)
        case .symbolicLink:
            return RPCError(
                .forbidden,
                "\(isLast ? "\(path) is" : "\(named) in \(path) is") a symbolic link; the daemon follows no links, since they can lead outside your worktree: write the file itself inside your worktree",
                context: context)
        case .notDirectory:
            return RPCError(.invalidParams, "\(named) in \(path) is not a directory", context: context)
        case .special:
            return RPCError(
                .invalidParams, "\(path) is not a regular file or directory (a device, pipe or socket); the daemon reads only those",
                context: context)
        case .changed:
            return RPCError(
                .invalidParams, "\(path) was replaced while the daemon opened it; leave it alone until the call returns", context: context)
        case .system(let error):
            return RPCError(.invalidParams, "cannot open \(path): \(String(cString: strerror(error)))", context: context)
        }
    }

    static func outside(_ path: String, root: String) -> RPCError {
        RPCError(
            .forbidden,
            "\(path) is outside your worktree (\(root)); the daemon reads only files inside it, so write the file there",
            context: ["path": .string(path)])
    }

    /// `/`-separated components, without empty and `.` ones (which name nothing).
    private static func split(_ path: String) -> [String] {
        path.split(separator: "/").filter { $0 != "." }.map(String.init)
    }

    /// `realpath(3)` of the daemon's own worktree path, or nil.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

import COpenat2
import Foundation
import Synchronization

/// Opens names beneath a directory descriptor without ever following a symbolic link, so
/// that a link an agent swaps in at any moment cannot lead the daemon outside the directory.
/// Directories on the way are opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS)`, or one `openat(O_NOFOLLOW | O_DIRECTORY)` per component where the
/// kernel has no `openat2`; the last component is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)`
/// (so special files are never opened), opened with `O_NOFOLLOW`, and must be the very inode
/// that was looked at. Callers check and read through the returned descriptor only.
struct BeneathOpener: Sendable {
    enum Strategy: Sendable {
        /// `openat2` while the kernel has it, else step by step.
        case automatic
        /// `openat` one component at a time (what older kernels get).
        case stepwise
    }

    /// Why a name could not be opened; `component` is the index of the component concerned.
    struct Failure: Error, Equatable {
        enum Reason: Equatable {
            case missing
            case symbolicLink
            case notDirectory
            case special
            case changed
            case system(Int32)
        }

        var reason: Reason
        var component: Int
    }

    /// An open descriptor with the `fstat` taken right after opening it.
    struct Opened: ~Copyable {
        let fd: Int32
        let info: stat

        var isDirectory: Bool { (info.st_mode & S_IFMT) == S_IFDIR }
        var isRegular: Bool { (info.st_mode & S_IFMT) == S_IFREG }

        deinit { close(fd) }
    }

    var strategy: Strategy = .automatic

    /// Set once `openat2` answered ENOSYS: the kernel predates it (or a filter hides it).
    private static let noOpenat2 = Atomic<Bool>(false)

    private static let readFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
    private static let directoryFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY

    /// Opens `components` (none empty, `.` or `..`, none holding `/`) beneath `root`; no
    /// components opens `root` itself again.
    func open(_ components: [String], beneath root: Int32) throws(Failure) -> Opened {
        guard let last = components.last else {
            let fd = fcntl(root, F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else { throw Failure(reason: .system(errno), component: 0) }
            return try Self.describe(fd, component: 0)
        }
        let parents = Array(components.dropLast())
        if parents.isEmpty { return try Self.openEntry(last, in: root, component: 0) }
        let parent = try openDirectory(parents, beneath: root)
        defer { close(parent) }
        return try Self.openEntry(last, in: parent, component: components.count - 1)
    }

    /// A directory descriptor for `components` beneath `root`.
    func openDirectory(_ components: [String], beneath root: Int32) throws(Failure) -> Int32 {
        if strategy == .automatic, !Self.noOpenat2.load(ordering: .relaxed) {
            let resolve = UInt64(COPENAT2_RESOLVE_BENEATH | COPENAT2_RESOLVE_NO_SYMLINKS | COPENAT2_RESOLVE_NO_MAGICLINKS)
            let path = components.joined(separator: "/")
            for _ in 0..<8 {
                let fd = copenat2_open(root, path, UInt64(Self.directoryFlags), 0, resolve)
                if fd >= 0 { return fd }
                let error = errno
                switch error {
                case EINTR, EAGAIN: continue
                case ENOSYS:
                    Self.noOpenat2.store(true, ordering: .relaxed)
                case EPERM, EINVAL:
                    break  // a seccomp filter or an older kernel's flags: the stepwise walk decides
                default:
                    // The stepwise walk names the component at fault (and agrees on the verdict).
                    if let failure = Self.stepwiseFailure(components, beneath: root) { throw failure }
                    throw Failure(reason: .system(error), component: components.count - 1)
                }
                break
            }
        }
        return try Self.walk(components, beneath: root)
    }

    /// One `openat(O_NOFOLLOW | O_DIRECTORY)` per component.
    private static func walk(_ components: [String], beneath root: Int32) throws(Failure) -> Int32 {
        var current = root
        for (index, component) in components.enumerated() {
            let fd = retrying { openat(current, component, directoryFlags) }
            if fd < 0 {
                let failure = failure(errno: errno, at: component, in: current, index: index)
                if current != root { close(current) }
                throw failure
            }
            if current != root { close(current) }
            current = fd
        }
        return current == root ? fcntl(root, F_DUPFD_CLOEXEC, 0) : current
    }

    private static func stepwiseFailure(_ components: [String], beneath root: Int32) -> Failure? {
        do {
            let fd = try walk(components, beneath: root)
            close(fd)
            return nil
        } catch {
            return error
        }
    }

    /// Opens the single name `name` in `directory`: looked at first, opened only when it is a
    /// regular file or a directory, and refused if it is not the inode looked at.
    static func openEntry(_ name: String, in directory: Int32, component: Int) throws(Failure) -> Opened {
        var seen = stat()
        guard retrying({ fstatat(directory, name, &seen, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw failure(errno: errno, at: name, in: directory, index: component)
        }
        switch seen.st_mode & S_IFMT {
        case S_IFLNK: throw Failure(reason: .symbolicLink, component: component)
        case S_IFREG, S_IFDIR: break
        default: throw Failure(reason: .special, component: component)
        }
        let fd = retrying { openat(directory, name, readFlags) }
        guard fd >= 0 else { throw failure(errno: errno, at: name, in: directory, index: component) }
        let opened = try describe(fd, component: component)
        guard opened.info.st_dev == seen.st_dev, opened.info.st_ino == seen.st_ino else {
            throw Failure(reason: .changed, component: component)
        }
        return opened
    }

    private static func describe(_ fd: Int32, component: Int) throws(Failure) -> Opened {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            close(fd)
            throw Failure(reason: .system(error), component: component)
        }
        let opened = Opened(fd: fd, info: info)
        guard opened.isRegular || opened.isDirectory else { throw Failure(reason: .special, component: component) }
        return opened
    }

    /// Maps an `openat`/`fstatat` errno; ELOOP and ENOTDIR are told apart by a look at the name.
    private static func failure(errno error: Int32, at name: String, in directory: Int32, index: Int) -> Failure {
        switch error {
        case ENOENT: return Failure(reason: .missing, component: index)
        case ELOOP: return Failure(reason: .symbolicLink, component: index)
        case ENOTDIR:
            var info = stat()
            if directory >= 0, fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                return Failure(reason: .symbolicLink, component: index)
            }
            return Failure(reason: .notDirectory, component: index)
        case ENXIO, ENODEV: return Failure(reason: .special, component: index)
        default: return Failure(reason: .system(error), component: index)
        }
    }

    private static func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}

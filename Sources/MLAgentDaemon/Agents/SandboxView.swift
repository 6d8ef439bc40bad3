import Foundation

/// What an agent's sandbox shows of the filesystem: an allow-list. The system directories are
/// read-only, with the paths the profile adds (`ro_paths`); the agent's worktree and its private
/// home are writable; the control socket, `mlagentctl` (at ``binDirectory``, whatever shell
/// starts), the workspace's git metadata and whatever the agent needs to start (its executable,
/// `agents_dir`, the Python environment, the Swift runtime of `mlagentctl`) are mounted back
/// read-only. Everything else (home directories, `/root`, `/var`, `/srv`, `/mnt`, `/media`, other
/// checkouts and other daemons' state) is absent, and the daemon's own state and data
/// directories stay hidden even where they lie under a shown path.
struct SandboxView: Sendable {
    /// Where `mlagentctl` is inside every sandbox (first on the agent's `PATH`, named in prompts
    /// and MCP configurations).
    static let binDirectory = "/run/mlagent/bin"
    /// Where the agents' socket directory is inside every sandbox.
    static let socketDirectory = "/run/mlagent/socket"
    /// The directories every sandbox shows read-only (those that exist; symbolic links such as a
    /// merged-/usr `/bin` stay links).
    static let systemRoots = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"]
    /// The system directories this machine has (looked up once: they do not come and go).
    static let presentSystemRoots = systemRoots.filter { FileManager.default.fileExists(atPath: $0) }
    /// Host places outside the system directories that name resolution needs (a resolver's
    /// socket directory, the target of a linked `/etc/resolv.conf`).
    static let resolverPaths = ["/run/systemd/resolve"]

    var stateDir: String
    var dataDir: String
    var workspaceGitDir: String
    /// The control socket, shown at its own path when there is no agents' socket.
    var socketPath: String
    /// The agents' socket (``DaemonConfig/agentSocketPath``): its directory is shown at
    /// ``socketDirectory``.
    var agentSocketPath: String? = nil
    var worktree: String
    var home: String
    /// (host file, place in the private home) of the profile's `home_files` that exist.
    var homeFiles: [(source: String, destination: String)] = []
    var roPaths: [String] = []
    /// What the agent needs to start (``SandboxPaths/needed(argv:config:)``).
    var needs: [String] = []
    /// The `mlagentctl` executable to show at ``binDirectory``.
    var mlagentctl: String

    /// The places the daemon never shows, even under a shown directory.
    var hiddenRoots: [String] {
        var hidden = [stateDir]
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue {
            hidden.append(dataDir)
        }
        return hidden
    }

    /// The read-only roots shown as they are (system directories and `ro_paths`).
    var shownRoots: [String] {
        Self.presentSystemRoots + roPaths
    }

    /// The socket path agents use inside this sandbox.
    var agentSideSocket: String {
        agentSocketPath.map { (Self.socketDirectory as NSString).appendingPathComponent(($0 as NSString).lastPathComponent) }
            ?? socketPath
    }

    /// Whether `path` is visible through a shown root and not under a hidden one.
    func isShown(_ path: String) -> Bool {
        let standard = (path as NSString).standardizingPath
        let hidden = hiddenRoots.contains { standard == $0 || standard.hasPrefix($0 + "/") }
        return !hidden && shownRoots.contains { standard == $0 || standard.hasPrefix($0 + "/") }
    }

    /// The read-only base every sandbox shares (agents' and the scorer's): the system
    /// directories and `ro_paths`, a private `/dev` (with `gpuDevices`), `/dev/shm`, `/proc` and
    /// `/tmp`, then the state and data hidden and what is needed mounted back.
    func baseArguments(gpuDevices: [String], resolver: Bool) -> [String] {
        var arguments: [String] = []
        for root in Self.systemRoots {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: root) {
                arguments += ["--symlink", target, root]
            } else if FileManager.default.fileExists(atPath: root) {
                arguments += ["--ro-bind", root, root]
            }
        }
        for path in roPaths { arguments += ["--ro-bind", path, path] }
        arguments += ["--dev", "/dev", "--tmpfs", "/dev/shm"]
        for device in gpuDevices { arguments += ["--dev-bind", device, device] }
        arguments += ["--proc", "/proc", "--tmpfs", "/tmp"]
        if resolver { for path in resolverMounts() { arguments += ["--ro-bind", path, path] } }
        // The daemon's state (targets, database, other worktrees) and the dataset stay hidden
        // where a shown directory holds them; so does the git history of a checkout holding the
        // dataset (the demo's data/ in this repository), with its targets and the script that
        // made them.
        for path in hiddenRoots where isShown((path as NSString).deletingLastPathComponent) {
            arguments += ["--tmpfs", path]
        }
        if let repository = AgentLauncher.enclosingGitMetadata(of: dataDir), isShown(repository) {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: repository, isDirectory: &isDirectory)
            arguments += isDirectory.boolValue ? ["--tmpfs", repository] : ["--ro-bind", "/dev/null", repository]
        }
        for path in mountBacks() { arguments += ["--ro-bind", path, path] }
        return arguments
    }

    /// bubblewrap's filesystem arguments, in mount order.
    func arguments(gpuDevices: [String]) -> [String] {
        var arguments = baseArguments(gpuDevices: gpuDevices, resolver: true)
        // The worktree's `.git` names the workspace's metadata: git works in the worktree, and
        // only the daemon writes there.
        if FileManager.default.fileExists(atPath: workspaceGitDir) {
            arguments += ["--ro-bind", workspaceGitDir, workspaceGitDir]
        }
        arguments += ["--bind", worktree, worktree, "--bind", home, home]
        for file in homeFiles { arguments += ["--ro-bind", file.source, file.destination] }
        arguments += ["--ro-bind", mlagentctl, (Self.binDirectory as NSString).appendingPathComponent("mlagentctl")]
        // The skeleton bwrap made for the mount points is read-only too.
        if let agentSocketPath {
            arguments += ["--ro-bind", (agentSocketPath as NSString).deletingLastPathComponent, Self.socketDirectory]
        } else {
            arguments += ["--bind", socketPath, socketPath]
        }
        arguments += ["--remount-ro", "/", "--chdir", worktree]
        return arguments
    }

    /// What the agent needs and would not see, plus the directories of the shared libraries the
    /// daemon (and so `mlagentctl`) was loaded with: never anything under a hidden root.
    func mountBacks() -> [String] {
        let candidates = (needs + Self.runtimeLibraryDirectories).map { ($0 as NSString).standardizingPath }
        let missing = candidates.filter { path in
            !isShown(path) && !hiddenRoots.contains { path == $0 || path.hasPrefix($0 + "/") }
                && FileManager.default.fileExists(atPath: path)
        }
        let sorted = Array(Set(missing)).sorted()
        return sorted.filter { path in !sorted.contains { $0 != path && path.hasPrefix($0 + "/") } }
    }

    /// Resolver places outside the shown roots: the directories of ``resolverPaths`` that exist
    /// and the target of a linked `/etc/resolv.conf`.
    func resolverMounts() -> [String] {
        var paths = Self.resolverPaths.filter { FileManager.default.fileExists(atPath: $0) }
        let resolved = URL(fileURLWithPath: "/etc/resolv.conf").resolvingSymlinksInPath().path
        if resolved != "/etc/resolv.conf", FileManager.default.fileExists(atPath: resolved), !isShown(resolved) {
            paths.append(resolved)
        }
        return paths.filter { path in !paths.contains { $0 != path && path.hasPrefix($0 + "/") } }
    }

    /// The directories of every shared library mapped into this process (the Swift runtime of a
    /// toolchain installed under a home directory, for one), read from `/proc/self/maps`.
    static let runtimeLibraryDirectories: [String] = {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return [] }
        var directories = Set<String>()
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            guard path.contains(".so"), !path.hasSuffix(" (deleted)") else { continue }
            directories.insert((path as NSString).deletingLastPathComponent)
        }
        return directories.sorted()
    }()
}

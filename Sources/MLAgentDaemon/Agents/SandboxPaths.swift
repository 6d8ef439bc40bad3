import Foundation

/// The paths an agent needs in order to start, and which of them the sandbox must mount back
/// because they lie under a directory it hides (`/tmp`, the state or data directory).
enum SandboxPaths {
    /// The executable of `argv` (found on `PATH` when it has no `/`), `agents_dir`, and the
    /// Python environment of `python` (a venv's root, so its `lib/` comes along).
    static func needed(argv: [String], config: DaemonConfig) -> [String] {
        var paths: [String] = [config.agentsDir]
        if let executable = argv.first.flatMap(resolve) { paths.append(executable) }
        if config.python.contains("/") { paths.append(environmentRoot(of: config.python)) }
        for argument in argv.dropFirst() where argument.hasPrefix("/") && argument.hasPrefix(config.agentsDir + "/") == false {
            // An interpreter's script (`sh /path/agent.sh`) must be reachable too.
            if FileManager.default.fileExists(atPath: argument) { paths.append(argument) }
        }
        return paths
    }

    /// The paths of `needs` that lie under one of `hiddenRoots`, once each, without ones
    /// already covered by another; never a hidden root itself or anything above one.
    static func mountBack(_ needs: [String], hiddenRoots: [String]) -> [String] {
        let standard = needs.map { ($0 as NSString).standardizingPath }
        let hidden = standard.filter { path in
            hiddenRoots.contains { path.hasPrefix($0 + "/") } && FileManager.default.fileExists(atPath: path)
        }
        let sorted = Array(Set(hidden)).sorted()
        return sorted.filter { path in !sorted.contains { $0 != path && path.hasPrefix($0 + "/") } }
    }

    /// `name` as the sandbox would run it: itself when it has a `/`, else the first match on
    /// the daemon's `PATH`.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return name }
        let search = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in search {
            let candidate = (String(directory) as NSString).appendingPathComponent(name)
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The root of the Python environment holding `python` (`…/.venv` for `…/.venv/bin/python`).
    static func environmentRoot(of python: String) -> String {
        let directory = (python as NSString).deletingLastPathComponent
        guard (directory as NSString).lastPathComponent == "bin" else { return directory }
        let root = (directory as NSString).deletingLastPathComponent
        return FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("pyvenv.cfg")) ? root : directory
    }
}

import Foundation

/// The paths an agent needs in order to start, which the sandbox mounts back read-only where
/// its allow-list would not show them, and the check that fails a job at once when its
/// executable cannot run inside the sandbox.
enum SandboxPaths {
    /// The executable of `argv` (found on `PATH` when it has no `/`) with the file it links to,
    /// its interpreter (`#!`) and the Python environments of both, `agents_dir`, the Python
    /// environment of `python`, and any absolute script argument (`sh /path/agent.sh`).
    static func needed(argv: [String], config: DaemonConfig) -> [String] {
        var paths: [String] = [config.agentsDir]
        if let executable = argv.first.flatMap(resolve) { paths += program(executable) }
        if config.python.contains("/") { paths += program(config.python) }
        for argument in argv.dropFirst() where argument.hasPrefix("/") && !argument.hasPrefix(config.agentsDir + "/") {
            if FileManager.default.fileExists(atPath: argument) { paths.append(argument) }
        }
        return paths
    }

    /// An executable, the file it resolves to, its `#!` interpreter, and the environment of a
    /// Python among them (the venv's root and the installation its `pyvenv.cfg` names).
    static func program(_ path: String, depth: Int = 0) -> [String] {
        var paths = [path]
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if real != path { paths.append(real) }
        for candidate in Set([path, real]) {
            if let root = environmentRoot(of: candidate) {
                paths.append(root)
                paths += pythonHome(root)
            }
        }
        if depth < 2, let interpreter = interpreter(of: real), interpreter != path {
            paths += program(interpreter, depth: depth + 1)
        }
        return paths
    }

    /// Why the agent of `argv` cannot start inside the sandbox `view`, if it cannot: the message
    /// names the path and the reason, and the job fails at once instead of being retried.
    static func problem(argv: [String], view: SandboxView?, config: DaemonConfig) -> String? {
        guard let name = argv.first, !name.isEmpty else { return "the agent's command is empty" }
        guard let executable = resolve(name) else {
            let search = ProcessInfo.processInfo.environment["PATH"] ?? ""
            return "the agent's executable \"\(name)\" is not on the daemon's PATH (\(search)); install it or give its absolute path in the profile's command"
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: executable, isDirectory: &isDirectory) else {
            return "the agent's executable \(executable) does not exist; install it there or fix the profile's command"
        }
        if isDirectory.boolValue { return "the agent's executable \(executable) is a directory; name the program inside it in the profile's command" }
        guard access(executable, X_OK) == 0 else { return "the agent's executable \(executable) is not executable by the daemon's user; chmod +x it or run it through its interpreter" }
        guard let view else { return nil }
        let hidden = view.hiddenRoots
        for path in [executable, URL(fileURLWithPath: executable).resolvingSymlinksInPath().path] {
            if let root = hidden.first(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                let what = root == config.stateDir ? "the daemon's state directory" : "the data directory"
                return "the agent's executable \(path) lies in \(what) (\(root)), which the sandbox never shows; install it elsewhere"
            }
        }
        for path in view.roPaths {
            if let root = hidden.first(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                return "ro_paths entry \(path) lies in \(root), which the sandbox never shows; remove it from ro_paths"
            }
            if !FileManager.default.fileExists(atPath: path) { return "ro_paths entry \(path) does not exist; create it or remove it from ro_paths" }
        }
        return nil
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

    /// The root of the Python virtual environment holding the program at `path` (`…/.venv` for
    /// `…/.venv/bin/python`), if it lies in one.
    static func environmentRoot(of path: String) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        guard (directory as NSString).lastPathComponent == "bin" else { return nil }
        let root = (directory as NSString).deletingLastPathComponent
        return FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("pyvenv.cfg")) ? root : nil
    }

    /// The installation a venv was made from (`home = …/bin` in its `pyvenv.cfg`): its prefix,
    /// which holds the standard library.
    static func pythonHome(_ venv: String) -> [String] {
        let config = (venv as NSString).appendingPathComponent("pyvenv.cfg")
        guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "home", parts[1].hasPrefix("/") else { continue }
            let bin = URL(fileURLWithPath: parts[1]).resolvingSymlinksInPath().path
            return [parts[1], (bin as NSString).deletingLastPathComponent]
        }
        return []
    }

    /// The interpreter a script names on its `#!` line, if it names an absolute one.
    static func interpreter(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 256), head.starts(with: [0x23, 0x21]) else { return nil }
        let line = String(decoding: head.dropFirst(2).prefix { $0 != 0x0a }, as: UTF8.self)
        guard let first = line.split(separator: " ").first, first.hasPrefix("/") else { return nil }
        return first == "/usr/bin/env" ? nil : String(first)
    }
}

/// An agent that cannot start at all (its executable is missing or hidden): the job fails at
/// once with this message instead of being retried.
struct AgentStartError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Fills `{name}` placeholders in one pass: a value that itself holds a placeholder (a prompt
/// quoting `{worktree}`, guidance naming `{metric}`) is inserted as it is, whatever the order.
enum Placeholders {
    static func fill(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("{") else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            if let close = rest[open...].firstIndex(of: "}"), let value = values[String(rest[open...close])] {
                out += value
                rest = rest[rest.index(after: close)...]
            } else {
                out.append("{")
                rest = rest[rest.index(after: open)...]
            }
        }
        return out + rest
    }
}

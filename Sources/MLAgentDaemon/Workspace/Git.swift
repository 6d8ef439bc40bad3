import Foundation

/// Runs `git` against one repository of the daemon's own (the workspace, or a worktree's
/// metadata inside it). Every call is a child process with a fixed identity, no user or system
/// configuration, no hooks, no fsmonitor, no attribute files, no replace objects and no
/// alternates from the environment, so results do not depend on the machine and nothing an agent
/// wrote can run. Never point one at an agent's worktree: git would honour whatever `.git`,
/// configuration or hooks the agent left there.
struct Git: Sendable {
    /// `-C <directory>` (the workspace) or `--git-dir=<directory>` (a worktree's metadata).
    let location: [String]

    init(directory: String) { location = ["-C", directory] }

    init(gitDir: String) { location = ["--git-dir=\(gitDir)"] }

    struct Failure: Error, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var stderr: String
        var description: String {
            "git \(arguments.joined(separator: " ")) failed (\(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    static let identity = [
        "GIT_AUTHOR_NAME": "mlagentd", "GIT_AUTHOR_EMAIL": "mlagentd@localhost",
        "GIT_COMMITTER_NAME": "mlagentd", "GIT_COMMITTER_EMAIL": "mlagentd@localhost",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0",
        "GIT_ATTR_NOSYSTEM": "1", "GIT_NO_REPLACE_OBJECTS": "1", "GIT_NO_LAZY_FETCH": "1",
        "GIT_OPTIONAL_LOCKS": "0",
    ]

    /// Settings on every command line, which take precedence over any repository configuration:
    /// nothing runs besides git itself (hooks, fsmonitor, pagers), and no attribute or exclude
    /// file outside the repository is read. External diff, alternates and replace objects could
    /// only come from the environment, which is cleared of every `GIT_` variable.
    static let hardening = [
        "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false",
        "-c", "core.attributesFile=/dev/null", "-c", "core.excludesFile=/dev/null", "-c", "core.pager=cat",
        "-c", "submodule.recurse=false", "--no-pager",
    ]

    /// Runs git with `arguments`, feeding `input` (or the file at `inputFile`) on stdin;
    /// returns stdout.
    @discardableResult
    func run(
        _ arguments: [String], input: Data? = nil, inputFile: String? = nil, environment: [String: String] = [:]
    ) async throws -> String {
        let result = try await Self.exec(
            location + arguments, input: input, inputFile: inputFile, environment: environment)
        guard result.status == 0 else {
            throw Failure(arguments: arguments, status: result.status, stderr: result.stderr)
        }
        return result.stdout
    }

    /// Like `run`, but returns the exit status instead of throwing on failure.
    func status(_ arguments: [String]) async throws -> (status: Int32, stdout: String) {
        let result = try await Self.exec(location + arguments, input: nil, environment: [:])
        return (result.status, result.stdout)
    }

    static func exec(_ arguments: [String], input: Data?, inputFile: String? = nil, environment extra: [String: String])
        async throws -> (status: Int32, stdout: String, stderr: String)
    {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("GIT_") { environment.removeValue(forKey: key) }
        for (key, value) in identity { environment[key] = value }
        for (key, value) in extra { environment[key] = value }
        do {
            return try await ChildCommand.run(
                executable: gitPath, arguments: hardening + arguments, environment: environment, input: input, inputFile: inputFile)
        } catch let error as ChildCommand.UnreadableInput {
            throw Failure(arguments: arguments, status: -1, stderr: "cannot read \(error.path)")
        }
    }

    static let gitPath: String = {
        for candidate in ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"] where access(candidate, X_OK) == 0 {
            return candidate
        }
        return "/usr/bin/git"
    }()
}

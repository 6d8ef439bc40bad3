import Foundation

/// Where a proposal's tests run: the scorer's isolation (``ScorerSandbox/isolated(config:hostname:)``:
/// no network, no capabilities, the state, data and targets hidden) with the candidate
/// worktree read-only at ``root`` and a private `/tmp`; each shared module's directory is on
/// `PYTHONPATH`, as for agents. Without a sandbox (`[sandbox] mode = "none"`) the same
/// command runs on the host from the candidate.
struct ShareTestSandbox: Sendable {
    static let root = "/candidate"

    var config: DaemonConfig
    /// The candidate worktree on the host.
    var candidate: String
    /// The module names, each a directory under `shared/`.
    var modules: [String]

    var sandboxed: Bool { config.sandbox == .bwrap }
    private var base: String { sandboxed ? Self.root : candidate }

    /// `python ARGUMENTS` from `shared/MODULE/`.
    func argv(module: String, arguments: [String]) -> [String] {
        let directory = "\(base)/shared/\(module)"
        guard sandboxed else { return ["/usr/bin/env", "-C", directory, config.python] + arguments }
        return ScorerSandbox.isolated(config: config, hostname: "mlagent-share-test")
            + ["--ro-bind", candidate, Self.root, "--remount-ro", "/", "--chdir", directory, "--", config.python] + arguments
    }

    /// The scorer's plain environment with the modules on `PYTHONPATH`.
    var environment: [String: String] {
        var environment = ScorerSandbox.environment(config: config)
        environment["PYTHONPATH"] = modules.map { "\(base)/shared/\($0)" }.joined(separator: ":")
        environment["PYTEST_ADDOPTS"] = ""
        return environment
    }
}

import Foundation

/// Candidates of shared code: detached worktrees of `main` made by the daemon (never an agent's)
/// in which a proposal's files are written and tested.
extension Workspace {
    var candidatesDir: String { (stateDir as NSString).appendingPathComponent("share-tests") }

    /// The commit `main` is at.
    func mainCommit() async throws -> String {
        try await lock.withLock {
            try await git.run(["rev-parse", "--verify", "refs/heads/main^{commit}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A fresh detached worktree of `commit` at `path` (under ``candidatesDir``).
    func addCandidate(at path: String, commit: String) async throws {
        try await lock.withLock {
            try FileManager.default.createDirectory(atPath: candidatesDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var info = stat()
            if lstat(path, &info) == 0 {
                try TreeRemover.remove(path)
                try await git.run(["worktree", "prune"])
            }
            try await git.run(["worktree", "add", "--quiet", "--detach", path, commit])
        }
    }

    /// The candidate's changes under `prefix` against its commit, as a unified diff (new files
    /// in full), leaving out `exclude`. The candidate's files are the daemon's: git reads them
    /// with the same hardening as everywhere.
    func candidateDiff(_ path: String, prefix: String, exclude: String) async throws -> String {
        try await lock.withLock {
            let candidate = Git(directory: path)
            try await candidate.run(["add", "--all", "--", prefix])
            return try await candidate.run([
                "diff", "--cached", "--no-color", "--no-ext-diff", "--no-renames", "HEAD", "--", prefix, ":(exclude)\(exclude)",
            ])
        }
    }

    /// Removes a candidate and git's record of it.
    func removeCandidate(at path: String) async {
        _ = try? await lock.withLock {
            try TreeRemover.remove(path)
            try await git.run(["worktree", "prune"])
        }
    }

    /// Removes candidates a crash left behind.
    func removeStaleCandidates() async {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: candidatesDir)) ?? [] where !name.hasSuffix(".log") {
            await removeCandidate(at: (candidatesDir as NSString).appendingPathComponent(name))
        }
    }
}

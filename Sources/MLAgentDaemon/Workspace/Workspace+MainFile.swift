import Foundation

extension Workspace {
    /// The text of the file at `path` on `main`; nil when main has none there.
    func fileOnMain(_ path: String) async throws -> String? {
        try await lock.withLock {
            let result = try await git.status(["cat-file", "blob", "refs/heads/main:\(path)"])
            return result.status == 0 ? result.stdout : nil
        }
    }
}

import MLAgentProtocol

/// What may reach `main`: the merge actor's last line of defence, whatever produced a landing.
extension Workspace {
    /// The only top-level directories a landing writes on `main` after the initial commit.
    static let knowledgeBaseRoots = ["research_directions/", "mlruns/", "shared/"]

    struct RefusedPath: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "refused to land \(path): \(reason)" }
    }

    /// Refuses a path git could not check out (a `.git` component in any spelling, `..`,
    /// control characters): one such entry on `main` would make every later worktree fail.
    static func checkTreePath(_ path: String) throws {
        if let problem = GitPathRules.problem(path) { throw RefusedPath(path: path, reason: problem) }
    }

    /// Refuses a landing path outside the knowledge base.
    static func checkKnowledgeBasePath(_ path: String) throws {
        try checkTreePath(path)
        guard knowledgeBaseRoots.contains(where: { path.hasPrefix($0) }) else {
            throw RefusedPath(
                path: path, reason: "only \(knowledgeBaseRoots.joined(separator: ", ")) are written on main")
        }
    }
}

/// Paths git refuses to check out. A tree entry named `.git` (in any case, or spelled so that
/// NTFS or HFS+ read it as `.git`) makes every later `git worktree add` or checkout of that
/// commit fail with "invalid path", so no such path may ever reach a commit the daemon writes.
public enum GitPathRules {
    /// Whether one path component names git's metadata directory on some filesystem (the
    /// rule artifact names follow: `RecordRules.isGitDirectoryName`).
    public static func isGitMetadataName(_ component: Substring) -> Bool {
        RecordRules.isGitDirectoryName(component)
    }

    public static func isGitMetadataName(_ component: String) -> Bool {
        isGitMetadataName(Substring(component))
    }

    /// Why `path` (relative, `/`-separated) cannot be a path in a git tree, or nil.
    public static func problem(_ path: String) -> String? {
        if path.isEmpty { return "the path is empty" }
        if path.hasPrefix("/") { return "\"\(path)\" is absolute" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "\"\(path)\" contains a control character"
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." {
                return "\"\(path)\" has an empty, \".\" or \"..\" component"
            }
            if isGitMetadataName(component) {
                return "\"\(path)\" contains \"\(component)\", which git reserves for its own metadata"
            }
        }
        return nil
    }
}

import Foundation

/// The patterns of a worktree's top-level `.gitignore`, matched the way git matches the common
/// cases: blank lines and `#` comments skipped, `!` re-includes, a trailing `/` matches
/// directories only, a pattern with a `/` before its end is anchored at the top, any other
/// pattern matches a name at any depth, and `*`, `?`, `[…]` and `**` are globs. Used to keep
/// scratch files (`__pycache__/`, `.venv/`) out of an archive without running git there.
struct IgnoreRules: Sendable {
    struct Rule: Sendable {
        var pattern: String
        var negated: Bool
        var directoryOnly: Bool
        var anchored: Bool
    }

    let rules: [Rule]

    init(text: String) {
        var rules: [Rule] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var negated = false
            if line.hasPrefix("!") {
                negated = true
                line.removeFirst()
            } else if line.hasPrefix("\\") {
                line.removeFirst()
            }
            var directoryOnly = false
            if line.hasSuffix("/") {
                directoryOnly = true
                line.removeLast()
            }
            let anchored = line.contains("/")
            if line.hasPrefix("/") { line.removeFirst() }
            if line.isEmpty { continue }
            rules.append(Rule(pattern: line, negated: negated, directoryOnly: directoryOnly, anchored: anchored))
        }
        self.rules = rules
    }

    /// Whether `path` (relative to the worktree, `/`-separated) is ignored; the last rule that
    /// matches decides.
    func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var ignored = false
        for rule in rules where !rule.directoryOnly || isDirectory {
            let matches: Bool
            if rule.anchored {
                // `**` may cross directories; a single `*` may not.
                let flags: Int32 = rule.pattern.contains("**") ? 0 : FNM_PATHNAME
                matches = fnmatch(rule.pattern, path, flags) == 0
            } else {
                matches = fnmatch(rule.pattern, name, 0) == 0
            }
            if matches { ignored = !rule.negated }
        }
        return ignored
    }
}

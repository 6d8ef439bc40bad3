import MLAgentProtocol
import Testing

@Suite("artifact names and git's reserved names")
struct ArtifactNameRulesTests {
    @Test(
        "every spelling git treats as .git is recognised",
        arguments: [
            ".git", ".GIT", ".Git", ".gIt", ".git.", ".git..", ".git ", ".git . ", ".git::$INDEX_ALLOCATION", ".git:stream",
            "git~1", "GIT~1", "Git~1.", "git~1 ", "foo\\.git", ".git\\foo", "\u{200C}.git", ".g\u{200D}it", ".git\u{FEFF}",
            ".\u{206A}G\u{202A}I\u{200E}T", ".git\u{200C}.", "g\u{200F}it~1",
        ])
    func gitNames(_ name: String) {
        #expect(RecordRules.isGitDirectoryName(name), "\(name.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test(
        "names that merely look alike are fine",
        arguments: [
            ".gitignore", ".github", "git", ".gi", "gitx", ".git-x", ".gitt", "git~2", "git~12", "x.git", "my.git.bak", "git~", "..git",
            ".git_", "\u{0130}.git", ".g\u{00EF}t", "",
        ])
    func ordinaryNames(_ name: String) {
        #expect(!RecordRules.isGitDirectoryName(name))
    }

    @Test("artifact names: relative, a small alphabet, no .git segment at any depth")
    func artifactNames() {
        for good in ["model", "model/weights.bin", "a.b-c_d/e", "snapshot", ".gitignore", "git"] {
            #expect(RecordRules.artifactNameProblem(good) == nil, "\(good)")
        }
        let refused: [(String, String)] = [
            ("", "empty"), ("../escape", "relative path"), ("a//b", "relative path"), ("/abs", "relative path"),
            ("a b", "may contain only"), ("git~1", "may contain only"),
            (".git", "git treats as .git"), (".GIT", "git treats as .git"), ("sub/.Git/config", "git treats as .git"),
            ("model/.git.", "git treats as .git"), (".git..", "git treats as .git"),
            (String(repeating: "a", count: 256), "longer than 255 bytes"),
        ]
        for (name, fragment) in refused {
            let problem = RecordRules.artifactNameProblem(name) ?? ""
            #expect(problem.contains(fragment), "\(name): \(problem)")
        }
    }
}

import Foundation
@testable import MLAgentDaemon
import Testing

/// The pieces of a worktree's archive that never run git there: the ignore rules, the
/// snapshot reader (links as links, `.git` skipped, bounded sizes) and the tree remover; and the
/// GPU nodes the sandbox passes in.
@Suite("worktree archives and sandbox devices")
struct WorktreeArchiveTests {
    func makeDirectory() throws -> String {
        var template = Array("/tmp/mla-archive-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        return String(cString: made)
    }

    @Test("ignore rules match directories, globs, anchored paths and negations like git's common cases")
    func ignoreRules() {
        let rules = IgnoreRules(text: "# scratch\n__pycache__/\n*.pyc\n/build\ndocs/*.tmp\n!keep.pyc\n\n")
        #expect(rules.isIgnored("__pycache__", isDirectory: true))
        #expect(rules.isIgnored("src/__pycache__", isDirectory: true))
        #expect(!rules.isIgnored("__pycache__", isDirectory: false))
        #expect(rules.isIgnored("a/b/c.pyc", isDirectory: false))
        #expect(!rules.isIgnored("keep.pyc", isDirectory: false))
        #expect(rules.isIgnored("build", isDirectory: true))
        #expect(!rules.isIgnored("src/build", isDirectory: true))
        #expect(rules.isIgnored("docs/x.tmp", isDirectory: false))
        #expect(!rules.isIgnored("docs/sub/x.tmp", isDirectory: false))
        #expect(!rules.isIgnored("notes.txt", isDirectory: false))
    }

    @Test("the snapshot takes files and links as links, skips .git, special files and oversized files")
    func snapshot() throws {
        let root = try makeDirectory()
        defer { try? TreeRemover.remove(root) }
        let manager = FileManager.default
        try "a\n".write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
        try manager.createDirectory(atPath: root + "/sub/.git/hooks", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: root + "/sub/.git/hooks/post-commit", atomically: true, encoding: .utf8)
        try "gitdir: /elsewhere\n".write(toFile: root + "/.git", atomically: true, encoding: .utf8)
        try "x".write(toFile: root + "/.GIT.", atomically: true, encoding: .utf8)
        try manager.createDirectory(atPath: root + "/sub/git~1", withIntermediateDirectories: true)
        try "run\n".write(toFile: root + "/sub/run.sh", atomically: true, encoding: .utf8)
        chmod(root + "/sub/run.sh", 0o755)
        try manager.createSymbolicLink(atPath: root + "/secret", withDestinationPath: "/etc/shadow")
        try manager.createSymbolicLink(atPath: root + "/up", withDestinationPath: "/")
        #expect(mkfifo(root + "/pipe", 0o600) == 0)
        try String(repeating: "x", count: 2048).write(toFile: root + "/big.bin", atomically: true, encoding: .utf8)
        try "__pycache__/\n".write(toFile: root + "/.gitignore", atomically: true, encoding: .utf8)
        try manager.createDirectory(atPath: root + "/__pycache__", withIntermediateDirectories: true)
        try "c".write(toFile: root + "/__pycache__/m.pyc", atomically: true, encoding: .utf8)

        let streamPath = root + ".stream"
        defer { try? manager.removeItem(atPath: streamPath) }
        let stream = try FastImportStream(path: streamPath)
        let summary = try WorktreeSnapshot(limits: .init(fileBytes: 1024)).write(root: root, into: stream)
        try stream.close()
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: streamPath)), as: UTF8.self)
        let entries = text.split(separator: "\n").filter { $0.hasPrefix("M ") }.map(String.init)
        #expect(entries.contains("M 100644 inline a.txt"))
        #expect(entries.contains("M 100755 inline sub/run.sh"))
        #expect(entries.contains("M 120000 inline secret"))
        #expect(entries.contains("M 120000 inline up"))
        #expect(entries.contains("M 100644 inline .gitignore"))
        #expect(!text.contains("root:"), "a link was followed")
        #expect(
            !entries.contains { $0.lowercased().contains(".git") && !$0.hasSuffix(".gitignore") || $0.contains("git~1") || $0.contains("pycache") },
            "\(entries)")
        #expect(!entries.contains { $0.contains("pipe") || $0.contains("big.bin") })
        #expect(summary.skipped.contains { $0.hasPrefix("pipe ") })
        #expect(summary.skipped.contains { $0.hasPrefix("big.bin ") })
        #expect(summary.files == 5)
    }

    @Test("the tree remover deletes what a link points at never, and unwritable directories too")
    func remover() throws {
        let outside = try makeDirectory()
        defer { try? TreeRemover.remove(outside) }
        try "keep".write(toFile: outside + "/precious", atomically: true, encoding: .utf8)
        let root = try makeDirectory()
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: outside)
        try FileManager.default.createDirectory(atPath: root + "/locked/inner", withIntermediateDirectories: true)
        try "x".write(toFile: root + "/locked/inner/f", atomically: true, encoding: .utf8)
        chmod(root + "/locked", 0o500)
        try TreeRemover.remove(root)
        #expect(!FileManager.default.fileExists(atPath: root))
        #expect(FileManager.default.fileExists(atPath: outside + "/precious"))
    }

    @Test("the sandbox binds GPU nodes by name and nothing else from /dev")
    func gpuDevices() throws {
        let dev = try makeDirectory()
        defer { try? TreeRemover.remove(dev) }
        for name in ["nvidia0", "nvidiactl", "nvidia-uvm", "kmsg", "sda", "kfd"] {
            _ = FileManager.default.createFile(atPath: dev + "/" + name, contents: nil)
        }
        try FileManager.default.createDirectory(atPath: dev + "/dri", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dev + "/nvidia-caps", withIntermediateDirectories: true)
        let names = AgentLauncher.gpuDevices(in: dev).map { ($0 as NSString).lastPathComponent }
        #expect(names == ["dri", "kfd", "nvidia-caps", "nvidia-uvm", "nvidia0", "nvidiactl"])
    }
}

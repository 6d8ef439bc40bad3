import Foundation
@testable import MLAgentDaemon
import MLAgentProtocol
import Testing

/// Artifact uploads: files and directory trees copied through descriptors into the store,
/// refusing links, special files, hard links and git's reserved names at any depth.
@Suite("copying artifacts into the store")
struct ArtifactCopyTests {
    typealias Sandbox = BeneathReaderTests.Sandbox

    func store(_ box: Sandbox, maxBytes: Int64 = 1 << 20) -> ArtifactStore {
        ArtifactStore(root: box.base + "/artifacts", maxBytes: maxBytes)
    }

    func copy(
        _ box: Sandbox, _ relative: String, as name: String, maxBytes: Int64 = 1 << 20,
        strategy: BeneathOpener.Strategy = .automatic
    ) throws -> ArtifactStore.Copied {
        try store(box, maxBytes: maxBytes).copyNow(
            path: box.worktree + "/" + relative, worktree: box.worktree, run: 1, name: name,
            control: BeneathReaderTests.started(), opener: BeneathOpener(strategy: strategy))
    }

    func tree(_ box: Sandbox) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: box.worktree + "/model/layers/deep", withIntermediateDirectories: true)
        try box.write("worktree/model/meta.json", "{}")
        try box.write("worktree/model/layers/w1.bin", "w1")
        try box.write("worktree/model/layers/deep/w2.bin", "w2w2")
        try box.write("worktree/model/.gitignore", "*.tmp\n")
    }

    @Test("files and trees are copied with their contents", arguments: BeneathReaderTests.strategies)
    func copies(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        try tree(box)
        let file = try copy(box, "good.csv", as: "preds", strategy: strategy)
        #expect(!file.isDirectory && file.files == 1 && file.bytes == 15)
        #expect(try String(contentsOfFile: box.base + "/artifacts/1/preds", encoding: .utf8) == "prediction\n0.5\n")
        chmod(box.worktree + "/model/layers/w1.bin", 0o755)
        let copied = try copy(box, "model", as: "nested/model", strategy: strategy)
        var info = stat()
        #expect(stat(box.base + "/artifacts/1/nested/model/layers/w1.bin", &info) == 0 && info.st_mode & 0o777 == 0o755)
        #expect(stat(box.base + "/artifacts/1/nested/model/meta.json", &info) == 0 && info.st_mode & 0o777 == 0o644)
        #expect(copied.isDirectory && copied.files == 4 && copied.bytes == 2 + 2 + 4 + 6)
        #expect(try String(contentsOfFile: box.base + "/artifacts/1/nested/model/layers/deep/w2.bin", encoding: .utf8) == "w2w2")
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.base + "/artifacts/.staging").isEmpty)
    }

    @Test(
        "a .git look-alike anywhere in a tree refuses the whole upload",
        arguments: [".git", ".GIT", "layers/.Git", "layers/deep/git~1", "layers/.git.", "layers/.git "])
    func gitNames(_ name: String) throws {
        let box = try Sandbox()
        try tree(box)
        try FileManager.default.createDirectory(atPath: box.worktree + "/model/" + name, withIntermediateDirectories: true)
        try box.write("worktree/model/" + name + "/config", "[core]\n")
        let message = BeneathReaderTests.refusal { try copy(box, "model", as: "model") }
        #expect(message.contains("model/\(name) is named like git's own .git"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: box.base + "/artifacts/1/model"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.base + "/artifacts/.staging").isEmpty)
    }

    @Test("the whole worktree, with its .git file, is refused")
    func snapshot() throws {
        let box = try Sandbox()
        try box.write("worktree/.git", "gitdir: /somewhere\n")
        let message = BeneathReaderTests.refusal {
            try store(box).copyNow(
                path: box.worktree, worktree: box.worktree, run: 1, name: "snapshot", control: BeneathReaderTests.started())
        }
        #expect(message.contains("\(box.worktree)/.git is named like git's own .git"), "\(message)")
    }

    @Test("links, special files and hard links inside a tree are refused", arguments: BeneathReaderTests.strategies)
    func refusals(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        try tree(box)
        symlink(box.secret + "/val_public_y.csv", box.worktree + "/model/layers/link")
        #expect(BeneathReaderTests.refusal { try copy(box, "model", as: "m1", strategy: strategy) }.contains("model/layers/link is a symbolic link"))
        unlink(box.worktree + "/model/layers/link")
        symlink(box.secret, box.worktree + "/model/layers/dirlink")
        #expect(BeneathReaderTests.refusal { try copy(box, "model", as: "m2", strategy: strategy) }.contains("dirlink is a symbolic link"))
        unlink(box.worktree + "/model/layers/dirlink")
        mkfifo(box.worktree + "/model/fifo", 0o600)
        #expect(BeneathReaderTests.refusal { try copy(box, "model", as: "m3", strategy: strategy) }.contains("model/fifo is not a regular file or directory"))
        unlink(box.worktree + "/model/fifo")
        try box.write("outside.bin", "SECRET")
        link(box.base + "/outside.bin", box.worktree + "/model/layers/deep/hard.bin")
        #expect(BeneathReaderTests.refusal { try copy(box, "model", as: "m4", strategy: strategy) }.contains("hard.bin has 2 hard links"))
        #expect(BeneathReaderTests.refusal { try copy(box, "model/layers/deep/hard.bin", as: "m5", strategy: strategy) }.contains("has 2 hard links"))
        unlink(box.worktree + "/model/layers/deep/hard.bin")
        symlink(box.secret, box.worktree + "/swapped")
        #expect(BeneathReaderTests.refusal { try copy(box, "swapped/val_public_y.csv", as: "m6", strategy: strategy) }.contains("symbolic link"))
        #expect(try copy(box, "model", as: "m7", strategy: strategy).files == 4)
        let stored = try FileManager.default.subpathsOfDirectory(atPath: box.base + "/artifacts")
        #expect(stored.allSatisfy { !$0.contains("m1") && !$0.contains("m4") && !$0.contains("m6") }, "\(stored)")
    }

    @Test("a tree over the size limit is refused")
    func treeLimit() throws {
        let box = try Sandbox()
        try tree(box)
        let message = BeneathReaderTests.refusal { try copy(box, "model", as: "m", maxBytes: 10) }
        #expect(message.contains("holds more than the artifact limit of 10 bytes"), "\(message)")
        #expect(BeneathReaderTests.refusal { try copy(box, "good.csv", as: "g", maxBytes: 10) }.contains("more than the artifact limit of 10 bytes"))
    }
}

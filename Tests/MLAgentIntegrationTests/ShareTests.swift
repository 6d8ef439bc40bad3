import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Proposals of shared code through the real daemon: an agent proposes a utility with its tests
/// (versions count up), everything that is not small source code inside its worktree is
/// refused with the reason, and operators list and read the proposals.
@Suite("Shared code proposals")
struct ShareTests {
    @Test("an agent proposes a utility with tests, then its next version; links, data, copied targets, bad names, large files, paths outside and operators are refused")
    func proposals() throws {
        let fixture = try ShareFixture(label: "shr")
        let daemon = fixture.daemon
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "target-encoding"))
        let (ctl, worktree) = try fixture.puppet(job: 1)
        func write(_ name: String, _ text: String) throws { try ShareFixture.write(worktree, name, text) }
        func refused(_ arguments: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let result = try ctl(["share", "propose"] + arguments)
            #expect(result.status == 1, "\(arguments): \(result.stdout)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        }
        let run = try ctl(["run", "start", "--name", "te", "--rationale", "target encoding"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ctl(["run", "end", run, "--analysis", "used lib/encoding.py"]).status == 0)
        let code = "def encode(column, target):\n    \"\"\"Mean target per category, smoothed.\"\"\"\n    return column\n"
        try write("lib/encoding.py", code)
        try write("tests/test_encoding.py", "from encoding import encode\n\ndef test_identity():\n    assert encode([1], [0]) == [1]\n")

        let first = try ctl([
            "share", "propose", "lib/encoding.py", "--name", "target-encoding", "--summary", "smoothed target encoding",
            "--tests", "tests/test_encoding.py", "--json",
        ])
        try #require(first.status == 0, "\(first.stderr)")
        let proposal = try JSONDecoder().decode(ShareProposal.self, from: Data(first.stdout.utf8))
        #expect(proposal.name == "target-encoding" && proposal.version == 1 && proposal.status == "proposed")
        #expect(proposal.direction == "target-encoding" && proposal.jobID == 1 && proposal.runs == [Int64(run)!])
        #expect(proposal.files.map(\.path) == ["lib/encoding.py", "tests/test_encoding.py"])
        #expect(proposal.files.map(\.isTest) == [false, true])
        // The copy is the file as it was: editing it afterwards changes nothing recorded.
        try write("lib/encoding.py", code + "# later\n")
        let detail = try client.proposal(id: proposal.id)
        #expect(detail.contents["lib/encoding.py"] == code)
        let second = try ctl(["share", "propose", "lib/encoding.py", "--name", "target-encoding", "--summary", "with a comment"])
        #expect(second.status == 0 && second.stdout.contains("target-encoding version 2"), "\(second.stdout) \(second.stderr)")

        // What is refused.
        _ = symlink(daemon.stateDir + "/targets/val_public_y.csv", worktree + "/lib/leak.py")
        try refused(["lib/leak.py", "--name", "leak", "--summary", "s"], "is a symbolic link")
        try write("lib/table.csv", "a,b\n1,2\n")
        try refused(["lib/table.csv", "--name", "table", "--summary", "s"], "is a data file (.csv)")
        try write("lib/numbers.py", (0..<40).map { "\($0),\($0 * 2)" }.joined(separator: "\n") + "\n")
        try refused(["lib/numbers.py", "--name", "numbers", "--summary", "s"], "looks like data (a table of values), not code")
        let target = try String(contentsOfFile: daemon.dir.file("data/val_public_y.csv"), encoding: .utf8)
        try write("lib/copied.py", target)
        try refused(["lib/copied.py", "--name", "copied", "--summary", "s"], "looks like data (a table of values), not code")
        try refused(["lib/encoding.py", "--name", "../escape", "--summary", "s"], "must be a slug")
        try refused(["lib/encoding.py", "--name", "a/b", "--summary", "s"], "must be a slug")
        try refused(["lib/encoding.py", "--name", "ok-name", "--summary", ""], "summary")
        let big = worktree + "/lib/big.py"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: big))
        try handle.truncate(atOffset: 50 << 20)
        try handle.close()
        try refused(["lib/big.py", "--name", "big", "--summary", "s"], "more than the limit of 1048576 bytes")
        try refused(["/etc/hostname", "--name", "host", "--summary", "s"], "outside")
        try refused(["lib/encoding.py", "lib/encoding.py", "--name", "twice", "--summary", "s"], "named twice")
        try write("README.md", "# mine\n")
        try refused(["README.md", "--name", "readme", "--summary", "s"], "README.md is written by the daemon")
        try write("lib/.gitattributes", "* filter=x\n")
        try refused(["lib/.gitattributes", "--name", "attrs", "--summary", "s"], "git's own files (.git*) are not shared")
        let operatorCall = try daemon.ctl("share", "propose", worktree + "/lib/encoding.py", "--name", "op", "--summary", "s")
        #expect(operatorCall.status == 1 && operatorCall.stderr.contains("share.propose is an agent call"), "\(operatorCall.stderr)")

        // Operators read them back; every proposal is an event.
        let list = try daemon.ctl("share", "list")
        #expect(list.status == 0 && list.stdout.contains("target-encoding") && list.stdout.contains("smoothed target encoding"), "\(list.stdout)")
        #expect(try client.proposals().map(\.version) == [1, 2])
        let shown = try daemon.ctl("share", "show", String(proposal.id))
        #expect(shown.stdout.contains("--- shared/target-encoding/tests/test_encoding.py (test)") && shown.stdout.contains("def encode"), "\(shown.stdout)")
        let missing = try daemon.ctl("share", "show", "99")
        #expect(missing.status == 1 && missing.stderr.contains("no proposal with id 99"))
        let events = try client.events(limit: 10_000).events.filter { $0.kind == EventKind.shareProposed }
        #expect(events.map { $0.data["version"] } == [.int(1), .int(2)], "\(events)")
        try daemon.write("ctl/release-1", "")
        #expect(try daemon.terminate() == 0)
    }
}

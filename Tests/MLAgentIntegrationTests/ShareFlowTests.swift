import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Shared code from proposal to use, through the real daemon, git, pytest and sandbox: gate 1
/// runs the tests in a fresh candidate of `main`, the operator reviews, the merge actor lands
/// `shared/NAME/` with its README, and the next agent imports the module and records it.
@Suite("Shared code: test, review, land, use")
struct ShareFlowTests {
    static let ratios = "def ratio(a, b):\n    \"\"\"a / b, or 0.0 when b is 0.\"\"\"\n    return a / b if b else 0.0\n"
    static let ratiosTest = "from ratios import ratio\n\n\ndef test_ratio():\n    assert ratio(6, 3) == 2.0\n    assert ratio(1, 0) == 0.0\n"

    @Test("a tested proposal is approved by the operator, lands under shared/ with its README, and a later agent imports it and records it; failing tests reject with their log")
    func operatorFlow() throws {
        let fixture = try ShareFixture(label: "shf")
        let daemon = fixture.daemon
        try daemon.write("ctl/import-2", "from ratios import ratio; print('ratio', ratio(6, 3))")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "feat-a"))
        let (ctl, worktree) = try fixture.puppet(job: 1)
        let run = try ctl(["run", "start", "--name", "r", "--rationale", "ratios"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ctl(["run", "end", run, "--analysis", "ratio features"]).status == 0)

        let good = try ShareFixture.propose(
            ctl, worktree: worktree, name: "ratios", summary: "safe ratio of two columns", code: ["ratios.py": Self.ratios],
            tests: ["test_ratios.py": Self.ratiosTest])
        let bad = try ShareFixture.propose(
            ctl, worktree: worktree, name: "halves", summary: "halves", code: ["halves.py": "def half(x):\n    return x / 3\n"],
            tests: ["test_halves.py": "from halves import half\n\n\ndef test_half():\n    assert half(4) == 2\n"])

        // Gate 1: the good one passes and waits for the operator; the bad one is rejected with its log.
        let tested = try fixture.wait(good.id, ShareStatus.tested)
        #expect(tested.test?.passed == true && tested.test?.summary.contains("1 passed") == true, "\(String(describing: tested.test))")
        let failed = try fixture.wait(bad.id, ShareStatus.failed)
        #expect(failed.reason?.contains("halves tests failed") == true, "\(failed.reason ?? "")")
        let badDetail = try client.proposal(id: bad.id)
        #expect(badDetail.tests.count == 1 && badDetail.tests[0].output.contains("assert 1.3333333333333333 == 2"), "\(badDetail.tests)")
        let diff = try daemon.ctl("share", "diff", String(good.id))
        #expect(diff.status == 0 && diff.stdout.contains("+++ b/shared/ratios/ratios.py") && diff.stdout.contains("+def ratio(a, b):"), "\(diff.stdout)")
        let refusedApproval = try daemon.ctl("share", "approve", String(bad.id))
        #expect(refusedApproval.status == 1 && refusedApproval.stderr.contains("failed its tests"), "\(refusedApproval.stderr)")
        // The proposing agent cannot decide its own proposal.
        let own = try ctl(["share", "review", String(good.id), "--approve", "--reason", "mine is great"])
        #expect(own.status == 1 && own.stderr.contains("cannot approve or reject its own proposal"), "\(own.stderr)")
        let noReason = try daemon.ctl("share", "reject", String(good.id), "--reason", " ")
        #expect(noReason.status == 1 && noReason.stderr.contains("a rejection needs a reason"), "\(noReason.stderr)")

        // The operator approves; the merge actor lands it once, with the daemon's README.
        let approved = try daemon.ctl("share", "approve", String(good.id), "--reason", "small, tested, general")
        #expect(approved.status == 0 && approved.stdout.contains("approved by operator"), "\(approved.stdout) \(approved.stderr)")
        let landed = try fixture.wait(good.id, ShareStatus.landed)
        #expect(try fixture.mainFile("shared/ratios/ratios.py") == Self.ratios)
        #expect(try fixture.mainFile("shared/ratios/test_ratios.py") == Self.ratiosTest)
        let readme = try #require(try fixture.mainFile("shared/ratios/README.md"))
        for fragment in [
            "safe ratio of two columns", "Version: 1 (proposal \(good.id))", "direction feat-a, job 1", "run \(run)",
            "`import ratios`", "Test result: passed", "Reviewed by: operator: small, tested, general",
        ] {
            #expect(readme.contains(fragment), "README lacks \(fragment): \(readme)")
        }
        let again = try daemon.ctl("share", "approve", String(good.id))
        #expect(again.status == 1 && again.stderr.contains("is landed already"), "\(again.stderr)")
        #expect(try daemon.git("log", "--oneline", "main", "--", "shared/ratios").output.split(separator: "\n").count == 1)
        let kinds = try client.events(limit: 10_000).events.map(\.kind)
        for kind in [EventKind.shareProposed, EventKind.shareTested, EventKind.shareApproved, EventKind.shareLanded] {
            #expect(kinds.contains(kind), "no \(kind) event")
        }
        try daemon.write("ctl/release-1", "")

        // The next agent starts from a main with shared/: it is on PYTHONPATH, in the prompt,
        // importable in the sandbox, and its runs record it.
        _ = try client.enqueue(EnqueueParams(direction: "feat-b"))
        let (ctl2, worktree2) = try fixture.puppet(job: 2)
        let prompt = try String(contentsOfFile: worktree2 + "/.mlagent-prompt.md", encoding: .utf8)
        #expect(prompt.contains("- `ratios` v1 (from feat-a); import `ratios`: safe ratio of two columns"), "\(prompt)")
        #expect(try String(contentsOfFile: worktree2 + "/.pythonpath", encoding: .utf8).hasPrefix(worktree2 + "/shared/ratios"))
        try waitUntil("the agent's import") { FileManager.default.fileExists(atPath: worktree2 + "/.import") }
        try waitUntil("the agent's import to finish") {
            (try? String(contentsOfFile: worktree2 + "/.import", encoding: .utf8))?.contains("ratio 2.0") == true
        }
        let unknown = try ctl2(["run", "start", "--name", "x", "--rationale", "y", "--uses", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no shared module \"nope\" on main; shared/ holds ratios"), "\(unknown.stderr)")
        let run2 = try ctl2(["run", "start", "--name", "uses-ratios", "--rationale", "ratio features", "--uses", "ratios"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let detail = try client.showRun(Int64(run2)!)
        let base = try #require(try client.show(id: 2).baseCommit)
        #expect(detail.tags[RunTag.uses] == "ratios@1" && detail.tags[RunTag.mainCommit] == base, "\(detail.tags)")
        #expect(try daemon.git("merge-base", "--is-ancestor", landed.landedCommit ?? "-", base).status == 0)
        #expect(try ctl2(["run", "end", run2, "--analysis", "ratios helped"]).status == 0)
        try ShareFixture.write(worktree2, "l.md", "Ratios from shared/ helped.")
        #expect(try ctl2(["direction", "finish", "--learnings", "l.md"]).status == 0)
        try daemon.write("ctl/release-2", "")
        try waitUntil("feat-b's final file on main", timeout: .seconds(30)) {
            (try fixture.mainFile("research_directions/feat-b.md"))?.contains("## Shared code") == true
        }
        let directionFile = try #require(try fixture.mainFile("research_directions/feat-b.md"))
        #expect(directionFile.contains("- Used `ratios v1` (shared/) in run \(run2)"), "\(directionFile)")
        #expect(try fixture.mainFile("mlruns/feat-b/\(run2)/run.json")?.contains("\"mlagent.uses\" : \"ratios@1\"") == true)
        let summary = try client.summary()
        #expect(summary.sharedModules?.first?.adoptions.map(\.direction) == ["feat-b"], "\(String(describing: summary.sharedModules))")
        #expect(summary.text.contains("Used by feat-b: run \(run2)"), "\(summary.text)")

        // Only the knowledge base ever changed on main, and the repository is sound.
        let (paths, fsck) = try fixture.mainChanges()
        #expect(paths.allSatisfy { ["research_directions/", "mlruns/", "shared/"].contains(where: $0.hasPrefix) }, "\(paths.sorted())")
        #expect(paths.contains("shared/ratios/README.md"))
        #expect(fsck.status == 0, "\(fsck.output)")
        #expect(try daemon.terminate() == 0)
    }
}

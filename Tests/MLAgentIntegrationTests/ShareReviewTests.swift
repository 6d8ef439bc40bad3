import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Shared code under pressure: versions that break other modules, tests that look for the
/// targets, `main` moving between the tests and the landing, `kill -9` before the landing, and
/// reviewer agents.
@Suite("Shared code: versions, crashes and reviewer agents")
struct ShareReviewTests {
    static let cleaning = "def clean(text):\n    return text.strip().lower()\n"
    static let cleaningTest = "from cleaning import clean\n\n\ndef test_clean():\n    assert clean(' A ') == 'a'\n"
    static let features = "from cleaning import clean\n\n\ndef tokens(text):\n    return clean(text).split()\n"
    static let featuresTest = "from features import tokens\n\n\ndef test_tokens():\n    assert tokens('  Hello World ') == ['hello', 'world']\n"

    @Test("a new version that breaks another module's tests is rejected, tests cannot see the targets, a main that moved is tested again, and kill -9 between approval and landing lands once")
    func versionsAndCrash() throws {
        let fixture = try ShareFixture(label: "shv")
        let daemon = fixture.daemon
        try daemon.start(launching: true)
        var client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "text-a"))
        let (ctl, worktree) = try fixture.puppet(job: 1)
        func land(_ proposal: ShareProposal) throws {
            try fixture.wait(proposal.id, ShareStatus.tested)
            #expect(try daemon.ctl("share", "approve", String(proposal.id)).status == 0)
            try fixture.wait(proposal.id, ShareStatus.landed)
        }
        try land(
            try ShareFixture.propose(
                ctl, worktree: worktree, name: "cleaning", summary: "normalise text", code: ["cleaning.py": Self.cleaning],
                tests: ["test_cleaning.py": Self.cleaningTest]))
        try land(
            try ShareFixture.propose(
                ctl, worktree: worktree, name: "features", summary: "tokens of cleaned text", code: ["features.py": Self.features],
                tests: ["test_features.py": Self.featuresTest]))

        // Version 2 of cleaning passes its own test and breaks features'.
        let breaking = try ShareFixture.propose(
            ctl, worktree: worktree, name: "cleaning", summary: "keep the text as it is", code: ["cleaning.py": "def clean(text):\n    return text\n"],
            tests: ["test_cleaning.py": "from cleaning import clean\n\n\ndef test_clean():\n    assert clean('a') == 'a'\n"])
        #expect(breaking.version == 2)
        let broken = try fixture.wait(breaking.id, ShareStatus.failed)
        #expect(broken.reason?.contains("cleaning tests: 1 passed") == true && broken.reason?.contains("features tests failed") == true, "\(broken.reason ?? "")")
        // Tests run where the targets and the daemon's state do not exist.
        let peek = try ShareFixture.propose(
            ctl, worktree: worktree, name: "peek", summary: "reads what it should not", code: ["peek.py": "import os\n"],
            tests: ["test_peek.py": "import os\n\n\ndef test_targets_visible():\n    assert os.path.exists('\(daemon.stateDir)/targets/val_public_y.csv')\n"])
        #expect(try fixture.wait(peek.id, ShareStatus.failed).reason?.contains("peek tests failed") == true)

        // Version 3 is compatible; main moves (another direction starts) before the approval.
        let compatible = "def clean(text):\n    return ' '.join(text.split()).lower()\n"
        let third = try ShareFixture.propose(
            ctl, worktree: worktree, name: "cleaning", summary: "normalise spaces and case", code: ["cleaning.py": compatible],
            tests: ["test_cleaning.py": Self.cleaningTest])
        let tested = try fixture.wait(third.id, ShareStatus.tested)
        _ = try client.enqueue(EnqueueParams(direction: "text-b"))
        try waitUntil("text-b on main") { try fixture.mainFile("research_directions/text-b.md") != nil }
        #expect(try daemon.git("rev-parse", "main").output.hasPrefix(tested.test?.mainCommit ?? "-") == false)
        // The approval lands through a second test run on the new main: kill -9 while it runs.
        let retestLog = daemon.stateDir + "/share-tests/p\(third.id)-2.log"
        #expect(try daemon.ctl("share", "approve", String(third.id), "--reason", "compatible").status == 0)
        try waitUntil("the second test run to start", every: .milliseconds(5)) { FileManager.default.fileExists(atPath: retestLog) }
        daemon.kill9()
        #expect(try fixture.mainFile("shared/cleaning/cleaning.py") == Self.cleaning, "landed before the kill")
        try daemon.start(launching: true)
        client = try daemon.client()
        let landed = try fixture.wait(third.id, ShareStatus.landed)
        #expect(try fixture.mainFile("shared/cleaning/cleaning.py") == compatible)
        #expect(try fixture.mainFile("shared/cleaning/README.md")?.contains("shared module, version 3") == true)
        let commits = try daemon.git("log", "--format=%s", "main", "--", "shared/cleaning").output.split(separator: "\n")
        #expect(commits.filter { $0.contains("version 3") }.count == 1, "\(commits)")
        let events = try client.events(limit: 10_000).events.filter { $0.kind == EventKind.shareLanded && $0.data["proposal"] == .int(third.id) }
        #expect(events.count == 1 && landed.landedCommit != nil)
        let runs = try client.proposal(id: third.id).tests
        #expect(runs.count == 2 && runs.allSatisfy(\.summary.passed) && runs[0].summary.mainCommit != runs[1].summary.mainCommit, "\(runs.map(\.summary))")
        #expect(!FileManager.default.fileExists(atPath: daemon.stateDir + "/share-tests/p\(third.id)-1"), "a candidate was left behind")

        let (paths, fsck) = try fixture.mainChanges()
        #expect(paths.allSatisfy { ["research_directions/", "mlruns/", "shared/"].contains(where: $0.hasPrefix) }, "\(paths.sorted())")
        #expect(fsck.status == 0, "\(fsck.output)")
        try daemon.write("ctl/release-1", "")
        try daemon.write("ctl/release-2", "")
        #expect(try daemon.terminate() == 0)
    }

    @Test("a reviewer agent approves one proposal and rejects the other, decides no proposal it was not launched for and declares no direction; the proposer cannot decide its own")
    func reviewerAgent() throws {
        let fixture = try ShareFixture(
            label: "shw", shared: "review = \"agent\"\nreviewer = \"reviewer\"",
            extra: "[agents.reviewer]\ncommand = [\"sh\", \"@DIR@/agents/reviewer.sh\"]")
        let daemon = fixture.daemon
        try daemon.write(
            "agents/reviewer.sh",
            """
            ID=$(sed -n '1s/.*proposal \\([0-9][0-9]*\\).*/\\1/p' .mlagent-prompt.md)
            cat .mlagent-prompt.md
            for other in 1 2; do
              if [ "$other" != "$ID" ]; then echo "other $other: $(mlagentctl share review $other --approve --reason sneaky 2>&1)"; fi
            done
            echo "declare: $(mlagentctl direction declare sneaky --rationale x 2>&1)"
            if grep -q APPROVE-ME .mlagent-prompt.md; then
              mlagentctl share review "$ID" --approve --reason "clear and tested"
            else
              mlagentctl share review "$ID" --reject --reason "no docstring: say what it does"
            fi
            """)
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "review-me"))
        let (ctl, worktree) = try fixture.puppet(job: 1)
        let alpha = try ShareFixture.propose(
            ctl, worktree: worktree, name: "alpha", summary: "adds one", code: ["alpha.py": "# APPROVE-ME\ndef plus_one(x):\n    \"\"\"x + 1.\"\"\"\n    return x + 1\n"],
            tests: ["test_alpha.py": "from alpha import plus_one\n\n\ndef test_plus_one():\n    assert plus_one(1) == 2\n"])
        let beta = try ShareFixture.propose(
            ctl, worktree: worktree, name: "beta", summary: "doubles", code: ["beta.py": "def double(x):\n    return 2 * x\n"],
            tests: ["test_beta.py": "from beta import double\n\n\ndef test_double():\n    assert double(2) == 4\n"])
        let own = try ctl(["share", "review", String(alpha.id), "--approve", "--reason", "mine"])
        #expect(own.status == 1 && own.stderr.contains("cannot approve or reject its own proposal"), "\(own.stderr)")

        let landed = try fixture.wait(alpha.id, ShareStatus.landed)
        let rejected = try fixture.wait(beta.id, ShareStatus.rejected)
        let alphaReviewer = try #require(landed.reviewJob)
        let betaReviewer = try #require(rejected.reviewJob)
        #expect(landed.reviewer == "job \(alphaReviewer)" && landed.reason == "clear and tested")
        #expect(rejected.reviewer == "job \(betaReviewer)" && rejected.reason == "no docstring: say what it does")
        #expect(try fixture.mainFile("shared/alpha/README.md")?.contains("Reviewed by: job \(alphaReviewer): clear and tested") == true)
        #expect(try fixture.mainFile("shared/beta/beta.py") == nil)
        for (job, proposal, other) in [(alphaReviewer, alpha.id, beta.id), (betaReviewer, beta.id, alpha.id)] {
            try waitUntil("reviewer job \(job) to complete", timeout: .seconds(30)) { try client.show(id: job).state == .completed }
            let shown = try client.show(id: job)
            #expect(shown.reviewOf == proposal && shown.direction.isEmpty)
            let log = try client.logs(id: job).data
            #expect(log.contains("# Review job \(job): proposal \(proposal)") && log.contains("+++ b/shared/"), "\(log)")
            #expect(log.contains("Passed: ") && log.contains("Modules on main now"), "\(log)")
            #expect(log.contains("other \(other): ") && log.contains("was not launched to review proposal \(other)"), "\(log)")
            #expect(log.contains("declare: ") && log.contains("declares no direction"), "\(log)")
        }
        #expect(try client.directions().map(\.name) == ["review-me"])
        let late = try daemon.ctl("share", "reject", String(alpha.id), "--reason", "too late")
        #expect(late.status == 1 && late.stderr.contains("is landed already"), "\(late.stderr)")
        try daemon.write("ctl/release-1", "")
        #expect(try daemon.terminate() == 0)
    }
}

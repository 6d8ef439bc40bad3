import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// What the merge actor writes on `main`, under conditions that used to break it: a direction
/// that ends before its start landing, a `.git` entry inside the artifact store, a caller that
/// reads the branch as soon as the job is reported ended.
@Suite("landings on main", .serialized)
struct LandingTests {
    func makeDaemon(_ label: String) throws -> TestDaemon {
        let daemon = try TestDaemon(label: label, config: """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "quick"
            max_attempts = 1
            [agents.quick]
            command = ["sh", "@DIR@/agents/quick.sh"]
            [agents.artist]
            command = ["sh", "@DIR@/agents/artist.sh"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n0.5\n0.7\n")
        try daemon.write("data/val_public_y.csv", "target\n1\n0\n")
        // Declares, leaves a file and finishes at once.
        try daemon.write("agents/quick.sh", """
            set -e
            mlagentctl direction declare quick-one --rationale "ends before its start landing"
            echo "work" > notes.txt
            echo "Nothing to report." > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        // Uploads a directory artifact, then waits for @DIR@/ctl/release before finishing.
        try daemon.write("agents/artist.sh", """
            set -e
            mlagentctl direction declare artist --rationale "a directory artifact"
            RUN=$(mlagentctl run start --name snap --rationale "keeps a snapshot")
            mkdir -p snap/sub && echo a > snap/a.txt && echo b > snap/sub/b.txt
            mlagentctl run artifact "$RUN" snap --as snapshot
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.1; done
            mlagentctl run end "$RUN" --analysis "kept"
            echo "Learned." > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        return daemon
    }

    @Test("a direction that ends before its start lands gets one in_progress and one completed commit; wait waits for the archive")
    func endBeforeStartLanding() throws {
        let daemon = try makeDaemon("early")
        try daemon.start()
        // Hold main's ref lock: landings fail (and are retried) until it goes.
        let lock = daemon.workspace + "/.git/refs/heads/main.lock"
        #expect(FileManager.default.createFile(atPath: lock, contents: Data()))
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: ""))
        _ = try client.resume()
        try waitUntil("the job to end") { try client.show(id: job.id).state.isFinal }
        #expect(try client.show(id: job.id).state == .completed)
        #expect(try client.show(id: job.id).archive == "pending")
        // Ended, but its archive is not written: `wait` keeps waiting.
        let early = try daemon.ctl("wait", String(job.id), "--timeout", "1")
        #expect(early.status == 1, "wait returned before the archive: \(early.stdout)")
        try FileManager.default.removeItem(atPath: lock)
        let waited = try daemon.ctl("wait", String(job.id), "--timeout", "60")
        #expect(waited.status == 0, "\(waited.stderr)")
        // The archive is on the branch as soon as wait returns.
        let archived = try daemon.git("show", "exp/quick-one:notes.txt")
        #expect(archived.status == 0 && archived.output.contains("work"), "\(archived.output)")

        let log = try daemon.git("log", "--format=%s", "main", "--", "research_directions/quick-one.md").output
            .split(separator: "\n").map(String.init)
        #expect(log.count == 2, "\(log)")
        #expect(log.last == "quick-one: in_progress", "\(log)")
        #expect(log.first?.hasPrefix("quick-one: completed") == true, "\(log)")
        let first = try daemon.git("show", "main~1:research_directions/quick-one.md").output
        #expect(first.contains("Status: in_progress"), "\(first)")
        // No empty commits on main.
        let commits = try daemon.git("rev-list", "main").output.split(separator: "\n")
        for commit in commits.dropLast() {
            let changed = try daemon.git("diff-tree", "--no-commit-id", "--name-only", "-r", String(commit)).output
            #expect(!changed.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "commit \(commit) is empty")
        }
        #expect(try daemon.terminate() == 0)
    }

    @Test("a .git entry in the artifact store never reaches main, and main can always be checked out")
    func gitEntriesNeverLand() throws {
        let daemon = try makeDaemon("dotgit")
        try daemon.start()
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: "", agent: "artist"))
        _ = try client.resume()
        try waitUntil("the snapshot artifact") { try client.runs().first.map { try client.showRun($0.id).artifacts.count == 1 } ?? false }
        let run = try #require(try client.runs().first)
        // Whatever put them there, entries git reserves sit inside the stored artifact.
        let stored = daemon.stateDir + "/artifacts/\(run.id)/snapshot"
        for path in [".git/config", "sub/.GIT/HEAD", "sub/git~1/x", ".git. /y"] {
            let full = stored + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "[core]\n\tfsmonitor = touch /tmp/pwned\n".write(toFile: full, atomically: false, encoding: .utf8)
        }
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        try waitUntil("the job to settle", timeout: .seconds(60)) { try client.show(id: job.id).isSettled }
        try waitUntil("the final landing") {
            try daemon.git("show", "main:research_directions/artist.md").output.contains("Status: completed")
        }
        let tree = try daemon.git("ls-tree", "-r", "--name-only", "main").output
        #expect(tree.contains("mlruns/artist/\(run.id)/artifacts/snapshot/a.txt"), "\(tree)")
        #expect(tree.contains("mlruns/artist/\(run.id)/artifacts/snapshot/sub/b.txt"))
        for line in tree.split(separator: "\n") {
            #expect(GitPathRules.problem(String(line)) == nil, "\(line) reached main")
        }
        let fsck = try daemon.git("fsck", "--no-progress", "--strict")
        #expect(fsck.status == 0 && !fsck.output.contains("hasDotgit"), "\(fsck.output)")
        let checkout = try daemon.git("worktree", "add", "--detach", daemon.dir.file("check"), "main")
        #expect(checkout.status == 0, "\(checkout.output)")
        #expect(try daemon.terminate() == 0)
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// How the daemon reads the files agents name, against hostile agents: links swapped in
/// while it reads, hard links to files outside the worktree, files that change size while
/// they are copied, and artifacts that would put a `.git` on `main`.
@Suite("files agents name: races, links, copies and .git", .serialized)
struct AgentFileTests {
    static let publicTargets = [0, 1, 0, 1, 1, 0]
    static let privateTargets = [1, 0, 1, 0]
    static let decoyPredictions = [0.2, 0.9, 0.6, 0.4, 0.8, 0.3]
    static let targetHeader = "target\n"

    static func csv(_ values: [Double]) -> String {
        "prediction\n" + values.map { String($0) }.joined(separator: "\n") + "\n"
    }

    func makeDaemon(_ label: String) throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "puppet"
            kill_grace = "2s"
            [evaluation]
            public_eval_budget = 1000
            bootstrap_samples = 0
            \(TestModel.predictionsSubmit)
            [agents.puppet]
            command = ["sh", "@DIR@/agents/puppet.sh"]
            [agents.racer]
            command = ["sh", "@DIR@/agents/racer.sh"]
            """
        let daemon = try TestDaemon(label: label, config: config)
        let features = { (rows: Int) in "f00,f01\n" + (0..<rows).map { "\($0),\($0 * 2)" }.joined(separator: "\n") + "\n" }
        try daemon.write("data/train.csv", "f00,f01,target\n0.1,0.2,0\n0.3,0.4,1\n")
        try daemon.write("data/val_public_X.csv", features(Self.publicTargets.count))
        try daemon.write("data/val_private_X.csv", features(Self.privateTargets.count))
        try daemon.write("data/val_public_y.csv", Self.targetHeader + Self.publicTargets.map(String.init).joined(separator: "\n") + "\n")
        try daemon.write("data/val_private_y.csv", Self.targetHeader + Self.privateTargets.map(String.init).joined(separator: "\n") + "\n")
        // Publishes its token and worktree, then waits: the test acts as the agent with them.
        try daemon.write(
            "agents/puppet.sh",
            """
            echo "$MLAGENT_TOKEN $(pwd)" > .puppet
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
        // Swaps the predictions file, and a directory on the way to another, with links to the
        // daemon's targets in a tight loop, while it uploads and evaluates them over and over.
        let decoy = Self.csv(Self.decoyPredictions).replacingOccurrences(of: "\n", with: "\\n")
        try daemon.write(
            "agents/racer.sh",
            """
            T=@DIR@/state/targets
            R=$(mlagentctl run start --name race --rationale "links swapped under the daemon")
            printf '\(decoy)' > decoy.csv
            cp decoy.csv pred.csv
            mkdir real && cp decoy.csv real/val_public_y.csv
            ( while [ ! -e stop ]; do
                ln -sfn "$T/val_public_y.csv" f.tmp; mv -f f.tmp pred.csv
                cp decoy.csv p.tmp; mv -f p.tmp pred.csv
                mv real comp; mv comp real
                ln -sfn "$T" comp; rm -f comp
              done ) &
            i=0
            while [ $i -lt 30 ]; do
              for p in pred.csv comp/val_public_y.csv comp; do
                mlagentctl run artifact "$R" "$p" --as "a$i-$(echo $p | tr -c 'a-z0-9\\n' '-')" >/dev/null 2>> artifact-errors.txt && echo ok >> artifact-ok.txt
              done
              for p in pred.csv comp/val_public_y.csv; do
                mlagentctl eval "$R" "$p" --json >> evals.jsonl 2>> eval-errors.txt
              done
              i=$((i + 1))
            done
            touch stop; wait
            touch race-done
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
        return daemon
    }

    /// The puppet job's token and worktree, once it runs.
    func puppet(_ daemon: TestDaemon, job: Int64) throws -> (token: String, worktree: String) {
        let client = try daemon.client()
        var path = ""
        try waitUntil("job \(job) to get a worktree", timeout: .seconds(30)) {
            guard let worktree = try client.show(id: job).worktree else { return false }
            path = worktree + "/.puppet"
            return true
        }
        let fields = try puppetFields(at: path, job: job)
        return (fields[0], fields[1])
    }

    func release(_ daemon: TestDaemon, job: Int64) {
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release-\(job)"), contents: Data())
    }

    /// Every file in the artifact store: none may be a link, none may hold the targets.
    func checkStore(_ daemon: TestDaemon, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let root = daemon.stateDir + "/artifacts"
        let manager = FileManager.default
        var files = 0
        for relative in (try? manager.subpathsOfDirectory(atPath: root)) ?? [] {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            #expect((info.st_mode & S_IFMT) != S_IFLNK, "a link in the store: \(relative)", sourceLocation: sourceLocation)
            guard (info.st_mode & S_IFMT) == S_IFREG else { continue }
            files += 1
            let head = manager.contents(atPath: path)?.prefix(Self.targetHeader.utf8.count) ?? Data()
            #expect(head != Data(Self.targetHeader.utf8), "the targets were copied to \(relative)", sourceLocation: sourceLocation)
        }
        return files
    }

    @Test("an agent racing links to the targets under uploads and evaluations never gets them")
    func racingLinks() throws {
        let daemon = try makeDaemon("race")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "racing", agent: "racer"))
        var worktree = ""
        try waitUntil("the race to finish", timeout: .seconds(90), every: .milliseconds(100)) {
            worktree = try client.show(id: 1).worktree ?? ""
            return !worktree.isEmpty && FileManager.default.fileExists(atPath: worktree + "/race-done")
        }
        let read = { (name: String) in (try? String(contentsOfFile: worktree + "/" + name, encoding: .utf8)) ?? "" }
        let artifactErrors = read("artifact-errors.txt").split(separator: "\n")
        let evalErrors = read("eval-errors.txt").split(separator: "\n")
        let accepted = read("artifact-ok.txt").split(separator: "\n").count
        // Every refusal says why, in the agent's terms.
        let reasons = ["symbolic link", "does not exist", "is not a directory", "replaced", "is not a regular file"]
        for line in artifactErrors + evalErrors where line.hasPrefix("mlagentctl:") || line.contains("error") {
            #expect(reasons.contains(where: { line.contains($0) }), "unclear refusal: \(line)")
            #expect(!line.contains("internal"), "\(line)")
        }
        // The race was real: some uploads got the decoy, some were refused.
        #expect(accepted > 0 && artifactErrors.count > 0, "accepted \(accepted), refused \(artifactErrors.count)")
        let stored = try checkStore(daemon)
        #expect(stored >= accepted - 30)
        // A successful evaluation always scored the decoy, never the targets themselves.
        let decoder = JSONDecoder()
        let scores = read("evals.jsonl").split(separator: "\n").compactMap {
            try? decoder.decode(EvalResult.self, from: Data($0.utf8)).score
        }
        let decoyScore = TrackingTests.pairAUC(Self.publicTargets, Self.decoyPredictions)
        #expect(!scores.isEmpty && scores.allSatisfy { abs($0 - decoyScore) < 1e-12 }, "\(scores)")
        release(daemon, job: 1)
        #expect(try daemon.terminate() == 0)
    }

    @Test("hard links and .git look-alikes are refused; main still checks out and fsck finds no .git")
    func hardLinksAndGitNames() throws {
        let daemon = try makeDaemon("dotgit")
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "hostile-names", agent: "puppet"))
        let (token, worktree) = try puppet(daemon, job: 1)
        func ctl(_ arguments: String...) throws -> CtlResult {
            try runCtl(arguments, socket: daemon.socketPath, environment: ["MLAGENT_TOKEN": token], directory: worktree)
        }
        func refused(_ result: CtlResult, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 1, "exit \(result.status): \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        }
        let manager = FileManager.default
        let run = try ctl("run", "start", "--name", "r1", "--rationale", "hostile names").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // A hard link to a copy of the targets outside the worktree, on the same filesystem.
        let outside = daemon.dir.file("copied-targets.csv")
        try (Self.targetHeader + "1\n0\n1\n0\n1\n0\n").write(toFile: outside, atomically: false, encoding: .utf8)
        #expect(link(outside, worktree + "/linked.csv") == 0)
        refused(try ctl("run", "artifact", run, "linked.csv", "--as", "linked"), "has 2 hard links")
        refused(try ctl("eval", run, "linked.csv"), "has 2 hard links")
        try manager.createDirectory(atPath: worktree + "/withlink", withIntermediateDirectories: true)
        #expect(link(outside, worktree + "/withlink/inner.csv") == 0)
        refused(try ctl("run", "artifact", run, "withlink", "--as", "withlink"), "has 3 hard links")

        // .git under any spelling, as a name or anywhere inside a directory.
        try Self.csv(Self.decoyPredictions).write(toFile: worktree + "/good.csv", atomically: false, encoding: .utf8)
        for name in [".git", ".GIT", "model/.Git", "model/.git.", "x/.git/config"] {
            refused(try ctl("run", "artifact", run, "good.csv", "--as", name), "which git treats as .git")
        }
        try manager.createDirectory(atPath: worktree + "/bundle/sub/.Git", withIntermediateDirectories: true)
        try "[core]\n\tbare = true\n".write(toFile: worktree + "/bundle/sub/.Git/config", atomically: false, encoding: .utf8)
        try "w".write(toFile: worktree + "/bundle/weights.bin", atomically: false, encoding: .utf8)
        refused(try ctl("run", "artifact", run, "bundle", "--as", "bundle"), "bundle/sub/.Git is named like git's own .git")
        try manager.moveItem(atPath: worktree + "/bundle/sub/.Git", toPath: worktree + "/bundle/sub/git~1")
        refused(try ctl("run", "artifact", run, "bundle", "--as", "bundle"), "bundle/sub/git~1 is named like git's own .git")
        refused(try ctl("run", "artifact", run, worktree, "--as", "snapshot"), "/.git is named like git's own .git")
        #expect(try checkStore(daemon) == 0)

        // A clean direction lands on main.
        try manager.removeItem(atPath: worktree + "/bundle/sub/git~1")
        try TestModel.write(into: worktree + "/bundle")
        let model = try ctl("run", "artifact", run, "bundle", "--as", "model")
        #expect(model.status == 0, "\(model.stderr)")
        #expect(try ctl("eval", run, "good.csv").status == 0)
        #expect(try ctl("run", "end", run, "--analysis", "names refused").status == 0)
        try Self.csv([0.9, 0.1, 0.8, 0.2]).write(toFile: worktree + "/private.csv", atomically: false, encoding: .utf8)
        #expect(try ctl("submit", run, "private.csv").status == 0)
        try "Nothing but refusals (run \(run)).\n".write(toFile: worktree + "/learnings.md", atomically: false, encoding: .utf8)
        let finish = try ctl("direction", "finish", "--learnings", "learnings.md")
        #expect(finish.status == 0, "\(finish.stderr)")
        try waitUntil("the landing of the run", timeout: .seconds(30)) {
            try daemon.git("show", "main:mlruns/hostile-names/\(run)/artifacts/model/weights.bin").status == 0
        }
        let files = try daemon.git("ls-tree", "-r", "--name-only", "main").output
        #expect(!files.lowercased().contains(".git/") && !files.contains("git~1"), "\(files)")
        let checkout = daemon.dir.file("main-checkout")
        let added = try daemon.git("worktree", "add", "--detach", checkout, "main")
        #expect(added.status == 0, "\(added.output)")
        let fsck = try daemon.git("fsck", "--no-progress")
        #expect(fsck.status == 0 && !fsck.output.contains("hasDotgit"), "\(fsck.output)")
        release(daemon, job: 1)
        #expect(try daemon.terminate() == 0)
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// A daemon for the shared-code tests: a small dataset, puppet agents driven by the test (each
/// writes its token, then imports what it is told to from the shared modules inside its
/// sandbox, and waits for `ctl/release-JOB`), the venv's Python (with pytest) for gate 1, and
/// `[shared]` as given.
struct ShareFixture {
    let daemon: TestDaemon

    init(label: String, shared: String = "", extra: String = "") throws {
        daemon = try TestDaemon(
            label: label,
            config: """
                [daemon]
                data_dir = "@DIR@/data"
                prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
                python = "\(ReplayTests.python)"
                [scheduler]
                default_agent = "puppet"
                kill_grace = "2s"
                max_agents = 3
                [shared]
                \(shared)
                [agents.puppet]
                command = ["sh", "@DIR@/agents/puppet.sh"]
                \(extra)
                """)
        try daemon.writeDataset(targets: (0..<60).map { $0 % 3 == 0 ? 1 : 0 })
        // `ctl/import-JOB` names a statement the agent runs with the daemon's Python in its
        // sandbox (its PYTHONPATH as given), output in `.import`.
        try daemon.write(
            "agents/puppet.sh",
            """
            echo "$MLAGENT_TOKEN $(pwd)" > .puppet
            echo "$PYTHONPATH" > .pythonpath
            if [ -e @DIR@/ctl/import-$MLAGENT_JOB_ID ]; then
              "$MLAGENT_PYTHON" -c "$(cat @DIR@/ctl/import-$MLAGENT_JOB_ID)" > .import 2>&1
            fi
            while [ ! -e @DIR@/ctl/release-$MLAGENT_JOB_ID ]; do sleep 0.1; done
            """)
    }

    /// The puppet of `job`: `mlagentctl` as that agent, and its worktree.
    func puppet(job: Int64) throws -> (ctl: ([String]) throws -> CtlResult, worktree: String) {
        try EvaluationTests().puppet(daemon, job: job)
    }

    /// Writes `text` at `name` inside `worktree`.
    static func write(_ worktree: String, _ name: String, _ text: String) throws {
        let path = worktree + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Proposes `code` (name → text) with `tests` from the puppet's worktree; returns the proposal.
    static func propose(
        _ ctl: ([String]) throws -> CtlResult, worktree: String, name: String, summary: String, code: [String: String],
        tests: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ShareProposal {
        for (path, text) in code.merging(tests, uniquingKeysWith: { a, _ in a }) { try write(worktree, path, text) }
        var arguments = ["share", "propose"] + code.keys.sorted() + ["--name", name, "--summary", summary, "--json"]
        if !tests.isEmpty { arguments += ["--tests"] + tests.keys.sorted() }
        let result = try ctl(arguments)
        try #require(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return try JSONDecoder().decode(ShareProposal.self, from: Data(result.stdout.utf8))
    }

    /// Waits until proposal `id` is in `status` (failing early if it ends elsewhere); returns it.
    @discardableResult
    func wait(_ id: Int64, _ status: String, timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) throws
        -> ShareProposal
    {
        let client = try daemon.client()
        var proposal: ShareProposal?
        try waitUntil("proposal \(id) to be \(status)", timeout: timeout) {
            proposal = try client.proposals().first { $0.id == id }
            if let current = proposal?.status, current != status, ShareStatus.final.contains(current) {
                Issue.record("proposal \(id) is \(current), not \(status): \(proposal?.reason ?? "")", sourceLocation: sourceLocation)
                return true
            }
            return proposal?.status == status
        }
        return try #require(proposal)
    }

    /// `main`'s file at `path`, or nil.
    func mainFile(_ path: String) throws -> String? {
        let shown = try daemon.git("show", "main:\(path)")
        return shown.status == 0 ? shown.output : nil
    }

    /// Every path a commit after the initial one changed on `main`, and `git fsck`'s verdict.
    /// The paths main changed since its first commit, and `git fsck`, once every job's landings
    /// and archive are done: fsck beside a running `git fast-import` sees its commit before its pack.
    func mainChanges() throws -> (paths: Set<String>, fsck: (status: Int32, output: String)) {
        let client = try daemon.client()
        try waitUntil("every job's landings and archive", timeout: .seconds(60)) {
            try client.list().allSatisfy { !$0.state.isFinal || $0.isSettled }
        }
        let root = try daemon.git("rev-list", "--max-parents=0", "main").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let log = try daemon.git("log", "--format=", "--name-only", "main", "--not", root)
        let paths = Set(log.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty })
        return (paths, try daemon.git("fsck", "--no-dangling"))
    }
}

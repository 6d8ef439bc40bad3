import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Where the state and data directories lie: under /var/tmp, in a home directory, and inside a
/// git checkout whose history holds the dataset with its targets.
enum DaemonLocation: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case varTmp, home, checkout
    var testDescription: String { rawValue }

    var parent: String {
        switch self {
        case .varTmp, .checkout: "/var/tmp"
        case .home: NSHomeDirectory()
        }
    }
}

extension HostileAgentTests {
    /// Looks for targets everywhere an agent might: the daemon's state and data, the checkout's
    /// history, other worktrees, the database, /proc, a hard link, and the whole filesystem.
    static let thief = """
        R=thief.txt
        mlagentctl direction declare thief --rationale "looks for the targets"
        try() { if sh -c "$2" > /dev/null 2>&1; then echo "READ $1" >> $R; else echo "denied $1" >> $R; fi; }
        try data "cat @DIR@/data/val_public_y.csv"
        try targets "cat @DIR@/state/targets/val_public_y.csv"
        try database "cat @DIR@/state/mlagentd.sqlite3"
        try history "git -C @DIR@ log --all -p | grep -q target"
        try history-objects "ls @DIR@/.git/objects | grep -q ."
        try worktrees "ls @DIR@/state/worktrees | grep -qv job-$MLAGENT_JOB_ID"
        try daemon-root "ls /proc/*/root/@DIR@/state/targets"
        try hard-link "ln @DIR@/state/targets/val_public_y.csv linked.csv"
        try workspace-write "touch @DIR@/state/workspace/.git/pwned"
        find / -name '*_y.csv' -not -path '/proc/*' 2>/dev/null | sed 's/^/FOUND /' >> $R
        find / -name 'make_dataset*' -not -path '/proc/*' -not -path '/usr/*' 2>/dev/null | sed 's/^/FOUND /' >> $R
        echo none > learnings.md
        mlagentctl direction finish --learnings learnings.md
        """

    @Test("state and data under /var/tmp, in a home directory and in a git checkout holding the data: every attack fails, others complete, main holds only allowed paths",
        arguments: DaemonLocation.allCases)
    func locations(_ location: DaemonLocation) throws {
        let daemon = try makeDaemon("hloc", under: location.parent)
        try daemon.write("agents/thief.sh", Self.thief)
        if location == .checkout {
            // The dataset, its targets and the script that made them, committed in the checkout
            // that holds the daemon's state and data directories.
            try daemon.write("make_dataset.py", "# writes data/*_X.csv and data/*_y.csv\n")
            for arguments in [
                ["init", "-q"], ["add", "data", "make_dataset.py"],
                ["-c", "user.name=u", "-c", "user.email=u@example.org", "commit", "-qm", "dataset"],
            ] {
                let git = try ChildProcess(
                    executable: "/usr/bin/git", arguments: ["-C", daemon.dir.path] + arguments,
                    environment: ProcessInfo.processInfo.environment, outputPath: "/dev/null")
                git.waitUntilExit()
                try #require(git.terminationStatus == 0, "git \(arguments)")
            }
        }
        try daemon.start(launching: true)
        try "\(daemon.pid)".write(toFile: daemon.dir.file("ctl/daemon.pid"), atomically: true, encoding: .utf8)
        let client = try daemon.client()
        for (direction, agent) in [("", "thief"), ("", "gitattack"), ("proc-snoop", "procsnoop"), ("bystander", "worker")] {
            _ = try client.enqueue(EnqueueParams(direction: direction, agent: agent))
        }
        try waitUntil("every job ended", timeout: .seconds(90)) { try client.list().allSatisfy { $0.state.isFinal } }
        for job in try client.list() {
            #expect(job.state == .completed, "job \(job.id) (\(job.agent)): \(job.reason ?? "")")
        }
        try waitUntil("four archives") {
            try client.events(since: 0, limit: 10_000).events.filter { $0.kind == EventKind.jobArchived }.count == 4
        }
        let report = try daemon.git("show", "exp/thief:thief.txt").output
        #expect(report.contains("denied targets") && report.contains("denied history"), "\(report)")
        #expect(!report.contains("READ") && !report.contains("FOUND"), "\(location): \(report)")
        #expect(Self.markers(daemon).isEmpty, "code ran outside the sandbox: \(Self.markers(daemon))")
        #expect(!FileManager.default.fileExists(atPath: daemon.workspace + "/.git/pwned"))
        let snoop = try daemon.git("show", "exp/proc-snoop:report.txt").output
        #expect(snoop.contains("DENIED daemon") && !snoop.contains("SAW") && !snoop.contains("UNMOUNTED"), "\(snoop)")
        #expect(try daemon.git("show", "exp/proc-snoop:caps.txt").output.contains("0000000000000000"))
        try checkMain(daemon)
        #expect(try daemon.terminate() == 0)
    }
}

import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct ShareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Shared code on main: propose a tested utility (agents); list, show and diff proposals (anyone); approve or reject them (operator, or a reviewer agent with review).",
        subcommands: [
            SharePropose.self, ShareListCommand.self, ShareShowCommand.self, ShareDiffCommand.self, ShareApproveCommand.self,
            ShareRejectCommand.self, ShareReviewCommand.self,
        ])
}

struct SharePropose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "(agent) Propose files of your worktree as a shared module, shared/NAME/ on main.",
        discussion: """
            The daemon copies the files now, as they are: text source files inside your worktree, no links, \
            at most 1 MiB each and 4 MiB in all, and no data (no .csv, .parquet, .npy, pickles or tables of \
            values). A NAME already proposed gets its next version. The proposal records your direction, your \
            job and the runs that used the code (--runs; default: your direction's finished runs).
            """)

    @Argument(help: "The source files (e.g. features.py).")
    var paths: [String]

    @Option(help: "The module's name: a slug such as target-encoding.")
    var name: String

    @Option(help: "What the code does and when to use it.")
    var summary: String

    @Option(parsing: .upToNextOption, help: "Its pytest files.")
    var tests: [String] = []

    @Option(parsing: .upToNextOption, help: "The runs that used it.")
    var runs: [Int64] = []

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let params = ShareProposeParams(
            name: name, summary: summary, paths: paths.map(absolutePath), tests: tests.isEmpty ? nil : tests.map(absolutePath),
            runs: runs.isEmpty ? nil : runs)
        let proposal = try options.withClient { try $0.propose(params) }
        if options.json { return try options.printJSON(proposal) }
        Output.line(
            "proposal \(proposal.id): \(proposal.name) version \(proposal.version), \(proposal.files.count) file\(proposal.files.count == 1 ? "" : "s"), runs \(proposal.runs.map(String.init).joined(separator: ", "))")
    }
}

struct ShareListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Proposals of shared code, oldest first.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let proposals = try options.withClient(idempotent: true) { try $0.proposals() }
        if options.json { return try options.printJSON(ShareList(proposals: proposals)) }
        if proposals.isEmpty { return Output.line("no proposals yet") }
        Output.line(
            Output.table(
                ["ID", "NAME", "VERSION", "STATUS", "DIRECTION", "FILES", "TESTS", "REVIEWER", "SUMMARY"],
                proposals.map {
                    [
                        String($0.id), $0.name, String($0.version), $0.status, $0.direction, String($0.files.count),
                        $0.test.map { $0.passed ? "passed" : "failed" } ?? "-", $0.reviewer ?? "-", $0.summary,
                    ]
                }))
    }
}

struct ShareShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A proposal with its files.")

    @Argument(help: ArgumentHelp("The proposal id.", valueName: "id"))
    var id: Int64

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let detail = try options.withClient(idempotent: true) { try $0.proposal(id: id) }
        if options.json { return try options.printJSON(detail) }
        let proposal = detail.proposal
        Output.line("proposal \(proposal.id): \(proposal.name) version \(proposal.version) [\(proposal.status)] from \(proposal.direction) (job \(proposal.jobID)), \(proposal.createdAt)")
        Output.line("  summary: \(proposal.summary)")
        Output.line("  runs: \(proposal.runs.isEmpty ? "none" : proposal.runs.map(String.init).joined(separator: ", "))")
        if let reviewer = proposal.reviewer { Output.line("  decided by: \(reviewer)\(proposal.reason.map { ": \($0)" } ?? "")") }
        else if let reason = proposal.reason { Output.line("  reason: \(reason)") }
        if let commit = proposal.landedCommit { Output.line("  landed: \(commit)") }
        for test in detail.tests {
            let summary = test.summary
            Output.line("\n--- tests on main at \(summary.mainCommit.prefix(10)), \(summary.at): \(summary.passed ? "passed" : "FAILED") (\(String(format: "%.1f", summary.seconds)) s): \(summary.summary)")
            Output.line(test.output)
        }
        for file in proposal.files {
            Output.line("\n--- shared/\(proposal.name)/\(file.path)\(file.isTest ? " (test)" : "") — \(file.bytes) bytes, sha256 \(file.sha256)")
            Output.line(detail.contents[file.path] ?? "")
        }
    }
}

struct ShareDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "A proposal's diff against shared/NAME/ on the main its tests ran on.")

    @Argument(help: ArgumentHelp("The proposal id.", valueName: "id"))
    var id: Int64

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let diff = try options.withClient(idempotent: true) { try $0.proposalDiff(id: id) }
        if options.json { return try options.printJSON(diff) }
        Output.line("# proposal \(diff.id) against main at \(diff.mainCommit)")
        Output.line(diff.diff.isEmpty ? "(no change to shared code)" : diff.diff)
    }
}

struct ShareApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "(operator) Approve a proposal that passed its tests; the daemon lands it under shared/NAME/.")

    @Argument(help: ArgumentHelp("The proposal id.", valueName: "id"))
    var id: Int64

    @Option(help: "Why (written into shared/NAME/README.md).")
    var reason: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let proposal = try options.withClient { try $0.decide(id: id, approve: true, reason: reason) }
        try ShareDecisionOutput.print(proposal, options: options)
    }
}

struct ShareRejectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "(operator) Reject a proposal, with a reason.")

    @Argument(help: ArgumentHelp("The proposal id.", valueName: "id"))
    var id: Int64

    @Option(help: "What is wrong and what would fix it.")
    var reason: String

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let proposal = try options.withClient { try $0.decide(id: id, approve: false, reason: reason) }
        try ShareDecisionOutput.print(proposal, options: options)
    }
}

struct ShareReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "(reviewer agent) Approve or reject the proposal your review job was launched for.")

    @Argument(help: ArgumentHelp("The proposal id.", valueName: "id"))
    var id: Int64

    @Flag(help: "Approve it: it lands under shared/NAME/.")
    var approve = false

    @Flag(help: "Reject it (--reason is required).")
    var reject = false

    @Option(help: "Why: what makes it sound, or what is wrong and what would fix it.")
    var reason: String?

    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard approve != reject else { throw ValidationError("give exactly one of --approve and --reject") }
    }

    func run() throws {
        let proposal = try options.withClient { try $0.review(id: id, approve: approve, reason: reason) }
        try ShareDecisionOutput.print(proposal, options: options)
    }
}

enum ShareDecisionOutput {
    static func print(_ proposal: ShareProposal, options: GlobalOptions) throws {
        if options.json { return try options.printJSON(proposal) }
        Output.line("proposal \(proposal.id): \(proposal.name) version \(proposal.version) \(proposal.status) by \(proposal.reviewer ?? "-")")
    }
}

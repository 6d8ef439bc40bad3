import Foundation
import GRDB
public import MLAgentProtocol

/// Shared code after its proposal: gate 1's test runs, the review, the landing intent, and the
/// modules on `main`. Each step is one transaction, so a crash leaves a proposal in a state
/// its next step picks up (the landing is an intent the merge actor carries out once).
extension Store {
    /// How approved proposals are decided (`[shared] review`).
    public enum ShareReviewMode: String, Sendable, CaseIterable {
        case `operator`, agent, tests
    }

    /// Who decides a proposal.
    public enum ShareReviewer: Sendable, Equatable {
        case `operator`
        /// A reviewer agent's job.
        case job(Int64)
        /// `[shared] review = "tests"`: what passes gate 1 is approved.
        case tests

        var label: String {
            switch self {
            case .operator: "operator"
            case .job(let id): "job \(id)"
            case .tests: "tests"
            }
        }
    }

    /// One run of a proposal's tests.
    public struct ShareTestResult: Sendable {
        public var passed: Bool
        public var mainCommit: String
        public var summary: String
        public var output: String
        public var diff: String
        public var seconds: Double

        public init(passed: Bool, mainCommit: String, summary: String, output: String, diff: String, seconds: Double) {
            self.passed = passed
            self.mainCommit = mainCommit
            self.summary = summary
            self.output = output
            self.diff = diff
            self.seconds = seconds
        }
    }

    /// Proposals waiting for gate 1, oldest first.
    public func proposalsAwaitingTests() async throws -> [Int64] {
        try await database.writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM share_proposals WHERE status = ? ORDER BY id", arguments: [ShareStatus.proposed])
        }
    }

    /// A proposal's files as they were proposed.
    public func proposalFiles(id: Int64) async throws -> [ProposedFile] {
        try await database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT path, content, sha256, is_test FROM share_files WHERE proposal_id = ? ORDER BY path", arguments: [id])
                .map { ProposedFile(path: $0[0], content: $0[1], sha256: $0[2], isTest: $0[3]) }
        }
    }

    /// Records gate 1's result. A failure rejects the proposal with its log; a pass leaves it
    /// `tested` for the operator, enqueues its reviewer job (`agent`, the profile `reviewer` at
    /// `priority`), or approves it (`tests`).
    public func recordGate(id: Int64, result: ShareTestResult, review: ShareReviewMode, reviewer: String, priority: Int) async throws
        -> ShareProposal
    {
        try await write { context in
            let db = context.db
            let proposal = try Self.proposalRecord(id, in: db)
            guard proposal.status == ShareStatus.proposed else { return proposal }
            try Self.insertTest(id: id, result, in: context)
            try Self.appendTested(proposal, result, in: context)
            if !result.passed {
                try Self.setStatus(id, ShareStatus.failed, reviewer: nil, reason: "its tests failed: \(result.summary)", in: context)
                return try Self.proposalRecord(id, in: db)
            }
            try Self.setStatus(id, ShareStatus.tested, reviewer: nil, reason: nil, in: context)
            switch review {
            case .operator:
                break
            case .agent:
                let job = try Self.enqueue(
                    .init(
                        direction: "", guidance: "Review proposal \(id): shared module \(proposal.name) version \(proposal.version)",
                        agent: reviewer, priority: priority), in: context)
                try db.execute(sql: "UPDATE jobs SET review_of = ? WHERE id = ?", arguments: [id, job.id])
            case .tests:
                try Self.approve(proposal, reviewer: .tests, reason: result.summary, in: context)
            }
            return try Self.proposalRecord(id, in: db)
        }
    }

    /// The review's decision. A reviewer job decides only the proposal it was launched for,
    /// never one of its own; a rejection needs a reason. Approval records the landing intent.
    public func decide(id: Int64, approve: Bool, reason: String?, by reviewer: ShareReviewer) async throws -> ShareProposal {
        try await write { context in
            let db = context.db
            let proposal = try Self.proposalRecord(id, in: db)
            if case .job(let jobID) = reviewer {
                guard let job = try JobRecord.fetchOne(db, key: jobID), job.state == JobState.running.rawValue else {
                    throw RPCError(.invalidState, "job \(jobID) is not running; its token no longer grants anything")
                }
                if proposal.jobID == jobID || (!job.direction.isEmpty && job.direction == proposal.direction) {
                    throw RPCError(
                        .forbidden,
                        "a reviewer cannot approve or reject its own proposal: proposal \(id) comes from job \(proposal.jobID) (direction \(proposal.direction)); another reviewer decides it",
                        context: ["proposal": .int(id)])
                }
                guard job.review_of == id else {
                    let assigned = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM jobs WHERE review_of = ?", arguments: [id])
                    throw RPCError(
                        .forbidden,
                        "job \(jobID) was not launched to review proposal \(id)\(assigned.map { "; its reviewer is job \($0)" } ?? ""); only that reviewer (or the operator) decides it",
                        context: ["proposal": .int(id)])
                }
            }
            try Self.checkDecidable(proposal, in: db)
            let text = reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if approve {
                try Self.approve(proposal, reviewer: reviewer, reason: text, in: context)
            } else {
                guard !text.isEmpty else {
                    throw RPCError(.invalidParams, "a rejection needs a reason (--reason TEXT): the proposing agent's direction reads it", context: ["field": "reason"])
                }
                try Self.setStatus(id, ShareStatus.rejected, reviewer: reviewer.label, reason: text, in: context)
                try context.appendEvent(
                    kind: EventKind.shareRejected, jobID: proposal.jobID, direction: proposal.direction,
                    message: "proposal \(id) (\(proposal.name) v\(proposal.version)) rejected by \(reviewer.label): \(text)",
                    data: ["proposal": .int(id), "name": .string(proposal.name), "reviewer": .string(reviewer.label), "reason": .string(text)])
            }
            if case .job(let jobID) = reviewer {
                // The reviewer's task is done: its job completes when the agent exits.
                try db.execute(sql: "UPDATE jobs SET finished_direction = 1 WHERE id = ?", arguments: [jobID])
            }
            return try Self.proposalRecord(id, in: db)
        }
    }

    /// Only a `tested` proposal is decided, and never over a newer version already on `main`.
    static func checkDecidable(_ proposal: ShareProposal, in db: Database) throws {
        let id = proposal.id
        switch proposal.status {
        case ShareStatus.tested:
            break
        case ShareStatus.proposed:
            throw RPCError(.invalidState, "proposal \(id) is still being tested (gate 1); decide it once its tests passed", context: ["status": .string(proposal.status)])
        case ShareStatus.failed:
            throw RPCError(.invalidState, "proposal \(id) failed its tests (\(proposal.reason ?? "see share show")); it cannot be approved: propose a fixed version", context: ["status": .string(proposal.status)])
        default:
            throw RPCError(
                .invalidState, "proposal \(id) is \(proposal.status) already\(proposal.reviewer.map { " (by \($0))" } ?? ""); a proposal is decided once",
                context: ["status": .string(proposal.status)])
        }
        if let landed = try Int.fetchOne(
            db, sql: "SELECT MAX(version) FROM share_proposals WHERE name = ? AND status = ?", arguments: [proposal.name, ShareStatus.landed]),
            landed > proposal.version
        {
            throw RPCError(
                .invalidState, "version \(landed) of \(proposal.name) is on main already, newer than this proposal's \(proposal.version); propose again from it",
                context: ["status": .string(proposal.status)])
        }
    }

    static func approve(_ proposal: ShareProposal, reviewer: ShareReviewer, reason: String, in context: WriteContext) throws {
        try setStatus(proposal.id, ShareStatus.approved, reviewer: reviewer.label, reason: reason.isEmpty ? nil : reason, in: context)
        _ = try addIntent(.share, direction: nil, jobID: proposal.jobID, payload: ["proposal": .int(proposal.id)], in: context)
        try context.appendEvent(
            kind: EventKind.shareApproved, jobID: proposal.jobID, direction: proposal.direction,
            message: "proposal \(proposal.id) (\(proposal.name) v\(proposal.version)) approved by \(reviewer.label)\(reason.isEmpty ? "" : ": \(reason)")",
            data: ["proposal": .int(proposal.id), "name": .string(proposal.name), "reviewer": .string(reviewer.label)])
    }

    /// The tests run again on a `main` that moved since gate 1: a failure ends the proposal,
    /// and its landing intent with it.
    public func recordRetest(intent: Intent, id: Int64, result: ShareTestResult) async throws {
        try await write { context in
            let proposal = try Self.proposalRecord(id, in: context.db)
            try Self.insertTest(id: id, result, in: context)
            try Self.appendTested(proposal, result, in: context)
            guard !result.passed else { return }
            try Self.setStatus(
                id, ShareStatus.failed, reviewer: proposal.reviewer,
                reason: "its tests failed on main at \(result.mainCommit.prefix(10)) before landing: \(result.summary)", in: context)
            try context.db.execute(
                sql: "UPDATE intents SET state = 'done', done_at = ? WHERE id = ? AND state = 'pending'", arguments: [context.now, intent.id])
        }
    }

    /// The landing intent carried out: the proposal is on `main` at `commit`; older versions
    /// still pending are superseded.
    public func completeShareLanding(intent: Intent, id: Int64, commit: String) async throws {
        try await write { context in
            let db = context.db
            try db.execute(
                sql: "UPDATE intents SET state = 'done', commit_id = ?, done_at = ? WHERE id = ? AND state = 'pending'",
                arguments: [commit, context.now, intent.id])
            guard db.changesCount > 0 else { return }
            let proposal = try Self.proposalRecord(id, in: db)
            try db.execute(
                sql: "UPDATE share_proposals SET status = ?, landed_commit = ?, landed_at = ? WHERE id = ?",
                arguments: [ShareStatus.landed, commit, context.now, id])
            try db.execute(
                sql: "UPDATE share_proposals SET status = ?, reason = ? WHERE name = ? AND version < ? AND status IN (?, ?)",
                arguments: [
                    ShareStatus.superseded, "version \(proposal.version) landed first", proposal.name, proposal.version,
                    ShareStatus.proposed, ShareStatus.tested,
                ])
            try context.appendEvent(
                kind: EventKind.shareLanded, jobID: proposal.jobID, direction: proposal.direction,
                message: "proposal \(id) landed: shared/\(proposal.name)/ version \(proposal.version) on main (\(commit.prefix(10)))",
                data: ["proposal": .int(id), "name": .string(proposal.name), "version": .int(Int64(proposal.version)), "commit": .string(commit)])
        }
    }

    /// A newer version landed first: the proposal is superseded and its landing intent ends.
    public func supersedeShare(intent: Intent, id: Int64, by version: Int) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE intents SET state = 'done', done_at = ? WHERE id = ? AND state = 'pending'", arguments: [context.now, intent.id])
            try context.db.execute(
                sql: "UPDATE share_proposals SET status = ?, reason = ? WHERE id = ?",
                arguments: [ShareStatus.superseded, "version \(version) landed first", id])
        }
    }

    /// The diff of the proposal's last test run, against the `main` it ran on.
    public func proposalDiff(id: Int64) async throws -> ShareDiff {
        try await database.writer.read { db in
            _ = try Self.proposalRecord(id, in: db)
            guard let row = try Row.fetchOne(
                db, sql: "SELECT main_commit, diff FROM share_tests WHERE proposal_id = ? ORDER BY id DESC LIMIT 1", arguments: [id])
            else {
                throw RPCError(.invalidState, "proposal \(id) has not been tested yet; its diff is made with its candidate (gate 1)")
            }
            return ShareDiff(id: id, mainCommit: row[0], diff: row[1])
        }
    }

    static func proposalRecord(_ id: Int64, in db: Database) throws -> ShareProposal {
        guard let proposal = try proposals(sql: "WHERE p.id = ?", arguments: [id], in: db).first else {
            throw RPCError(.notFound, "no proposal with id \(id); `mlagentctl share list` lists them", context: ["proposal": .int(id)])
        }
        return proposal
    }

    static func setStatus(_ id: Int64, _ status: String, reviewer: String?, reason: String?, in context: WriteContext) throws {
        try context.db.execute(
            sql: "UPDATE share_proposals SET status = ?, reviewer = ?, reason = ?, decided_at = ? WHERE id = ?",
            arguments: [status, reviewer, reason, reviewer == nil ? nil : context.now, id])
    }

    static func insertTest(id: Int64, _ result: ShareTestResult, in context: WriteContext) throws {
        try context.db.execute(
            sql: "INSERT INTO share_tests(proposal_id, main_commit, passed, summary, output, diff, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [id, result.mainCommit, result.passed, result.summary, result.output, result.diff, result.seconds, context.now])
    }

    static func appendTested(_ proposal: ShareProposal, _ result: ShareTestResult, in context: WriteContext) throws {
        try context.appendEvent(
            kind: EventKind.shareTested, jobID: proposal.jobID, direction: proposal.direction,
            message: "proposal \(proposal.id) (\(proposal.name) v\(proposal.version)): tests \(result.passed ? "passed" : "failed") on main at \(result.mainCommit.prefix(10)): \(result.summary)",
            data: [
                "proposal": .int(proposal.id), "name": .string(proposal.name), "passed": .bool(result.passed),
                "main_commit": .string(result.mainCommit),
            ])
    }
}

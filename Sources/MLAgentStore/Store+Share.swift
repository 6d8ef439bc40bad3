public import Foundation
import GRDB
public import MLAgentProtocol

/// Proposals of shared code (``AppDatabase/registerShareMigrations(_:)``).
extension Store {
    /// A file to record with a proposal: where it lands under `shared/NAME/`, its content.
    public struct ProposedFile: Sendable {
        public var path: String
        public var content: Data
        public var sha256: String
        public var isTest: Bool

        public init(path: String, content: Data, sha256: String, isTest: Bool) {
            self.path = path
            self.content = content
            self.sha256 = sha256
            self.isTest = isTest
        }
    }

    /// Records a proposal from the running job `jobID`: the next version of `name`, the runs
    /// (the direction's finished runs by default; given ones must be the direction's), the
    /// files, and a `share.proposed` event, in one transaction.
    public func propose(jobID: Int64, name: String, summary: String, files: [ProposedFile], runs: [Int64]?) async throws
        -> ShareProposal
    {
        try await write { context in
            let db = context.db
            let (_, direction) = try Self.activeDirection(jobID: jobID, in: db)
            var used: [Int64]
            if let runs {
                used = []
                for run in runs {
                    _ = try Self.ownedRun(run, jobID: jobID, in: db)
                    if !used.contains(run) { used.append(run) }
                }
            } else {
                used = try Int64.fetchAll(
                    db, sql: "SELECT id FROM runs WHERE direction = ? AND status = 'finished' ORDER BY id", arguments: [direction.name])
            }
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM share_proposals WHERE name = ?", arguments: [name]) ?? 0) + 1
            let runsJSON = "[" + used.map(String.init).joined(separator: ",") + "]"
            try db.execute(
                sql: """
                    INSERT INTO share_proposals(name, version, status, summary, direction, job_id, runs, created_at)
                    VALUES (?, ?, 'proposed', ?, ?, ?, ?, ?)
                    """,
                arguments: [name, version, summary, direction.name, jobID, runsJSON, context.now])
            let id = db.lastInsertedRowID
            for file in files {
                try db.execute(
                    sql: "INSERT INTO share_files(proposal_id, path, is_test, bytes, sha256, content) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id, file.path, file.isTest, file.content.count, file.sha256, file.content])
            }
            let proposal = try Self.proposals(sql: "WHERE p.id = ?", arguments: [id], in: db)[0]
            try context.appendEvent(
                kind: EventKind.shareProposed, jobID: jobID, direction: direction.name,
                message: "proposal \(id): shared module \(name) version \(version) (\(files.count) file\(files.count == 1 ? "" : "s")) from \(direction.name)",
                data: [
                    "proposal": .int(id), "name": .string(name), "version": .int(Int64(version)),
                    "files": .array(files.map { .string($0.path) }),
                ])
            return proposal
        }
    }

    /// Every proposal, oldest first.
    public func proposals() async throws -> [ShareProposal] {
        try await database.writer.read { db in try Self.proposals(sql: "", arguments: [], in: db) }
    }

    /// A proposal with its files' text.
    public func proposal(id: Int64) async throws -> ShareDetail {
        try await database.writer.read { db in
            guard let proposal = try Self.proposals(sql: "WHERE p.id = ?", arguments: [id], in: db).first else {
                throw RPCError(
                    .notFound, "no proposal with id \(id); `mlagentctl share list` lists them", context: ["proposal": .int(id)])
            }
            var contents: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT path, content FROM share_files WHERE proposal_id = ?", arguments: [id]) {
                let data: Data = row[1]
                contents[row[0]] = String(decoding: data, as: UTF8.self)
            }
            let tests = try Row.fetchAll(
                db, sql: "SELECT passed, main_commit, summary, seconds, created_at, output FROM share_tests WHERE proposal_id = ? ORDER BY id",
                arguments: [id]
            ).map { ShareTestRun(summary: Self.testSummary($0, from: 0), output: $0[5]) }
            return ShareDetail(proposal: proposal, contents: contents, tests: tests)
        }
    }

    static func proposals(sql: String, arguments: StatementArguments, in db: Database) throws -> [ShareProposal] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT p.id, p.name, p.version, p.status, p.summary, p.direction, p.job_id, p.runs, p.created_at,
                  p.reviewer, p.reason, p.landed_commit,
                  (SELECT MAX(j.id) FROM jobs j WHERE j.review_of = p.id) AS review_job
                FROM share_proposals p \(sql) ORDER BY p.id
                """,
            arguments: arguments)
        var files: [Int64: [ShareFile]] = [:]
        var tests: [Int64: ShareTestSummary] = [:]
        let ids = rows.map { ($0[0] as Int64) }
        if !ids.isEmpty {
            let list = ids.map(String.init).joined(separator: ",")
            for row in try Row.fetchAll(
                db,
                sql: "SELECT proposal_id, path, bytes, sha256, is_test FROM share_files WHERE proposal_id IN (\(list)) ORDER BY proposal_id, is_test, path")
            {
                files[row[0], default: []].append(ShareFile(path: row[1], bytes: row[2], sha256: row[3], isTest: row[4]))
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT t.proposal_id, t.passed, t.main_commit, t.summary, t.seconds, t.created_at FROM share_tests t
                    WHERE t.id IN (SELECT MAX(id) FROM share_tests WHERE proposal_id IN (\(list)) GROUP BY proposal_id)
                    """)
            {
                tests[row[0]] = Self.testSummary(row, from: 1)
            }
        }
        return rows.map { row in
            let id: Int64 = row[0]
            let runsText: String = row[7]
            let runs = runsText.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").compactMap { Int64($0) }
            let created: Date = row[8]
            return ShareProposal(
                id: id, name: row[1], version: row[2], status: row[3], summary: row[4], direction: row[5], jobID: row[6],
                runs: runs, files: files[id] ?? [], createdAt: Timestamp.format(created), reviewer: row[9], reason: row[10],
                reviewJob: row[12], landedCommit: row[11], test: tests[id])
        }
    }

    /// A test summary from `passed, main_commit, summary, seconds, created_at` at `index`.
    static func testSummary(_ row: Row, from index: Int) -> ShareTestSummary {
        let at: Date = row[index + 4]
        return ShareTestSummary(
            passed: row[index], mainCommit: row[index + 1], summary: row[index + 2], seconds: row[index + 3],
            at: Timestamp.format(at))
    }
}

import Foundation
import GRDB
public import MLAgentProtocol

/// The shared modules on `main` (the latest landed version of each name) and their use: the
/// commit a job started from, the modules each run recorded.
extension Store {
    /// A module on `main`: its landed proposal and files.
    public struct LandedModule: Sendable, Equatable {
        public var proposal: ShareProposal
        public var name: String { proposal.name }
        /// Code files (paths under `shared/NAME/`), then tests.
        public var code: [String] { proposal.files.filter { !$0.isTest }.map(\.path) }
        public var tests: [String] { proposal.files.filter(\.isTest).map(\.path) }
        /// What a run imports: the first component of each code file (`encoding.py` →
        /// `encoding`, `features/ratio.py` → `features`).
        public var imports: [String] { Self.imports(of: code) }

        public static func imports(of code: [String]) -> [String] {
            var names: [String] = []
            for path in code {
                let first = path.split(separator: "/").first.map(String.init) ?? path
                let name = path.contains("/") ? first : (first.hasSuffix(".py") ? String(first.dropLast(3)) : "")
                if !name.isEmpty, !names.contains(name) { names.append(name) }
            }
            return names
        }
    }

    /// The latest landed version of each shared module, by name.
    public func landedModules() async throws -> [LandedModule] {
        try await database.writer.read { db in try Self.landedModules(in: db) }
    }

    static func landedModules(in db: Database) throws -> [LandedModule] {
        try proposals(
            sql: "WHERE p.status = 'landed' AND p.version = (SELECT MAX(version) FROM share_proposals q WHERE q.name = p.name AND q.status = 'landed')",
            arguments: [], in: db
        ).sorted { $0.name < $1.name }.map(LandedModule.init)
    }

    /// The versions on `main` of the modules a run names (`run start --uses`), refusing names
    /// that are not there.
    static func sharedVersions(_ names: [String], in db: Database) throws -> [(name: String, version: Int)] {
        guard !names.isEmpty else { return [] }
        var used: [(name: String, version: Int)] = []
        for name in names where !used.contains(where: { $0.name == name }) {
            guard let version = try Int.fetchOne(
                db, sql: "SELECT MAX(version) FROM share_proposals WHERE name = ? AND status = 'landed'", arguments: [name])
            else {
                let known = try String.fetchAll(db, sql: "SELECT DISTINCT name FROM share_proposals WHERE status = 'landed' ORDER BY name")
                throw RPCError(
                    .invalidParams,
                    "no shared module \"\(name)\" on main\(known.isEmpty ? " (none has landed yet)" : "; shared/ holds \(known.joined(separator: ", "))")",
                    context: ["field": "uses"])
            }
            used.append((name, version))
        }
        return used
    }

    /// Records the `main` commit a job's worktree started from.
    public func recordBaseCommit(jobID: Int64, commit: String) async throws {
        try await write { context in
            try context.db.execute(sql: "UPDATE jobs SET base_commit = ? WHERE id = ?", arguments: [commit, jobID])
        }
    }

    /// Each module on `main` with the directions whose runs recorded it and their best public score.
    public func sharedModules(higherIsBetter: Bool) async throws -> [SharedModule] {
        try await database.writer.read { db in
            let modules = try Self.landedModules(in: db)
            var adoptions: [String: [SharedModule.Adoption]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT u.name, r.direction, r.id, r.public_score FROM run_uses u JOIN runs r ON r.id = u.run_id
                    ORDER BY u.name, r.direction, r.id
                    """)
            {
                let name: String = row[0]
                let direction: String = row[1]
                let score: Double? = row[3]
                var list = adoptions[name] ?? []
                if list.last?.direction != direction { list.append(.init(direction: direction, runs: [], best: nil)) }
                list[list.count - 1].runs.append(row[2])
                if let score {
                    let best = list[list.count - 1].best
                    if best == nil || (higherIsBetter ? score > best! : score < best!) { list[list.count - 1].best = score }
                }
                adoptions[name] = list
            }
            return modules.map { module in
                SharedModule(
                    name: module.name, version: module.proposal.version, summary: module.proposal.summary,
                    direction: module.proposal.direction, imports: module.imports, adoptions: adoptions[module.name] ?? [])
            }
        }
    }

    /// The shared modules a direction's runs recorded, `name@version` with the runs.
    public func sharedUses(direction: String) async throws -> [(module: String, runs: [Int64])] {
        try await database.writer.read { db in
            var uses: [(module: String, runs: [Int64])] = []
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT u.name || ' v' || u.version, u.run_id FROM run_uses u JOIN runs r ON r.id = u.run_id
                    WHERE r.direction = ? ORDER BY u.name, u.version, u.run_id
                    """, arguments: [direction])
            {
                let module: String = row[0]
                if uses.last?.module != module { uses.append((module, [])) }
                uses[uses.count - 1].runs.append(row[1])
            }
            return uses
        }
    }
}

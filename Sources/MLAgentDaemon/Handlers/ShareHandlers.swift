import Crypto
import Foundation
import Synchronization
import MLAgentProtocol
import MLAgentStore

/// `share.propose` (agent): records files from the agent's worktree as a proposal of shared
/// code under `shared/NAME/` (the next version of NAME). Each file is read beneath the
/// worktree without following links, as text, within ``ShareRules``' sizes; data is refused: a
/// data file's extension, a table of values, or a copy of a target file (all told apart by one
/// message, so a refusal says nothing about the targets).
struct ShareProposeHandler: RequestHandler {
    static let method = Method.sharePropose
    static let access = MethodAccess.agent
    let core: DaemonCore
    let services: AgentServices
    /// The targets' digests, read on the first proposal (targets do not change while the daemon runs).
    private let targetDigests = TargetDigests()

    init(core: DaemonCore, services: AgentServices) {
        self.core = core
        self.services = services
    }

    func handle(_ params: ShareProposeParams, context: RequestContext) async throws -> ShareProposal {
        let jobID = try context.requireAgent(Self.method)
        if let problem = ShareRules.nameProblem(params.name) { throw RunValidation.invalid(problem, field: "name") }
        let summary = try RunValidation.text(
            params.summary, field: "summary", limit: ShareRules.maxSummaryBytes, whenEmpty: "say what the code does and when to use it")
        let tests = params.tests ?? []
        guard !params.paths.isEmpty else { throw RunValidation.invalid("name at least one file to share", field: "paths") }
        guard params.paths.count + tests.count <= ShareRules.maxFiles else {
            throw RunValidation.invalid("a proposal holds at most \(ShareRules.maxFiles) files", field: "paths")
        }
        let worktree = try await core.store.job(id: jobID).worktree ?? ""
        let targets = targetDigests.value(of: services.workspace.targetsDir)
        var files: [Store.ProposedFile] = []
        var total = 0
        for (path, isTest) in params.paths.map({ ($0, false) }) + tests.map({ ($0, true) }) {
            let relative = try Self.relative(path, worktree: worktree)
            if files.contains(where: { $0.path == relative }) {
                throw RunValidation.invalid("\(relative) is named twice", field: isTest ? "tests" : "paths")
            }
            let data = try await WorktreeFiles.read(path, worktree: worktree, maxBytes: ShareRules.maxFileBytes)
            try Self.checkCode(data, path: relative, targets: targets)
            total += data.count
            guard total <= ShareRules.maxTotalBytes else {
                throw RunValidation.invalid(
                    "the proposal's files pass \(ShareRules.maxTotalBytes >> 20) MiB in all; shared code is small", field: "paths")
            }
            files.append(.init(path: relative, content: data, sha256: Self.hex(SHA256.hash(data: data)), isTest: isTest))
        }
        let proposal = try await core.store.propose(jobID: jobID, name: params.name, summary: summary, files: files, runs: params.runs)
        services.shareGate.wake()
        core.logger.info(
            "shared code proposed",
            metadata: ["job.id": "\(jobID)", "proposal": "\(proposal.id)", "name": "\(proposal.name)", "version": "\(proposal.version)"])
        return proposal
    }

    /// `path` relative to the worktree, checked as a path git can hold on `main`.
    static func relative(_ path: String, worktree: String) throws -> String {
        let relative = try WorktreeFiles.components(of: path, worktree: worktree).joined(separator: "/")
        if let problem = RecordRules.artifactNameProblem(relative) { throw RunValidation.invalid("\(relative): \(problem)", field: "paths") }
        if relative.lowercased() == "readme.md" {
            throw RunValidation.invalid("README.md is written by the daemon when the module lands (summary, tests, review); leave it out", field: "paths")
        }
        if relative.split(separator: "/").contains(where: { $0.lowercased().hasPrefix(".git") }) {
            throw RunValidation.invalid("\(relative): git's own files (.git*) are not shared", field: "paths")
        }
        return relative
    }

    /// Refuses what is not source code: data files, tables of values, copies of the targets.
    static func checkCode(_ data: Data, path: String, targets: Set<String>) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        if ShareRules.dataExtensions.contains(ext) {
            throw RunValidation.invalid(
                "\(path) is a data file (.\(ext)); shared code carries no data: share the code that reads or makes it", field: "paths")
        }
        guard let text = String(data: data, encoding: .utf8), !data.contains(0) else {
            throw RunValidation.invalid("\(path) is not UTF-8 text; shared modules are source code", field: "paths")
        }
        if ShareRules.looksLikeData(text[...]) || targets.contains(hex(SHA256.hash(data: data))) {
            throw RunValidation.invalid(
                "\(path) looks like data (a table of values), not code; shared code carries no data", field: "paths")
        }
    }

    /// SHA-256 of each target file, as stored and with `\n` line ends.
    static func targetDigests(_ directory: String) -> Set<String> {
        var digests = Set<String>()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)) else { continue }
            digests.insert(hex(SHA256.hash(data: data)))
            let unix = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
            digests.insert(hex(SHA256.hash(data: unix)))
        }
        return digests
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The SHA-256 digests of the target files, read once.
final class TargetDigests: Sendable {
    private let digests = Mutex<Set<String>?>(nil)

    func value(of directory: String) -> Set<String> {
        digests.withLock { cached in
            if let cached { return cached }
            let read = ShareProposeHandler.targetDigests(directory)
            cached = read
            return read
        }
    }
}

/// `share.list`: every proposal of shared code, oldest first.
struct ShareListHandler: RequestHandler {
    static let method = Method.shareList
    static let access = MethodAccess.both
    let core: DaemonCore
    func handle(_ params: NoParams, context: RequestContext) async throws -> ShareList {
        ShareList(proposals: try await core.store.proposals())
    }
}

/// `share.show`: a proposal with the text of its files.
struct ShareShowHandler: RequestHandler {
    static let method = Method.shareShow
    static let access = MethodAccess.both
    let core: DaemonCore

    func handle(_ params: ShareIDParams, context: RequestContext) async throws -> ShareDetail {
        try await core.store.proposal(id: params.id)
    }
}

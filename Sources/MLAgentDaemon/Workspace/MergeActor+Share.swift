import Foundation
import MLAgentProtocol
import MLAgentStore

/// Landing approved shared code: a `share` intent becomes one commit that replaces
/// `shared/NAME/` with the proposal's files and a `README.md` the daemon writes. The tests run
/// again first when `main` moved since they passed: the merge actor is the only writer of
/// `main`, so what they pass on is what the proposal lands on. A replay after a crash finds the
/// commit by its intent trailer and lands nothing twice.
extension MergeActor {
    func landShare(_ intent: Intent) async throws {
        guard case .int(let id)? = intent.payload["proposal"] else {
            try await core.store.completeIntent(intent, commit: nil)
            return
        }
        if let commit = try await workspace.landedIntents()[intent.id] {
            try await core.store.completeShareLanding(intent: intent, id: id, commit: commit)
            return
        }
        var detail = try await core.store.proposal(id: id)
        let name = detail.proposal.name
        let modules = try await core.store.landedModules()
        if let newer = modules.first(where: { $0.name == name && $0.proposal.version > detail.proposal.version }) {
            try await core.store.supersedeShare(intent: intent, id: id, by: newer.proposal.version)
            return
        }
        guard detail.proposal.status == ShareStatus.approved else {
            try await core.store.completeIntent(intent, commit: nil)
            return
        }
        let files = try await core.store.proposalFiles(id: id)
        if let tester, try await detail.proposal.test?.mainCommit != workspace.mainCommit() {
            let candidate = try await tester.prepare(detail.proposal, files: files, modules: modules)
            let result = await tester.run(candidate)
            try await core.store.recordRetest(intent: intent, id: id, result: result)
            guard result.passed else {
                logger.warning("shared code not landed: its tests fail on the new main", metadata: ["proposal": "\(id)", "name": "\(name)"])
                return
            }
            detail = try await core.store.proposal(id: id)
        }
        let root = "shared/\(name)"
        let scratch = (core.config.stateDir as NSString).appendingPathComponent("landing/share-\(intent.id)")
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var contents: [String: Workspace.Landing.Content] = [:]
        for (index, file) in files.enumerated() {
            // Bytes as proposed (the files are text, but never re-encoded).
            let path = (scratch as NSString).appendingPathComponent(String(index))
            guard FileManager.default.createFile(atPath: path, contents: file.content) else { throw ConfigError("cannot write \(path)") }
            contents["\(root)/\(file.path)"] = .file(path)
        }
        contents["\(root)/README.md"] = .text(ShareReadme(detail: detail, imports: Store.LandedModule.imports(of: files.filter { !$0.isTest }.map(\.path))).render())
        let landing = Workspace.Landing(
            intentID: intent.id, message: "shared/\(name): version \(detail.proposal.version) (proposal \(id), from \(detail.proposal.direction))",
            files: contents, deletions: [root])
        let commit = try await workspace.land(batch: [landing])[0]
        try await core.store.completeShareLanding(intent: intent, id: id, commit: commit)
        logger.info(
            "shared code landed",
            metadata: ["proposal": "\(id)", "name": "\(name)", "version": "\(detail.proposal.version)", "commit": "\(commit)"])
    }
}

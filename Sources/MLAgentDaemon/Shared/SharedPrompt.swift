import Foundation
import MLAgentProtocol
import MLAgentStore

/// What an agent is told about shared code: `PYTHONPATH` with each module's directory in its
/// worktree, the `{shared_modules}` list for every prompt, and for a reviewer job the proposal,
/// its diff, its tests' output and the knowledge base (`share-reviewer.md`).
enum SharedPrompt {
    static let reviewerTemplate = "share-reviewer.md"
    /// The most of the diff and of the tests' output a reviewer's prompt carries.
    static let maxSection = 48 << 10

    struct Context: Sendable {
        var pythonPath: [String] = []
        var values: [String: String] = [:]
    }

    static func context(for job: Job, worktree: String, store: Store) async throws -> Context {
        let modules = try await store.landedModules().filter {
            FileManager.default.fileExists(atPath: "\(worktree)/shared/\($0.name)")
        }
        var context = Context()
        context.pythonPath = modules.map { "\(worktree)/shared/\($0.name)" }
        context.values["{shared_modules}"] = list(modules)
        if let id = job.reviewOf {
            let detail = try await store.proposal(id: id)
            let diff = (try? await store.proposalDiff(id: id).diff) ?? ""
            let proposal = detail.proposal
            context.values.merge([
                "{proposal_id}": String(id), "{proposal_name}": proposal.name, "{proposal_version}": String(proposal.version),
                "{proposal_direction}": proposal.direction, "{proposal_job}": String(proposal.jobID),
                "{proposal_runs}": proposal.runs.isEmpty ? "none recorded" : proposal.runs.map { "run \($0)" }.joined(separator: ", "),
                "{proposal_summary}": proposal.summary,
                "{proposal_diff}": clip(diff),
                "{proposal_tests}": detail.tests.last.map { "\($0.summary.passed ? "Passed" : "Failed"): \($0.summary.summary)\n\n```\n\(clip($0.output))\n```" }
                    ?? "(no test run recorded)",
                "{knowledge_base}": knowledgeBase(try await store.directions()),
            ]) { _, new in new }
        }
        return context
    }

    /// One line per module: name, version, summary, where it came from and what to import.
    static func list(_ modules: [Store.LandedModule]) -> String {
        guard !modules.isEmpty else { return "(none yet)" }
        return modules.map { module in
            let summary = module.proposal.summary.split(separator: "\n").first.map(String.init) ?? ""
            let imports = module.imports.isEmpty ? "" : "; import \(module.imports.map { "`\($0)`" }.joined(separator: ", "))"
            return "- `\(module.name)` v\(module.proposal.version) (from \(module.proposal.direction))\(imports): \(summary)"
        }.joined(separator: "\n")
    }

    /// Each direction with its status and the start of its learnings.
    static func knowledgeBase(_ directions: [Direction]) -> String {
        guard !directions.isEmpty else { return "(no direction yet)" }
        return directions.map { direction in
            let learnings = (direction.learnings ?? "").replacingOccurrences(of: "\n", with: " ")
            return "- \(direction.name) (\(direction.status))\(learnings.isEmpty ? "" : ": \(learnings.prefix(400))")"
        }.joined(separator: "\n")
    }

    static func clip(_ text: String) -> String {
        text.utf8.count <= maxSection ? text : String(decoding: Data(text.utf8.prefix(maxSection)), as: UTF8.self) + "\n… (cut; `mlagentctl share diff` and `share show` have it all)"
    }
}

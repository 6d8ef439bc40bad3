import Foundation
import MLAgentProtocol
import MLAgentStore

extension Intent {
    /// The landing recorded when a job ends after its agent finished the direction: the
    /// direction file again, with the job's final usage.
    var isFinalCost: Bool { payload["final_cost"] == .bool(true) }
}

/// The direction file and its final figures. A CLI goes on after the agent called `direction
/// finish` (Claude Code prints its last turn and its `result` line with `total_cost_usd` when
/// the session ends; mini-swe-agent takes a last step), so the file landed then may show an
/// early estimate. Once the job has ended and its usage is final, a `final_cost` intent renders
/// the file as the final landing does and lands it alone ("<direction>: final cost") unless main,
/// or an earlier landing of the same batch, already holds exactly that text.
extension MergeActor {
    func finalCostLanding(for intent: Intent, after earlier: [Workspace.Landing]) async throws -> Workspace.Landing? {
        guard let name = intent.direction, let direction = try await core.store.direction(named: name) else { return nil }
        let path = "research_directions/\(name).md"
        let details = try await core.store.runDetails(direction: name, policy: core.config.evaluationPolicy)
        let text = try await directionFile(direction, results: try await results(of: name, details: details), final: true)
        let shown: String?
        if let content = earlier.last(where: { $0.files[path] != nil })?.files[path], case .text(let pending) = content {
            shown = pending
        } else {
            shown = try await workspace.fileOnMain(path)
        }
        guard text != shown else { return nil }
        return Workspace.Landing(intentID: intent.id, message: "\(name): final cost", files: [path: .text(text)])
    }

    /// The Results section's figures of a direction with runs (nil without any).
    func results(of name: String, details: [RunDetail]) async throws -> DirectionFile.Results? {
        let policy = core.config.evaluationPolicy
        let board = try await core.store.leaderboard(policy: policy)
        guard let entry = board.directions.first(where: { $0.direction == name }), !details.isEmpty else { return nil }
        return DirectionFile.Results(
            entry: entry, runs: details.map(\.run), metric: policy.metric, higherIsBetter: policy.higherIsBetter,
            overfitGap: policy.overfitGap)
    }

    /// `research_directions/<name>.md`. The final file carries the operator's messages to the
    /// agent and the usage of the direction's jobs (the start file predates both).
    func directionFile(_ direction: Direction, results: DirectionFile.Results?, final: Bool) async throws -> String {
        let job = try? await core.store.job(id: direction.jobID)
        let messages = final ? try await core.store.inboxMessages(jobID: direction.jobID) : []
        let usage = final ? try? await core.store.usage(direction: direction.name) : nil
        let shared = final
            ? DirectionFile.Shared(
                uses: try await core.store.sharedUses(direction: direction.name),
                proposals: try await core.store.proposals().filter { $0.direction == direction.name })
            : nil
        return DirectionFile.render(direction, job: job, results: results, messages: messages, usage: usage, shared: shared)
    }
}

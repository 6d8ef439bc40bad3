import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// Gate 1, as a service: tests each proposal in turn (``ShareTester``) on the current `main`
/// and records the result, which, by `[shared] review`, leaves it for the operator, enqueues
/// its reviewer job or approves it. Proposals left `proposed` by a crash are tested at the next
/// start (the candidates it left are removed before any service starts).
actor ShareGate: Service {
    let core: DaemonCore
    let tester: ShareTester
    let merge: MergeActor
    let scheduler: Scheduler
    private let signal = WakeSignal()

    /// Reviewer jobs run ahead of research jobs.
    static let reviewerPriority = 100

    init(core: DaemonCore, tester: ShareTester, merge: MergeActor, scheduler: Scheduler) {
        self.core = core
        self.tester = tester
        self.merge = merge
        self.scheduler = scheduler
    }

    nonisolated func wake() { signal.wake() }

    func run() async throws {
        await signal.run(every: .seconds(5)) { await self.testPending() }
    }

    private func testPending() async {
        guard let pending = try? await core.store.proposalsAwaitingTests() else { return }
        for id in pending {
            if Task.isCancelled { return }
            do {
                try await test(id)
            } catch {
                core.logger.error("cannot test a proposal", metadata: ["proposal": "\(id)", "error": "\(error)"])
                return
            }
        }
    }

    private func test(_ id: Int64) async throws {
        let proposal = try await core.store.proposal(id: id).proposal
        let files = try await core.store.proposalFiles(id: id)
        let tester = tester
        let store = core.store
        // `main` holds still while the candidate is made: its shared modules are those recorded.
        let candidate = try await merge.holdingMain {
            try await tester.prepare(proposal, files: files, modules: try await store.landedModules())
        }
        let result = await tester.run(candidate)
        let config = core.config
        let recorded = try await core.store.recordGate(
            id: id, result: result, review: config.sharedReview, reviewer: config.sharedReviewer, priority: Self.reviewerPriority)
        core.logger.info(
            "proposal gate 1",
            metadata: ["proposal": "\(id)", "name": "\(proposal.name)", "passed": "\(result.passed)", "status": "\(recorded.status)",
                       "job.id": "\(proposal.jobID)"])
        if recorded.status == ShareStatus.approved { merge.wake() }
        if recorded.reviewJob != nil { scheduler.wake() }
    }
}

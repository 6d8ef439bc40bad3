import Foundation
import MLAgentProtocol
import MLAgentStore
import Testing

/// A job whose agent finished its direction and went on (a CLI prints its final cost when its
/// session ends) records, as it ends, the intent to land the direction file again with its final
/// usage: in the same transaction, before the archive, and only when the job's usage was read.
@Suite("final-cost intents")
struct FinalCostIntentTests {
    /// A running job on `direction` that finished it; with `usage`, its recorded usage.
    func finishedJob(_ store: Store, _ direction: String, usage: TokenUsage?) async throws -> Int64 {
        _ = try await store.enqueue(.init(direction: direction, guidance: "", agent: "claude", priority: 0))
        let ticket = try #require(try await store.claimNextJob(maxRunning: 4, worktree: { "/w/\($0.id)" }, logPath: { "/l/\($0.id)" }))
        _ = try await store.finishDirection(jobID: ticket.job.id, learnings: "done")
        if let usage { try await store.recordUsage(jobID: ticket.job.id, usage: usage) }
        return ticket.job.id
    }

    func pending(_ store: Store, job: Int64) async throws -> [String] {
        try await store.pendingIntents().filter { $0.jobID == job }.map { intent in
            intent.kind == .archive ? "archive" : intent.payload["final_cost"] == .bool(true) ? "final cost" : "land"
        }
    }

    @Test("ending a job that finished its direction and has usage records a final-cost landing before its archive")
    func recorded() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        let usage = TokenUsage(inputTokens: 2930, outputTokens: 1050, costUSD: 0.0425, reported: true)
        let id = try await finishedJob(store, "late", usage: usage)
        #expect(try await pending(store, job: id) == ["land", "land"], "the start and the finish landings")
        let job = try await store.endJob(id: id, ending: .exited(status: "exited with status 0", logTail: ""), maxAttempts: 1)
        #expect(job.state == .completed)
        #expect(try await pending(store, job: id) == ["land", "land", "final cost", "archive"])
        let intent = try #require(try await store.pendingIntents().first { $0.payload["final_cost"] == .bool(true) })
        #expect(intent.direction == "late" && intent.payload["final"] == .bool(true))

        // Carried out without a commit (main already showed the file): no landed event.
        let before = try await store.events().filter { $0.kind == EventKind.directionLanded }.count
        try await store.completeIntent(intent, commit: nil)
        #expect(try await store.events().filter { $0.kind == EventKind.directionLanded }.count == before)
        #expect(try await pending(store, job: id) == ["land", "land", "archive"])

        // Cancelled after finishing (a cost cap hit while the CLI wrote its last turn): the same.
        let other = try await finishedJob(store, "capped", usage: usage)
        _ = try await store.endJob(id: other, ending: .cancelled(reason: "cost_cap: over"), maxAttempts: 1)
        #expect(try await pending(store, job: other) == ["land", "land", "final cost", "archive"])
    }

    @Test("no final-cost landing without usage, or for a direction that lands at the job's end anyway")
    func notRecorded() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        let quiet = try await finishedJob(store, "no-usage", usage: nil)
        _ = try await store.endJob(id: quiet, ending: .exited(status: "exited with status 0", logTail: ""), maxAttempts: 1)
        #expect(try await pending(store, job: quiet) == ["land", "land", "archive"])

        // Never finished: its failed landing comes after the usage is final, so it is the last.
        _ = try await store.enqueue(.init(direction: "gave-up", guidance: "", agent: "claude", priority: 0))
        let ticket = try #require(try await store.claimNextJob(maxRunning: 4, worktree: { "/w/\($0.id)" }, logPath: { "/l/\($0.id)" }))
        try await store.recordUsage(jobID: ticket.job.id, usage: TokenUsage(inputTokens: 10, costUSD: 0.01, reported: true))
        let job = try await store.endJob(id: ticket.job.id, ending: .exited(status: "exited with status 3", logTail: ""), maxAttempts: 1)
        #expect(job.state == .failed)
        #expect(try await pending(store, job: ticket.job.id) == ["land", "archive", "land"])
    }
}

import Foundation
import GRDB
import MLAgentProtocol

/// Group commit: concurrent write requests queue here and are applied together in one
/// SQLite transaction, each inside its own savepoint so that one failing request rolls back
/// alone. Every caller resumes only after the shared transaction has committed (and, with
/// `synchronous = FULL`, reached the disk), so an acknowledgement always means durable.
actor WriteBatcher {
    private struct Pending: Sendable {
        let apply: @Sendable (WriteContext) -> Outcome
        let fail: @Sendable (any Error) -> Void
    }

    struct Outcome: Sendable {
        let succeeded: Bool
        let deliver: @Sendable () -> Void
    }

    private let writer: any DatabaseWriter
    private let maxBatch: Int
    private let onCommit: @Sendable ([Event]) -> Void
    private var pending: [Pending] = []
    private var flushing = false
    private(set) var transactions = 0

    init(writer: any DatabaseWriter, maxBatch: Int = 512, onCommit: @escaping @Sendable ([Event]) -> Void) {
        self.writer = writer
        self.maxBatch = maxBatch
        self.onCommit = onCommit
    }

    func submit<T: Sendable>(_ operation: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            pending.append(
                Pending(
                    apply: { context in
                        do {
                            let value = try operation(context)
                            return Outcome(succeeded: true, deliver: { continuation.resume(returning: value) })
                        } catch {
                            return Outcome(succeeded: false, deliver: { continuation.resume(throwing: error) })
                        }
                    },
                    fail: { error in continuation.resume(throwing: error) }))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                let (outcomes, events) = try await writer.write { db -> ([Outcome], [Event]) in
                    let now = Date()
                    var outcomes: [Outcome] = []
                    var events: [Event] = []
                    outcomes.reserveCapacity(batch.count)
                    for item in batch {
                        let context = WriteContext(db: db, now: now)
                        var outcome: Outcome?
                        try db.inSavepoint {
                            let result = item.apply(context)
                            outcome = result
                            return result.succeeded ? .commit : .rollback
                        }
                        if let outcome {
                            outcomes.append(outcome)
                            if outcome.succeeded { events.append(contentsOf: context.events) }
                        }
                    }
                    return (outcomes, events)
                }
                transactions += 1
                if !events.isEmpty { onCommit(events) }
                for outcome in outcomes { outcome.deliver() }
            } catch {
                let wrapped = RPCError(
                    .internalError, "the state database could not commit: \(error); nothing was written")
                for item in batch { item.fail(wrapped) }
            }
        }
        flushing = false
    }
}

import MLAgentProtocol
import Synchronization

/// Every job's usage totals in memory, so `status` and the scheduler's session cap cost no
/// SQL. Seeded from the store at start; the usage meter keeps it current.
final class UsageLedger: Sendable {
    private let jobs = Mutex<[Int64: TokenUsage]>([:])

    func set(_ usage: TokenUsage, jobID: Int64) {
        jobs.withLock { $0[jobID] = usage }
    }

    func seed(_ entries: [UsageReport.Job]) {
        jobs.withLock { table in
            for entry in entries where table[entry.jobID] == nil { table[entry.jobID] = entry.usage }
        }
    }

    /// The session's total (every job recorded in this state directory); nil before any usage.
    var total: TokenUsage? {
        jobs.withLock { table in
            table.isEmpty ? nil : table.values.reduce(TokenUsage(reported: true), +)
        }
    }

    /// Whether `max_session_cost_usd` (0: none) is reached.
    func sessionCapReached(_ cap: Double) -> Bool {
        guard cap > 0, let total else { return false }
        return total.costUSD >= cap
    }
}

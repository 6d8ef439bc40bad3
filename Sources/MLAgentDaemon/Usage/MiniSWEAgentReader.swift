import Foundation
import MLAgentProtocol

/// mini-swe-agent prints `mini-swe-agent (step N, $X.XX):` before each step's output: the
/// running dollar total of its model calls (from litellm's prices), to the cent, and no token
/// counts. A figure lower than the last one starts a new run (a retried job's log holds one
/// run per attempt), so the figures of earlier runs add up. Once the agent has ended, its
/// trajectory's exact figures (``MiniSWEAgentTrajectory``) replace those of the last run.
struct MiniSWEAgentReader: UsageReader {
    private(set) var tally = UsageTally()
    private var earlierRuns = 0.0
    private var last = 0.0

    mutating func read(line: UnsafeRawBufferPointer) {
        guard UsageLine.contains(line, "mini-swe-agent (step ") else { return }
        let text = String(decoding: line, as: UTF8.self)
        guard let marker = text.range(of: "mini-swe-agent (step "),
            let dollar = text.range(of: ", $", range: marker.upperBound..<text.endIndex),
            let close = text.range(of: ")", range: dollar.upperBound..<text.endIndex),
            let cost = Double(text[dollar.upperBound..<close.lowerBound]), cost.isFinite, cost >= 0
        else { return }
        if cost < last { earlierRuns += last }
        last = cost
        tally.settled = TokenUsage(costUSD: earlierRuns + cost, reported: true)
    }

    /// The last run's exact tokens and cost from its trajectory, in place of its printed
    /// figure. Refused (false) when the trajectory cost less than the last figure printed
    /// (rounded to the cent): it is not that run's.
    mutating func settle(lastRun trajectory: MiniSWEAgentTrajectory) -> Bool {
        guard trajectory.usage.costUSD >= last - 0.0051 else { return false }
        var usage = trajectory.usage
        usage.costUSD += earlierRuns
        usage.reported = true
        tally.settled = usage
        return true
    }
}

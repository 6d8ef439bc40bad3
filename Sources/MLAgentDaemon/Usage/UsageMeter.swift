import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore

/// Reads the usage of every running agent whose profile names a `usage` format, by following
/// its log as it grows (the scheduler polls it every tick), records each job's totals in
/// SQLite when they change, and reports the jobs that reached `max_cost_usd` or
/// `max_session_cost_usd`, once each, with a `limit.hit` event.
actor UsageMeter {
    struct Running: Sendable {
        var jobID: Int64
        var agent: String
        var direction: String
        var logPath: String
        /// Where mini-swe-agent's trajectory may be, besides the job's home.
        var worktree = ""
    }

    /// A cap the scheduler must stop a job for; `reason` starts with `cost_cap`.
    struct CapHit: Sendable, Equatable {
        var jobID: Int64
        var reason: String
    }

    private struct Follow {
        var follower: LogFollower
        var reader: any UsageReader
        var prices: PricePerMTok?
        var recorded: TokenUsage?
    }

    let core: DaemonCore
    private var follows: [Int64: Follow] = [:]
    private var capped: Set<Int64> = []
    private var seeded = false

    init(core: DaemonCore) {
        self.core = core
    }

    /// Reads what every running job's agent wrote since the last poll; returns the caps hit.
    func poll(_ running: [Running]) async -> [CapHit] {
        if !seeded {
            seeded = true
            core.usage.seed((try? await core.store.usageByJob()) ?? [])
        }
        var hits: [CapHit] = []
        for job in running {
            guard let usage = await advance(job, toEnd: false) else { continue }
            if let cap = core.config.agents[job.agent]?.maxCostUSD, cap > 0, usage.costUSD >= cap,
                capped.insert(job.jobID).inserted
            {
                let reason = "cost_cap: job \(job.jobID) cost \(USD.format(usage.costUSD)), its limit [agents.\(job.agent)] max_cost_usd is \(USD.format(cap))"
                await limitHit(job, limit: "max_cost_usd", cap: cap, cost: usage.costUSD, reason: reason)
                hits.append(CapHit(jobID: job.jobID, reason: reason))
            }
        }
        let sessionCap = core.config.maxSessionCostUSD
        if core.usage.sessionCapReached(sessionCap), let total = core.usage.total {
            for job in running where capped.insert(job.jobID).inserted {
                let reason = "cost_cap: the session cost \(USD.format(total.costUSD)), its limit [scheduler] max_session_cost_usd is \(USD.format(sessionCap))"
                await limitHit(job, limit: "max_session_cost_usd", cap: sessionCap, cost: total.costUSD, reason: reason)
                hits.append(CapHit(jobID: job.jobID, reason: reason))
            }
        }
        return hits
    }

    /// The job's agent exited: reads its log to the end (a CLI prints its final figure last),
    /// takes mini-swe-agent's exact figures from its trajectory, and stops following it.
    func finish(_ job: Running) async {
        let trajectory = await trajectory(of: job)
        _ = await advance(job, toEnd: true, trajectory: trajectory)
        follows[job.jobID] = nil
        capped.remove(job.jobID)
    }

    /// Advances one job's reader; returns its usage when its profile reads usage.
    private func advance(_ job: Running, toEnd: Bool, trajectory: MiniSWEAgentTrajectory? = nil) async -> TokenUsage? {
        var follow: Follow
        if let existing = follows[job.jobID] {
            follow = existing
        } else {
            guard let profile = core.config.agents[job.agent], let reader = profile.usage.makeReader(),
                !job.logPath.isEmpty
            else { return nil }
            follow = Follow(follower: LogFollower(path: job.logPath), reader: reader, prices: profile.pricePerMTok)
        }
        var reader = follow.reader
        var more = true
        var rounds = 0
        while more, toEnd || rounds < 1 {
            more = follow.follower.read { line in reader.read(line: line) }
            rounds += 1
        }
        if let trajectory, var mini = reader as? MiniSWEAgentReader {
            if mini.settle(lastRun: trajectory) {
                reader = mini
            } else {
                core.logger.notice(
                    "mini-swe-agent's trajectory cost less than the last cost it printed: not this run's; the printed cost stays",
                    metadata: ["job.id": "\(job.jobID)", "trajectory_cost": "\(trajectory.usage.costUSD)"])
            }
        }
        follow.reader = reader
        let usage = reader.tally.usage(prices: follow.prices)
        if usage != follow.recorded, usage.totalTokens > 0 || usage.costUSD > 0 {
            do {
                try await core.store.recordUsage(jobID: job.jobID, usage: usage)
                follow.recorded = usage
                core.usage.set(usage, jobID: job.jobID)
            } catch {
                core.logger.error("cannot record usage", metadata: ["job.id": "\(job.jobID)", "error": "\(error)"])
            }
        }
        follows[job.jobID] = follow
        return usage
    }

    private func limitHit(_ job: Running, limit: String, cap: Double, cost: Double, reason: String) async {
        core.logger.notice("cost cap reached", metadata: ["job.id": "\(job.jobID)", "limit": "\(limit)"])
        _ = try? await core.store.write { context in
            try context.appendEvent(
                kind: EventKind.limitHit, jobID: job.jobID, direction: job.direction, message: reason,
                data: ["limit": .string(limit), "cap_usd": .double(cap), "cost_usd": .double(cost), "reason": "cost_cap"])
        }
    }
}

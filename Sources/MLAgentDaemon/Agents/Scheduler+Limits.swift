import MLAgentProtocol

extension Scheduler {
    /// Reads each running agent's cgroup events: a limit hit is a `limit.hit` event naming it,
    /// and the agent is stopped with that reason.
    func checkLimits() async {
        for (id, agent) in agentsByID where agent.stopping == nil {
            guard let cgroup = agent.cgroup else { continue }
            let events = cgroup.events()
            guard events != agent.limitEvents else { continue }
            let hits = AgentLimits.hits(events, since: agent.limitEvents, profile: core.config.agents[agent.job.agent])
            noteLimitEvents(id, events)
            await reportLimitHits(id, agent, hits)
            if let first = hits.first { stopForLimit(id, reason: first.reason) }
        }
    }

    func reportLimitHits(_ id: Int64, _ agent: Agent, _ hits: [AgentLimits.Hit]) async {
        for hit in hits {
            _ = try? await core.store.write { context in
                try context.appendEvent(
                    kind: EventKind.limitHit, jobID: id, direction: agent.job.direction, message: "job \(id): \(hit.reason)",
                    data: ["limit": .string(hit.limit), "value": .string(hit.value), "pid": .int(Int64(agent.pid))])
            }
        }
    }

    /// Says, in the job's events, which of its profile's limits rlimits do not enforce.
    func recordUnenforcedLimits(_ job: Job) async {
        let message = "job \(job.id): no cgroup for the agent: \(limits.notEnforced)"
        _ = try? await core.store.write { context in
            try context.appendEvent(
                kind: EventKind.agentLimits, jobID: job.id, direction: job.direction, message: message,
                data: ["enforcement": "rlimits"])
        }
    }
}

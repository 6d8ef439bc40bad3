import MLAgentProtocol
import MLAgentStore

/// `session.explore`: queue agent-picks-direction jobs.
struct ExploreHandler: RequestHandler {
    static let method = Method.explore
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: ExploreParams, context: RequestContext) async throws -> JobList {
        let count = params.count ?? 1
        guard (1...100).contains(count) else {
            throw RPCError(.invalidParams, "count must be within 1...100, got \(count)", context: ["field": "count"])
        }
        let agent = params.agent ?? core.config.defaultAgent
        guard core.config.agents[agent] != nil else {
            throw RPCError(
                .invalidParams,
                "no agent profile \"\(agent)\"; configured: \(core.config.agents.keys.sorted().joined(separator: ", "))",
                context: ["field": "agent"])
        }
        var jobs: [Job] = []
        for _ in 0..<count {
            jobs.append(try await core.store.enqueue(.init(direction: "", guidance: params.guidance ?? "", agent: agent, priority: 0)))
        }
        await services.scheduler.resumeSession()
        return JobList(jobs: jobs)
    }
}

/// `session.stop`: no new launches (the queue is paused); with `now`, running jobs are
/// cancelled. Records a `session.report` event with the final summary.
struct StopHandler: RequestHandler {
    static let method = Method.stop
    let core: DaemonCore
    let services: AgentServices
    var defaultParams: StopParams? { StopParams() }

    func handle(_ params: StopParams, context: RequestContext) async throws -> SessionReport {
        _ = try await core.store.setPaused(true)
        let cancelled = await services.scheduler.stopSession(now: params.now ?? false)
        let directions = try await core.store.directions()
        let counts = Dictionary(grouping: directions, by: \.status).mapValues(\.count)
        let summary = "session stopped: \(directions.count) directions ("
            + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            + ")" + (cancelled.isEmpty ? "" : "; cancelled jobs \(cancelled.map(String.init).joined(separator: ", "))")
        _ = try await core.store.write { context in
            try context.appendEvent(
                kind: EventKind.sessionReport, message: summary,
                data: [
                    "directions": .array(directions.map { .object(["name": .string($0.name), "status": .string($0.status)]) }),
                    "cancelled": .array(cancelled.map { .int($0) }),
                ])
        }
        return SessionReport(cancelled: cancelled, directions: directions, summary: summary)
    }
}

/// `session.continue`: after a report in `autonomy = "ask"`, let autonomous launches go on.
struct ContinueHandler: RequestHandler {
    static let method = Method.continue
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: NoParams, context: RequestContext) async throws -> PauseState {
        await services.scheduler.continueSession()
        return PauseState(paused: core.store.isPaused())
    }
}

import MLAgentProtocol
import MLAgentStore

/// `job.enqueue`: validates and durably queues one research direction.
struct EnqueueHandler: RequestHandler {
    static let method = Method.enqueue
    static let maxGuidanceBytes = 64 * 1024
    static let priorityRange = -1000...1000
    let core: DaemonCore

    func handle(_ params: EnqueueParams, context: RequestContext) async throws -> Job {
        let direction = params.direction.trimmingCharacters(in: .whitespaces)
        if !direction.isEmpty, let problem = DirectionName.problem(with: direction) {
            throw RPCError(.invalidParams, problem, context: ["field": "direction"])
        }
        let agent = params.agent ?? core.config.defaultAgent
        guard core.config.agents[agent] != nil else {
            throw RPCError(
                .invalidParams,
                "no agent profile \"\(agent)\"; configured: \(core.config.agents.keys.sorted().joined(separator: ", ")) (add [agents.\(agent)] to the config)",
                context: ["field": "agent"])
        }
        let guidance = params.guidance ?? ""
        if guidance.utf8.count > Self.maxGuidanceBytes {
            throw RPCError(
                .invalidParams, "guidance is \(guidance.utf8.count) bytes; the limit is \(Self.maxGuidanceBytes)",
                context: ["field": "guidance"])
        }
        let priority = params.priority ?? 0
        guard Self.priorityRange.contains(priority) else {
            throw RPCError(
                .invalidParams, "priority \(priority) is out of range \(Self.priorityRange.lowerBound)...\(Self.priorityRange.upperBound)",
                context: ["field": "priority"])
        }
        let job = try await core.store.enqueue(
            .init(direction: direction, guidance: guidance, agent: agent, priority: priority))
        core.logger.info(
            "job enqueued", metadata: ["job.id": "\(job.id)", "direction": "\(job.direction)", "agent": "\(job.agent)"])
        return job
    }
}

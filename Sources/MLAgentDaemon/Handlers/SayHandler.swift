import MLAgentProtocol

/// `job.say` (operator): puts a message in a queued or running job's inbox; the agent reads
/// it with `job.inbox`, and it lands in the direction file.
struct SayHandler: RequestHandler {
    static let method = Method.say
    let core: DaemonCore

    func handle(_ params: SayParams, context: RequestContext) async throws -> InboxMessage {
        if let problem = InboxRules.problem(with: params.message) {
            throw RPCError(.invalidParams, problem, context: ["field": "message"])
        }
        let message = try await core.store.say(jobID: params.id, text: params.message)
        core.logger.info("message sent", metadata: ["job.id": "\(params.id)", "message": "\(message.id)"])
        return message
    }
}

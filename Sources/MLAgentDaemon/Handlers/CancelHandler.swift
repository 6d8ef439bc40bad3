import MLAgentProtocol

/// `job.cancel`: cancels a queued, running or interrupted job. A running agent's process group
/// is stopped (SIGTERM, then SIGKILL after the grace period) before the reply.
struct CancelHandler: RequestHandler {
    static let method = Method.cancel
    let core: DaemonCore
    let services: AgentServices?

    func handle(_ params: JobIDParams, context: RequestContext) async throws -> Job {
        let reason = params.reason ?? "cancelled by operator"
        if let services, await services.scheduler.cancel(params.id, reason: reason) {
            let job = try await core.store.job(id: params.id)
            core.logger.info("job cancelled", metadata: ["job.id": "\(job.id)", "direction": "\(job.direction)"])
            return job
        }
        let job = try await core.store.cancel(id: params.id, reason: params.reason)
        if job.worktree != nil { services?.merge.wake() }
        core.logger.info("job cancelled", metadata: ["job.id": "\(job.id)", "direction": "\(job.direction)"])
        return job
    }
}

import MLAgentProtocol

/// `job.cancel`: cancels a queued, running or interrupted job.
struct CancelHandler: RequestHandler {
    static let method = Method.cancel
    let core: DaemonCore

    func handle(_ params: JobIDParams, context: RequestContext) async throws -> Job {
        let job = try await core.store.cancel(id: params.id, reason: params.reason)
        core.logger.info("job cancelled", metadata: ["job.id": "\(job.id)", "direction": "\(job.direction)"])
        return job
    }
}

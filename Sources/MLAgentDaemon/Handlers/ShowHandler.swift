import MLAgentProtocol

/// `job.show`: one job by id.
struct ShowHandler: RequestHandler {
    static let method = Method.show
    static let access = MethodAccess.both
    let core: DaemonCore

    func handle(_ params: JobIDParams, context: RequestContext) async throws -> Job {
        var job = try await core.store.job(id: params.id)
        job.usage = try await core.store.usage(jobID: job.id)
        job.resources = try await core.store.resources(jobID: job.id)
        return job
    }
}

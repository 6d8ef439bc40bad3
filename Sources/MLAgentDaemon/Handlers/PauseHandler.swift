import MLAgentProtocol

/// `queue.pause` and `queue.resume`: stop or restart launching new jobs. The flag is durable.
struct PauseHandler: RequestHandler {
    static let method = Method.pause
    let core: DaemonCore

    func handle(_ params: NoParams, context: RequestContext) async throws -> PauseState {
        let paused = try await core.store.setPaused(true)
        core.logger.info("queue paused")
        return PauseState(paused: paused)
    }
}

struct ResumeHandler: RequestHandler {
    static let method = Method.resume
    let core: DaemonCore

    func handle(_ params: NoParams, context: RequestContext) async throws -> PauseState {
        let paused = try await core.store.setPaused(false)
        core.logger.info("queue resumed")
        return PauseState(paused: paused)
    }
}

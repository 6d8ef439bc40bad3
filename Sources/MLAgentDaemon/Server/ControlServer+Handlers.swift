import MLAgentProtocol

/// Every method the control server answers: operators' and agents' alike, and the agent-side
/// ones only in a daemon started with its agent services.
extension ControlServer {
    static func router(
        core: DaemonCore, listener: ListenerInfo, services: AgentServices?, mirror: MLflowMirror?, mlflowServer: MLflowServer?
    ) -> RequestRouter {
        var router = RequestRouter()
        router.register(StatusHandler(core: core, listener: listener))
        router.register(EnqueueHandler(core: core))
        router.register(ListHandler(core: core))
        router.register(ShowHandler(core: core))
        router.register(CancelHandler(core: core, services: services))
        router.register(PauseHandler(core: core))
        router.register(ResumeHandler(core: core))
        router.register(EventsListHandler(core: core))
        router.register(DirectionListHandler(core: core))
        router.register(SayHandler(core: core))
        router.register(InboxHandler(core: core))
        router.register(LogsHandler(core: core))
        router.register(RunShowHandler(core: core))
        router.register(RunListHandler(core: core))
        router.register(RunMetricsHandler(core: core))
        let comparer = services.map { RunComparer(store: core.store, evaluator: $0.evaluator, logger: core.logger) }
        router.register(LeaderboardHandler(core: core, comparer: comparer))
        router.register(SummaryHandler(core: core, comparer: comparer))
        if let comparer { router.register(CompareHandler(core: core, comparer: comparer)) }
        router.register(UsageHandler(core: core))
        router.register(ShareListHandler(core: core))
        router.register(ShareShowHandler(core: core))
        router.register(ShareDiffHandler(core: core))
        if let mirror {
            router.register(MLflowStatusHandler(mirror: mirror, server: mlflowServer))
            router.register(MLflowSyncHandler(mirror: mirror, core: core))
        }
        if let services {
            router.register(RunStartHandler(core: core))
            router.register(RunLogHandler(core: core))
            router.register(RunArtifactHandler(core: core, artifacts: services.artifacts))
            router.register(RunEndHandler(core: core))
            router.register(EvalHandler(core: core, evaluator: services.evaluator))
            router.register(SubmitHandler(core: core, services: services))
            router.register(ShareProposeHandler(core: core, services: services))
            router.register(ShareApproveHandler(core: core, services: services))
            router.register(ShareRejectHandler(core: core, services: services))
            router.register(ShareReviewHandler(core: core, services: services))
            router.register(DeclareHandler(core: core, services: services))
            router.register(FinishHandler(core: core, services: services))
            router.register(ExploreHandler(core: core, services: services))
            router.register(StopHandler(core: core, services: services))
            router.register(ContinueHandler(core: core, services: services))
        }
        return router
    }
}

public import MLAgentProtocol

/// Typed calls over a `Connection`, one per protocol method.
public final class Client {
    public let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    /// Connects using the standard lookup (see `SocketLocator`): `--socket`, else
    /// `MLAGENT_ADDRESS` over TLS, else the Unix socket.
    public convenience init(socket explicit: String? = nil, timeout: Duration? = .seconds(30)) throws {
        self.init(connection: try Connection(endpoint: try SocketLocator.endpoint(explicit: explicit), timeout: timeout))
    }

    public func status() throws -> DaemonStatus {
        try connection.call(Method.status, as: DaemonStatus.self)
    }

    public func enqueue(_ params: EnqueueParams) throws -> Job {
        try connection.call(Method.enqueue, params: params, as: Job.self)
    }

    public func list(state: JobState? = nil, limit: Int? = nil) throws -> [Job] {
        try connection.call(Method.list, params: ListParams(state: state, limit: limit), as: JobList.self).jobs
    }

    public func show(id: Int64) throws -> Job {
        try connection.call(Method.show, params: JobIDParams(id: id), as: Job.self)
    }

    public func cancel(id: Int64, reason: String? = nil) throws -> Job {
        try connection.call(Method.cancel, params: JobIDParams(id: id, reason: reason), as: Job.self)
    }

    public func pause() throws -> PauseState {
        try connection.call(Method.pause, as: PauseState.self)
    }

    public func resume() throws -> PauseState {
        try connection.call(Method.resume, as: PauseState.self)
    }

    public func events(since: Int64 = 0, job: Int64? = nil, limit: Int? = nil) throws -> EventList {
        try connection.call(Method.eventsList, params: EventsParams(since: since, job: job, limit: limit), as: EventList.self)
    }

    public func declare(name: String, rationale: String) throws -> Direction {
        try connection.call(Method.directionDeclare, params: DeclareParams(name: name, rationale: rationale), as: Direction.self)
    }

    public func finish(learnings: String) throws -> Direction {
        try connection.call(Method.directionFinish, params: FinishParams(learnings: learnings), as: Direction.self)
    }

    public func directions() throws -> [Direction] {
        try connection.call(Method.directionList, as: DirectionList.self).directions
    }

    public func logs(id: Int64, offset: Int64? = nil, limit: Int? = nil) throws -> LogChunk {
        try connection.call(Method.logs, params: LogsParams(id: id, offset: offset, limit: limit), as: LogChunk.self)
    }

    public func explore(_ params: ExploreParams) throws -> [Job] {
        try connection.call(Method.explore, params: params, as: JobList.self).jobs
    }

    public func stop(now: Bool) throws -> SessionReport {
        try connection.call(Method.stop, params: StopParams(now: now), as: SessionReport.self)
    }

    public func continueSession() throws -> PauseState {
        try connection.call(Method.continue, as: PauseState.self)
    }

    // MARK: Runs and evaluation

    public func startRun(_ params: RunStartParams) throws -> Run {
        try connection.call(Method.runStart, params: params, as: Run.self)
    }

    public func logRun(_ params: RunLogParams) throws -> RunLogResult {
        try connection.call(Method.runLog, params: params, as: RunLogResult.self)
    }

    public func artifact(_ params: RunArtifactParams) throws -> ArtifactInfo {
        try connection.call(Method.runArtifact, params: params, as: ArtifactInfo.self)
    }

    public func endRun(_ params: RunEndParams) throws -> Run {
        try connection.call(Method.runEnd, params: params, as: Run.self)
    }

    public func showRun(_ id: Int64) throws -> RunDetail {
        try connection.call(Method.runShow, params: RunIDParams(run: id), as: RunDetail.self)
    }

    public func runs(direction: String? = nil) throws -> [Run] {
        try connection.call(Method.runList, params: RunsParams(direction: direction), as: RunList.self).runs
    }

    public func metricHistory(_ params: MetricHistoryParams) throws -> MetricHistory {
        try connection.call(Method.runMetrics, params: params, as: MetricHistory.self)
    }

    public func evaluate(run: Int64, path: String) throws -> EvalResult {
        try connection.call(Method.eval, params: EvalParams(run: run, path: path), as: EvalResult.self)
    }

    /// Submits run `run`: without `path` the daemon replays the run's saved model.
    public func submit(run: Int64, path: String?) throws -> EvalResult {
        try connection.call(Method.submit, params: EvalParams(run: run, path: path), as: EvalResult.self)
    }

    public func leaderboard() throws -> Leaderboard {
        try connection.call(Method.leaderboard, as: Leaderboard.self)
    }

    public func summary() throws -> SessionSummary {
        try connection.call(Method.summary, as: SessionSummary.self)
    }

    public func mlflowStatus() throws -> MLflowStatus {
        try connection.call(Method.mlflowStatus, as: MLflowStatus.self)
    }

    public func mlflowSync(trackingURI: String?) throws -> MLflowSyncResult {
        try connection.call(Method.mlflowSync, params: MLflowSyncParams(trackingURI: trackingURI), as: MLflowSyncResult.self)
    }

    /// Starts a subscription; read events with `nextEvent()`.
    public func subscribe(since: Int64? = nil, job: Int64? = nil) throws -> SubscribeResult {
        try connection.call(Method.eventsSubscribe, params: EventsParams(since: since, job: job), as: SubscribeResult.self)
    }

    public enum StreamItem: Sendable {
        case event(Event)
        case overflow(OverflowNotice)
    }

    /// The next event (or overflow notice) of a subscription.
    public func nextEvent() throws -> StreamItem {
        while true {
            let notification = try connection.nextNotification()
            switch notification.method {
            case Method.event: return .event(try notification.params.decode(Event.self))
            case Method.eventsOverflow: return .overflow(try notification.params.decode(OverflowNotice.self))
            default: continue
            }
        }
    }
}

import Foundation
import MLAgentProtocol

/// `mlflow.status`: where the mirror sends, how far behind it is, its last error and the
/// requests MLflow refused for good.
struct MLflowStatusHandler: RequestHandler {
    static let method = Method.mlflowStatus
    static let access = MethodAccess.both
    let mirror: MLflowMirror
    let server: MLflowServer?

    func handle(_ params: NoParams, context: RequestContext) async throws -> MLflowStatus {
        try await mirror.status(serverPID: await server?.pid)
    }
}

/// `mlflow.sync`: drains the mirror now, or replays the whole history into another (empty)
/// MLflow server. Runs are matched per server, so nothing is sent twice.
struct MLflowSyncHandler: RequestHandler {
    static let method = Method.mlflowSync
    let mirror: MLflowMirror
    let core: DaemonCore
    var defaultParams: MLflowSyncParams? { MLflowSyncParams() }

    func handle(_ params: MLflowSyncParams, context: RequestContext) async throws -> MLflowSyncResult {
        let uri = params.trackingURI ?? core.config.mlflowTrackingURI
        guard !uri.isEmpty else {
            throw RPCError(.invalidParams, "no MLflow server: set [mlflow] tracking_uri or pass --tracking-uri URL")
        }
        guard uri.hasPrefix("http://") || uri.hasPrefix("https://") else {
            throw RPCError(.invalidParams, "tracking URI \(uri) must start with http:// or https://")
        }
        let start = ContinuousClock.now
        do {
            let (runs, points) = try await mirror.drain(uri: uri)
            return MLflowSyncResult(trackingURI: uri, runs: runs, points: points, seconds: (ContinuousClock.now - start).seconds)
        } catch {
            throw RPCError(.invalidState, "MLflow at \(uri) is not reachable or refused: \(error); what is not sent stays queued")
        }
    }
}

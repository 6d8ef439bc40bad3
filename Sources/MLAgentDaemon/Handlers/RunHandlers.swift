import Foundation
import MLAgentProtocol
import MLAgentStore

/// `run.start` (agent): a new run in the caller's direction, with its rationale, params and the
/// shared modules it imports.
struct RunStartHandler: RequestHandler {
    static let method = Method.runStart
    static let access = MethodAccess.agent
    let core: DaemonCore

    func handle(_ params: RunStartParams, context: RequestContext) async throws -> Run {
        let jobID = try context.requireAgent(Self.method)
        let name = try RunValidation.text(
            params.name, field: "name", limit: RunValidation.maxNameBytes, whenEmpty: "name the configuration, e.g. hgb-depth6")
        let rationale = try RunValidation.text(
            params.rationale, field: "rationale", limit: RunValidation.maxRationaleBytes,
            whenEmpty: "say why this configuration is worth a run")
        try RunValidation.checkParams(params.params)
        let uses = params.uses ?? []
        guard uses.count <= 64 else { throw RunValidation.invalid("a run records at most 64 shared modules", field: "uses") }
        let run = try await core.store.startRun(jobID: jobID, name: name, rationale: rationale, params: params.params ?? [:], uses: uses)
        core.logger.info("run started", metadata: ["job.id": "\(jobID)", "direction": "\(run.direction)", "run": "\(run.id)"])
        return run
    }
}

/// `run.log` (agent): params, tags and metric points on a running run, in one transaction.
struct RunLogHandler: RequestHandler {
    static let method = Method.runLog
    static let access = MethodAccess.agent
    let core: DaemonCore

    func handle(_ params: RunLogParams, context: RequestContext) async throws -> RunLogResult {
        let jobID = try context.requireAgent(Self.method)
        try RunValidation.checkParams(params.params)
        try RunValidation.checkTags(params.tags)
        try RunValidation.checkMetrics(params.metrics)
        if let batch = params.batch, batch.isEmpty || batch.utf8.count > RunValidation.maxBatchIDBytes {
            throw RunValidation.invalid("batch id must be 1 to \(RunValidation.maxBatchIDBytes) bytes", field: "batch")
        }
        if (params.metrics ?? []).isEmpty, (params.params ?? [:]).isEmpty, (params.tags ?? [:]).isEmpty {
            throw RunValidation.invalid("nothing to log: give metrics, params or tags", field: "metrics")
        }
        return try await core.store.logRun(jobID: jobID, params)
    }
}

/// `run.artifact` (agent): copies a file or directory from the worktree into the daemon's
/// artifact store (a saved model goes under the name `model`).
struct RunArtifactHandler: RequestHandler {
    static let method = Method.runArtifact
    static let access = MethodAccess.agent
    let core: DaemonCore
    let artifacts: ArtifactStore

    func handle(_ params: RunArtifactParams, context: RequestContext) async throws -> ArtifactInfo {
        let jobID = try context.requireAgent(Self.method)
        let name = params.name ?? (params.path as NSString).lastPathComponent
        if let problem = ArtifactStore.problem(with: name) { throw RunValidation.invalid(problem, field: "name") }
        if name.hasPrefix(ModelContract.artifactName + "/") {
            throw RunValidation.invalid(
                "a run's model is one MLflow model directory uploaded whole under the name model (run artifact RUN DIR --as model), not files under model/",
                field: "name")
        }
        try await core.store.checkArtifact(jobID: jobID, run: params.run, name: name)
        let worktree = try await core.store.job(id: jobID).worktree ?? ""
        // The totals of the job, its direction and the store: refused before anything is copied
        // when they are spent, and the copy stops where they end.
        let quota = core.config.artifactQuota
        let room = quota.room(try await core.store.artifactUsage(jobID: jobID, run: params.run))
        if room.bytes <= 0 || room.files <= 0 {
            let problem = room.bytes <= 0 ? "\(room.bytesCap) is spent" : "\(room.filesCap) is spent"
            await recordLimitHit(jobID: jobID, problem: problem)
            throw ArtifactQuota.exceeded(problem, run: params.run)
        }
        let copied: ArtifactStore.Copied
        do {
            copied = try await artifacts.copy(path: params.path, worktree: worktree, run: params.run, name: name, room: room)
        } catch let error as RPCError where error.message.contains(room.bytesCap) || error.message.contains("more than \(room.files) entries") {
            await recordLimitHit(jobID: jobID, problem: error.message)
            throw error
        }
        do {
            return try await core.store.recordArtifact(
                jobID: jobID, run: params.run, name: name, isDirectory: copied.isDirectory, files: copied.files,
                bytes: copied.bytes, quota: quota)
        } catch let error as RPCError where error.kind == .limitExceeded {
            // Another upload took the room while this one was copied: its copy goes.
            try? FileManager.default.removeItem(
                atPath: (artifacts.directory(run: params.run) as NSString).appendingPathComponent(name))
            await recordLimitHit(jobID: jobID, problem: error.message)
            throw error
        }
    }
}

extension RunArtifactHandler {
    func recordLimitHit(jobID: Int64, problem: String) async {
        _ = try? await core.store.record(
            kind: EventKind.limitHit, jobID: jobID, message: "job \(jobID) hit an artifact total: \(problem)",
            data: ["limit": .string(EventKind.limitKey(in: problem, fallback: "max_job_artifact_bytes")), "job": .int(jobID)])
    }
}

/// `run.end` (agent): ends a run with its analysis, finished or failed.
struct RunEndHandler: RequestHandler {
    static let method = Method.runEnd
    static let access = MethodAccess.agent
    let core: DaemonCore

    func handle(_ params: RunEndParams, context: RequestContext) async throws -> Run {
        let jobID = try context.requireAgent(Self.method)
        let analysis = try RunValidation.text(
            params.analysis, field: "analysis", limit: RunValidation.maxAnalysisBytes,
            whenEmpty: "say what happened in this run and why")
        return try await core.store.endRun(jobID: jobID, run: params.run, analysis: analysis, failed: params.failed ?? false)
    }
}

/// `run.show`: a run with its params, tags, latest metrics, artifacts and evaluations.
struct RunShowHandler: RequestHandler {
    static let method = Method.runShow
    static let access = MethodAccess.both
    let core: DaemonCore

    func handle(_ params: RunIDParams, context: RequestContext) async throws -> RunDetail {
        try await core.store.runDetail(id: params.run, policy: core.config.evaluationPolicy)
    }
}

/// `run.list`: runs, optionally of one direction.
struct RunListHandler: RequestHandler {
    static let method = Method.runList
    static let access = MethodAccess.both
    let core: DaemonCore
    var defaultParams: RunsParams? { RunsParams() }

    func handle(_ params: RunsParams, context: RequestContext) async throws -> RunList {
        RunList(runs: try await core.store.runs(direction: params.direction))
    }
}

/// `run.metrics`: a page of a run's metric history.
struct RunMetricsHandler: RequestHandler {
    static let method = Method.runMetrics
    static let access = MethodAccess.both
    static let maxPage = 50_000
    let core: DaemonCore

    func handle(_ params: MetricHistoryParams, context: RequestContext) async throws -> MetricHistory {
        let limit = min(max(params.limit ?? 10_000, 1), Self.maxPage)
        return try await core.store.metricHistory(run: params.run, key: params.key, after: params.after ?? 0, limit: limit)
    }
}

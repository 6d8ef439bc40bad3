import AsyncHTTPClient
import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// Mirrors every run into an MLflow tracking server. SQLite stays the source of truth: the
/// mirror reads what changed (run versions bumped in the transactions that changed them, and
/// metric points past its cursor), sends it in MLflow-sized batches, and records its progress
/// after each acknowledged request. It never slows the agents: nothing on the request path
/// waits for it.
actor MLflowMirror: Service {
    let core: DaemonCore
    private let logger: Logger
    private var wakeUp: AsyncStream<Void>.Continuation?
    private var experiments: [String: String] = [:]
    private(set) var lastError: String?
    private(set) var lastSuccess: Date?
    private let drainLock = AsyncLock()

    /// One HTTP client for the daemon's life: keep-alive connections, a short connect timeout.
    static let http = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(3), read: .seconds(60))))

    static let maxMetrics = 1000
    static let maxParams = 100
    static let maxTags = 100

    init(core: DaemonCore) {
        self.core = core
        self.logger = core.logger
    }

    var trackingURI: String { core.config.mlflowTrackingURI }

    nonisolated func wake() {
        Task { await self.signal() }
    }

    private func signal() { wakeUp?.yield() }

    func run() async throws {
        guard !trackingURI.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeUp = continuation
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        continuation.yield()
                    }
                }
                var delay: Duration = .seconds(1)
                for await _ in stream {
                    if Task.isCancelled { break }
                    do {
                        _ = try await self.drain(uri: self.trackingURI)
                        delay = .seconds(1)
                    } catch {
                        // Transient: MLflow is down or slow. Back off; nothing is lost.
                        try? await Task.sleep(for: delay)
                        delay = min(delay * 2, .seconds(30))
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Sends everything pending to `uri`; returns the runs and points sent. Throws on a
    /// transient failure (the caller retries later).
    @discardableResult
    func drain(uri: String) async throws -> (runs: Int, points: Int) {
        // One drain at a time per daemon: two passes over the same run would send it twice.
        await drainLock.acquire()
        do {
            let result = try await drainUnlocked(uri: uri)
            await drainLock.release()
            return result
        } catch {
            await drainLock.release()
            throw error
        }
    }

    private func drainUnlocked(uri: String) async throws -> (runs: Int, points: Int) {
        let client = MLflowClient(trackingURI: uri, http: Self.http)
        var runs = 0
        var points = 0
        do {
            let experiment = try await experimentID(uri: uri, client: client)
            while true {
                let pending = try await core.store.mirrorPending(uri: uri, limit: 50)
                if pending.isEmpty { break }
                for run in pending {
                    points += try await sync(run, uri: uri, experiment: experiment, client: client)
                    runs += 1
                }
            }
            if uri == trackingURI {
                lastError = nil
                lastSuccess = Date()
            }
            return (runs, points)
        } catch {
            if uri == trackingURI {
                if lastError != "\(error)" {
                    logger.warning("MLflow mirror waiting", metadata: ["tracking_uri": "\(uri)", "error": "\(error)"])
                }
                lastError = "\(error)"
            }
            throw error
        }
    }

    private func experimentID(uri: String, client: MLflowClient) async throws -> String {
        if let known = experiments[uri] { return known }
        let id = try await client.ensureExperiment(named: core.config.mlflowExperiment)
        experiments[uri] = id
        return id
    }

    /// Brings one run up to date in MLflow; returns the metric points sent.
    private func sync(_ pending: Store.MirrorRun, uri: String, experiment: String, client: MLflowClient) async throws -> Int {
        let store = core.store
        let id = pending.runID
        let detail = try await store.runDetail(id: id, policy: core.config.evaluationPolicy)
        let run = detail.run
        var mlflowRun = pending.mlflowRunID
        if mlflowRun == nil {
            // runs/create is not idempotent: after an unclear outcome, look the run up by its tag.
            if pending.state == "creating" {
                mlflowRun = try await client.findRun(experimentID: experiment, tag: "mlagent.run_id", value: String(id))
            }
            if mlflowRun == nil {
                try await store.mirrorCreating(uri: uri, run: id)
                do {
                    mlflowRun = try await client.createRun(
                        experimentID: experiment, name: run.name, startTime: Self.milliseconds(run.startedAt),
                        tags: [.init(key: "mlagent.run_id", value: String(id)), .init(key: "mlagent.direction", value: run.direction)])
                } catch MLflowClient.Failure.permanent(let status, let code, let message) {
                    try await store.mirrorDeadLetter(
                        uri: uri, run: id, operation: "runs/create", status: status, reason: "\(code): \(message)", stopRun: true)
                    return 0
                }
            }
            try await store.mirrorCreated(uri: uri, run: id, mlflowRunID: mlflowRun!)
        }
        let target = mlflowRun!

        if pending.syncedVersion < pending.version {
            var tags = detail.tags
            tags["mlagent.run_id"] = String(id)
            tags["mlagent.direction"] = run.direction
            tags["mlagent.job_id"] = String(run.jobID)
            tags["mlflow.runName"] = run.name
            let params = detail.params.sorted { $0.key < $1.key }.map { MLflowClient.Entry(key: $0.key, value: $0.value) }
            let tagEntries = tags.sorted { $0.key < $1.key }.map { MLflowClient.Entry(key: $0.key, value: $0.value) }
            for chunk in Self.chunks(params, Self.maxParams) {
                try await permanentIsDeadLetter(uri: uri, run: id, operation: "log-batch params") {
                    try await client.logBatch(run: target, params: chunk)
                }
            }
            for chunk in Self.chunks(tagEntries, Self.maxTags) {
                try await permanentIsDeadLetter(uri: uri, run: id, operation: "log-batch tags") {
                    try await client.logBatch(run: target, tags: chunk)
                }
            }
        }

        var cursor = pending.metricsCursor
        if let inflight = pending.inflightCursor, inflight > cursor {
            // A batch was sent before a crash without its acknowledgement being recorded:
            // if MLflow has its last point, it arrived (log-batch is one transaction there).
            let batch = try await store.mirrorPoints(run: id, after: cursor, limit: Self.maxMetrics).filter { $0.rowid <= inflight }
            if let last = batch.last {
                let history = try await client.history(run: target, key: last.point.key)
                if history.contains(where: {
                    $0.step == last.point.step && $0.timestamp == (last.point.timestamp ?? 0) && $0.value == last.point.value
                }) {
                    try await store.mirrorAdvance(uri: uri, run: id, through: last.rowid)
                    cursor = last.rowid
                }
            }
        }
        var sent = 0
        while true {
            let points = try await store.mirrorPoints(run: id, after: cursor, limit: Self.maxMetrics)
            guard let last = points.last else { break }
            try await store.mirrorInflight(uri: uri, run: id, through: last.rowid)
            try await permanentIsDeadLetter(uri: uri, run: id, operation: "log-batch metrics through point \(last.rowid)") {
                try await client.logBatch(
                    run: target,
                    metrics: points.map {
                        MLflowClient.Point(key: $0.point.key, value: $0.point.value, timestamp: $0.point.timestamp ?? 0, step: $0.point.step)
                    })
            }
            try await store.mirrorAdvance(uri: uri, run: id, through: last.rowid)
            cursor = last.rowid
            sent += points.count
        }

        var uploaded = pending.artifactsSent
        let root = URL(fileURLWithPath: core.config.stateDir).appendingPathComponent("artifacts/\(id)")
        for artifact in detail.artifacts where !uploaded.contains(artifact.name) {
            let source = root.appendingPathComponent(artifact.name).path
            for (file, path) in Self.files(source, as: artifact.name, isDirectory: artifact.isDirectory) {
                try await permanentIsDeadLetter(uri: uri, run: id, operation: "artifact upload \(path)") {
                    try await client.uploadArtifact(experimentID: experiment, run: target, path: path, file: file)
                }
            }
            uploaded.append(artifact.name)
            try await store.mirrorArtifactSent(uri: uri, run: id, sent: uploaded)
        }

        if run.status != .running {
            try await permanentIsDeadLetter(uri: uri, run: id, operation: "runs/update") {
                try await client.updateRun(
                    run: target, status: run.status == .finished ? "FINISHED" : "FAILED",
                    endTime: run.endedAt.map(Self.milliseconds))
            }
        }
        try await store.mirrorSynced(uri: uri, run: id, version: pending.version)
        return sent
    }

    /// Runs `body`; a permanent refusal is recorded as a dead letter and the mirror moves on.
    private func permanentIsDeadLetter(uri: String, run: Int64, operation: String, _ body: () async throws -> Void)
        async throws
    {
        do {
            try await body()
        } catch MLflowClient.Failure.permanent(let status, let code, let message) {
            try await core.store.mirrorDeadLetter(
                uri: uri, run: run, operation: operation, status: status, reason: "\(code): \(message)", stopRun: false)
        }
    }

    func status(serverPID: Int32?) async throws -> MLflowStatus {
        let uri = trackingURI
        let lag = uri.isEmpty ? nil : try await core.store.mirrorLag(uri: uri)
        return MLflowStatus(
            trackingURI: uri, experimentID: experiments[uri], serving: core.config.mlflowServe, serverPID: serverPID,
            runsMirrored: lag?.runsMirrored ?? 0, runsPending: lag?.runsPending ?? 0, pointsPending: lag?.pointsPending ?? 0,
            lastError: lastError, lastSuccess: lastSuccess.map(Timestamp.format), deadLetters: lag?.deadLetters ?? [])
    }

    // MARK: Helpers

    static func milliseconds(_ timestamp: String) -> Int64 {
        guard let date = try? Timestamp.parse(timestamp) else { return 0 }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func chunks<T>(_ items: [T], _ size: Int) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }

    /// The files of an artifact with their paths under the run's artifact root.
    static func files(_ source: String, as name: String, isDirectory: Bool) -> [(file: String, path: String)] {
        guard isDirectory else { return [(source, name)] }
        var result: [(String, String)] = []
        let enumerator = FileManager.default.enumerator(atPath: source)
        while let relative = enumerator?.nextObject() as? String {
            let full = (source as NSString).appendingPathComponent(relative)
            var directory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &directory), !directory.boolValue {
                result.append((full, name + "/" + relative))
            }
        }
        return result.sorted { $0.1 < $1.1 }
    }
}

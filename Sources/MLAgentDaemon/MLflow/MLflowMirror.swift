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
/// waits for it. Runs go to one experiment per workspace, nested under a parent run per
/// direction (`MLflowRunSync`).
actor MLflowMirror: Service {
    let core: DaemonCore
    private let logger: Logger
    private let signal = WakeSignal()
    private var backoff: Duration = .seconds(1)
    /// Per tracking URI: the experiment's id and name.
    private var experiments: [String: (id: String, name: String)] = [:]
    private var workspaceIdentity: String?
    private var datasetInputs: [MLflowClient.Dataset]?
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

    nonisolated func wake() { signal.wake() }

    func run() async throws {
        guard !trackingURI.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        await signal.run(every: .seconds(1), immediately: false) { await self.pass() }
    }

    /// One pass of the loop; after a transient failure (MLflow down or slow) the next waits,
    /// doubling up to 30 s. Nothing is lost meanwhile.
    private func pass() async {
        do {
            _ = try await drain(uri: trackingURI)
            backoff = .seconds(1)
        } catch {
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
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
            let workspaceID = try await self.workspaceID()
            let experiment = try await experimentID(uri: uri, client: client, workspaceID: workspaceID)
            let sync = MLflowRunSync(
                core: core, uri: uri, experiment: experiment, client: client, workspaceID: workspaceID, datasets: await datasets())
            // Parents first, so that new runs are created nested.
            for direction in try await core.store.mirrorDirectionsPending(uri: uri) {
                try await sync.direction(direction)
            }
            while true {
                let pending = try await core.store.mirrorPending(uri: uri, limit: 50)
                if pending.isEmpty { break }
                for run in pending {
                    points += try await sync.run(run)
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

    private func workspaceID() async throws -> String {
        if let known = workspaceIdentity { return known }
        let id = try await core.store.mirrorWorkspaceID()
        workspaceIdentity = id
        return id
    }

    /// The dataset inputs of every run, read once from the workspace's main.
    private func datasets() async -> [MLflowClient.Dataset] {
        if let known = datasetInputs { return known }
        do {
            let found = try await MLflowDatasets.read(workspace: core.config.workspace)
            datasetInputs = found
            return found
        } catch {
            logger.warning("MLflow mirror: no dataset inputs", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// The experiment of this workspace: `[mlflow] experiment` when set; else one named after
    /// the workspace and tagged with its id, with the id's start appended when another
    /// workspace already holds the name.
    private func experimentID(uri: String, client: MLflowClient, workspaceID: String) async throws -> String {
        if let known = experiments[uri] { return known.id }
        var configured = core.config.mlflowExperiment
        if configured.isEmpty { configured = try await core.store.mirrorInheritedExperiment() ?? "" }
        if !configured.isEmpty {
            let found = try await client.ensureExperiment(named: configured)
            experiments[uri] = (found.id, configured)
            return found.id
        }
        let base = MLflowTags.workspaceName(workspace: core.config.workspace)
        let policy = core.config.evaluationPolicy
        let tags: [MLflowClient.Entry] = [
            .init(key: MLflowTags.workspaceID, value: workspaceID), .init(key: MLflowTags.workspace, value: core.config.workspace),
            .init(key: MLflowTags.metric, value: policy.metric),
            .init(
                key: MLflowTags.note,
                value: """
                    Research runs of the mlagent workspace \(core.config.workspace) (id \(workspaceID)). Each research \
                    direction is a parent run with the runs its agent tried nested under it. Runs are scored by \
                    \(policy.metric) (\(policy.higherIsBetter ? "higher" : "lower") is better): public_val_score on the public \
                    validation split, private_val_score once per direction at submission.
                    """),
        ]
        for name in [base, "\(base) (\(workspaceID.prefix(8)))"] {
            let found = try await client.ensureExperiment(named: name, tags: tags)
            if found.tags[MLflowTags.workspaceID] == workspaceID {
                experiments[uri] = (found.id, name)
                return found.id
            }
        }
        throw MLflowClient.Failure.transient("the experiments \(base) and \(base) (\(workspaceID.prefix(8))) belong to other workspaces; set [mlflow] experiment")
    }

    func status(serverPID: Int32?) async throws -> MLflowStatus {
        let uri = trackingURI
        let lag = uri.isEmpty ? nil : try await core.store.mirrorLag(uri: uri)
        return MLflowStatus(
            trackingURI: uri, experimentID: experiments[uri]?.id, experimentName: experiments[uri]?.name, serving: core.config.mlflowServe, serverPID: serverPID,
            runsMirrored: lag?.runsMirrored ?? 0, runsPending: lag?.runsPending ?? 0, pointsPending: lag?.pointsPending ?? 0,
            lastError: lastError, lastSuccess: lastSuccess.map(Timestamp.format), tagsCut: lag?.tagsCut ?? 0,
            deadLetters: lag?.deadLetters ?? [])
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

import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// The only writer of the workspace's `main`. It carries out pending intents in order:
/// landings on `main` (one `git fast-import` commit each, tagged with the intent id so that a
/// replay after a crash is recognised) and the archiving of finished worktrees.
actor MergeActor: Service {
    let core: DaemonCore
    let workspace: Workspace
    let logger: Logger
    private let signal = WakeSignal()
    private var failures: [Int64: Int] = [:]
    /// A failing intent is retried with backoff (1 s doubling), not on every wake-up: a lock
    /// held for a few seconds (a `git gc` by hand) must not use up its attempts at once.
    private var retryAt: [Int64: ContinuousClock.Instant] = [:]
    /// `main` changed (or the daemon started) and the configured remote has yet to get it.
    private var pushPending = true
    private var nextPush = ContinuousClock.now
    private var pushDelay: Duration = .seconds(1)
    static let maxFailures = 5

    /// Runs a proposal's tests again when `main` moved since they passed (nil: no shared code).
    let tester: ShareTester?

    init(core: DaemonCore, workspace: Workspace, tester: ShareTester? = nil) {
        self.core = core
        self.workspace = workspace
        self.tester = tester
        self.logger = core.logger
    }

    /// Runs `body` while no landing can change `main`.
    func holdingMain<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await drainLock.withLock(body)
    }

    /// Asks the actor to look for pending intents now.
    nonisolated func wake() { signal.wake() }

    func run() async throws {
        // Every 2 s as well: a retry for intents that failed transiently.
        await signal.run(every: .seconds(2)) { await self.drain() }
        // Finish what is pending before the daemon exits.
        await drain()
    }

    /// Carries out every pending intent, in order. Callers queue behind a drain in progress:
    /// two passes over the same intents would land them twice.
    func drain() async {
        await drainLock.acquire()
        await drainPending()
        await pushIfNeeded()
        await drainLock.release()
    }

    /// Pushes `main` to `push_remote` after landings, retrying with backoff until it succeeds.
    private func pushIfNeeded() async {
        let remote = core.config.pushRemote
        guard !remote.isEmpty, pushPending, ContinuousClock.now >= nextPush else { return }
        do {
            try await workspace.pushMain(to: remote)
            pushPending = false
            pushDelay = .seconds(1)
            logger.info("pushed main", metadata: ["remote": "\(remote)"])
        } catch {
            nextPush = ContinuousClock.now + pushDelay
            logger.warning(
                "push of main failed; retrying", metadata: ["remote": "\(remote)", "retry_in": "\(DurationText.format(pushDelay))", "error": "\(error)"])
            pushDelay = min(pushDelay * 2, .seconds(300))
        }
    }

    let drainLock = AsyncLock()

    private func drainPending() async {
        guard let pending = try? await core.store.pendingIntents(), !pending.isEmpty else { return }
        var index = 0
        while index < pending.count {
            if let next = retryAt[pending[index].id], ContinuousClock.now < next { return }
            // A run of consecutive landings goes out as one batch; archives go one by one.
            var batch: [Intent] = []
            while index < pending.count, pending[index].kind == .land, batch.count < Self.maxBatch {
                batch.append(pending[index])
                index += 1
            }
            do {
                if batch.isEmpty {
                    let intent = pending[index]
                    index += 1
                    if intent.kind == .share {
                        try await landShare(intent)
                    } else {
                        let commit = try await archive(intent)
                        try await core.store.completeIntent(intent, commit: commit)
                    }
                    failures[intent.id] = nil
                    retryAt[intent.id] = nil
                } else {
                    try await landBatch(batch)
                    for intent in batch {
                        failures[intent.id] = nil
                        retryAt[intent.id] = nil
                    }
                }
            } catch {
                let intent = batch.first ?? pending[index - 1]
                let count = (failures[intent.id] ?? 0) + 1
                failures[intent.id] = count
                logger.error(
                    "intent failed", metadata: ["intent": "\(intent.id)", "kind": "\(intent.kind.rawValue)", "error": "\(error)"])
                if count >= Self.maxFailures {
                    try? await core.store.failIntent(intent, error: "\(error)")
                    failures[intent.id] = nil
                    retryAt[intent.id] = nil
                } else {
                    retryAt[intent.id] = ContinuousClock.now + .seconds(1 << (count - 1))
                }
                // Later intents must not overtake a failing one.
                return
            }
        }
    }

    static let maxBatch = 64

    /// Lands a run of `land` intents: those already on main (a replay after a crash) are only
    /// marked done; the others become one commit each, written by one fast-import.
    private func landBatch(_ intents: [Intent]) async throws {
        let landed = try await workspace.landedIntents()
        var toLand: [(Intent, Workspace.Landing)] = []
        for intent in intents {
            if let commit = landed[intent.id] {
                try await core.store.completeIntent(intent, commit: commit)
                continue
            }
            let landing = intent.isFinalCost
                ? try await finalCostLanding(for: intent, after: toLand.map(\.1)) : try await landing(for: intent)
            guard let landing else {
                try await core.store.completeIntent(intent, commit: nil)
                continue
            }
            toLand.append((intent, landing))
        }
        guard !toLand.isEmpty else { return }
        let commits = try await workspace.land(batch: toLand.map(\.1))
        for (intent, _) in toLand { try? FileManager.default.removeItem(atPath: scratchDirectory(intent)) }
        pushPending = true
        for ((intent, landing), commit) in zip(toLand, commits) {
            try await core.store.completeIntent(intent, commit: commit)
            logger.info("landed", metadata: ["direction": "\(intent.direction ?? "")", "commit": "\(commit)", "message": "\(landing.message)"])
        }
    }

    /// What a `land` intent writes: the direction file rendered from the current records and,
    /// for the final landing, `mlruns/<direction>/<run>/` of every run (run.json,
    /// metrics.jsonl, artifacts/), all in one commit.
    func landing(for intent: Intent) async throws -> Workspace.Landing? {
        guard let name = intent.direction, var direction = try await core.store.direction(named: name) else { return nil }
        let final = intent.payload["final"] == .bool(true)
        if !final {
            // The start landing shows the direction as it was when the intent was recorded,
            // even when the direction ended before the merge actor got to it (the final
            // landing then carries the end: never two final commits, never an empty one).
            direction.status = "in_progress"
            direction.finishedAt = nil
            direction.learnings = nil
            direction.submittedRun = nil
            direction.overfit = false
        }
        var files: [String: Workspace.Landing.Content] = [:]
        var results: DirectionFile.Results?
        if final {
            let policy = core.config.evaluationPolicy
            let details = try await core.store.runDetails(direction: name, policy: policy)
            let scratch = scratchDirectory(intent)
            try? FileManager.default.removeItem(atPath: scratch)
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            // The direction's share of main: the submitted run's artifacts first, then the other
            // runs' in order, while they fit `land_direction_artifact_bytes`.
            let submitted = details.first { $0.run.id == direction.submittedRun }.map(\.run.id)
            let landingOrder = details.sorted { ($0.run.id == submitted ? 0 : 1, $0.run.id) < ($1.run.id == submitted ? 0 : 1, $1.run.id) }
            var landable = Set<Int64>()
            var directionBytes: Int64 = 0
            for detail in landingOrder {
                let bytes = detail.artifacts.reduce(Int64(0)) { $0 + $1.bytes }
                guard bytes <= core.config.landArtifactBytes, directionBytes + bytes <= core.config.landDirectionArtifactBytes
                else { continue }
                directionBytes += bytes
                landable.insert(detail.run.id)
            }
            for detail in details {
                let id = detail.run.id
                let prefix = "mlruns/\(name)/\(id)"
                let metricsPath = (scratch as NSString).appendingPathComponent("\(id).jsonl")
                guard FileManager.default.createFile(atPath: metricsPath, contents: nil),
                    let handle = FileHandle(forWritingAtPath: metricsPath)
                else { throw ConfigError("cannot write \(metricsPath)") }
                try await core.store.exportMetrics(run: id, to: handle)
                try handle.close()
                files[prefix + "/metrics.jsonl"] = .file(metricsPath)
                let landed = landable.contains(id)
                if landed {
                    let stored = artifactsRoot.appendingPathComponent(String(id))
                    for artifact in detail.artifacts {
                        if let problem = GitPathRules.problem(prefix + "/artifacts/" + artifact.name) {
                            logger.warning(
                                "artifact not landed", metadata: ["run": "\(id)", "artifact": "\(artifact.name)", "reason": "\(problem)"])
                            continue
                        }
                        let source = stored.appendingPathComponent(artifact.name).path
                        files[prefix + "/artifacts/" + artifact.name] = artifact.isDirectory ? .directory(source) : .file(source)
                    }
                }
                files[prefix + "/run.json"] = .text(try RunFile(detail, artifactsLanded: landed).render())
            }
            results = try await self.results(of: name, details: details)
        }
        files["research_directions/\(name).md"] = .text(try await directionFile(direction, results: results, final: final))
        let runs = files.keys.filter { $0.hasSuffix("/run.json") }.count
        return Workspace.Landing(
            intentID: intent.id, message: "\(name): \(direction.status)\(runs > 0 ? " (\(runs) run\(runs == 1 ? "" : "s"))" : "")",
            files: files)
    }

    private var artifactsRoot: URL {
        URL(fileURLWithPath: core.config.stateDir).appendingPathComponent("artifacts")
    }

    /// Where a landing's metric exports are written before fast-import reads them.
    private func scratchDirectory(_ intent: Intent) -> String {
        (core.config.stateDir as NSString).appendingPathComponent("landing/\(intent.id)")
    }

    /// Carries out an `archive` intent (idempotent: a worktree already removed is done).
    private func archive(_ intent: Intent) async throws -> String? {
        guard case .string(let worktree)? = intent.payload["worktree"] else { return nil }
        let fallback: String
        if case .string(let branch)? = intent.payload["fallback_branch"] { fallback = branch } else { fallback = "exp/job-\(intent.jobID ?? 0)" }
        let message: String
        if case .string(let text)? = intent.payload["message"] { message = text } else { message = "Archive" }
        return try await workspace.archiveAndRemove(worktree: worktree, fallbackBranch: fallback, message: message)
    }
}

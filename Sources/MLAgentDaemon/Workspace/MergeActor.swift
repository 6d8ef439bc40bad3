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
    private let logger: Logger
    private var wakeUp: AsyncStream<Void>.Continuation?
    private var failures: [Int64: Int] = [:]
    static let maxFailures = 5

    init(core: DaemonCore, workspace: Workspace) {
        self.core = core
        self.workspace = workspace
        self.logger = core.logger
    }

    /// Asks the actor to look for pending intents now.
    nonisolated func wake() {
        Task { await self.signal() }
    }

    private func signal() { wakeUp?.yield() }

    func run() async throws {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeUp = continuation
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // A periodic retry for intents that failed transiently.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(2))
                        continuation.yield()
                    }
                }
                continuation.yield()
                for await _ in stream {
                    if Task.isCancelled { break }
                    await self.drain()
                }
                group.cancelAll()
            }
        }
        // Finish what is pending before the daemon exits.
        await drain()
    }

    /// Carries out every pending intent, in order. Callers queue behind a drain in progress:
    /// two passes over the same intents would land them twice.
    func drain() async {
        await drainLock.acquire()
        await drainPending()
        await drainLock.release()
    }

    private let drainLock = AsyncLock()

    private func drainPending() async {
        guard let pending = try? await core.store.pendingIntents() else { return }
        for intent in pending {
            do {
                let commit = try await apply(intent)
                try await core.store.completeIntent(intent, commit: commit)
                failures[intent.id] = nil
            } catch {
                let count = (failures[intent.id] ?? 0) + 1
                failures[intent.id] = count
                logger.error(
                    "intent failed", metadata: ["intent": "\(intent.id)", "kind": "\(intent.kind.rawValue)", "error": "\(error)"])
                if count >= Self.maxFailures {
                    try? await core.store.failIntent(intent, error: "\(error)")
                    failures[intent.id] = nil
                }
                // Later intents of the same direction must not overtake this one.
                return
            }
        }
    }

    func apply(_ intent: Intent) async throws -> String? {
        switch intent.kind {
        case .land:
            if let existing = try await workspace.commitForIntent(intent.id) { return existing }
            guard let name = intent.direction, let direction = try await core.store.direction(named: name) else {
                return nil
            }
            let job = try? await core.store.job(id: direction.jobID)
            let files: [String: Workspace.Landing.Content] = [
                "research_directions/\(name).md": .text(DirectionFile.render(direction, job: job))
            ]
            let commit = try await workspace.land(
                Workspace.Landing(intentID: intent.id, message: "\(name): \(direction.status)", files: files))
            logger.info("landed", metadata: ["direction": "\(name)", "commit": "\(commit)", "status": "\(direction.status)"])
            return commit
        case .archive:
            guard case .string(let worktree)? = intent.payload["worktree"] else { return nil }
            let fallback: String
            if case .string(let branch)? = intent.payload["fallback_branch"] { fallback = branch } else { fallback = "exp/job-\(intent.jobID ?? 0)" }
            let message: String
            if case .string(let text)? = intent.payload["message"] { message = text } else { message = "Archive" }
            return try await workspace.archiveAndRemove(worktree: worktree, fallbackBranch: fallback, message: message)
        }
    }
}

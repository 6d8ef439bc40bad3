import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// The rolling pool: launches queued jobs (priority, then FIFO) while fewer than
/// `max_agents` run and the queue is not paused, watches each agent's process group, and
/// enforces the wall-clock budget, stall timeout and cancellation. Jobs end through the store,
/// which records what the merge actor must land.
actor Scheduler: Service {
    struct Agent {
        var job: Job
        var pid: Int32
        /// The agent's process group and sandbox, signalled as one.
        var processes: AgentProcesses
        var token: String
        var worktree: String
        var logPath: String
        var started: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
        var gpu: String?
        /// Our own child (reaped with waitpid) or re-adopted after a restart (polled).
        var adopted: Bool
        var stopping: Stopping?
        /// The agent's cgroup (nil under rlimits), and the limit hits already reported.
        var cgroup: JobCgroup? = nil
        var limitEvents = JobCgroup.Events()
        /// A job on the Slurm cluster instead of a local process.
        var slurm: SlurmTrack? = nil
    }

    /// What the scheduler knows of a Slurm job: its id (nil while a submission a crash left
    /// unrecorded is looked up by name), the state the last poll saw, and polls that missed it.
    struct SlurmTrack {
        var id: String?
        var state: SlurmExecutor.JobState?
        var missing = 0
        var running = false
    }

    struct Stopping {
        var ending: Store.Ending
        var signalled: ContinuousClock.Instant
        var killed: Bool
    }

    let core: DaemonCore
    let launcher: AgentLauncher
    let workspace: Workspace
    let merge: MergeActor
    /// Follows running agents' logs for their tokens and cost (`usage` in their profile).
    let usage: UsageMeter
    /// Agents' cgroups or rlimits (`max_processes`, `max_memory`, `cpu_weight`).
    let limits: AgentLimits
    let logger: Logger
    var agents: [Int64: Agent] = [:]
    let signal = WakeSignal()
    var endWaiters: [Int64: [CheckedContinuation<Void, Never>]] = [:]
    /// Local jobs claimed whose agent is being started (Slurm jobs: `submitting`), and cancels
    /// that arrived meanwhile for either.
    var launching: Set<Int64> = []
    /// Slurm jobs claimed whose `sbatch` has not answered yet: they count in the cluster's pool.
    var submitting: Set<Int64> = []
    var pendingCancels: [Int64: String] = [:]
    /// `autonomy = "ask"`: set after a direction ends, cleared by `mlagentctl continue`.
    var awaitingOperator = false
    /// `mlagentctl stop`: no autonomous launches until `resume`.
    var stopped = false

    /// Submits and tracks the agents of `executor = "slurm"` profiles.
    let executor: SlurmExecutor
    var nextSlurmPoll = ContinuousClock.now

    init(core: DaemonCore, launcher: AgentLauncher, workspace: Workspace, merge: MergeActor, limits: AgentLimits) {
        self.executor = SlurmExecutor(config: core.config.slurm)
        self.core = core
        self.launcher = launcher
        self.workspace = workspace
        self.merge = merge
        self.usage = UsageMeter(core: core)
        self.logger = core.logger
        self.limits = limits
    }

    nonisolated func wake() { signal.wake() }

    func run() async throws {
        await reconcile()
        await signal.run(every: .milliseconds(200), immediately: false) { await self.tick() }
        // Agents keep running across a daemon restart and are re-adopted at the next start.
        logger.info("scheduler stopped", metadata: ["agents_left_running": "\(agents.count)"])
    }

    /// One pass: reap exited agents, enforce budgets, fill the pool.
    func tick() async {
        await pollSlurm()
        await reap()
        await meterUsage()
        await checkLimits()
        enforce()
        await fill()
    }

    // MARK: Launching

    private func fill() async {
        // Slurm submissions claimed in this pass, made together once the pools are full.
        var submissions: [Store.LaunchTicket] = []
        while let full = fullPools() {
            if core.store.isPaused() { break }
            if core.usage.sessionCapReached(core.config.maxSessionCostUSD) { break }
            await enqueueAutonomousIfNeeded()
            // Nothing queued: no transaction (the counts are cached in memory).
            if (core.store.counts()[.queued] ?? 0) == 0 { break }
            let ticket: Store.LaunchTicket?
            do {
                // Pending archives must finish first: a retried job reuses its branch.
                await merge.drain()
                let worktrees = workspace.worktreesDir
                let logs = (core.config.stateDir as NSString).appendingPathComponent("logs")
                let cluster = Set(core.config.agents.filter { $0.value.executor == .slurm }.keys)
                let root = core.config.slurm.worktreeRoot
                ticket = try await core.store.claimNextJob(
                    maxRunning: core.config.maxAgents + (cluster.isEmpty ? 0 : core.config.slurm.maxJobs), excluding: full,
                    worktree: { job in
                        ((cluster.contains(job.agent) ? (root as NSString).appendingPathComponent("worktrees") : worktrees) as NSString)
                            .appendingPathComponent("job-\(job.id)")
                    },
                    logPath: { job in
                        ((cluster.contains(job.agent) ? (root as NSString).appendingPathComponent("logs") : logs) as NSString)
                            .appendingPathComponent("job-\(job.id).log")
                    })
            } catch {
                logger.error("cannot claim a job", metadata: ["error": "\(error)"])
                break
            }
            guard let ticket else { break }
            if let profile = core.config.agents[ticket.job.agent], profile.executor == .slurm {
                submitting.insert(ticket.job.id)
                submissions.append(ticket)
                continue
            }
            await launch(ticket)
        }
        // The submissions go on beside the next ticks: polls, reaping and local launches must
        // not wait for sbatch. The jobs are in `submitting`, so the pool counts them meanwhile.
        if !submissions.isEmpty {
            Task { await self.submitAll(submissions) }
        }
    }

    private func launch(_ ticket: Store.LaunchTicket) async {
        let job = ticket.job
        var log = logger
        log[metadataKey: "job.id"] = "\(job.id)"
        log[metadataKey: "direction"] = "\(job.direction)"
        guard let profile = core.config.agents[job.agent] else {
            _ = try? await core.store.endJob(
                id: job.id,
                ending: .exited(status: "was not started: agent profile \"\(job.agent)\" is not configured", logTail: ""),
                maxAttempts: 0)
            return
        }
        let worktree = job.worktree ?? ""
        let logPath = job.logPath ?? ""
        launching.insert(job.id)
        defer { launching.remove(job.id) }
        var cgroup: JobCgroup?
        do {
            let (_, main) = try await workspace.addWorktreeFromMain(
                name: (worktree as NSString).lastPathComponent,
                branch: job.direction.isEmpty ? nil : "exp/\(job.direction)")
            try await core.store.recordBaseCommit(jobID: job.id, commit: main)
            merge.wake()
            let gpu = freeGPU()
            var launch = AgentLauncher.Launch(
                job: job, token: ticket.token, worktree: worktree, logPath: logPath, profile: profile, gpu: gpu)
            launch.shared = try await SharedPrompt.context(for: job, worktree: worktree, store: core.store)
            (launch.confinement, cgroup) = try limits.confine(jobID: job.id, profile: profile)
            let launcher = launcher
            // Under the workspace lock: no git child (and none of its pipes) exists meanwhile.
            let processes = try await workspace.lock.withLock { [launch] in try launcher.start(launch) }
            let pid = processes.leader ?? 0
            let now = ContinuousClock.now
            agents[job.id] = Agent(
                job: job, pid: pid, processes: processes, token: ticket.token, worktree: worktree, logPath: logPath,
                started: now, deadline: now + profile.timeout, lastSeen: now, gpu: gpu, adopted: false, stopping: nil,
                cgroup: cgroup)
            try await core.store.recordProcess(jobID: job.id, pid: pid)
            if limits.cgroups == nil { await recordUnenforcedLimits(job) }
            log.info("agent started", metadata: ["pid": "\(pid)", "agent": "\(job.agent)", "worktree": "\(worktree)"])
            if let reason = pendingCancels.removeValue(forKey: job.id) {
                stop(job.id, ending: .cancelled(reason: reason), event: EventKind.agentKilled)
            }
        } catch {
            if agents[job.id] == nil { _ = AgentLimits.finish(cgroup) }
            pendingCancels[job.id] = nil
            log.error("agent could not start", metadata: ["error": "\(error)"])
            _ = try? await core.store.endJob(
                id: job.id, ending: .exited(status: "could not start (\(error))", logTail: ""), maxAttempts: 0)
            merge.wake()
            for waiter in endWaiters.removeValue(forKey: job.id) ?? [] { waiter.resume() }
        }
    }

    private func freeGPU() -> String? {
        let gpus = core.config.gpus
        guard !gpus.isEmpty else { return nil }
        let used = Set(agents.values.compactMap(\.gpu))
        return gpus.first { !used.contains($0) } ?? gpus[agents.count % gpus.count]
    }

    private func enqueueAutonomousIfNeeded() async {
        let config = core.config
        guard config.autonomy != .manual, !stopped, !awaitingOperator else { return }
        let counts = core.store.counts()
        guard (counts[.queued] ?? 0) == 0, agents.count < config.maxAgents else { return }
        let started = ((try? await core.store.directions()) ?? []).count
            + agents.values.filter { $0.job.direction.isEmpty && $0.job.reviewOf == nil }.count
        guard started < config.maxDirections else { return }
        _ = try? await core.store.enqueue(.init(direction: "", guidance: "", agent: config.defaultAgent, priority: 0))
    }

    // MARK: Watching

    private func reap() async {
        for (id, agent) in agents {
            var status: Int32 = 0
            let exited: Bool
            var description = ""
            var retry = true
            var slurmEnding: Store.Ending?
            if agent.slurm != nil {
                guard let ended = self.slurmEnding(agent) else { continue }
                (slurmEnding, retry) = (ended.ending, ended.retry)
                exited = true
            } else if agent.adopted {
                // Not our child: gone, or a zombie its new parent has not reaped yet.
                exited = (kill(agent.pid, 0) != 0 && errno == ESRCH) || ProcessTable.isZombie(agent.pid)
                description = "exited"
            } else {
                let result = waitpid(agent.pid, &status, WNOHANG)
                exited = result == agent.pid || (result < 0 && errno == ECHILD)
                if result == agent.pid {
                    let signal = status & 0x7f
                    description = signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
                } else {
                    description = "exited"
                }
            }
            guard exited else { continue }
            // Whatever is left of the group, the sandbox and the cgroup goes too.
            agent.processes.killAll()
            let hits = agent.cgroup.map {
                AgentLimits.hits($0.events(), since: agent.limitEvents, profile: core.config.agents[agent.job.agent])
            } ?? []
            await reportLimitHits(id, agent, hits)
            if let hit = hits.first { description += " after \(hit.reason)" }
            let resources = AgentLimits.finish(agent.cgroup)
            try? await core.store.recordResources(jobID: id, resources: resources)
            agents[id] = nil
            await usage.finish(Self.metered(id, agent))
            let ending = agent.stopping?.ending ?? slurmEnding ?? .exited(status: description, logTail: Self.tail(of: agent.logPath))
            do {
                let job = try await core.store.endJob(id: id, ending: ending, maxAttempts: retry ? core.config.maxAttempts : 0)
                logger.info(
                    "agent ended",
                    metadata: ["job.id": "\(id)", "direction": "\(job.direction)", "state": "\(job.state.rawValue)"])
                if job.state.isFinal, core.config.autonomy == .ask, !stopped {
                    awaitingOperator = true
                    let what = job.direction.isEmpty ? "job \(id)" : "direction \(job.direction)"
                    _ = try? await core.store.write { context in
                        try context.appendEvent(
                            kind: EventKind.sessionReport, jobID: id, direction: job.direction,
                            message: "\(what) ended (\(job.state.rawValue)); no autonomous launch until `mlagentctl continue`",
                            data: ["awaiting": true, "state": .string(job.state.rawValue)])
                    }
                }
            } catch let error as RPCError where error.kind == .invalidState {
                // The job already ended elsewhere (cancelled before its agent was registered).
                logger.notice("agent of an already ended job exited", metadata: ["job.id": "\(id)", "error": "\(error)"])
            } catch {
                // Keep the (already reaped) agent so that the next tick records the end again.
                logger.error("cannot record the end of job \(id); retrying", metadata: ["error": "\(error)"])
                var again = agent
                again.adopted = true
                again.cgroup = nil
                again.stopping = Stopping(ending: ending, signalled: .now, killed: true)
                agents[id] = again
                continue
            }
            merge.wake()
            for waiter in endWaiters.removeValue(forKey: id) ?? [] { waiter.resume() }
        }
    }

    private func enforce() {
        let now = ContinuousClock.now
        for (id, agent) in agents {
            if let stopping = agent.stopping {
                if !stopping.killed, now - stopping.signalled >= core.config.killGrace {
                    if agent.slurm != nil { signalSlurm(agent, kill: true) } else { agent.processes.killAll() }
                    agents[id]?.stopping?.killed = true
                }
                continue
            }
            if now >= agent.deadline {
                let budget = DurationText.format(agent.deadline - agent.started)
                stop(id, ending: .timedOut(reason: "the agent ran past its wall-clock budget of \(budget)"), event: EventKind.agentKilled)
            } else if now - agent.lastSeen >= core.config.stallTimeout {
                let quiet = DurationText.format(core.config.stallTimeout)
                stop(id, ending: .stalled(reason: "the agent made no protocol call for \(quiet)"), event: EventKind.agentStalled)
            }
        }
    }

    /// Reads the agents' usage; a job at a cost cap is stopped like a cancelled one.
    private func meterUsage() async {
        let running = agents.filter { $0.value.stopping == nil }.map { Self.metered($0.key, $0.value) }
        for hit in await usage.poll(running) {
            stop(hit.jobID, ending: .cancelled(reason: hit.reason), event: EventKind.agentKilled)
        }
    }

    /// For the limit checks (Scheduler+Limits).
    var agentsByID: [Int64: Agent] { agents }
    func noteLimitEvents(_ id: Int64, _ events: JobCgroup.Events) { agents[id]?.limitEvents = events }
    func stopForLimit(_ id: Int64, reason: String) { stop(id, ending: .cancelled(reason: reason), event: EventKind.agentKilled) }

    /// SIGTERM to the agent's processes now, SIGKILL to all of them after the grace period.
    func stop(_ id: Int64, ending: Store.Ending, event: String) {
        guard var agent = agents[id], agent.stopping == nil else { return }
        agent.stopping = Stopping(ending: ending, signalled: .now, killed: false)
        agents[id] = agent
        if agent.slurm != nil { signalSlurm(agent, kill: false) } else { agent.processes.terminate() }
        let reason: String
        switch ending {
        case .cancelled(let why), .timedOut(let why), .stalled(let why): reason = why
        default: reason = "stopping"
        }
        let job = agent.job
        let pid = agent.pid
        let what = agent.slurm?.id.map { "Slurm job \($0)" } ?? "pid \(pid)"
        Task {
            _ = try? await core.store.write { context in
                try context.appendEvent(
                    kind: event, jobID: id, direction: job.direction,
                    message: "job \(id): stopping the agent (\(what)): \(reason)",
                    data: ["pid": .int(Int64(pid))])
            }
        }
        logger.notice("stopping agent", metadata: ["job.id": "\(id)", "reason": "\(reason)"])
    }

    static func tail(of path: String, lines: Int = 10) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > 4096 ? size - 4096 : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

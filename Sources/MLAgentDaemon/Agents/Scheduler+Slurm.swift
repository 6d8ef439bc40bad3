import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore

/// Agents of `executor = "slurm"` profiles: the same worktree, prompt, environment, sandbox,
/// token and budgets as a local agent, submitted with ``SlurmExecutor`` and tracked by one
/// `squeue` per `[slurm] poll_interval` for every job together.
extension Scheduler {
    /// The profiles whose pool is full (local agents: `max_agents`; Slurm jobs: `[slurm]
    /// max_jobs`), or nil when both are.
    func fullPools() -> Set<String>? {
        let cluster = Set(core.config.agents.filter { $0.value.executor == .slurm }.keys)
        let tracked = agents.values.filter { $0.slurm != nil }.count
        let onCluster = tracked + submitting.count
        let localFull = agents.count - tracked >= core.config.maxAgents
        let clusterFull = cluster.isEmpty || onCluster >= core.config.slurm.maxJobs
        if localFull, clusterFull { return nil }
        var full = Set<String>()
        if localFull { full.formUnion(core.config.agents.keys.filter { !cluster.contains($0) }) }
        if clusterFull { full.formUnion(cluster) }
        return full
    }

    /// Submits the jobs claimed in one pass, up to eight `sbatch` calls at once: on a busy
    /// controller each takes a while, and one after the other they would hold the pool back.
    func submitAll(_ tickets: [Store.LaunchTicket]) async {
        let work = tickets.compactMap { ticket in core.config.agents[ticket.job.agent].map { (ticket, $0) } }
        guard !work.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for (index, (ticket, profile)) in work.enumerated() {
                if index >= 8 { await group.next() }
                group.addTask { await self.submit(ticket, profile: profile) }
            }
        }
    }

    /// Submits a claimed job to Slurm: the submission is recorded before `sbatch` runs and its
    /// id right after.
    func submit(_ ticket: Store.LaunchTicket, profile: AgentProfile) async {
        let job = ticket.job
        defer { submitting.remove(job.id) }
        var log = logger
        log[metadataKey: "job.id"] = "\(job.id)"
        let worktree = job.worktree ?? ""
        let logPath = job.logPath ?? ""
        do {
            try FileManager.default.createDirectory(
                atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let (_, main) = try await workspace.addWorktreeFromMain(
                name: (worktree as NSString).lastPathComponent, branch: job.direction.isEmpty ? nil : "exp/\(job.direction)",
                directory: (worktree as NSString).deletingLastPathComponent)
            try await core.store.recordBaseCommit(jobID: job.id, commit: main)
            merge.wake()
            var launch = AgentLauncher.Launch(job: job, token: ticket.token, worktree: worktree, logPath: logPath, profile: profile, gpu: nil)
            launch.shared = try await SharedPrompt.context(for: job, worktree: worktree, store: core.store)
            var prepared = try launcher.prepare(launch)
            // An agent on another node reaches the daemon over TLS (`[daemon] listen`).
            if let endpoint = core.remoteEndpoint.current {
                prepared.environment["MLAGENT_ADDRESS"] = endpoint.address
                prepared.environment["MLAGENT_TLS_FINGERPRINT"] = endpoint.fingerprint
            }
            try await core.store.beginSlurmSubmission(jobID: job.id)
            let limit = core.config.slurm.timeLimit(profileTimeout: profile.timeout)
            let id = try await executor.submit(
                jobID: job.id, argv: prepared.argv, environment: prepared.environment, worktree: worktree, logPath: logPath,
                timeLimit: limit, graceSeconds: min(300, max(30, (Int(limit) ?? 1) * 6)), sandboxed: core.config.sandbox == .bwrap,
                scriptPath: (logPath as NSString).deletingPathExtension + ".sbatch")
            try await core.store.recordSlurmSubmission(jobID: job.id, slurmJobID: id)
            let now = ContinuousClock.now
            agents[job.id] = Agent(
                job: job, pid: 0, processes: AgentProcesses(leader: nil), token: ticket.token, worktree: worktree, logPath: logPath,
                started: now, deadline: now + profile.timeout, lastSeen: now, gpu: nil, adopted: true, stopping: nil,
                slurm: SlurmTrack(id: id))
            log.info("agent submitted to Slurm", metadata: ["slurm.job.id": "\(id)", "agent": "\(job.agent)", "worktree": "\(worktree)"])
            if let reason = pendingCancels.removeValue(forKey: job.id) {
                stop(job.id, ending: .cancelled(reason: reason), event: EventKind.agentKilled)
            }
        } catch {
            pendingCancels[job.id] = nil
            log.error("agent could not be submitted to Slurm", metadata: ["error": "\(error)"])
            _ = try? await core.store.endJob(
                id: job.id, ending: .exited(status: "could not be submitted to Slurm (\(error))", logTail: ""), maxAttempts: 0)
            merge.wake()
            for waiter in endWaiters.removeValue(forKey: job.id) ?? [] { waiter.resume() }
        }
    }

    /// One `squeue` for every Slurm job, each `poll_interval`: states recorded (with their
    /// events), budgets counted from the start on a node, submissions a crash left unrecorded
    /// looked up by name.
    func pollSlurm() async {
        let now = ContinuousClock.now
        guard agents.values.contains(where: { $0.slurm != nil }), now >= nextSlurmPoll else { return }
        nextSlurmPoll = now + core.config.slurm.pollInterval
        // Submissions a crash left unrecorded, all looked up by name in one call.
        let unrecorded = agents.filter { $0.value.slurm != nil && $0.value.slurm?.id == nil }.keys.sorted()
        if !unrecorded.isEmpty, let found = try? await executor.find(jobIDs: unrecorded) {
            for id in unrecorded {
                guard let job = found[id] else {
                    agents[id]?.slurm?.missing += 1
                    continue
                }
                agents[id]?.slurm?.id = job.id
                try? await core.store.recordSlurmSubmission(jobID: id, slurmJobID: job.id)
                logger.notice("found the Slurm job of an unrecorded submission", metadata: ["job.id": "\(id)", "slurm.job.id": "\(job.id)"])
            }
        }
        let ids = agents.values.compactMap { $0.slurm?.id }
        guard !ids.isEmpty else { return }
        var states: [String: SlurmExecutor.JobState]
        do {
            states = try await executor.states(of: ids)
        } catch {
            // slurmctld unreachable: nothing is known, and nothing is counted as gone.
            logger.warning("cannot read the Slurm jobs' states", metadata: ["error": "\(error)"])
            return
        }
        // Jobs that ended longer ago than the cluster keeps them in squeue: sacct, once, for all.
        let forgotten = ids.filter { states[$0] == nil }
        if !forgotten.isEmpty {
            for (id, state) in await executor.accounting(of: forgotten) where state.isTerminal { states[id] = state }
        }
        for (id, agent) in agents {
            guard let track = agent.slurm, let slurmID = track.id else { continue }
            guard let state = states[slurmID] else {
                agents[id]?.slurm?.missing += 1
                continue
            }
            agents[id]?.slurm?.state = state
            agents[id]?.slurm?.missing = 0
            let timeout = core.config.agents[agent.job.agent]?.timeout ?? .seconds(7200)
            if state.isRunning {
                if !track.running {
                    agents[id]?.slurm?.running = true
                    agents[id]?.started = now
                    agents[id]?.deadline = now + timeout
                    agents[id]?.lastSeen = now
                }
            } else if !state.isTerminal {
                // Waiting in the queue costs no budget and is no stall.
                agents[id]?.slurm?.running = false
                agents[id]?.lastSeen = now
                agents[id]?.deadline = now + timeout
            }
            guard track.state != state else { continue }
            let record = SlurmJob(
                jobID: slurmID, state: state.state, reason: state.reason.isEmpty ? nil : state.reason,
                node: state.node.isEmpty ? nil : state.node, restarts: state.restarts)
            try? await core.store.recordSlurmState(jobID: id, record)
            logger.info(
                "Slurm job state", metadata: ["job.id": "\(id)", "slurm.job.id": "\(slurmID)", "state": "\(state.state)", "node": "\(state.node)"])
        }
    }

    /// How a Slurm job ended, once it has: its terminal state, or gone from Slurm for three
    /// polls. `retry` is false for a job cancelled outside mlagent.
    func slurmEnding(_ agent: Agent) -> (ending: Store.Ending, retry: Bool)? {
        guard let track = agent.slurm else { return nil }
        guard let state = track.state, state.isTerminal else {
            guard track.missing >= 3 else { return nil }
            let what = track.id.map { "Slurm no longer knows job \($0) (neither squeue nor sacct lists it)" } ?? "no Slurm job named \(SlurmExecutor.jobName(agent.job.id)) exists"
            return (.exited(status: "was lost: \(what) after \(track.missing) polls", logTail: Self.tail(of: agent.logPath)), true)
        }
        let id = state.id
        let detail = state.reason.isEmpty ? state.state : "\(state.state), \(state.reason)"
        switch state.state {
        case "COMPLETED":
            return (.exited(status: "exited with status 0 (Slurm job \(id) COMPLETED)", logTail: Self.tail(of: agent.logPath)), true)
        case "TIMEOUT":
            return (.timedOut(reason: "Slurm ended job \(id) at its time limit (TIMEOUT)"), true)
        case "CANCELLED":
            return (.exited(status: "was cancelled outside mlagent (Slurm job \(id) \(detail))", logTail: Self.tail(of: agent.logPath)), false)
        default:
            return (
                .exited(status: "was ended by Slurm (job \(id) \(detail), exit status \(state.exitCode))", logTail: Self.tail(of: agent.logPath)),
                true)
        }
    }

    /// After a restart: Slurm jobs are re-adopted from SQLite (their id, or their name for a
    /// submission a crash left unrecorded), never submitted again.
    func adoptSlurm(_ job: Job, token: String?) async {
        let now = ContinuousClock.now
        let timeout = core.config.agents[job.agent]?.timeout ?? .seconds(7200)
        agents[job.id] = Agent(
            job: job, pid: 0, processes: AgentProcesses(leader: nil), token: token ?? "", worktree: job.worktree ?? "",
            logPath: job.logPath ?? "", started: now, deadline: now + timeout, lastSeen: now, gpu: nil, adopted: true, stopping: nil,
            slurm: SlurmTrack(id: job.slurm?.jobID, running: false))
        let id = job.slurm?.jobID
        _ = try? await core.store.write { context in
            try context.appendEvent(
                kind: EventKind.agentStarted, jobID: job.id, direction: job.direction,
                message: "job \(job.id): Slurm job \(id ?? "(being looked up by name)") re-adopted after restart",
                data: ["slurm_job_id": id.map { .string($0) } ?? .null, "adopted": true])
        }
        logger.info("re-adopted Slurm job", metadata: ["job.id": "\(job.id)", "slurm.job.id": "\(id ?? "")"])
    }

    /// SIGTERM to a Slurm job's agent now (SIGKILL is the cancel, after the grace period).
    func signalSlurm(_ agent: Agent, kill: Bool) {
        guard let id = agent.slurm?.id else { return }
        let executor = executor
        Task { kill ? await executor.cancel(id) : await executor.terminate(id) }
    }
}

import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// After a restart: agents still running are re-adopted, the others end.
extension Scheduler {
    /// Finds jobs that were running when the daemon stopped: live agents (found by their token
    /// in /proc/*/environ, bwrap itself before anything inside its sandbox) are re-adopted; the
    /// others end as interrupted and are re-queued per `max_attempts`, and whatever is left of
    /// their sandbox is killed.
    func reconcile() async {
        guard let running = try? await core.store.runningJobs(), !running.isEmpty else { return }
        // Slurm jobs are the cluster's, found by their id: never by a token in this machine's /proc.
        for (job, token) in running where job.slurm != nil { await adoptSlurm(job, token: token) }
        let live = ProcessTable.processesByToken()
        for (job, token) in running where job.slurm == nil {
            let record = job.logPath.flatMap {
                try? String(contentsOfFile: AgentLauncher.sandboxRecordPath(logPath: $0), encoding: .utf8)
            }
            if let token, let carrier = live[token], carrier.outside {
                let pid = carrier.pid
                var processes = record.map { AgentProcesses(leader: pid, record: $0) } ?? AgentProcesses(leader: pid)
                if core.config.sandbox == .bwrap, processes.liveInit == nil { processes = AgentProcesses.discover(leader: pid) }
                let now = ContinuousClock.now
                let profile = core.config.agents[job.agent]
                let elapsed = job.startedAt.map { Date().timeIntervalSince($0) } ?? 0
                let remaining = max(0, (profile?.timeout.seconds ?? 7200) - elapsed)
                agents[job.id] = Agent(
                    job: job, pid: pid, processes: processes, token: token, worktree: job.worktree ?? "",
                    logPath: job.logPath ?? "", started: now, deadline: now + .seconds(remaining), lastSeen: now, gpu: nil,
                    adopted: true, stopping: nil, cgroup: Cgroups.adopt(pid: pid, jobID: job.id))
                _ = try? await core.store.write { context in
                    try context.appendEvent(
                        kind: EventKind.agentStarted, jobID: job.id, direction: job.direction,
                        message: "job \(job.id): agent re-adopted after restart (pid \(pid))",
                        data: ["pid": .int(Int64(pid)), "adopted": true])
                }
                logger.info("re-adopted agent", metadata: ["job.id": "\(job.id)", "pid": "\(pid)"])
            } else {
                // The agent itself is gone; whatever it left in its sandbox goes too.
                if let record { AgentProcesses(leader: nil, record: record).killAll() }
                if let token, let carrier = live[token], let namespace = ProcessTable.pidNamespace(of: carrier.pid) {
                    AgentProcesses(leader: nil, namespace: namespace).killAll()
                }
                await usage.finish(Self.metered(job))
                _ = try? await core.store.endJob(id: job.id, ending: .vanished, maxAttempts: core.config.maxAttempts)
                logger.notice("agent gone after restart", metadata: ["job.id": "\(job.id)"])
            }
        }
        merge.wake()
    }
}

import MLAgentProtocol

/// What the usage meter follows of a job: its profile, its log, and its home and worktree
/// (where mini-swe-agent's trajectory is).
extension Scheduler {
    static func metered(_ id: Int64, _ agent: Agent) -> UsageMeter.Running {
        UsageMeter.Running(
            jobID: id, agent: agent.job.agent, direction: agent.job.direction, logPath: agent.logPath, worktree: agent.worktree)
    }

    /// A job found ended at a restart: its agent may have printed its final figures while the
    /// daemon was away.
    static func metered(_ job: Job) -> UsageMeter.Running {
        UsageMeter.Running(
            jobID: job.id, agent: job.agent, direction: job.direction, logPath: job.logPath ?? "", worktree: job.worktree ?? "")
    }
}

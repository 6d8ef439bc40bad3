/// The agent-side services handlers talk to. Absent in a daemon started without them.
struct AgentServices: Sendable {
    let scheduler: Scheduler
    let merge: MergeActor
    let workspace: Workspace
    let evaluator: Evaluator
    let artifacts: ArtifactStore
    let replayer: ModelReplayer
    /// Gate 1 of shared code, woken by each proposal.
    let shareGate: ShareGate
}

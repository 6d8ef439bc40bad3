import Foundation

/// A job on the Slurm cluster: Slurm's job id (absent until `sbatch` answered), its state as the
/// last poll saw it (`PENDING` with its reason, `RUNNING` with its node, …) and its restarts.
public struct SlurmJob: Sendable, Codable, Equatable {
    public var jobID: String?
    public var state: String
    public var reason: String?
    public var node: String?
    public var restarts: Int

    public init(jobID: String?, state: String, reason: String?, node: String?, restarts: Int) {
        self.jobID = jobID
        self.state = state
        self.reason = reason
        self.node = node
        self.restarts = restarts
    }

    /// One line for `list` and `show`: `123 PENDING (Priority)`, `123 RUNNING on node7`.
    public var summary: String {
        var text = "\(jobID ?? "(submitting)") \(state)"
        if let node, !node.isEmpty, state == "RUNNING" || state == "COMPLETING" { text += " on \(node)" }
        if let reason, !reason.isEmpty { text += " (\(reason))" }
        if restarts > 0 { text += ", restarted \(restarts)×" }
        return text
    }

    enum CodingKeys: String, CodingKey {
        case state, reason, node, restarts
        case jobID = "job_id"
    }
}

extension EventKind {
    /// `sbatch` accepted a job (`data.slurm_job_id`).
    public static let slurmSubmitted = "slurm.submitted"
    /// The job waits in Slurm's queue (`data.reason`).
    public static let slurmPending = "slurm.pending"
    /// The job started on a node (`data.node`).
    public static let slurmStarted = "slurm.started"
    public static let slurmPreempted = "slurm.preempted"
    /// Slurm put the job back in its queue: it goes on as a new attempt (`data.restarts`).
    public static let slurmRequeued = "slurm.requeued"
    /// Slurm ended the job (`data.state`: COMPLETED, FAILED, TIMEOUT, CANCELLED, …).
    public static let slurmEnded = "slurm.ended"
}

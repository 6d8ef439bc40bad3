import MLAgentProtocol
import MLAgentStore

/// Renders `research_directions/<name>.md` from the daemon's records. Status, times and
/// results come from the daemon, never from the agent.
enum DirectionFile {
    static func render(_ direction: Direction, job: Job?) -> String {
        var lines = ["# \(direction.name)", ""]
        lines.append("- Branch: \(direction.branch)")
        lines.append("- Status: \(direction.status)")
        lines.append("- Started: \(Timestamp.format(direction.startedAt))")
        if let finished = direction.finishedAt { lines.append("- Finished: \(Timestamp.format(finished))") }
        if let job {
            lines.append("- Job: \(job.id) (agent \(job.agent), attempt \(max(job.attempts, 1)))")
        }
        lines += ["", "## Rationale", ""]
        lines.append(direction.rationale.isEmpty ? "Queued by the operator." : direction.rationale)
        if !direction.guidance.isEmpty {
            lines += ["", "## Guidance", "", direction.guidance]
        }
        lines += ["", "## Results", ""]
        switch direction.status {
        case "in_progress": lines.append("In progress.")
        case "completed": lines.append("Completed. No run records were reported for this direction.")
        case "abandoned": lines.append("Abandoned: the job was cancelled before the direction finished.")
        default: lines.append("Failed: the agent stopped before finishing the direction (see the job's events).")
        }
        lines += ["", "## Learnings", ""]
        let learnings = direction.learnings?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        lines.append(learnings.isEmpty ? "None yet." : learnings)
        return lines.joined(separator: "\n") + "\n"
    }
}

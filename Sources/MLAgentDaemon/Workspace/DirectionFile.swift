import Foundation
import MLAgentProtocol
import MLAgentStore

/// Renders `research_directions/<name>.md` from the daemon's records. Status, times and
/// results come from the daemon, never from the agent.
enum DirectionFile {
    /// What the daemon knows about a direction's runs when it lands the final file.
    struct Results: Sendable {
        var entry: LeaderboardEntry
        var runs: [Run]
        var metric: String
        var higherIsBetter: Bool
        var overfitGap: Double
    }

    static func render(_ direction: Direction, job: Job?, results: Results? = nil) -> String {
        var lines = ["# \(direction.name)", ""]
        lines.append("- Branch: \(direction.branch)")
        lines.append("- Status: \(direction.status)\(direction.overfit ? " (flagged: overfit)" : "")")
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
        case "abandoned": lines.append("Abandoned: the job was cancelled before the direction finished.")
        case "failed": lines.append("Failed: the agent stopped before finishing the direction (see the job's events).")
        default: break
        }
        if let results {
            if direction.status != "completed" { lines.append("") }
            lines += resultLines(results)
        } else if direction.status == "completed" {
            lines.append("Completed. No run records were reported for this direction.")
        }
        lines += ["", "## Learnings", ""]
        let learnings = direction.learnings?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        lines.append(learnings.isEmpty ? "None yet." : learnings)
        return lines.joined(separator: "\n") + "\n"
    }

    static func resultLines(_ results: Results) -> [String] {
        let entry = results.entry
        var lines: [String] = []
        let sense = results.higherIsBetter ? "higher is better" : "lower is better"
        lines.append("- Metric: \(results.metric) (\(sense))")
        lines.append("- Runs: \(entry.runs) (\(entry.failedRuns) failed); public evaluations: \(entry.publicEvals)")
        if let best = entry.bestRun, let score = entry.publicScore {
            var line = "- Best run: \(best) `\(entry.bestRunName ?? "")`, public \(format(score))"
            if let interval = entry.publicInterval {
                line += " (95% bootstrap interval \(format(interval.low)) to \(format(interval.high)))"
            }
            lines.append(line)
        } else {
            lines.append("- Best run: none (no run that did not fail has a public score)")
        }
        if let submitted = entry.submittedRun {
            var line = "- Submitted run: \(submitted), public \(format(entry.submittedPublicScore)), private \(format(entry.privateScore))"
            if let gap = entry.gap { line += ", gap \(String(format: "%+.4f", gap)) (positive: private is worse)" }
            lines.append(line)
            if entry.flags.contains("overfit") {
                lines.append(
                    "- Flag: overfit. The private score trails the public score by more than \(format(results.overfitGap)).")
            }
        } else {
            lines.append("- Submitted run: none (the private split was not scored)")
        }
        if !results.runs.isEmpty {
            lines += ["", "| Run | Name | Status | Public | Private | Points |", "|---|---|---|---|---|---|"]
            for run in results.runs {
                let name = run.name.replacingOccurrences(of: "|", with: "\\|")
                lines.append(
                    "| \(run.id) | \(name) | \(run.status.rawValue) | \(format(run.publicScore)) | \(format(run.privateScore)) | \(run.metricPoints) |")
            }
            lines += ["", "Run records: `mlruns/\(entry.direction)/<run>/` (run.json, metrics.jsonl, artifacts/)."]
        }
        return lines
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4f", value)
    }
}

/// `mlruns/<direction>/<run>/run.json`: everything recorded on a run except its metric
/// history (in `metrics.jsonl` beside it).
struct RunFile: Encodable {
    struct Artifact: Encodable {
        var name: String
        var is_directory: Bool
        var files: Int
        var bytes: Int64
        /// Copied under `artifacts/` on main (false when over `land_artifact_bytes`).
        var landed: Bool
    }

    var id: Int64
    var direction: String
    var job_id: Int64
    var name: String
    var status: String
    var rationale: String
    var analysis: String?
    var started_at: String
    var ended_at: String?
    var params: [String: String]
    var tags: [String: String]
    /// The latest value of each metric.
    var metrics: [String: Double]
    var public_score: Double?
    var public_interval: ScoreInterval?
    var public_evals: Int
    var private_score: Double?
    var metric_points: Int64
    var artifacts: [Artifact]
    var evaluations: [EvalResult]

    init(_ detail: RunDetail, artifactsLanded: Bool) {
        let run = detail.run
        id = run.id
        direction = run.direction
        job_id = run.jobID
        name = run.name
        status = run.status.rawValue
        rationale = run.rationale
        analysis = run.analysis
        started_at = run.startedAt
        ended_at = run.endedAt
        params = detail.params
        tags = detail.tags
        metrics = detail.metrics.mapValues(\.value)
        public_score = run.publicScore
        public_interval = run.publicInterval
        public_evals = run.publicEvals
        private_score = run.privateScore
        metric_points = run.metricPoints
        artifacts = detail.artifacts.map {
            Artifact(name: $0.name, is_directory: $0.isDirectory, files: $0.files, bytes: $0.bytes, landed: artifactsLanded)
        }
        evaluations = detail.evaluations
    }

    func render() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

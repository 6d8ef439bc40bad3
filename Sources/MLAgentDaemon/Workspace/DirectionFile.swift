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
        /// The configured `overfit_gap` of the metric; the verdict itself (threshold and reason)
        /// comes with the entry, as judged at the submission.
        var overfitGap: Double
    }

    static func render(
        _ direction: Direction, job: Job?, results: Results? = nil, messages: [InboxMessage] = [], usage: TokenUsage? = nil,
        shared: Shared? = nil
    ) -> String {
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
        lines += sharedLines(shared)
        lines += ["", "## Learnings", ""]
        let learnings = direction.learnings?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        lines.append(learnings.isEmpty ? "None yet." : learnings)
        lines += messageLines(messages)
        lines += usageLines(usage)
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
            if let gap = entry.gap {
                let definition = results.higherIsBetter ? "public − private" : "private − public"
                line += ", gap \(String(format: "%+.4f", gap)) (\(definition): positive means the private score is worse)"
            }
            lines.append(line)
            if let submission = entry.submission { lines.append("- Private predictions: \(Self.describe(submission))") }
            if entry.flags.contains("overfit") {
                lines.append("- Flag: overfit. \(sentence(entry.overfitReason ?? "the gap exceeds the overfit threshold"))")
            } else if let note = entry.gapNote {
                lines.append("- Overfit check (not flagged): \(note.hasSuffix(".") ? note : note + ".")")
            }
        } else {
            lines.append("- Submitted run: none (the private split was not scored)")
            if let submission = entry.submission, submission.outcome == .unreproducible {
                lines.append("- Replay of run \(submission.run): \(Self.describe(submission))")
            }
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

    /// `text` with a capital letter and a final full stop.
    static func sentence(_ text: String) -> String {
        let body = text.hasSuffix(".") ? text : text + "."
        return body.prefix(1).uppercased() + body.dropFirst()
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4f", value)
    }
}

/// `mlruns/<direction>/<run>/run.json`: the run as the protocol shows it (`Run`), plus its
/// params, tags, latest metrics, artifacts and evaluations; the metric history is in
/// `metrics.jsonl` beside it.
struct RunFile: Encodable {
    /// An artifact as the protocol shows it, and whether it was copied under `artifacts/` on
    /// main (false when over `land_artifact_bytes`).
    struct Artifact: Encodable {
        var info: ArtifactInfo
        var landed: Bool

        enum CodingKeys: String, CodingKey { case landed }

        func encode(to encoder: any Encoder) throws {
            try info.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(landed, forKey: .landed)
        }
    }

    let detail: RunDetail
    let artifactsLanded: Bool

    init(_ detail: RunDetail, artifactsLanded: Bool) {
        self.detail = detail
        self.artifactsLanded = artifactsLanded
    }

    enum CodingKeys: String, CodingKey {
        case params, tags, metrics, artifacts, evaluations, submissions
    }

    func encode(to encoder: any Encoder) throws {
        // The run's own fields, then the records, in one object.
        try detail.run.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(detail.params, forKey: .params)
        try container.encode(detail.tags, forKey: .tags)
        // The latest value of each metric.
        try container.encode(detail.metrics.mapValues(\.value), forKey: .metrics)
        try container.encode(detail.artifacts.map { Artifact(info: $0, landed: artifactsLanded) }, forKey: .artifacts)
        try container.encode(detail.evaluations, forKey: .evaluations)
        if !detail.submissions.isEmpty { try container.encode(detail.submissions, forKey: .submissions) }
    }

    func render() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

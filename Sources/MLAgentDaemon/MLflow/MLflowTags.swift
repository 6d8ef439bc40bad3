import Foundation
import MLAgentProtocol
import MLAgentStore

/// The tags the mirror writes, named as MLflow's client and UI read them, and the rule for
/// values longer than MLflow keeps: the value is cut with a note saying so, and the full text
/// is uploaded as an artifact of the run.
enum MLflowTags {
    /// MLflow's `MAX_TAG_VAL_LENGTH`, in characters (Unicode code points, as Python counts).
    static let maxValueLength = 8000

    static let workspaceID = "mlagent.workspace_id"
    static let workspace = "mlagent.workspace"
    static let runID = "mlagent.run_id"
    static let direction = "mlagent.direction"
    static let jobID = "mlagent.job_id"
    /// `run` or `direction` (the parent run of a direction).
    static let kind = "mlagent.kind"
    static let metric = "mlagent.metric"

    static let runName = "mlflow.runName"
    static let parentRunID = "mlflow.parentRunId"
    static let note = "mlflow.note.content"
    static let user = "mlflow.user"
    static let sourceName = "mlflow.source.name"
    static let sourceType = "mlflow.source.type"
    static let gitCommit = "mlflow.source.git.commit"
    static let gitBranch = "mlflow.source.git.branch"
    static let gitRepoURL = "mlflow.source.git.repoURL"

    struct Cut: Sendable, Equatable {
        var key: String
        /// Where the full text goes, under the run's artifact root.
        var artifact: String
        var text: String
    }

    static func artifact(forKey key: String) -> String { "mlagent/tags/\(key).txt" }

    /// `tags` as MLflow entries (sorted by key), with every value over the limit cut and noted.
    static func prepare(_ tags: [String: String]) -> (entries: [MLflowClient.Entry], cuts: [Cut]) {
        var entries: [MLflowClient.Entry] = []
        var cuts: [Cut] = []
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            let length = value.unicodeScalars.count
            guard length > maxValueLength else {
                entries.append(.init(key: key, value: value))
                continue
            }
            let path = artifact(forKey: key)
            let note = "\n[… cut by mlagent: MLflow keeps \(maxValueLength) of its \(length) characters; the full text is the artifact \(path)]"
            let keep = maxValueLength - note.unicodeScalars.count
            var head = String.UnicodeScalarView()
            head.append(contentsOf: value.unicodeScalars.prefix(keep))
            entries.append(.init(key: key, value: String(head) + note))
            cuts.append(Cut(key: key, artifact: path, text: value))
        }
        return (entries, cuts)
    }

    /// The system tags shared by a run and its direction's parent run.
    static func source(agent: String, branch: String, commit: String?, workspace: String) -> [String: String] {
        var tags = [
            user: agent.isEmpty ? "mlagent" : agent, sourceName: "mlagent/\(agent)", sourceType: "LOCAL",
            gitBranch: branch, gitRepoURL: workspace,
        ]
        if let commit { tags[gitCommit] = commit }
        return tags
    }

    /// How the run's private score was obtained (`mlagent.submission`: `reproduced`, `mismatch`,
    /// `unreproducible` or `agent-predicted`), with the replayed public score of a replay.
    static func submission(_ submissions: [Submission]) -> [String: String] {
        guard let last = submissions.last(where: { $0.outcome != .unreproducible }) ?? submissions.last else { return [:] }
        var tags = ["mlagent.submission": last.outcome.rawValue]
        if let score = last.replayedPublicScore { tags["mlagent.replayed_public_score"] = String(score) }
        if let difference = last.maxAbsDifference { tags["mlagent.replay_max_abs_difference"] = String(difference) }
        if let reason = last.reason { tags["mlagent.replay_failure"] = reason }
        return tags
    }

    /// The description of a run: the direction's rationale, then the run's own.
    static func runNote(directionRationale: String, run: Run) -> String {
        var text = "**Direction \(run.direction)**: \(directionRationale)\n\n**Run \(run.name)**: \(run.rationale)"
        if let analysis = run.analysis { text += "\n\n**Analysis**: \(analysis)" }
        return text
    }

    /// The description of a direction's parent run.
    static func directionNote(_ direction: Store.MirrorDirection) -> String {
        var text = direction.rationale.isEmpty ? "(no rationale declared yet)" : direction.rationale
        if !direction.guidance.isEmpty { text += "\n\n**Guidance**: \(direction.guidance)" }
        if let learnings = direction.learnings, !learnings.isEmpty { text += "\n\n**Learnings**\n\n\(learnings)" }
        return text
    }

    /// The default experiment name: the workspace directory's name, or the name of the
    /// directory holding the state directory for the default `<state_dir>/workspace`.
    static func workspaceName(workspace: String) -> String {
        var url = URL(fileURLWithPath: workspace).standardizedFileURL
        if url.lastPathComponent == "workspace" {
            url.deleteLastPathComponent()
            if url.lastPathComponent.hasPrefix(".") { url.deleteLastPathComponent() }
        }
        let name = url.lastPathComponent
        return name.isEmpty || name == "/" ? "mlagent" : name
    }
}

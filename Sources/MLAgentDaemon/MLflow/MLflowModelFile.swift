import Foundation

/// The `MLmodel` file that makes a run's `model` artifact an MLflow model directory: MLflow's
/// layout (`artifact_path`, `flavors`, `model_id`, `run_id`, `utc_time_created`) with one
/// `mlagent` flavor listing the files as the agent saved them. An artifact that already holds
/// an `MLmodel` (saved with `mlflow.<flavor>.save_model`, as the model contract requires) is
/// uploaded with its logged model's `artifact_path`, `model_id` and `run_id`, as
/// `mlflow.<flavor>.log_model` writes them, and otherwise unchanged.
enum MLflowModelFile {
    static let name = "MLmodel"

    struct Info: Sendable {
        var artifactURI: String
        var modelID: String
        var mlflowRunID: String
        var run: Int64
        var direction: String
        var files: [String]
        var bytes: Int64
        var created: Date
    }

    static func yaml(_ info: Info) -> String {
        var lines = [
            "artifact_path: \(quote(info.artifactURI))",
            "flavors:",
            "  mlagent:",
            "    description: \(quote("files as saved by the agent of mlagent run \(info.run); load them with the code on the direction's branch"))",
            "    files:",
        ]
        lines += info.files.map { "    - \(quote($0))" }
        lines += [
            "metadata:",
            "  mlagent_run_id: \(quote(String(info.run)))",
            "  mlagent_direction: \(quote(info.direction))",
            "model_id: \(quote(info.modelID))",
            "model_size_bytes: \(info.bytes)",
            "run_id: \(quote(info.mlflowRunID))",
            "utc_time_created: \(quote(timestamp(info.created)))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The agent's `MLmodel` with the logged model's identity in place of its own top-level
    /// `artifact_path`, `model_id` and `run_id` lines.
    static func stamp(_ text: String, artifactURI: String, modelID: String, mlflowRunID: String) -> String {
        let replaced = ["artifact_path:", "model_id:", "run_id:"]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines.removeAll { line in replaced.contains { line.hasPrefix($0) } }
        lines += [
            "artifact_path: \(quote(artifactURI))", "model_id: \(quote(modelID))", "run_id: \(quote(mlflowRunID))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML single-quoted scalar (line breaks become spaces).
    static func quote(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return "'" + flat.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
        return formatter.string(from: date)
    }

    /// A logged model's name: MLflow refuses `/ : . % " '` in it.
    static func modelName(_ runName: String) -> String {
        let cleaned = String(runName.map { "/:.%\"'".contains($0) ? "-" : $0 })
        return cleaned.isEmpty ? "model" : cleaned
    }
}

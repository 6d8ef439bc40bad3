import Foundation
import Logging
import MLAgentEval

/// Checks, when the daemon starts and before it creates a workspace, that the targets of each
/// split fit the configured metric. Targets that do not (labels −1/+1 under ROC AUC, a single
/// class under log loss, regression targets so large that the metric overflows) stop the daemon
/// with a message for the operator that names the file and the problem; agents never get to
/// read a statement about the targets.
enum TargetCheck {
    /// The targets the daemon will score with, by split, each read and checked: the imported copy
    /// in `targetsDir` when there is one, else the dataset's file (which the workspace imports).
    /// A split without targets is logged, not refused: it cannot be scored until they are added.
    static func verify(metric: EvalMetric, targetsDir: String, dataDir: String, logger: Logger) throws
        -> [Evaluator.Split: [Double]]
    {
        var checked: [Evaluator.Split: [Double]] = [:]
        for split in Evaluator.Split.allCases {
            let candidates = [targetsDir, dataDir].map { ($0 as NSString).appendingPathComponent(split.targetFile) }
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                logger.warning(
                    "no \(split.rawValue) targets: the \(split.rawValue) split cannot be scored until \(split.targetFile) is added to the data directory",
                    metadata: ["data_dir": "\(dataDir)"])
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError("cannot read the \(split.rawValue) targets \(path)")
            }
            checked[split] = try parse(data, file: path, metric: metric)
        }
        return checked
    }

    /// Parses a targets file and checks it against `metric`; the error names the file.
    static func parse(_ data: Data, file: String, metric: EvalMetric) throws(ConfigError) -> [Double] {
        let values: [Double]
        do {
            values = try PredictionsCSV.parseTargets(data, name: file)
        } catch {
            throw ConfigError("the targets \(file) are unusable: \(error.message)")
        }
        if let problem = metric.targetProblem(values) {
            throw ConfigError(
                "the targets \(file) do not fit [evaluation] metric = \"\(metric.rawValue)\": \(problem). mlagentd does not start with targets it cannot score")
        }
        return values
    }
}

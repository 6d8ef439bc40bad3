import Foundation

/// The smallest model artifact the daemon takes (``ModelContract``): a directory with an
/// `MLmodel` naming a `python_function` flavour, for tests whose agents never have the model
/// replayed (they submit predictions, `[evaluation] submit = "predictions"`).
enum TestModel {
    static let mlmodel = "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    python_version: 3.11.0\n"

    /// Writes `MLmodel` into `directory` (created).
    static func write(into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try mlmodel.write(toFile: directory + "/MLmodel", atomically: true, encoding: .utf8)
    }

    /// A shell command that does the same for a path relative to the working directory.
    static func shell(_ directory: String) -> String {
        "mkdir -p \(directory) && printf 'flavors:\\n  python_function:\\n    loader_module: mlflow.pyfunc.model\\n' > \(directory)/MLmodel"
    }

    /// The `[evaluation]` line that makes the daemon score the agents' own private predictions.
    static let predictionsSubmit = "submit = \"predictions\""
}

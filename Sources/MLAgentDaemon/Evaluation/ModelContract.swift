import Foundation
import MLAgentProtocol

/// The contract of a run's `model` artifact: an MLflow model directory, i.e. a directory with
/// an `MLmodel` file naming a `python_function` flavour, as `mlflow.sklearn.save_model` and
/// `mlflow.pyfunc.save_model` write it. Such a model carries its preprocessing, any MLflow user
/// can load it with `mlflow.pyfunc.load_model`, and the daemon can replay it to score the
/// private split.
///
/// The check reads `MLmodel` as the YAML MLflow writes (block style: `flavors:` at the top
/// level, one indented key per flavour); it does not load the model.
enum ModelContract {
    /// The artifact name the contract applies to.
    static let artifactName = "model"
    /// Largest `MLmodel` read (MLflow's are a few kilobytes; a signature of many columns, more).
    static let maxMLmodelBytes = 4 << 20

    /// What the agent is told when the contract is not met: the problem, then how to meet it.
    static func explanation(_ problem: String) -> String {
        "\(problem). The model artifact must be an MLflow model directory (an MLmodel file with a python_function flavour) "
            + "holding the whole fitted pipeline, preprocessing included: save it with "
            + "mlflow.sklearn.save_model(pipeline, \"models/run-N/model\") (mlflow.pyfunc.save_model for other libraries) "
            + "and upload that directory: mlagentctl run artifact RUN models/run-N/model --as model. "
            + "Artifacts under any other name take any file"
    }

    /// The flavours an `MLmodel` file names, or the problem with it.
    static func flavors(ofMLmodel text: String) -> Result<[String], ContractError> {
        var inFlavors = false
        var childIndent: Int?
        var found: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            let content = line.drop { $0 == " " }
            if content.isEmpty || content.hasPrefix("#") { continue }
            let indent = line.count - content.count
            if indent == 0 {
                if inFlavors { break }
                guard content.hasPrefix("flavors:") else { continue }
                let rest = content.dropFirst("flavors:".count).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("{") {
                    // Flow style: `flavors: {python_function: {...}, sklearn: {...}}`.
                    return rest.contains("python_function") ? .success(["python_function"]) : .success([])
                }
                inFlavors = true
                continue
            }
            guard inFlavors else { continue }
            if childIndent == nil { childIndent = indent }
            guard indent == childIndent, let colon = content.firstIndex(of: ":") else { continue }
            found.append(String(content[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")))
        }
        guard inFlavors || !found.isEmpty else { return .failure(ContractError("its MLmodel file has no flavors section")) }
        return .success(found)
    }

    /// Checks the staged copy of a model artifact at `path` (shown to the agent as `shownAs`).
    static func check(directory path: String, shownAs: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw refusal("\(shownAs) is a file, not a directory")
        }
        let mlmodel = (path as NSString).appendingPathComponent("MLmodel")
        var info = stat()
        guard lstat(mlmodel, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw refusal("\(shownAs) has no MLmodel file")
        }
        guard info.st_size <= maxMLmodelBytes else {
            throw refusal("\(shownAs)/MLmodel is larger than \(maxMLmodelBytes >> 20) MiB")
        }
        guard let data = FileManager.default.contents(atPath: mlmodel), let text = String(data: data, encoding: .utf8) else {
            throw refusal("\(shownAs)/MLmodel is not UTF-8 text")
        }
        switch flavors(ofMLmodel: text) {
        case .failure(let error): throw refusal("\(shownAs)/MLmodel: \(error.message)")
        case .success(let names) where !names.contains("python_function"):
            let named = names.isEmpty ? "no flavour" : "only the flavours \(names.joined(separator: ", "))"
            throw refusal("\(shownAs)/MLmodel names \(named), not python_function")
        case .success: return
        }
    }

    static func refusal(_ problem: String) -> RPCError {
        RPCError(.invalidParams, explanation(problem), context: ["field": .string("path"), "contract": .string("mlflow-model")])
    }

    struct ContractError: Error, Equatable {
        var message: String
        init(_ message: String) { self.message = message }
    }
}

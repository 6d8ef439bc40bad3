import Foundation
@testable import MLAgentDaemon
import MLAgentProtocol
import Testing

/// The model contract read from `MLmodel` files as MLflow writes them, the comparison of
/// replayed and evaluated predictions, and the replay settings.
@Suite("model contract and replay settings")
struct ModelContractTests {
    /// `mlflow.sklearn.save_model(..., pyfunc_predict_fn="predict_proba")` with MLflow 3.
    static let sklearn = """
        artifact_path: null
        flavors:
          python_function:
            env:
              conda: conda.yaml
              virtualenv: python_env.yaml
            loader_module: mlflow.sklearn
            model_path: model.skops
            predict_fn: predict_proba
            python_version: 3.11.7
          sklearn:
            code: null
            pickled_model: model.skops
            serialization_format: skops
        mlflow_version: 3.17.2
        model_id: null
        """

    @Test("flavours are the keys of the top-level flavors mapping, in block or flow style")
    func flavours() throws {
        #expect(try ModelContract.flavors(ofMLmodel: Self.sklearn).get() == ["python_function", "sklearn"])
        #expect(try ModelContract.flavors(ofMLmodel: "flavors: {python_function: {loader_module: x}}\n").get() == ["python_function"])
        #expect(try ModelContract.flavors(ofMLmodel: "# saved\nflavors:\n  'sklearn':\n    a: 1\nrun_id: x\n").get() == ["sklearn"])
        // A nested python_function under another key is not a flavour.
        #expect(try ModelContract.flavors(ofMLmodel: "signature:\n  python_function: 1\nflavors:\n  onnx:\n    x: 1\n").get() == ["onnx"])
        #expect(throws: ModelContract.ContractError.self) { try ModelContract.flavors(ofMLmodel: "artifact_path: x\n").get() }
    }

    @Test("the check refuses files, directories without MLmodel and models without python_function, explaining the contract")
    func check() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mc-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir + "/model", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "w".write(toFile: dir + "/weights.bin", atomically: true, encoding: .utf8)
        func refusal(_ path: String) -> String {
            do {
                try ModelContract.check(directory: path, shownAs: "models/run-1")
                return ""
            } catch {
                return (error as? RPCError)?.message ?? "\(error)"
            }
        }
        #expect(refusal(dir + "/weights.bin").hasPrefix("models/run-1 is a file, not a directory. The model artifact must be an MLflow model directory"))
        #expect(refusal(dir + "/model").hasPrefix("models/run-1 has no MLmodel file"))
        try "flavors:\n  sklearn:\n    a: 1\n".write(toFile: dir + "/model/MLmodel", atomically: true, encoding: .utf8)
        let named = refusal(dir + "/model")
        #expect(named.contains("names only the flavours sklearn, not python_function") && named.contains("mlflow.sklearn.save_model"), "\(named)")
        // A link is not the file (uploads refuse links anyway; the check does not follow one).
        try FileManager.default.removeItem(atPath: dir + "/model/MLmodel")
        _ = symlink(dir + "/weights.bin", dir + "/model/MLmodel")
        #expect(refusal(dir + "/model").contains("has no MLmodel file"))
        try FileManager.default.removeItem(atPath: dir + "/model/MLmodel")
        try Self.sklearn.write(toFile: dir + "/model/MLmodel", atomically: true, encoding: .utf8)
        #expect(refusal(dir + "/model").isEmpty)
    }

    @Test("replayed predictions count as reproduced within 1e-6 of the evaluated ones; NaN and a length change differ")
    func compare() {
        let (largest, differing) = SubmitHandler.compare([0.1, 0.5 + 9e-7, 0.9], [0.1, 0.5, 0.9])
        #expect(differing == 0 && abs(largest - 9e-7) < 1e-12)
        #expect(SubmitHandler.compare([0.1, 0.5, 0.2], [0.1, 0.5, 0.9]).1 == 1)
        #expect(SubmitHandler.compare([.nan, 0.5], [0.1, 0.5]) == (.infinity, 1))
        #expect(SubmitHandler.compare([0.1], [0.1, 0.5]).1 == 2)
    }

    @Test("[evaluation] submit, replay_timeout and replay_max_memory are read and checked")
    func settings() throws {
        let defaults = try ConfigLoader.parse("", source: "t.toml")
        #expect(defaults.submitMode == .replay && defaults.replayTimeout == .seconds(600) && defaults.replayMaxMemory == 4 << 30)
        let set = try ConfigLoader.parse(
            "[evaluation]\nsubmit = \"predictions\"\nreplay_timeout = \"90s\"\nreplay_max_memory = \"512M\"", source: "t.toml")
        #expect(set.submitMode == .predictions && set.replayTimeout == .seconds(90) && set.replayMaxMemory == 512 << 20)
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("[evaluation]\nsubmit = \"files\"", source: "t.toml") }
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("[evaluation]\nreplay_max_memory = \"1M\"", source: "t.toml") }
    }

    @Test("the prompt's submit step follows [evaluation] submit")
    func submitSteps() {
        #expect(SubmitSteps.text(.replay, predictions: "p").contains("`mlagentctl submit RUN`, with no predictions file"))
        #expect(SubmitSteps.text(.predictions, predictions: "probabilities").contains("`mlagentctl submit RUN PRIVATE_PREDICTIONS.csv`"))
        #expect(SubmitSteps.text(.predictions, predictions: "probabilities").contains("same order: probabilities"))
    }
}

import Foundation
import MLAgentProtocol
import MLAgentStore

/// Registers a run's `model` artifact as an MLflow 3 logged model, as `mlflow.<flavor>.log_model`
/// does: create it (recorded as `creating` first, looked up by its source run after an unclear
/// outcome), upload its files with an `MLmodel`, link it to the run as an output, finalize it
/// as ready. Each step is recorded, so a crash resumes where it stopped and creates nothing twice.
struct MLflowLoggedModel: Sendable {
    let sync: MLflowRunSync

    func log(_ artifact: ArtifactInfo, of detail: RunDetail, mlflowRun: String, pending: Store.MirrorRun, source: String)
        async throws
    {
        let client = sync.client
        let store = sync.store
        let run = detail.run
        var model: MLflowClient.LoggedModel?
        do {
            if let id = pending.modelID {
                model = try await client.getLoggedModel(id: id)
            } else if pending.modelState == "creating" {
                model = try await client.findLoggedModel(experimentID: sync.experiment, sourceRun: mlflowRun)
            }
        } catch MLflowClient.Failure.permanent(let status, let code, let message) {
            // The model is gone from the server (or the server cannot search them): set aside.
            try await store.mirrorDeadLetter(
                uri: sync.uri, run: run.id, operation: "logged-models get", status: status, reason: "\(code): \(message)",
                stopRun: false)
            try await store.mirrorModel(uri: sync.uri, run: run.id, modelID: nil, state: "dead")
            return
        }
        if model == nil {
            try await store.mirrorModel(uri: sync.uri, run: run.id, modelID: nil, state: "creating")
            do {
                model = try await client.createLoggedModel(
                    experimentID: sync.experiment, name: MLflowModelFile.modelName(run.name), sourceRun: mlflowRun,
                    params: detail.params.sorted { $0.key < $1.key }.prefix(MLflowMirror.maxParams).map { .init(key: $0.key, value: $0.value) },
                    tags: [
                        .init(key: MLflowTags.workspaceID, value: sync.workspaceID), .init(key: MLflowTags.runID, value: String(run.id)),
                        .init(key: MLflowTags.direction, value: run.direction),
                    ])
            } catch MLflowClient.Failure.permanent(let status, let code, let message) {
                try await store.mirrorDeadLetter(
                    uri: sync.uri, run: run.id, operation: "logged-models create", status: status, reason: "\(code): \(message)",
                    stopRun: false)
                try await store.mirrorModel(uri: sync.uri, run: run.id, modelID: nil, state: "dead")
                return
            }
        }
        guard let model else { return }
        try await store.mirrorModel(uri: sync.uri, run: run.id, modelID: model.id, state: "created")
        if !model.ready {
            var files = MLflowMirror.files(source, as: "model", isDirectory: artifact.isDirectory).map {
                (file: $0.file, path: String($0.path.dropFirst("model/".count)))
            }
            if !artifact.isDirectory { files = [(file: source, path: "model")] }
            var bytes: Int64 = 0
            for (file, path) in files {
                bytes += (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? 0
                try await sync.permanentIsDeadLetter(run: run.id, operation: "logged model upload \(path)") {
                    if path == MLflowModelFile.name, let text = try? String(contentsOfFile: file, encoding: .utf8) {
                        let stamped = MLflowModelFile.stamp(
                            text, artifactURI: "mlflow-artifacts:/\(model.artifactPath)", modelID: model.id, mlflowRunID: mlflowRun)
                        try await client.upload(Data(stamped.utf8), to: "\(model.artifactPath)/\(path)")
                    } else {
                        try await client.uploadArtifact(at: "\(model.artifactPath)/\(path)", file: file)
                    }
                }
            }
            if !files.contains(where: { $0.path == MLflowModelFile.name }) {
                let text = MLflowModelFile.yaml(
                    .init(
                        artifactURI: "mlflow-artifacts:/\(model.artifactPath)", modelID: model.id, mlflowRunID: mlflowRun, run: run.id,
                        direction: run.direction, files: files.map(\.path), bytes: bytes, created: Date()))
                try await sync.permanentIsDeadLetter(run: run.id, operation: "logged model MLmodel") {
                    try await client.upload(Data(text.utf8), to: "\(model.artifactPath)/\(MLflowModelFile.name)")
                }
            }
            try await sync.permanentIsDeadLetter(run: run.id, operation: "runs/outputs of logged model \(model.id)") {
                // Linking twice would list the model twice: link only what is not linked yet.
                if try await !client.outputModels(run: mlflowRun).contains(model.id) {
                    try await client.logOutputs(run: mlflowRun, modelID: model.id, step: 0)
                }
            }
            try await sync.permanentIsDeadLetter(run: run.id, operation: "logged-models finalize \(model.id)") {
                try await client.finalizeLoggedModel(id: model.id)
            }
        }
        try await store.mirrorModel(uri: sync.uri, run: run.id, modelID: model.id, state: "ready")
    }
}

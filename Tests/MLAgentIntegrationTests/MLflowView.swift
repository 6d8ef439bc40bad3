import Foundation

/// What an MLflow user sees, read through MLflow's official Python client (`mlflow` in the
/// venv): experiments, `mlflow.search_runs`, nested runs by `tags.mlflow.parentRunId`, runs by
/// `tags.mlflow.source.git.commit`, `mlflow.search_logged_models` with each model's `MLmodel`,
/// dataset inputs, metric histories and the artifacts holding the full text of cut tags.
struct MLflowView: Decodable {
    struct Experiment: Decodable {
        var id: String
        var name: String
        var tags: [String: String]
        var runs: [Run]
        var models: [Model]
    }

    struct Run: Decodable {
        var id: String
        var name: String
        var status: String
        var tags: [String: String]
        var children: [String]
        var byCommit: Int
        var datasets: [Dataset]
        var history: [String: Int]
        var fullTexts: [String: String]
        var outputModels: [String]

        enum CodingKeys: String, CodingKey {
            case id, name, status, tags, children, datasets, history
            case byCommit = "by_commit"
            case fullTexts = "full_texts"
            case outputModels = "output_models"
        }
    }

    struct Dataset: Decodable {
        var name: String
        var digest: String
        var context: String
    }

    struct Model: Decodable {
        var id: String
        var name: String
        var sourceRun: String
        var status: String
        var files: [String]
        var mlmodelRunID: String?

        enum CodingKeys: String, CodingKey {
            case id, name, status, files
            case sourceRun = "source_run"
            case mlmodelRunID = "mlmodel_run_id"
        }
    }

    var experiments: [Experiment]

    static let script = #"""
        import json, os, sys, tempfile
        import mlflow
        from mlflow import MlflowClient
        from mlflow.models import Model

        uri = sys.argv[1]
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        out = {"experiments": []}
        for exp in client.search_experiments():
            if "mlagent.workspace_id" not in exp.tags and exp.name == "Default":
                continue
            entry = {"id": exp.experiment_id, "name": exp.name, "tags": dict(exp.tags), "runs": [], "models": []}
            for run in mlflow.search_runs(experiment_ids=[exp.experiment_id], output_format="list"):
                tags = dict(run.data.tags)
                children = mlflow.search_runs(
                    experiment_ids=[exp.experiment_id], output_format="list",
                    filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'")
                commit = tags.get("mlflow.source.git.commit")
                by_commit = len(mlflow.search_runs(
                    experiment_ids=[exp.experiment_id], output_format="list",
                    filter_string=f"tags.`mlflow.source.git.commit` = '{commit}'")) if commit else 0
                datasets = [{"name": d.dataset.name, "digest": d.dataset.digest,
                             "context": {t.key: t.value for t in d.tags}.get("mlflow.data.context", "")}
                            for d in (run.inputs.dataset_inputs if run.inputs else [])]
                history = {key: len(client.get_metric_history(run.info.run_id, key)) for key in run.data.metrics}
                texts = {}
                for info in (client.list_artifacts(run.info.run_id, "mlagent/tags") or []):
                    local = client.download_artifacts(run.info.run_id, info.path, tempfile.mkdtemp())
                    with open(local, encoding="utf-8") as f:
                        texts[os.path.basename(info.path)[:-4]] = f.read()
                outputs = [m.model_id for m in (run.outputs.model_outputs if run.outputs else [])]
                entry["runs"].append({
                    "id": run.info.run_id, "name": run.info.run_name, "status": run.info.status, "tags": tags,
                    "children": [c.info.run_id for c in children], "by_commit": by_commit, "datasets": datasets,
                    "history": history, "full_texts": texts, "output_models": outputs})
            for model in mlflow.search_logged_models(experiment_ids=[exp.experiment_id], output_format="list"):
                files = [f.path for f in client.list_logged_model_artifacts(model.model_id)]
                mlmodel = Model.load(f"models:/{model.model_id}")
                entry["models"].append({
                    "id": model.model_id, "name": model.name, "source_run": model.source_run_id,
                    "status": str(model.status), "files": files, "mlmodel_run_id": mlmodel.run_id})
            out["experiments"].append(entry)
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            json.dump(out, f)
        """#

    /// Reads the server at `uri` through the official client.
    static func read(_ uri: String, dir: TempDir) throws -> MLflowView {
        let path = dir.file("mlflow_view.py")
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let python = Binaries.repositoryRoot.path + "/.venv/bin/python"
        var environment = ProcessInfo.processInfo.environment
        environment["MLFLOW_TRACKING_URI"] = uri
        let result = dir.file("view.json")
        try? FileManager.default.removeItem(atPath: result)
        let process = try ChildProcess(
            executable: python, arguments: [path, uri, result], environment: environment, outputPath: dir.file("view.log"))
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: result) else {
            let log = (try? String(contentsOfFile: dir.file("view.log"), encoding: .utf8)) ?? ""
            throw TestFailure("the MLflow client failed (\(process.terminationStatus)): \(log.suffix(2000))")
        }
        return try JSONDecoder().decode(MLflowView.self, from: data)
    }
}

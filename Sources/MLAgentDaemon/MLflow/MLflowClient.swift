import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// MLflow's REST API (`/api/2.0/mlflow/...`) and artifact proxy, as much of it as the mirror
/// needs. Errors say whether a retry can help.
struct MLflowClient: Sendable {
    let base: String
    let http: HTTPClient
    /// A request's deadline. The connection pool retries refused connections until then, so
    /// it is also how soon an unreachable server is noticed.
    static let timeout: TimeAmount = .seconds(10)
    static let uploadTimeout: TimeAmount = .seconds(300)

    enum Failure: Error, CustomStringConvertible {
        /// Connection problems, 408, 429 and 5xx: retry with backoff.
        case transient(String)
        /// Any other 4xx: the request will never succeed.
        case permanent(status: Int, code: String, message: String)

        var description: String {
            switch self {
            case .transient(let text): text
            case .permanent(let status, let code, let message): "HTTP \(status) \(code): \(message)"
            }
        }
    }

    struct Entry: Codable, Sendable {
        var key: String
        var value: String
    }

    struct Point: Codable, Sendable {
        var key: String
        var value: Double
        var timestamp: Int64
        var step: Int64
    }

    init(trackingURI: String, http: HTTPClient) {
        base = trackingURI.hasSuffix("/") ? String(trackingURI.dropLast()) : trackingURI
        self.http = http
    }

    // MARK: Calls

    struct Experiment: Sendable {
        var id: String
        var tags: [String: String]
    }

    func experiment(named name: String) async throws -> Experiment? {
        do {
            let reply = try await call(.GET, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=\(Self.query(name))", body: nil)
            guard let experiment = reply["experiment"] as? [String: Any], let id = experiment["experiment_id"] as? String else {
                return nil
            }
            return Experiment(id: id, tags: Self.entries(experiment["tags"]))
        } catch Failure.permanent(let status, let code, _) where status == 404 || code == "RESOURCE_DOES_NOT_EXIST" {
            return nil
        }
    }

    /// The experiment's id, creating it with `tags` when missing (and tolerating a concurrent create).
    func ensureExperiment(named name: String, tags: [Entry] = []) async throws -> Experiment {
        if let found = try await experiment(named: name) { return found }
        do {
            let reply = try await call(
                .POST, "/api/2.0/mlflow/experiments/create", body: ["name": name, "tags": tags.map { ["key": $0.key, "value": $0.value] }])
            guard let id = reply["experiment_id"] as? String else { throw Failure.transient("experiments/create returned no id") }
            return Experiment(id: id, tags: Dictionary(tags.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }))
        } catch Failure.permanent(_, let code, _) where code == "RESOURCE_ALREADY_EXISTS" {
            if let found = try await experiment(named: name) { return found }
            throw Failure.transient("experiment \(name) exists but cannot be read")
        }
    }

    func setExperimentTag(experimentID: String, key: String, value: String) async throws {
        _ = try await call(
            .POST, "/api/2.0/mlflow/experiments/set-experiment-tag", body: ["experiment_id": experimentID, "key": key, "value": value])
    }

    func createRun(experimentID: String, name: String, startTime: Int64, tags: [Entry]) async throws -> String {
        let reply = try await call(
            .POST, "/api/2.0/mlflow/runs/create",
            body: [
                "experiment_id": experimentID, "run_name": name, "start_time": startTime,
                "tags": tags.map { ["key": $0.key, "value": $0.value] },
            ])
        guard let info = (reply["run"] as? [String: Any])?["info"] as? [String: Any], let id = info["run_id"] as? String else {
            throw Failure.transient("runs/create returned no run id")
        }
        return id
    }

    /// The MLflow run carrying every `tag = value` in the experiment, if any.
    func findRun(experimentID: String, tags: [Entry]) async throws -> String? {
        let filter = tags.map { "tags.`\($0.key)` = '\($0.value.replacingOccurrences(of: "'", with: "\\'"))'" }.joined(separator: " and ")
        let reply = try await call(
            .POST, "/api/2.0/mlflow/runs/search",
            body: ["experiment_ids": [experimentID], "filter": filter, "max_results": 2, "run_view_type": "ALL"])
        let runs = reply["runs"] as? [[String: Any]] ?? []
        return (runs.first?["info"] as? [String: Any])?["run_id"] as? String
    }

    struct LoggedModel: Sendable {
        var id: String
        /// Where its files go, relative to the artifact proxy (`<experiment>/models/<id>/artifacts`).
        var artifactPath: String
        var ready: Bool
    }

    static func loggedModel(_ reply: [String: Any]) -> LoggedModel? {
        guard let info = (reply["model"] as? [String: Any] ?? reply)["info"] as? [String: Any],
            let id = info["model_id"] as? String
        else { return nil }
        let location = info["artifact_uri"] as? String ?? ""
        let path = location.hasPrefix("mlflow-artifacts:/")
            ? String(location.dropFirst("mlflow-artifacts:/".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            : "\(info["experiment_id"] as? String ?? "0")/models/\(id)/artifacts"
        return LoggedModel(id: id, artifactPath: path, ready: info["status"] as? String == "LOGGED_MODEL_READY")
    }

    func createLoggedModel(experimentID: String, name: String, sourceRun: String, params: [Entry], tags: [Entry]) async throws
        -> LoggedModel
    {
        let reply = try await call(
            .POST, "/api/2.0/mlflow/logged-models",
            body: [
                "experiment_id": experimentID, "name": name, "source_run_id": sourceRun,
                "params": params.map { ["key": $0.key, "value": $0.value] }, "tags": tags.map { ["key": $0.key, "value": $0.value] },
            ])
        guard let model = Self.loggedModel(reply) else { throw Failure.transient("logged-models create returned no model id") }
        return model
    }

    /// The logged model created from `sourceRun`, if any (after an unclear create).
    func findLoggedModel(experimentID: String, sourceRun: String) async throws -> LoggedModel? {
        let reply = try await call(
            .POST, "/api/2.0/mlflow/logged-models/search",
            body: ["experiment_ids": [experimentID], "filter": "source_run_id = '\(sourceRun)'", "max_results": 2])
        return (reply["models"] as? [[String: Any]] ?? []).compactMap(Self.loggedModel).first
    }

    func getLoggedModel(id: String) async throws -> LoggedModel {
        guard let model = Self.loggedModel(try await call(.GET, "/api/2.0/mlflow/logged-models/\(id)", body: nil)) else {
            throw Failure.transient("logged-models get returned no model")
        }
        return model
    }

    /// The ids of the logged models linked to `run` as its outputs.
    func outputModels(run: String) async throws -> [String] {
        let reply = try await call(.GET, "/api/2.0/mlflow/runs/get?run_id=\(Self.query(run))", body: nil)
        let outputs = ((reply["run"] as? [String: Any])?["outputs"] as? [String: Any])?["model_outputs"] as? [[String: Any]] ?? []
        return outputs.compactMap { $0["model_id"] as? String }
    }

    func finalizeLoggedModel(id: String) async throws {
        _ = try await call(.PATCH, "/api/2.0/mlflow/logged-models/\(id)", body: ["model_id": id, "status": 2])
    }

    /// Links the logged model to the run as its output (what the Models column shows).
    func logOutputs(run: String, modelID: String, step: Int64) async throws {
        _ = try await call(.POST, "/api/2.0/mlflow/runs/outputs", body: ["run_id": run, "models": [["model_id": modelID, "step": step]]])
    }

    struct Dataset: Sendable {
        var name: String
        var digest: String
        var sourceType: String
        var source: String
        var profile: String
        /// `mlflow.data.context`: training, validation or test.
        var context: String
    }

    func logInputs(run: String, datasets: [Dataset]) async throws {
        _ = try await call(
            .POST, "/api/2.0/mlflow/runs/log-inputs",
            body: [
                "run_id": run,
                "datasets": datasets.map {
                    [
                        "tags": [["key": "mlflow.data.context", "value": $0.context]],
                        "dataset": [
                            "name": $0.name, "digest": $0.digest, "source_type": $0.sourceType, "source": $0.source,
                            "profile": $0.profile,
                        ],
                    ]
                },
            ])
    }

    func logBatch(run: String, metrics: [Point] = [], params: [Entry] = [], tags: [Entry] = []) async throws {
        _ = try await call(
            .POST, "/api/2.0/mlflow/runs/log-batch",
            body: [
                "run_id": run,
                "metrics": metrics.map { ["key": $0.key, "value": $0.value, "timestamp": $0.timestamp, "step": $0.step] },
                "params": params.map { ["key": $0.key, "value": $0.value] },
                "tags": tags.map { ["key": $0.key, "value": $0.value] },
            ])
    }

    func updateRun(run: String, status: String, endTime: Int64?) async throws {
        var body: [String: Any] = ["run_id": run, "status": status]
        if let endTime { body["end_time"] = endTime }
        _ = try await call(.POST, "/api/2.0/mlflow/runs/update", body: body)
    }

    /// The points of one metric, to check whether a batch sent before a crash arrived.
    func history(run: String, key: String) async throws -> [Point] {
        var points: [Point] = []
        var token: String?
        repeat {
            var path = "/api/2.0/mlflow/metrics/get-history?run_id=\(run)&metric_key=\(Self.query(key))&max_results=25000"
            if let token { path += "&page_token=\(Self.query(token))" }
            let reply = try await call(.GET, path, body: nil)
            for metric in reply["metrics"] as? [[String: Any]] ?? [] {
                points.append(
                    Point(
                        key: key, value: (metric["value"] as? NSNumber)?.doubleValue ?? .nan,
                        timestamp: Int64(truncating: metric["timestamp"] as? NSNumber ?? 0),
                        step: Int64(truncating: metric["step"] as? NSNumber ?? 0)))
            }
            token = (reply["next_page_token"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return points
    }

    /// Uploads one file through the artifact proxy to `<run artifacts>/<path>`.
    func uploadArtifact(experimentID: String, run: String, path: String, file: String) async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure.transient("cannot read \(file)") }
        try await upload(data, to: "\(experimentID)/\(run)/artifacts/\(path)")
    }

    /// Uploads one file through the artifact proxy to `destination` (a path under its root).
    func uploadArtifact(at destination: String, file: String) async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure.transient("cannot read \(file)") }
        try await upload(data, to: destination)
    }

    /// Uploads `data` through the artifact proxy to `destination` (a path under its root).
    func upload(_ data: Data, to destination: String) async throws {
        let encoded = destination.split(separator: "/").map {
            String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0)
        }.joined(separator: "/")
        var request = HTTPClientRequest(url: base + "/api/2.0/mlflow-artifacts/artifacts/\(encoded)")
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: data))
        _ = try await send(request, what: "upload of \(destination)", timeout: Self.uploadTimeout)
    }

    /// Percent-encodes everything but ASCII letters, digits and `-._~` (Unicode keys included).
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func entries(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for entry in value as? [[String: Any]] ?? [] {
            if let key = entry["key"] as? String { result[key] = entry["value"] as? String ?? "" }
        }
        return result
    }

    // MARK: Transport

    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let data = try await send(request, what: path)
        guard !data.isEmpty else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    private func send(_ request: HTTPClientRequest, what: String, timeout: TimeAmount = Self.timeout) async throws -> Data {
        let response: HTTPClientResponse
        var body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw Failure.transient("\(what): \(error)")
        }
        let data = Data(body.readBytes(length: body.readableBytes) ?? [])
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return data }
        if status == 408 || status == 429 || status >= 500 {
            throw Failure.transient("\(what): HTTP \(status)")
        }
        let reply = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let message = reply["message"] as? String ?? ""
        // An overloaded MLflow reports its exhausted database pool as a 400.
        if message.contains("QueuePool limit") || message.contains("database is locked") {
            throw Failure.transient("\(what): HTTP \(status): \(message.prefix(200))")
        }
        throw Failure.permanent(
            status: status, code: reply["error_code"] as? String ?? "",
            message: reply["message"] as? String ?? String(decoding: data.prefix(300), as: UTF8.self))
    }
}

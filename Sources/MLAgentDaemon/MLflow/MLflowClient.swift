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

    func experimentID(named name: String) async throws -> String? {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
        do {
            let reply = try await call(.GET, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=\(escaped)", body: nil)
            return (reply["experiment"] as? [String: Any])?["experiment_id"] as? String
        } catch Failure.permanent(let status, let code, _) where status == 404 || code == "RESOURCE_DOES_NOT_EXIST" {
            return nil
        }
    }

    func createExperiment(named name: String) async throws -> String {
        let reply = try await call(.POST, "/api/2.0/mlflow/experiments/create", body: ["name": name])
        guard let id = reply["experiment_id"] as? String else { throw Failure.transient("experiments/create returned no id") }
        return id
    }

    /// The experiment's id, creating it when missing (and tolerating a concurrent create).
    func ensureExperiment(named name: String) async throws -> String {
        if let id = try await experimentID(named: name) { return id }
        do {
            return try await createExperiment(named: name)
        } catch Failure.permanent(_, let code, _) where code == "RESOURCE_ALREADY_EXISTS" {
            if let id = try await experimentID(named: name) { return id }
            throw Failure.transient("experiment \(name) exists but cannot be read")
        }
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

    /// The MLflow run carrying `tag = value` in the experiment, if any.
    func findRun(experimentID: String, tag: String, value: String) async throws -> String? {
        let reply = try await call(
            .POST, "/api/2.0/mlflow/runs/search",
            body: [
                "experiment_ids": [experimentID], "filter": "tags.`\(tag)` = '\(value)'", "max_results": 2,
                "run_view_type": "ALL",
            ])
        let runs = reply["runs"] as? [[String: Any]] ?? []
        return (runs.first?["info"] as? [String: Any])?["run_id"] as? String
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
            var path = "/api/2.0/mlflow/metrics/get-history?run_id=\(run)&metric_key=\(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key)&max_results=25000"
            if let token { path += "&page_token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)" }
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
        let encoded = path.split(separator: "/").map {
            String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0)
        }.joined(separator: "/")
        var request = HTTPClientRequest(url: base + "/api/2.0/mlflow-artifacts/artifacts/\(experimentID)/\(run)/artifacts/\(encoded)")
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: data))
        _ = try await send(request, what: "upload of \(path)", timeout: Self.uploadTimeout)
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

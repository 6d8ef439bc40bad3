import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The MLflow mirror against real `mlflow server` processes: everything the daemon records is
/// read back through MLflow's REST API and compared, across an outage of the server, a kill -9
/// of the daemon while it drains, and a replay into an empty server.
@Suite("MLflow mirror", .serialized)
struct MLflowTests {
    static let mlflow = Binaries.repositoryRoot.path + "/.venv/bin/mlflow"

    /// A real MLflow server on a free port with its own database.
    final class Server {
        let port: Int
        let dir: String
        var process: ChildProcess?
        var uri: String { "http://127.0.0.1:\(port)" }

        init(dir: String) {
            self.dir = dir
            var port = 0
            for candidate in (0..<50).map({ _ in Int.random(in: 20_000...40_000) }) where Self.free(candidate) {
                port = candidate
                break
            }
            self.port = port
        }

        static func free(_ port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }

        func start() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var environment = ProcessInfo.processInfo.environment
            environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
            process = try ChildProcess(
                executable: MLflowTests.mlflow,
                arguments: [
                    "server", "--backend-store-uri", "sqlite:///\(dir)/mlflow.db", "--artifacts-destination", "\(dir)/artifacts",
                    "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
                ], environment: environment, outputPath: "\(dir)/server.log")
            try waitUntil("mlflow server on \(port)", timeout: .seconds(90), every: .milliseconds(250)) {
                (try? self.get("/health")) != nil
            }
        }

        /// Stops the server and every process it started.
        func stop() {
            guard let process else { return }
            let pid = process.processIdentifier
            for child in Self.descendants(of: pid) + [pid] { kill(child, SIGKILL) }
            process.waitUntilExit()
            self.process = nil
        }

        static func descendants(of pid: Int32) -> [Int32] {
            var result: [Int32] = []
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let child = Int32(entry),
                    let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, Int32(fields[1]) == pid { result += [child] + descendants(of: child) }
            }
            return result
        }

        func get(_ path: String) throws -> Data {
            try request("GET", path, body: nil)
        }

        func post(_ path: String, _ body: [String: Any]) throws -> [String: Any] {
            let data = try request("POST", path, body: try JSONSerialization.data(withJSONObject: body))
            return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        }

        /// A blocking HTTP/1.1 request over a plain socket (the tests need no HTTP library).
        func request(_ method: String, _ path: String, body: Data?) throws -> Data {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw TestFailure("cannot connect to \(uri)") }
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
            var bytes = Data((head + "\r\n").utf8)
            if let body { bytes.append(body) }
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var response = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                response.append(contentsOf: buffer[0..<count])
            }
            guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw TestFailure("no HTTP response from \(uri)") }
            let status = String(decoding: response[..<split.lowerBound], as: UTF8.self)
            guard status.hasPrefix("HTTP/1.1 200") else { throw TestFailure("\(method) \(path): \(status.prefix(80))") }
            var payload = Data(response[split.upperBound...])
            if status.lowercased().contains("transfer-encoding: chunked") { payload = Self.dechunk(payload) }
            return payload
        }

        static func dechunk(_ data: Data) -> Data {
            var result = Data()
            var rest = data[...]
            while let line = rest.range(of: Data("\r\n".utf8)) {
                let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self), radix: 16) ?? 0
                if size == 0 { break }
                let start = line.upperBound
                result.append(rest[start..<(start + size)])
                rest = rest[(start + size + 2)...]
            }
            return result
        }
    }

    func makeDaemon(_ label: String, uri: String) throws -> TestDaemon {
        let daemon = try TestDaemon(
            label: label,
            config: """
                [daemon]
                data_dir = "@DIR@/data"
                prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
                [scheduler]
                default_agent = "recorder"
                [mlflow]
                tracking_uri = "\(uri)"
                experiment = "mirror-test"
                [agents.recorder]
                command = ["sh", "@DIR@/agents/recorder.sh"]
                """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n0.5\n0.6\n0.7\n0.8\n")
        try daemon.write("data/val_private_X.csv", "f00\n0.5\n0.6\n0.7\n0.8\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n0\n1\n")
        try daemon.write("data/val_private_y.csv", "target\n1\n0\n1\n1\n")
        // Three runs, each after a go file: the test controls when records appear.
        try daemon.write(
            "agents/recorder.sh",
            """
            set -e
            for n in 1 2 3; do
              while [ ! -e @DIR@/ctl/go-$n ]; do sleep 0.1; done
              points=$(cat @DIR@/ctl/go-$n)
              R=$(mlagentctl run start --name "config-$n" --rationale "wave $n" --param n=$n --param width=$((n * 16)))
              awk -v p="$points" 'BEGIN { for (i = 0; i < p; i++) printf "{\\"key\\":\\"%s\\",\\"value\\":%.6f,\\"step\\":%d}\\n", (i % 2 ? "val_loss" : "train_loss"), 1/(i+1), int(i/2) }' > m$n.jsonl
              mlagentctl run log "$R" --file m$n.jsonl
              mlagentctl run log "$R" --metric "fit_seconds=$n.5" --tag "family=wave$n"
              mkdir -p model$n && echo "weights $n" > model$n/w.bin && echo "{}" > model$n/meta.json
              \(TestModel.shell("model$n"))
              mlagentctl run artifact "$R" model$n --as model
              printf 'p\\n0.1\\n0.9\\n0.2\\n0.8\\n' > pub.csv
              mlagentctl eval "$R" pub.csv
              if [ $n = 3 ]; then mlagentctl run end "$R" --analysis "broke" --failed; else mlagentctl run end "$R" --analysis "wave $n done"; fi
              echo "$R" >> runs.txt
            done
            while [ ! -e @DIR@/ctl/release ]; do sleep 0.1; done
            """)
        return daemon
    }

    /// Everything the daemon holds about every run is in `server`, exactly once.
    func compare(_ daemon: TestDaemon, _ server: Server, experimentName: String = "mirror-test") throws {
        let client = try daemon.client()
        let experiment = try JSONSerialization.jsonObject(
            with: try server.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=\(experimentName)")) as? [String: Any]
        let experimentID = try #require((experiment?["experiment"] as? [String: Any])?["experiment_id"] as? String)
        // One parent run per direction and one logged model per model artifact, whatever
        // happened to the server or the daemon.
        let parents = try server.post(
            "/api/2.0/mlflow/runs/search",
            ["experiment_ids": [experimentID], "filter": "tags.`mlagent.kind` = 'direction'", "max_results": 10])
        #expect((parents["runs"] as? [[String: Any]] ?? []).count == 1, "parent runs: \(parents)")
        let models = try server.post("/api/2.0/mlflow/logged-models/search", ["experiment_ids": [experimentID], "max_results": 50])
        let withModel = try client.runs().filter(\.hasModel).count
        #expect((models["models"] as? [[String: Any]] ?? []).count == withModel, "logged models: \(models)")
        for run in try client.runs() {
            let detail = try client.showRun(run.id)
            let found = try server.post(
                "/api/2.0/mlflow/runs/search",
                ["experiment_ids": [experimentID], "filter": "tags.`mlagent.run_id` = '\(run.id)'", "max_results": 10])
            let runs = found["runs"] as? [[String: Any]] ?? []
            #expect(runs.count == 1, "run \(run.id) is in MLflow \(runs.count) times")
            guard let mirrored = runs.first, let info = mirrored["info"] as? [String: Any],
                let data = mirrored["data"] as? [String: Any], let id = info["run_id"] as? String
            else { continue }
            let params = Dictionary(uniqueKeysWithValues: (data["params"] as? [[String: String]] ?? []).map { ($0["key"]!, $0["value"]!) })
            #expect(params == detail.params, "params of run \(run.id)")
            let tags = Dictionary(uniqueKeysWithValues: (data["tags"] as? [[String: String]] ?? []).map { ($0["key"]!, $0["value"]!) })
            for (key, value) in detail.tags { #expect(tags[key] == value, "tag \(key) of run \(run.id)") }
            #expect(tags["mlagent.direction"] == run.direction)
            #expect(info["status"] as? String == (run.status == .finished ? "FINISHED" : "FAILED"))
            // Every metric point, once, with its step and value.
            var daemonPoints: [String: [String]] = [:]
            var after: Int64 = 0
            while true {
                let page = try client.metricHistory(MetricHistoryParams(run: run.id, after: after, limit: 50_000))
                for point in page.points { daemonPoints[point.key, default: []].append("\(point.step) \(point.value)") }
                guard let next = page.next else { break }
                after = next
            }
            for (key, expected) in daemonPoints {
                var got: [String] = []
                var token: String?
                repeat {
                    var path = "/api/2.0/mlflow/metrics/get-history?run_id=\(id)&metric_key=\(key)&max_results=25000"
                    if let token { path += "&page_token=\(token)" }
                    let reply = try JSONSerialization.jsonObject(with: try server.get(path)) as? [String: Any] ?? [:]
                    for metric in reply["metrics"] as? [[String: Any]] ?? [] {
                        got.append("\((metric["step"] as? NSNumber)?.int64Value ?? -1) \((metric["value"] as? NSNumber)?.doubleValue ?? .nan)")
                    }
                    token = (reply["next_page_token"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                } while token != nil
                #expect(got.sorted() == expected.sorted(), "metric \(key) of run \(run.id): \(got.count) in MLflow, \(expected.count) recorded")
            }
            let listing = try JSONSerialization.jsonObject(
                with: try server.get("/api/2.0/mlflow/artifacts/list?run_id=\(id)&path=model")) as? [String: Any] ?? [:]
            let files = Set((listing["files"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
            #expect(files == ["model/w.bin", "model/meta.json", "model/MLmodel"], "artifacts of run \(run.id): \(files)")
        }
    }

    func go(_ daemon: TestDaemon, wave: Int, points: Int) {
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/go-\(wave)"), contents: Data("\(points)".utf8))
    }

    func runsDone(_ daemon: TestDaemon) throws -> Int {
        let worktree = try daemon.client().show(id: 1).worktree ?? ""
        let text = (try? String(contentsOfFile: worktree + "/runs.txt", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    func caughtUp(_ daemon: TestDaemon) throws -> Bool {
        let status = try daemon.client().mlflowStatus()
        return status.runsPending == 0 && status.pointsPending == 0 && status.lastError == nil
    }

    @Test("runs mirror exactly, through a one-minute outage, a kill -9 mid-drain, and a replay into an empty server")
    func mirror() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.mlflow), "make venv installs mlflow into .venv")
        let root = try TempDir("mlf")
        let server = Server(dir: root.file("server-a"))
        try server.start()
        defer { server.stop() }
        let daemon = try makeDaemon("mfd", uri: server.uri)
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "mirrored"))

        // Wave 1 with the server up.
        go(daemon, wave: 1, points: 20_000)
        try waitUntil("run 1 recorded", timeout: .seconds(60)) { try runsDone(daemon) == 1 }
        try waitUntil("the mirror to catch up", timeout: .seconds(60)) { try caughtUp(daemon) }
        try compare(daemon, server)

        // Wave 2 while the server is down for a minute: the agent is not slowed.
        server.stop()
        #expect((try? server.get("/health")) == nil, "the server still answers after being stopped")
        let before = ContinuousClock.now
        go(daemon, wave: 2, points: 20_000)
        try waitUntil("run 2 recorded with MLflow down", timeout: .seconds(60)) { try runsDone(daemon) == 2 }
        #expect(ContinuousClock.now - before < .seconds(30), "the agent waited for MLflow")
        try waitUntil("the mirror to notice (\(String(describing: try? client.mlflowStatus())))", timeout: .seconds(30)) {
            try client.mlflowStatus().lastError != nil
        }
        #expect(try client.mlflowStatus().pointsPending > 0)
        let elapsed = ContinuousClock.now - before
        let remaining = 60 - (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        if remaining > 0 { Thread.sleep(forTimeInterval: remaining) }
        try server.start()
        try waitUntil("the mirror to converge after the outage", timeout: .seconds(120)) { try caughtUp(daemon) }
        try compare(daemon, server)

        // Wave 3 piles up while the server is down, then the daemon is killed mid-drain.
        server.stop()
        go(daemon, wave: 3, points: 100_000)
        try waitUntil("run 3 recorded", timeout: .seconds(60)) { try runsDone(daemon) == 3 }
        try server.start()
        let backlog = try client.mlflowStatus().pointsPending
        try waitUntil("part of the backlog sent", timeout: .seconds(60), every: .milliseconds(5)) {
            let pending = try daemon.client().mlflowStatus().pointsPending
            return pending < backlog && pending > 0
        }
        daemon.kill9()
        try daemon.start(launching: true)
        try waitUntil("the mirror to converge after kill -9", timeout: .seconds(120)) { try caughtUp(daemon) }
        try compare(daemon, server)

        // A new, empty server gets the whole history from `mlflow sync`, and a second sync
        // adds nothing.
        let fresh = Server(dir: root.file("server-b"))
        try fresh.start()
        defer { fresh.stop() }
        let synced = try daemon.ctl("mlflow", "sync", "--tracking-uri", fresh.uri, "--json")
        #expect(synced.status == 0, "\(synced.stderr)")
        try compare(daemon, fresh)
        let again = try JSONDecoder().decode(
            MLflowSyncResult.self, from: Data(try daemon.ctl("mlflow", "sync", "--tracking-uri", fresh.uri, "--json").stdout.utf8))
        #expect(again.points == 0)
        try compare(daemon, fresh)

        let status = try daemon.ctl("mlflow", "status")
        #expect(status.stdout.contains("dead letters   none"), "\(status.stdout)")
        _ = FileManager.default.createFile(atPath: daemon.dir.file("ctl/release"), contents: Data())
        #expect(try daemon.terminate() == 0)
    }

    @Test("serve = true: the daemon runs mlflow server, restarts it when it dies, and stops it on shutdown")
    func managedServer() throws {
        let probe = Server(dir: "/nonexistent")
        let daemon = try TestDaemon(
            label: "mfs",
            config: """
                [mlflow]
                tracking_uri = "\(probe.uri)"
                serve = true
                command = "\(Self.mlflow)"
                """)
        try daemon.start()
        let client = try daemon.client()
        var first: Int32 = 0
        try waitUntil("the managed server to answer", timeout: .seconds(120), every: .milliseconds(250)) {
            first = try client.mlflowStatus().serverPID ?? 0
            return first > 0 && (try? probe.get("/health")) != nil
        }
        #expect(FileManager.default.fileExists(atPath: daemon.stateDir + "/mlflow/mlflow.db"))
        // It dies; the daemon starts another.
        for child in Server.descendants(of: first) + [first] { kill(child, SIGKILL) }
        try waitUntil("a restarted server", timeout: .seconds(120), every: .milliseconds(250)) {
            let pid = try client.mlflowStatus().serverPID ?? 0
            return pid > 0 && pid != first && (try? probe.get("/health")) != nil
        }
        let second = try #require(try client.mlflowStatus().serverPID)
        #expect(try daemon.terminate() == 0)
        #expect(kill(second, 0) != 0, "the server outlived the daemon")
        #expect((try? probe.get("/health")) == nil)
    }
}

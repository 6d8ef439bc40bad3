import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The mirror as MLflow users see it, read through MLflow's official Python client: one
/// experiment per workspace, a parent run per direction with its runs nested, the system tags,
/// logged models, dataset inputs, MLflow's metric names, and tags longer than MLflow keeps.
@Suite("MLflow as its users see it", .serialized)
struct MLflowUserTests {
    static let rationale = "Trees split on the interactions that the linear baseline misses."
    /// Longer than MLflow's 8,000 characters, in two-byte characters (MLflow counts characters).
    static let analysis = "Résumé: " + String(repeating: "é", count: 9_000) + " end."

    func makeDaemon(_ label: String, uri: String) throws -> TestDaemon {
        let daemon = try TestDaemon(
            label: label,
            config: """
                [daemon]
                data_dir = "@DIR@/data"
                prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
                [scheduler]
                default_agent = "researcher"
                [evaluation]
                \(TestModel.predictionsSubmit)
                [mlflow]
                tracking_uri = "\(uri)"
                [agents.researcher]
                command = ["sh", "@DIR@/agents/researcher.sh"]
                """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n0.5\n0.6\n0.7\n0.8\n")
        try daemon.write("data/val_private_X.csv", "f00\n0.5\n0.6\n0.7\n0.8\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n0\n1\n")
        try daemon.write("data/val_private_y.csv", "target\n1\n0\n1\n1\n")
        try daemon.write("ctl/analysis.txt", Self.analysis)
        // One direction, the same name in every workspace: two runs, MLflow-style metric names,
        // a point logged twice, a model, a submission and learnings.
        try daemon.write(
            "agents/researcher.sh",
            """
            set -e
            mlagentctl direction declare trees --rationale "\(Self.rationale)"
            R1=$(mlagentctl run start --name depth-3 --rationale "shallow first" --param depth=3)
            printf '%s\\n' '{"key":"eval:auc","value":0.71,"step":0}' '{"key":"eval:auc","value":0.74,"step":1}' \\
              '{"key":"précision","value":0.5,"step":0}' \\
              '{"key":"repeat","value":1.5,"step":2,"timestamp":1700000000000}' \\
              '{"key":"repeat","value":1.5,"step":2,"timestamp":1700000000000}' > m.jsonl
            mlagentctl run log "$R1" --file m.jsonl
            mkdir -p model && echo "weights" > model/w.bin
            \(TestModel.shell("model"))
            mlagentctl run artifact "$R1" model --as model
            printf 'p\\n0.1\\n0.9\\n0.2\\n0.8\\n' > pub.csv
            mlagentctl eval "$R1" pub.csv
            mlagentctl run end "$R1" --analysis "$(cat @DIR@/ctl/analysis.txt)"
            R2=$(mlagentctl run start --name depth-9 --rationale "deeper")
            mlagentctl run end "$R2" --analysis "worse" --failed
            mlagentctl submit "$R1" pub.csv
            printf '### What worked\\nDepth 3.\\n' > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        return daemon
    }

    /// The archive commit of job 1, once written.
    func archiveCommit(_ daemon: TestDaemon) throws -> String? {
        let events = try daemon.client().events(since: 0, job: 1).events
        guard case .string(let commit) = events.last(where: { $0.kind == EventKind.jobArchived })?.data["commit"] else { return nil }
        return commit
    }

    func caughtUp(_ daemon: TestDaemon) throws -> Bool {
        let status = try daemon.client().mlflowStatus()
        return status.runsPending == 0 && status.pointsPending == 0 && status.lastError == nil
    }

    /// Everything one workspace should show in `view`.
    func check(_ view: MLflowView, experiment name: String, daemon: TestDaemon, commit: String) throws {
        let experiment = try #require(view.experiments.first { $0.name == name }, "no experiment \(name): \(view.experiments.map(\.name))")
        let workspaceID = try #require(experiment.tags["mlagent.workspace_id"])
        #expect(experiment.tags["mlflow.note.content"]?.contains("direction") == true, "no description")
        #expect(experiment.runs.allSatisfy { $0.tags["mlagent.workspace_id"] == workspaceID })
        // A parent run for the direction, its two runs nested.
        let parents = experiment.runs.filter { $0.tags["mlagent.kind"] == "direction" }
        let parent = try #require(parents.first, "no parent run: \(experiment.runs.map(\.name))")
        #expect(parents.count == 1 && parent.name == "trees" && parent.status == "FINISHED")
        #expect(parent.tags["mlflow.note.content"]?.contains(Self.rationale) == true)
        let runs = experiment.runs.filter { $0.tags["mlagent.kind"] == "run" }
        #expect(Set(parent.children) == Set(runs.map(\.id)) && runs.count == 2, "nested: \(parent.children)")
        let client = try daemon.client()
        for run in runs {
            let id = try #require(Int64(run.tags["mlagent.run_id"] ?? ""))
            let detail = try client.showRun(id)
            #expect(run.name == detail.run.name && run.tags["mlflow.parentRunId"] == parent.id)
            // The system tags MLflow users filter on.
            #expect(run.tags["mlflow.source.git.commit"] == commit && run.byCommit == 3, "commit of run \(id): \(run.byCommit)")
            #expect(run.tags["mlflow.source.git.branch"] == "exp/trees")
            #expect(run.tags["mlflow.source.name"] == "mlagent/researcher" && run.tags["mlflow.user"] == "researcher")
            #expect(run.tags["mlflow.note.content"]?.contains(Self.rationale) == true)
            // The dataset inputs, digests from the workspace's main.
            let blob = try daemon.git("rev-parse", "main:data/train.csv").output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(
                run.datasets.map(\.context).sorted() == ["test", "training", "validation"]
                    && run.datasets.first { $0.context == "training" }?.digest == String(blob.prefix(12)),
                "datasets of run \(id): \(run.datasets)")
        }
        let best = try #require(runs.first { $0.name == "depth-3" })
        // MLflow's metric names, and a repeated point kept once by MLflow (twice by the daemon).
        #expect(best.history["eval:auc"] == 2 && best.history["précision"] == 1, "\(best.history)")
        #expect(best.history["repeat"] == 1)
        let repeats = try client.metricHistory(MetricHistoryParams(run: 1, key: "repeat", after: 0, limit: 10)).points
        #expect(repeats.count == 2)
        // The long analysis: cut with a note, the full text as an artifact.
        let cut = try #require(best.tags["run_analysis"])
        #expect(cut.unicodeScalars.count == 8000 && cut.contains("mlagent/tags/run_analysis.txt"), "\(cut.suffix(200))")
        #expect(best.fullTexts["run_analysis"] == Self.analysis)
        #expect(best.fullTexts["mlflow.note.content"]?.contains(Self.analysis) == true)
        // The model: a logged model with an MLmodel, linked to its run.
        let model = try #require(experiment.models.first, "no logged model")
        #expect(experiment.models.count == 1 && model.sourceRun == best.id && model.status.contains("READY"), "\(model)")
        #expect(Set(model.files) == ["MLmodel", "w.bin"] && model.mlmodelRunID == best.id, "\(model.files)")
        #expect(best.outputModels == [model.id])
    }

    @Test("two workspaces in one MLflow server: own experiments, nested runs, system tags, models, datasets, cut tags")
    func usersView() throws {
        let root = try TempDir("mlu")
        let server = MLflowTests.Server(dir: root.file("server"))
        try server.start()
        defer { server.stop() }
        let first = try makeDaemon("mua", uri: server.uri)
        let second = try makeDaemon("mub", uri: server.uri)
        var commits: [String] = []
        for daemon in [first, second] {
            try daemon.start(launching: true)
            _ = try daemon.client().enqueue(EnqueueParams(direction: ""))
        }
        for daemon in [first, second] {
            var commit: String?
            try waitUntil("job 1 archived", timeout: .seconds(90), every: .milliseconds(100)) {
                commit = try archiveCommit(daemon)
                return commit != nil
            }
            try waitUntil("the mirror to catch up", timeout: .seconds(60), every: .milliseconds(100)) { try caughtUp(daemon) }
            commits.append(try #require(commit))
        }
        let view = try MLflowView.read(server.uri, dir: root)
        // Each test daemon's workspace is <dir>/state/workspace: both are named "state", so the
        // second gets its id appended.
        let names = view.experiments.map(\.name).sorted()
        #expect(names.count == 2 && names[0] == "state" && names[1].hasPrefix("state ("), "\(names)")
        // Both start at once, so either may take the plain name first.
        let firstName = try #require(try first.client().mlflowStatus().experimentName)
        let secondName = try #require(try second.client().mlflowStatus().experimentName)
        #expect(Set([firstName, secondName]) == Set(names), "\(firstName), \(secondName)")
        try check(view, experiment: firstName, daemon: first, commit: commits[0])
        try check(view, experiment: secondName, daemon: second, commit: commits[1])
        let status = try first.ctl("mlflow", "status")
        #expect(status.stdout.contains("tags cut       2 "), "\(status.stdout)")
        #expect(status.stdout.contains("dead letters   none"), "\(status.stdout)")

        // A replay into an empty server rebuilds the same structure, with its own mappings.
        let fresh = MLflowTests.Server(dir: root.file("fresh"))
        try fresh.start()
        defer { fresh.stop() }
        let synced = try first.ctl("mlflow", "sync", "--tracking-uri", fresh.uri, "--json")
        #expect(synced.status == 0, "\(synced.stderr)")
        try check(try MLflowView.read(fresh.uri, dir: root), experiment: "state", daemon: first, commit: commits[0])
        #expect(try first.terminate() == 0)
        #expect(try second.terminate() == 0)
    }

    @Test("metric, param and tag names: exactly the characters MLflow's own validator accepts")
    func namesMatchMLflow() throws {
        let dir = try TempDir("mln")
        let script = dir.file("names.py")
        let keys = [
            "eval:auc", "précision", "損失/訓練", "val loss", "a-b_c.d", "f1!", "..a", "a/../b", "a//b", "a/", "/a", ".", "a/.",
            "a..b", ".a", "x\u{00A0}y", "tab\there", "Ωmega²", "٣", "a\u{0301}",
        ]
        try """
            import json, re, sys, unicodedata
            from mlflow.utils.validation import _validate_metric_name
            from mlflow.exceptions import MlflowException
            word = re.compile(r"^[/\\w.\\- :]*$")
            names = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and word.match(chr(c))]
            assigned = [c for c in range(0x110000) if unicodedata.category(chr(c)) != "Cn"]
            def ok(key):
                try:
                    _validate_metric_name(key)
                    return True
                except MlflowException:
                    return False
            keys = json.load(open(sys.argv[1], encoding="utf-8"))
            json.dump({"names": names, "assigned": assigned, "keys": {k: ok(k) for k in keys}}, open(sys.argv[2], "w"))
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try JSONSerialization.data(withJSONObject: keys).write(to: URL(fileURLWithPath: dir.file("keys.json")))
        let process = try ChildProcess(
            executable: Binaries.repositoryRoot.path + "/.venv/bin/python",
            arguments: [script, dir.file("keys.json"), dir.file("out.json")], environment: ProcessInfo.processInfo.environment,
            outputPath: dir.file("log"))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\((try? String(contentsOfFile: dir.file("log"), encoding: .utf8)) ?? "")")
        struct Result: Decodable {
            var names: [UInt32]
            var assigned: [UInt32]
            var keys: [String: Bool]
        }
        let result = try JSONDecoder().decode(Result.self, from: Data(contentsOf: URL(fileURLWithPath: dir.file("out.json"))))
        let accepted = Set(result.names)
        let assigned = Set(result.assigned)
        var differences: [String] = []
        for value in UInt32(0)..<0x110000 {
            // Code points one Unicode version assigns and the other does not are left out, and
            // so is the newline, which the pattern's `$` lets through only as a name's last
            // character (an accident of Python's `$`; the daemon refuses it everywhere).
            guard let scalar = Unicode.Scalar(value), assigned.contains(value), scalar.properties.generalCategory != .unassigned,
                value != 0x0A
            else { continue }
            if RecordRules.isNameScalar(scalar) != accepted.contains(value) {
                differences.append(String(value, radix: 16))
            }
        }
        #expect(differences.isEmpty, "\(differences.count) code points differ from MLflow, first \(differences.prefix(20))")
        for key in keys {
            let ours = RecordRules.keyProblem(key, kind: "metric") == nil
            #expect(ours == result.keys[key], "\(key): MLflow \(result.keys[key] ?? false ? "accepts" : "refuses") it, the daemon does not")
        }
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// `mlagentctl mcp` as a real agent sees it: the official Python MCP client, run by the daemon as
/// the job's agent (so with a real token, in the sandbox), lists every tool and calls each one
/// through a whole direction.
@Suite("mlagentctl mcp through the official MCP client", .serialized)
struct MCPTests {
    static let python = Binaries.repositoryRoot.path + "/.venv/bin/python"
    static let tools = [
        "list_directions", "list_runs", "show_run", "leaderboard", "compare_runs", "declare_direction", "finish_direction", "read_inbox",
        "start_run", "log_metrics", "log_artifact", "end_run", "evaluate_public", "submit_private",
    ]

    func makeDaemon() throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            agents_dir = "@DIR@/agents"
            python = "\(Self.python)"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            [evaluation]
            bootstrap_samples = 100
            \(TestModel.predictionsSubmit)
            [agents.seed]
            command = ["sh", "{agents_dir}/seed.sh"]
            [agents.mcp]
            command = ["{python}", "{agents_dir}/mcp_session.py"]
            env = { MCP_TEST_PUBLIC = "\(TrackingTests.publicPredictions)", MCP_TEST_PRIVATE = "\(TrackingTests.privatePredictions)" }
            """
        let daemon = try TestDaemon(label: "mcp", config: config)
        let features = { (rows: Int) in "f00,f01\n" + (0..<rows).map { "\($0),\($0 * 2)" }.joined(separator: "\n") + "\n" }
        try daemon.write("data/train.csv", "f00,f01,target\n0.1,0.2,0\n0.3,0.4,1\n")
        try daemon.write("data/val_public_X.csv", features(TrackingTests.publicTargets.count))
        try daemon.write("data/val_private_X.csv", features(TrackingTests.privateTargets.count))
        try daemon.write("data/val_public_y.csv", "target\n" + TrackingTests.publicTargets.map(String.init).joined(separator: "\n") + "\n")
        try daemon.write("data/val_private_y.csv", "target\n" + TrackingTests.privateTargets.map(String.init).joined(separator: "\n") + "\n")
        try daemon.write(
            "agents/seed.sh",
            """
            set -e
            R=$(mlagentctl run start --name linear --rationale "a linear baseline")
            mlagentctl run end "$R" --analysis "no model kept"
            printf 'Linear models are a floor (run %s).\\n' "$R" > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        let script = try String(contentsOf: Binaries.repositoryRoot.appendingPathComponent("Tests/Tools/mcp_session.py"), encoding: .utf8)
        try daemon.write("agents/mcp_session.py", script)
        return daemon
    }

    typealias Call = [String: Any]

    func string(_ object: [String: Any]?, _ key: String) -> String { object?[key] as? String ?? "" }

    @Test("every tool is listed with a schema and called through a whole direction; refusals are tool errors")
    func wholeDirection() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "make venv creates \(Self.python) with mcp")
        let daemon = try makeDaemon()
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "seed", agent: "seed"))
        try waitUntil("the seed direction", timeout: .seconds(60)) { try client.show(id: 1).state.isFinal }
        let seedJob = try client.show(id: 1)
        #expect(seedJob.state == .completed, "\(seedJob.reason ?? "")")
        let seedRun = try #require(try client.runs(direction: "seed").first).id

        _ = try client.enqueue(EnqueueParams(direction: "", agent: "mcp"))
        try waitUntil("the MCP agent to run", timeout: .seconds(30)) { try client.show(id: 2).state == .running }
        let said = try daemon.ctl("say", "2", "try a lower learning rate")
        #expect(said.status == 0, "\(said.stderr)")
        try waitUntil("the MCP agent to end", timeout: .seconds(120)) { try client.show(id: 2).state.isFinal }
        let job = try client.show(id: 2)
        var report: [String: Any] = [:]
        let log = (try? client.logs(id: 2, offset: 0).data) ?? ""
        do {
            try waitUntil("the report on exp/mcp-forest", timeout: .seconds(30)) {
                // exp/job-2 when the session broke before it declared its direction.
                var shown = try daemon.git("show", "exp/mcp-forest:mcp-report.json")
                if shown.status != 0 { shown = try daemon.git("show", "exp/job-2:mcp-report.json") }
                guard shown.status == 0 else { return false }
                report = try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any] ?? [:]
                return true
            }
        } catch {
            Issue.record("job 2 (\(job.state.rawValue), \(job.reason ?? "")) logged: \(log.suffix(3000))")
            throw error
        }
        #expect(report["exception"] == nil, "\(report["exception"] ?? "")")
        #expect(job.state == .completed, "\(job.reason ?? "")")
        #expect(report["server"] as? String == "mlagent")

        // Every tool, each with a description and an object schema naming its required fields.
        let tools = report["tools"] as? [[String: Any]] ?? []
        #expect(Set(tools.compactMap { $0["name"] as? String }) == Set(Self.tools))
        for tool in tools {
            let name = tool["name"] as? String ?? "?"
            #expect(string(tool, "description").count > 80, "\(name) has too short a description")
            let schema = tool["inputSchema"] as? [String: Any] ?? [:]
            #expect(schema["type"] as? String == "object", "\(name): \(schema)")
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for required in schema["required"] as? [String] ?? [] {
                #expect(properties[required] != nil, "\(name): required \(required) is not a property")
            }
            for (key, property) in properties {
                let fields = property as? [String: Any] ?? [:]
                #expect(fields["type"] != nil && string(fields, "description").count > 5, "\(name).\(key): \(fields)")
            }
        }
        let schemas = Dictionary(tools.map { ($0["name"] as? String ?? "", $0["inputSchema"] as? [String: Any] ?? [:]) }, uniquingKeysWith: { a, _ in a })
        #expect(schemas["evaluate_public"]?["required"] as? [String] == ["run", "path"])
        #expect(schemas["declare_direction"]?["required"] as? [String] == ["name", "rationale"])

        // The calls, in order, as the model saw them.
        let allCalls = report["calls"] as? [Call] ?? []
        func calls(_ tool: String) -> [Call] { allCalls.filter { $0["tool"] as? String == tool } }
        func structured(_ call: Call?) -> [String: Any] { call?["structured"] as? [String: Any] ?? [:] }
        let called = Set(allCalls.compactMap { $0["tool"] as? String })
        #expect(called == Set(Self.tools), "not called: \(Set(Self.tools).subtracting(called))")
        let failures = allCalls.filter { $0["isError"] as? Bool == true }
        #expect(failures.count == 3, "\(failures)")

        let seed = (structured(calls("list_directions").first)["directions"] as? [[String: Any]])?.first
        #expect(seed?["status"] as? String == "completed")
        #expect(string(seed, "learnings").contains("Linear models are a floor"))
        #expect((seed?["results"] as? [String: Any])?["runs"] as? Int == 1)
        let runID = try #require(structured(calls("start_run").first)["id"] as? Int)
        let logs = calls("log_metrics")
        #expect(structured(logs.first)["metrics"] as? Int == 40 && structured(logs.first)["duplicate"] as? Bool == false)
        #expect(structured(logs.dropFirst().first)["metrics"] as? Int == 0, "a repeated call adds nothing")
        #expect(structured(logs.dropFirst().first)["duplicate"] as? Bool == true)
        #expect(logs.last?["isError"] as? Bool == true && string(logs.last, "text").contains("number `value`"))
        let evaluation = structured(calls("evaluate_public").first)
        let expected = TrackingTests.pairAUC(TrackingTests.publicTargets, TrackingTests.publicPredictions)
        #expect(abs((evaluation["score"] as? Double ?? -1) - expected) < 1e-12)
        #expect(evaluation["interval"] != nil && evaluation["public_evals_left"] as? Int == 99)
        // Another direction's run: the daemon's refusal, as a tool error with its message.
        let foreign = calls("evaluate_public").last
        #expect(foreign?["isError"] as? Bool == true)
        #expect(string(foreign, "text").contains("run \(seedRun) belongs to direction seed"), "\(foreign ?? [:])")
        #expect(string(foreign, "text").contains("forbidden"))
        // compare_runs: a run against itself is no difference; a run without a public evaluation
        // is the daemon's refusal.
        let compared = calls("compare_runs")
        #expect(structured(compared.first)["difference"] as? Double == 0 && structured(compared.first)["distinguishable"] as? Bool == false,
                "\(compared.first ?? [:])")
        #expect(compared.last?["isError"] as? Bool == true && string(compared.last, "text").contains("has no public evaluation"),
                "\(compared.last ?? [:])")
        let submission = structured(calls("submit_private").first)
        #expect(submission["split"] as? String == "private" && submission["gap"] != nil)
        let inbox = calls("read_inbox")
        let firstRead = structured(inbox.first)
        #expect(firstRead["new"] as? Int == 1)
        #expect(((firstRead["messages"] as? [[String: Any]])?.first?["text"] as? String) == "try a lower learning rate")
        #expect(structured(inbox.last)["new"] as? Int == 0 && (structured(inbox.last)["messages"] as? [Any])?.count == 1)
        #expect(structured(calls("finish_direction").first)["status"] as? String == "completed")

        // What the daemon recorded.
        let run = try client.showRun(Int64(runID))
        #expect(run.run.status == .finished && run.run.metricPoints == 40 + 2)
        #expect(run.params == ["depth": "4", "trees": "100", "seed": "7"] && run.tags["family"] == "forest")
        #expect(run.artifacts.map(\.name) == ["model"])
        #expect(try client.directions().first { $0.name == "mcp-forest" }?.submittedRun == Int64(runID))
        #expect(try daemon.terminate() == 0)
    }

    @Test("the shipped claude profile allows exactly the MCP server's tools, plus Bash")
    func claudeProfile() throws {
        let toml = try String(contentsOf: Binaries.repositoryRoot.appendingPathComponent("config/mlagentd.toml"), encoding: .utf8)
        let section = try #require(toml.components(separatedBy: "[agents.claude]").dropFirst().first?.components(separatedBy: "\n[").first)
        #expect(section.contains("\"--mcp-config\", \"{mcp_config}\""), "\(section)")
        let allowed = try #require(section.components(separatedBy: "\"--allowedTools\", \"").dropFirst().first?.components(separatedBy: "\"").first)
        let names = allowed.split(separator: ",").map(String.init)
        #expect(names.contains("Bash"))
        let mcp = names.filter { $0.hasPrefix("mcp__mlagent__") }.map { String($0.dropFirst("mcp__mlagent__".count)) }
        #expect(Set(mcp) == Set(Self.tools) && mcp.count == Self.tools.count, "\(names)")
    }
}

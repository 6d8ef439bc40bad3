import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// An agent whose interpreter, script and Python environment live where the sandbox hides
/// things (a clone under /tmp, as `make demo` from `/tmp` has them).
@Suite("what an agent needs to start, wherever it lives", .serialized)
struct SandboxStartTests {
    @Test("agents_dir, the venv's python and the agent's script under /tmp are mounted back; the agent completes")
    func startsFromTmp() throws {
        let clone = try TempDir("clone", under: "/tmp")
        // A venv-shaped Python environment and an agent, both under /tmp.
        let venv = clone.file(".venv")
        try FileManager.default.createDirectory(atPath: venv + "/bin", withIntermediateDirectories: true)
        try "home = /usr/bin\n".write(toFile: venv + "/pyvenv.cfg", atomically: true, encoding: .utf8)
        let candidates: [String] = ["/usr/bin/python3", "/usr/local/bin/python3"]
        let system = try #require(candidates.first { access($0, X_OK) == 0 })
        try FileManager.default.createSymbolicLink(atPath: venv + "/bin/python", withDestinationPath: system)
        try FileManager.default.createDirectory(atPath: clone.file("agents"), withIntermediateDirectories: true)
        try """
            import os, subprocess
            subprocess.run(["mlagentctl", "direction", "declare", "from-tmp", "--rationale", "started from /tmp"], check=True)
            open("learnings.md", "w").write("Started where the sandbox hides things.\\n")
            subprocess.run(["mlagentctl", "direction", "finish", "--learnings", "learnings.md"], check=True)
            """.write(toFile: clone.file("agents/agent.py"), atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(label: "tmp", config: """
            [daemon]
            data_dir = "@DIR@/data"
            agents_dir = "\(clone.file("agents"))"
            python = "\(venv)/bin/python"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "py"
            max_attempts = 1
            [agents.py]
            command = ["{python}", "{agents_dir}/agent.py"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.start()
        let client = try daemon.client()
        let job = try client.enqueue(EnqueueParams(direction: ""))
        _ = try client.resume()
        try waitUntil("the job to end", timeout: .seconds(60)) { try client.show(id: job.id).state.isFinal }
        let ended = try client.show(id: job.id)
        #expect(ended.state == .completed, "\(ended.reason ?? "")")
        #expect(try daemon.terminate() == 0)
    }
}

import Foundation

/// A scripted model API of Tests/ScriptedAPI (`messages_server.py`, `chat_server.py`) playing
/// `script` for a test daemon: the script, the port file, the request log and the server's
/// output lie in the test directory's `scripted/`.
enum ScriptedServer {
    static let python = Binaries.repositoryRoot.path + "/.venv/bin/python"

    /// Starts `server` (a file name in Tests/ScriptedAPI) on `script`; returns it with its port.
    static func start(_ server: String, script: String, in daemon: TestDaemon) throws -> (ChildProcess, Int) {
        try daemon.write("scripted/session.json", script)
        let portFile = daemon.dir.file("scripted/port")
        let child = try ChildProcess(
            executable: python,
            arguments: [
                Binaries.repositoryRoot.path + "/Tests/ScriptedAPI/" + server, daemon.dir.file("scripted/session.json"),
                portFile, daemon.dir.file("scripted/requests.jsonl"),
            ],
            environment: ProcessInfo.processInfo.environment, outputPath: daemon.dir.file("scripted/server.log"))
        var port = 0
        try waitUntil("the scripted server's port") {
            port = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
            return port > 0
        }
        return (child, port)
    }
}

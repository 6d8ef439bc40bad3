import Foundation

/// Where the built `mlagentd` and `mlagentctl` live: `$MLAGENT_BIN_DIR` (set by `make test`),
/// else the package's debug build folder.
enum Binaries {
    static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["MLAGENT_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return repositoryRoot.appendingPathComponent(".build/debug")
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var daemon: URL { directory.appendingPathComponent("mlagentd") }
    static var ctl: URL { directory.appendingPathComponent("mlagentctl") }
}

/// A short temporary directory (Unix socket paths are limited to 107 bytes), removed on deinit.
final class TempDir: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    init(_ label: String = "t", under parent: String = "/var/tmp") throws {
        var template = Array("\(parent)/mla-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        url = URL(fileURLWithPath: String(cString: made))
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(20), every: Duration = .milliseconds(20),
    _ condition: () throws -> Bool
) throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if (try? condition()) == true { return }
        Thread.sleep(forTimeInterval: Double(every.components.attoseconds) / 1e18 + Double(every.components.seconds))
    }
    if try condition() { return }
    throw TestFailure("timed out after \(timeout) waiting for \(what)")
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to its end (in `directory` when given): its status and its output and error together.
func runProgram(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The fields of a puppet agent's `.puppet` line (token, worktree, direction), once the whole
/// line is written: the shell creates the file before it writes to it.
func puppetFields(at path: String, job: Int64) throws -> [String] {
    var text = ""
    try waitUntil("puppet \(job) to start", timeout: .seconds(30)) {
        text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.hasSuffix("\n")
    }
    return text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
}

import Foundation
import MLAgentProtocol
import Testing

/// A fresh `git clone` of this repository's committed HEAD in a directory of its own under
/// `/tmp`, set up as a new user's clone is after `make release venv`, without building Swift
/// again: the prebuilt `mlagentd` and `mlagentctl` are copied into its `.build/release/`, and its
/// `.venv/` is a new venv holding its own copy of the reference agent's packages (scikit-learn,
/// pandas, joblib, numpy and what they require), so nothing the demo runs lies outside `/tmp`
/// but the Python installation the venv is made from.
final class DemoClone: @unchecked Sendable {
    let path: String
    /// The reference agent's packages; their dependencies come along.
    static let agentPackages = ["scikit-learn", "pandas", "joblib", "numpy", "mlflow-skinny"]

    init() throws {
        let root = Binaries.repositoryRoot.path
        path = "/tmp/mlagent-demo-" + UUID().uuidString.lowercased()
        try Self.check("/usr/bin/git", ["clone", "--quiet", "--no-hardlinks", root, path])
        let head = try Self.check("/usr/bin/git", ["-C", root, "rev-parse", "HEAD"])
        let cloned = try Self.check("/usr/bin/git", ["-C", path, "rev-parse", "HEAD"])
        guard head == cloned else { throw TestFailure("the clone is at \(cloned), the repository at \(head)") }
        try FileManager.default.createDirectory(atPath: file(".demo-test"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: binDirectory, withIntermediateDirectories: true)
        for binary in [Binaries.daemon, Binaries.ctl] {
            let copy = (binDirectory as NSString).appendingPathComponent(binary.lastPathComponent)
            try FileManager.default.copyItem(atPath: binary.path, toPath: copy)
            chmod(copy, 0o755)
            try Self.waitUntilExecutable(copy)
        }
    }

    /// Waits until no process holds `path` open for writing: a child forked by another test
    /// while the copy was written inherits its descriptor until it execs, and exec of the copy
    /// meanwhile fails with "Text file busy".
    static func waitUntilExecutable(_ path: String) throws {
        try waitUntil("\(path) not busy", timeout: .seconds(10), every: .milliseconds(20)) {
            // Once one exec succeeds no writer is left, and none can appear again.
            var pid: pid_t = 0
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup("--help"), nil]
            defer { argv.forEach { free($0) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let status = posix_spawn(&pid, path, &actions, nil, &argv, environ)
            if status == ETXTBSY { return false }
            guard status == 0 else { throw TestFailure("cannot run \(path): \(String(cString: strerror(status)))") }
            var exit: Int32 = 0
            while waitpid(pid, &exit, 0) < 0 && errno == EINTR {}
            return true
        }
    }

    func file(_ relative: String) -> String { (path as NSString).appendingPathComponent(relative) }

    /// Where the binaries are (what `swift build -c release --show-bin-path` names in a clone).
    var binDirectory: String { file(".build/release") }
    var python: String { file(".venv/bin/python") }
    var stateDir: String { file(".mlagent") }

    /// Makes `.venv/` from the interpreter of `source`'s venv (so compiled extensions match) and
    /// copies into it, file by file from their installation records, the distributions of
    /// ``agentPackages`` and everything they require. Returns the seconds it took.
    @discardableResult
    func makeVenv(from source: String) throws -> Double {
        let started = Date()
        try Self.check(source, ["-m", "venv", "--without-pip", file(".venv")])
        let site = try Self.check(python, ["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
        let script = """
            import importlib.metadata as md, os, re, shutil, sys
            try:
                from packaging.requirements import Requirement
            except ImportError:
                from pip._vendor.packaging.requirements import Requirement
            destination, todo, seen = sys.argv[1], sys.argv[2:], {}
            while todo:
                name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
                if name in seen:
                    continue
                seen[name] = dist = md.distribution(name)
                for text in dist.requires or []:
                    requirement = Requirement(text)
                    if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                        todo.append(requirement.name)
            for name, dist in sorted(seen.items()):
                if dist.files is None:
                    sys.exit(f"{name} has no installation record")
                for entry in dist.files:
                    if str(entry).startswith(".."):
                        continue  # scripts in bin/
                    source = dist.locate_file(entry)
                    if os.path.isfile(source):
                        target = os.path.join(destination, str(entry))
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        shutil.copy2(source, target)
            print(" ".join(f"{name}=={dist.version}" for name, dist in sorted(seen.items())))
            """
        try Self.check(source, ["-c", script, site] + Self.agentPackages)
        return Date().timeIntervalSince(started)
    }

    /// The daemon's pid from its lock file, if it is running.
    var daemonPID: Int32? {
        guard let text = try? String(contentsOfFile: file(".mlagent/mlagentd.lock"), encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// Stops the daemon the demo left running (as `make stop` does; SIGKILL after 30 s).
    func stopDaemon() {
        guard let pid = daemonPID else { return }
        kill(pid, SIGTERM)
        if (try? waitUntil("the demo daemon to stop", timeout: .seconds(30), { kill(pid, 0) != 0 })) == nil {
            kill(pid, SIGKILL)
        }
    }

    /// Removes the clone, or keeps it and says where when `keep` (a failed test) or when
    /// `MLAGENT_KEEP_DEMO_CLONE=1`.
    func finish(keep: Bool) {
        stopDaemon()
        if keep || ProcessInfo.processInfo.environment["MLAGENT_KEEP_DEMO_CLONE"] == "1" {
            print("DemoTests: the clone is kept for inspection at \(path)")
        } else {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// What went wrong, for a failure message (also left in `.demo-test/diagnostics.txt`): the
    /// demo's output, the daemon's log and, for each job that did not complete (every job when
    /// `allJobs`), its state, reason and agent log.
    func diagnostics(demoOutput: String, jobs: [Job]?, allJobs: Bool = false) -> String {
        var text = "clone: \(path)\n--- demo output (end) ---\n\(demoOutput.suffix(3000))\n"
        text += "--- \(stateDir)/mlagentd.log (end) ---\n\(Self.tail(file(".mlagent/mlagentd.log"), 6000))\n"
        if let jobs {
            for job in jobs where allJobs || job.state != .completed {
                text += "--- job \(job.id) \(job.state.rawValue) after \(job.attempts) attempt(s): \(job.reason ?? "") ---\n"
                text += (job.logPath.map { Self.tail($0, 4000) } ?? "(no log)") + "\n"
            }
        } else {
            let logs = file(".mlagent/logs")
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []).sorted() {
                text += "--- \(logs)/\(name) (end) ---\n\(Self.tail(logs + "/" + name, 4000))\n"
            }
        }
        try? text.write(toFile: file(".demo-test/diagnostics.txt"), atomically: true, encoding: .utf8)
        return text
    }

    static func tail(_ path: String, _ count: Int) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(cannot read \(path))" }
        return String(String(decoding: data, as: UTF8.self).suffix(count))
    }

    /// Runs a program to completion (posix_spawn, clean signal mask); returns its status and
    /// its stdout and stderr together.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("mla-run-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess(executable: executable, arguments: arguments, environment: environment, outputPath: output)
        child.waitUntilExit()
        return (child.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// ``run(_:_:environment:)`` that throws unless the program succeeds; returns its output, trimmed.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try run(executable, arguments)
        guard result.status == 0 else {
            throw TestFailure("\(executable) \(arguments.prefix(3).joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Expectations that also remember whether one failed (a failed test keeps its files).
final class Checks {
    private(set) var failed = false

    func expect(_ condition: Bool, _ comment: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !condition else { return }
        failed = true
        Issue.record(Comment(rawValue: comment()), sourceLocation: sourceLocation)
    }
}

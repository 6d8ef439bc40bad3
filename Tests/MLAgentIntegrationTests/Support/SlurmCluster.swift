import Foundation
import Testing

/// A private single-node Slurm cluster on localhost (`Tests/Tools/slurm_cluster.sh`: munged,
/// slurmctld and slurmd with every file under `dir`), stopped when released.
final class SlurmCluster: @unchecked Sendable {
    static let script = Binaries.repositoryRoot.appendingPathComponent("Tests/Tools/slurm_cluster.sh").path
    let dir: String
    let conf: String

    init(dir: String) throws {
        self.dir = dir
        // Into a file: the cluster's daemons inherit the script's output, and a pipe would stay open.
        let log = dir + ".start.log"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log, contents: nil)
        let status = try Self.script(["start", dir], log: log)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0, let line = output.split(separator: "\n").last, line.hasPrefix("SLURM_CONF=") else {
            throw ClusterError(output: output)
        }
        conf = String(line.dropFirst("SLURM_CONF=".count))
    }

    struct ClusterError: Error, CustomStringConvertible {
        var output: String
        var description: String { "the test cluster did not start: \(output.suffix(3000))" }
    }

    deinit { _ = try? Self.script(["stop", dir], log: dir + ".stop.log") }

    /// Runs the cluster script with its output in `log`, never a pipe (the daemons it starts
    /// would keep a pipe open, and a reader waiting, for as long as they live), and with a
    /// clean signal mask: daemons started from a thread that blocks SIGTERM would ignore it.
    static func script(_ arguments: [String], log: String) throws -> Int32 {
        let process = try ChildProcess(
            executable: "/bin/bash", arguments: [script] + arguments, environment: ProcessInfo.processInfo.environment, outputPath: log)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs a Slurm client command (`squeue`, `scancel`, `scontrol`) against this cluster.
    func run(_ command: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProgram("/usr/bin/env", ["SLURM_CONF=\(conf)", command] + arguments)
    }

    /// Slurm's jobs by name: `name → [(id, state)]`, every state.
    func jobs() throws -> [String: [(id: String, state: String)]] {
        let listed = try run("squeue", ["--noheader", "--states=all", "--Format=JobID:|,Name:|,State:|"])
        var jobs: [String: [(id: String, state: String)]] = [:]
        for line in listed.output.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3 else { continue }
            jobs[fields[1], default: []].append((fields[0], fields[2]))
        }
        return jobs
    }

    /// Whether this machine can run the test cluster: root (slurmd and munged run as root here) and slurm-wlm installed.
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/slurmctld")
    }
}

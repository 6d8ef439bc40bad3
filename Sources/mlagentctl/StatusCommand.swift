import ArgumentParser
import Foundation
import MLAgentProtocol

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Daemon version, uptime, queue counts by state and pool usage.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let status = try options.withClient(idempotent: true) { try $0.status() }
        if options.json { return try options.printJSON(status) }
        let order: [JobState] = [.queued, .running, .completed, .failed, .cancelled, .interrupted]
        let queue = order.map { "\(status.queue[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        Output.line("mlagentd \(status.version) (protocol \(status.protocolVersion)), pid \(status.pid), up \(Output.duration(seconds: status.uptimeSeconds))")
        Output.line("socket   \(status.socket) (\(status.listen))")
        if let tls = status.tls { Output.line("tls      \(tls.address) sha256 \(tls.fingerprint)") }
        Output.line("state    \(status.stateDir)")
        Output.line("queue    \(queue)")
        Output.line("pool     \(status.pool.running)/\(status.pool.maxAgents) agents running")
        if let cluster = status.cluster {
            Output.line("cluster  \(cluster.running + cluster.pending)/\(cluster.maxJobs) Slurm jobs (\(cluster.running) running, \(cluster.pending) pending)")
        }
        Output.line("paused   \(status.paused ? "yes: no new jobs are launched (mlagentctl resume)" : "no")")
        Output.line("events   last seq \(status.lastSeq)")
        if let usage = status.usage { Output.line("cost     \(UsageOutput.describe(usage)) this session") }
        if let artifacts = status.artifacts {
            let share = artifacts.maxBytes > 0 ? Double(artifacts.bytes) / Double(artifacts.maxBytes) * 100 : 0
            Output.line(
                "artifacts \(artifacts.bytes) bytes in \(artifacts.files) files (\(String(format: "%.1f", share))% of \(artifacts.maxBytes) bytes)")
        }
    }
}

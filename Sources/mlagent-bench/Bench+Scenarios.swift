import Foundation
import MLAgentDaemon

/// The usage-reading and replay scenarios.
extension Bench {
    func runUsage(_ figures: inout [String: Double], _ report: inout [String]) throws {
        guard usageLines > 0 else { return }
        let result = try UsageBenchmark(daemonPath: daemon, lines: usageLines).run()
        figures["usage_write_cpu_ms_per_10k_lines"] = result.writeCPUPer10k * 1000
        figures["usage_daemon_cpu_ms_per_10k_lines"] = result.daemonCPUPer10k * 1000
        report.append(
            String(
                format: "usage     writing 10,000 stream-json lines to the log (baseline)  %7.1f ms CPU  (%.0f bytes a line)",
                result.writeCPUPer10k * 1000, Double(result.bytes) / Double(result.lines)))
        report.append(
            String(
                format: "usage     daemon reading their usage, per 10,000 lines            %7.1f ms CPU  (%.2fx the writes)",
                result.daemonCPUPer10k * 1000, result.daemonCPUPer10k / result.writeCPUPer10k))
    }

    func runReplay(_ figures: inout [String: Double], _ report: inout [String]) throws {
        guard let given = replayPython else { return }
        let python = given.hasPrefix("/") ? given : FileManager.default.currentDirectoryPath + "/" + given
        let dir = try TempDirectory()
        let path = dir.path
        let repository = FileManager.default.currentDirectoryPath
        let families = try runAsync { try await ReplayBenchmark.run(repository: repository, python: python, directory: path) }
        report.append("replay    per family: the agent's training (baseline), then the daemon's replay of the saved model (load + predict 10,000 rows in each split)")
        for family in families {
            figures["replay_\(family.name)_train_s"] = family.trainSeconds
            figures["replay_\(family.name)_s"] = family.replaySeconds
            figures["replay_\(family.name)_unsandboxed_s"] = family.unsandboxedSeconds
            report.append(
                String(
                    format: "replay    %@ train %6.2f s  replay %5.2f s (%.2fx training; %.2f s without the sandbox)  model %.1f MB",
                    family.name.padding(toLength: 16, withPad: " ", startingAt: 0), family.trainSeconds, family.replaySeconds, family.replaySeconds / max(family.trainSeconds, 1e-9),
                    family.unsandboxedSeconds, Double(family.modelBytes) / 1e6))
        }
    }
}

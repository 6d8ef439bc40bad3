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

    func runExecutors(_ figures: inout [String: Double], _ report: inout [String]) throws {
        guard executorAgents > 0 else { return }
        let benchmark = ExecutorBenchmark(daemonPath: daemon, agents: executorAgents, points: executorPoints, pollInterval: .seconds(1))
        let canCluster = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/slurmctld") && !slurmCluster.isEmpty
        // The machine's speed drifts between runs: the executors alternate (local first, then
        // Slurm first), and each round compares the two measured back to back.
        var rounds: [[(String, ExecutorBenchmark.Result)]] = []
        for round in 0..<max(1, executorRounds) {
            var order = canCluster ? ["local", "slurm"] : ["local"]
            if round % 2 == 1 { order.reverse() }
            rounds.append(try order.map { name in
                (name, try benchmark.run(executor: name, clusterScript: name == "slurm" ? slurmCluster : nil))
            }.sorted { $0.0 < $1.0 })
        }
        report.append(
            "executor  \(executorAgents) fake agents at once (\(executorPoints) points, model, eval, submit, finish each); local is the baseline; \(rounds.count) rounds, alternating which goes first")
        if canCluster {
            let ratios = rounds.map { $0[1].1.directionsPerMinute / $0[0].1.directionsPerMinute }
            figures["executor_slurm_over_local_median"] = median(ratios)
            report.append(
                "executor  slurm / local directions per minute, by round: "
                    + ratios.map { String(format: "%.2fx", $0) }.joined(separator: ", ") + String(format: " (median %.2fx)", median(ratios)))
        }
        for round in rounds {
            let local = round[0].1
            for (name, result) in round {
                figures["executor_\(name)_directions_per_min"] = result.directionsPerMinute
                figures["executor_\(name)_call_p50_ms"] = result.callP50ms
                figures["executor_\(name)_call_p99_ms"] = result.callP99ms
                figures["executor_\(name)_daemon_cpu_s"] = result.daemonCPUSeconds
                figures["executor_\(name)_peak_rss_mb"] = result.peakRSSMB
                report.append(
                    String(
                        format: "executor  %@ %7.1f directions/min (%.2fx local)  calls p50 %.2f / p99 %.2f ms (%d calls)  daemon CPU %.1f s  peak RSS %.1f MB",
                        name.padding(toLength: 5, withPad: " ", startingAt: 0), result.directionsPerMinute,
                        result.directionsPerMinute / local.directionsPerMinute, result.callP50ms, result.callP99ms, result.calls,
                        result.daemonCPUSeconds, result.peakRSSMB))
                if name == "slurm" {
                    let minutes = result.seconds / 60
                    let polls = result.seconds / benchmark.pollInterval.seconds
                    let reads = (result.commands["squeue"] ?? 0) + (result.commands["sacct"] ?? 0)
                    figures["executor_slurm_commands_per_min"] = Double(result.commands.values.reduce(0, +)) / minutes
                    figures["executor_slurm_reads_per_poll"] = Double(reads) / polls
                    report.append(
                        String(
                            format: "executor  slurm commands: %.0f /min (sbatch %d, squeue %d, sacct %d, scancel %d); squeue+sacct %.2f per 1 s poll interval",
                            Double(result.commands.values.reduce(0, +)) / minutes, result.commands["sbatch"] ?? 0, result.commands["squeue"] ?? 0,
                            result.commands["sacct"] ?? 0, result.commands["scancel"] ?? 0, Double(reads) / polls))
                }
            }
        }
        if !canCluster { report.append("executor  slurm: not measured (needs root, slurm-wlm and --slurm-cluster)") }
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

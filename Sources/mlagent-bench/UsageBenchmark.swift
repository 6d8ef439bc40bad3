import Foundation
import MLAgentClient
import MLAgentProtocol

/// What reading usage costs the daemon: a real `mlagentd` follows a running agent's log
/// (profile `usage = "claude-stream-json"`) while the benchmark appends Claude Code stream-json
/// to it, one write per line as a line-buffered agent does. Reported: the daemon's CPU time per
/// 10,000 lines (its idle CPU over the same wall time subtracted), beside the CPU time the same
/// lines took to be written to the log (the baseline, measured in the same run).
struct UsageBenchmark {
    let daemonPath: String
    let lines: Int

    struct Result {
        var lines: Int
        var bytes: Int
        var writeCPUPer10k: Double
        var daemonCPUPer10k: Double
        var daemonIdleCPUPerSecond: Double
    }

    /// A session's lines: per turn, assistant text, a tool call (the same message id) and the
    /// tool's result, as Claude Code 2.x prints them.
    static func sessionLines(_ count: Int) -> [String] {
        var out: [String] = []
        out.reserveCapacity(count)
        var turn = 0
        let prose = String(repeating: "Tuning depth and learning rate after the last run underfit; ", count: 4)
        let output = String(repeating: "step 100 val_auc=0.8123 train_auc=0.8571\\n", count: 12)
        while out.count < count {
            turn += 1
            let usage = #""usage":{"input_tokens":12,"cache_creation_input_tokens":800,"cache_read_input_tokens":24000,"output_tokens":1,"service_tier":"standard"}"#
            out.append(#"{"type":"assistant","message":{"id":"msg_\#(turn)","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"\#(prose)"}],"stop_reason":null,"stop_sequence":null,\#(usage)},"parent_tool_use_id":null,"session_id":"bench"}"#)
            out.append(#"{"type":"assistant","message":{"id":"msg_\#(turn)","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_\#(turn)","name":"Bash","input":{"command":"python train.py --depth \#(turn % 9) --lr 0.05 && mlagentctl eval $RUN preds/public.csv","description":"Train and evaluate"}}],"stop_reason":null,"stop_sequence":null,\#(usage)},"parent_tool_use_id":null,"session_id":"bench"}"#)
            out.append(#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_\#(turn)","type":"tool_result","content":"\#(output)","is_error":false}]},"parent_tool_use_id":null,"session_id":"bench"}"#)
        }
        return Array(out.prefix(count))
    }

    func run() throws -> Result {
        let daemon = try IdleAgentDaemon(
            daemonPath: daemonPath, agents: 1,
            extraConfig: "usage = \"claude-stream-json\"\nprice_per_mtok = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }")
        defer { daemon.stop() }
        let log = daemon.dir.file("state/logs/job-1.log")
        let client = try daemon.client()
        let payload = Self.sessionLines(lines).map { Data(($0 + "\n").utf8) }
        let bytes = payload.reduce(0) { $0 + $1.count }
        let turns = (lines + 2) / 3

        // The daemon's idle CPU (its scheduler ticks) over a comparable stretch.
        let idleStart = Self.cpuSeconds(pid: daemon.pid)
        let idleClock = ContinuousClock.now
        Thread.sleep(forTimeInterval: 2)
        let idlePerSecond = (Self.cpuSeconds(pid: daemon.pid) - idleStart) / (ContinuousClock.now - idleClock).seconds

        // Baseline: writing the lines to the log, one write(2) per line.
        let fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("cannot open \(log)") }
        let daemonStart = Self.cpuSeconds(pid: daemon.pid)
        let wallStart = ContinuousClock.now
        let writeStart = Self.ownCPUSeconds()
        for line in payload {
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        let writeCPU = Self.ownCPUSeconds() - writeStart
        close(fd)

        // The daemon has read everything once it records the last turn's tokens.
        let expected = Int64(turns) * 24000
        let deadline = ContinuousClock.now + .seconds(120)
        while (try? client.show(id: 1).usage?.cacheReadTokens) != expected {
            guard ContinuousClock.now < deadline else { throw BenchError("the daemon did not read the usage of every turn") }
            // Seldom: each look costs the daemon a request of its own.
            Thread.sleep(forTimeInterval: 0.5)
        }
        let wall = (ContinuousClock.now - wallStart).seconds
        let daemonCPU = max(0, Self.cpuSeconds(pid: daemon.pid) - daemonStart - idlePerSecond * wall)
        let per10k = 10_000 / Double(lines)
        return Result(
            lines: lines, bytes: bytes, writeCPUPer10k: writeCPU * per10k, daemonCPUPer10k: daemonCPU * per10k,
            daemonIdleCPUPerSecond: idlePerSecond)
    }

    /// User plus system CPU seconds of a process, from /proc/PID/stat.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

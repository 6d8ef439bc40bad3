import Foundation
import MLAgentClient
import MLAgentProtocol

/// Many short fake agents at once through one executor: each logs `points` metric points in
/// batches of 100, uploads a model, evaluates, submits and finishes its direction, timing every
/// protocol call it makes. Run once with `executor = "local"` and once with `"slurm"` (on the
/// single-node cluster of `Tests/Tools/slurm_cluster.sh`, which needs root and slurm-wlm).
struct ExecutorBenchmark {
    let daemonPath: String
    let agents: Int
    let points: Int
    let pollInterval: Duration

    struct Result {
        var seconds: Double
        var directionsPerMinute: Double
        var callP50ms: Double
        var callP99ms: Double
        var calls: Int
        var daemonCPUSeconds: Double
        var peakRSSMB: Double
        /// Slurm's commands by name (sbatch, squeue, sacct, scancel), counted by wrappers.
        var commands: [String: Int]
    }

    /// The fake agent: Python's standard library only, a raw JSON-lines client of the agent socket.
    static let agentScript = #"""
        import json, os, socket, sys, time
        out, points = sys.argv[1], int(sys.argv[2])
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(os.environ["MLAGENT_SOCKET"])
        reader = sock.makefile("rb")
        reader.readline()  # hello
        token, worktree = os.environ["MLAGENT_TOKEN"], os.environ["MLAGENT_WORKTREE"]
        timings, next_id = [], [0]
        def call(method, params):
            next_id[0] += 1
            line = json.dumps({"jsonrpc": "2.0", "id": next_id[0], "method": method, "token": token, "params": params}) + "\n"
            start = time.perf_counter()
            sock.sendall(line.encode())
            while True:
                reply = json.loads(reader.readline())
                if reply.get("id") == next_id[0]:
                    break
            timings.append(time.perf_counter() - start)
            if "error" in reply:
                raise SystemExit(method + ": " + reply["error"]["message"])
            return reply["result"]
        run = call("run.start", {"name": "bench", "rationale": "executor benchmark"})["id"]
        for first in range(0, points, 100):
            call("run.log", {"run": run, "metrics": [{"key": "loss", "value": 1.0 / (s + 1), "step": s} for s in range(first, min(points, first + 100))]})
        os.makedirs(os.path.join(worktree, "model"), exist_ok=True)
        with open(os.path.join(worktree, "model", "MLmodel"), "w") as f:
            f.write("flavors:\n  python_function:\n    loader_module: bench\n")
        rows = int(os.environ.get("BENCH_ROWS", "40"))
        for split in ("public", "private"):
            with open(os.path.join(worktree, split + ".csv"), "w") as f:
                f.write("prediction\n" + "".join("%.3f\n" % ((i % 7) / 7) for i in range(rows)))
        call("run.artifact", {"run": run, "path": os.path.join(worktree, "model"), "name": "model"})
        call("run.eval", {"run": run, "path": os.path.join(worktree, "public.csv")})
        call("run.end", {"run": run, "analysis": "benchmark run"})
        call("run.submit", {"run": run, "path": os.path.join(worktree, "private.csv")})
        call("direction.finish", {"learnings": "benchmark direction"})
        with open(os.path.join(out, "calls-%s.txt" % os.environ["MLAGENT_JOB_ID"]), "w") as f:
            f.write("\n".join("%.6f" % t for t in timings) + "\n")
        """#

    func run(executor: String, clusterScript: String?) throws -> Result {
        let dir = try TempDirectory()
        let out = dir.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        let features = "f00\n" + (0..<40).map { "\(Double($0) / 10)" }.joined(separator: "\n") + "\n"
        let targets = "target\n" + (0..<40).map { $0 % 2 == 0 ? "1" : "0" }.joined(separator: "\n") + "\n"
        for (name, text) in [
            ("train.csv", "f00,target\n0.1,0\n0.3,1\n"), ("val_public_X.csv", features), ("val_private_X.csv", features),
            ("val_public_y.csv", targets), ("val_private_y.csv", targets),
        ] {
            try text.write(toFile: dir.file("data/\(name)"), atomically: true, encoding: .utf8)
        }
        try Self.agentScript.write(toFile: dir.file("agent.py"), atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        var slurm = ""
        var cluster: String?
        if executor == "slurm" {
            guard let clusterScript else { throw BenchError("the slurm executor needs the cluster script") }
            let clusterDir = dir.file("cluster")
            let output = try Self.shell(
                [clusterScript, "start", clusterDir], environment: ["SLURM_CLUSTER_CPUS": String(agents + 8)], log: dir.file("cluster.log"))
            guard let conf = output.split(separator: "\n").last.flatMap({ $0.hasPrefix("SLURM_CONF=") ? $0.dropFirst(11) : nil }) else {
                throw BenchError("the Slurm cluster did not start: \(output.suffix(2000))")
            }
            environment["SLURM_CONF"] = String(conf)
            cluster = clusterDir
            // Wrappers count every Slurm command the daemon runs.
            for command in ["sbatch", "squeue", "sacct", "scancel"] {
                let wrapper = dir.file("bin/\(command)")
                try FileManager.default.createDirectory(atPath: dir.file("bin"), withIntermediateDirectories: true)
                try "#!/bin/sh\necho x >> \(out)/slurm-\(command)\nexec \(command) \"$@\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
                chmod(wrapper, 0o755)
            }
            slurm = """
                [slurm]
                worktree_root = "\(dir.file("shared"))"
                max_jobs = \(agents)
                poll_interval = "\(Int(pollInterval.milliseconds))ms"
                sbatch = "\(dir.file("bin/sbatch"))"
                squeue = "\(dir.file("bin/squeue"))"
                sacct = "\(dir.file("bin/sacct"))"
                scancel = "\(dir.file("bin/scancel"))"
                """
        }
        defer {
            if let cluster, let clusterScript { _ = try? Self.shell([clusterScript, "stop", cluster], environment: [:], log: dir.file("cluster.log")) }
        }
        let config = """
            [daemon]
            data_dir = "\(dir.file("data"))"
            log_level = "warning"
            [scheduler]
            max_agents = \(agents)
            default_agent = "fake"
            [sandbox]
            mode = "none"
            [evaluation]
            submit = "predictions"
            bootstrap_samples = 0
            \(slurm)
            [agents.fake]
            executor = "\(executor)"
            command = ["python3", "\(dir.file("agent.py"))", "\(out)", "\(points)"]
            timeout = "20m"
            """
        try config.write(toFile: dir.file("mlagentd.toml"), atomically: true, encoding: .utf8)
        let notify = try NotifyListener(path: dir.file("notify.sock"))
        environment["NOTIFY_SOCKET"] = notify.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemonPath)
        process.arguments = ["--state-dir", dir.file("state"), "--socket", dir.file("d.sock"), "--config", dir.file("mlagentd.toml")]
        process.environment = environment
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try notify.waitForReady()
        let client = Client(connection: try Connection(path: dir.file("d.sock"), timeout: .seconds(60)))
        let cpuBefore = Self.cpuSeconds(process.processIdentifier)
        let start = ContinuousClock.now
        for index in 0..<agents { _ = try client.enqueue(EnqueueParams(direction: "bench-\(index)")) }
        let deadline = start + .seconds(900)
        while true {
            let jobs = try client.list()
            if jobs.allSatisfy({ $0.state.isFinal }) {
                let failed = jobs.filter { $0.state != .completed }
                guard failed.isEmpty else { throw BenchError("\(executor): job \(failed[0].id) \(failed[0].state): \(failed[0].reason ?? "")") }
                break
            }
            guard ContinuousClock.now < deadline else { throw BenchError("\(executor): the agents did not finish in 15 minutes") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = Self.cpuSeconds(process.processIdentifier) - cpuBefore
        var timings: [Double] = []
        for job in 1...agents {
            let text = (try? String(contentsOfFile: "\(out)/calls-\(job).txt", encoding: .utf8)) ?? ""
            timings += text.split(separator: "\n").compactMap { Double($0) }
        }
        var commands: [String: Int] = [:]
        for command in ["sbatch", "squeue", "sacct", "scancel"] {
            let text = (try? String(contentsOfFile: "\(out)/slurm-\(command)", encoding: .utf8)) ?? ""
            commands[command] = text.split(separator: "\n").count
        }
        let sorted = timings.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
        return Result(
            seconds: seconds, directionsPerMinute: Double(agents) / seconds * 60, callP50ms: percentile(0.5),
            callP99ms: percentile(0.99), calls: timings.count, daemonCPUSeconds: cpu,
            peakRSSMB: Self.status(process.processIdentifier, field: "VmHWM:") / 1024, commands: commands)
    }

    /// utime + stime of a process, in seconds.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 of the whole line.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func status(_ pid: Int32, field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix(field) }
        return line.flatMap { $0.split(separator: " ").compactMap { Double($0) }.first } ?? 0
    }

    /// Runs bash on `arguments` with its output in `log` (never a pipe: the cluster's daemons
    /// would hold it open) and returns that output.
    static func shell(_ arguments: [String], environment extra: [String: String], log: String) throws -> String {
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    }
}

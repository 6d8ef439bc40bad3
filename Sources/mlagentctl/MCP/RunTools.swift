import Foundation
import MCP
import MLAgentClient
import MLAgentProtocol

/// Recording runs: start, log metrics (batches), store artifacts, end.
enum RunTools {
    static let tools: [MCPTool] = [startRun, logMetrics, logArtifact, endRun]
    /// Points per request; larger calls are sent in several batches.
    static let pointsPerRequest = 5000

    static let startRun = MCPTool(
        name: "start_run", title: "Start a run",
        description: """
            Start a run (one configuration you train) in your declared direction and get its id. Every \
            configuration is a run, failed ones included. Give a short name, why this configuration is worth \
            trying given what you know (earlier runs by id), and every hyperparameter that matters as params \
            (written once: a different value for the same key later is refused; a new value needs a new run).
            """,
        input: ToolSchema.object(
            [
                "name": ToolSchema.string("A short name for the configuration, e.g. hgb-depth6.", minLength: 1),
                "rationale": ToolSchema.string("Why this configuration, given what you already know.", minLength: 1),
                "params": ToolSchema.stringMap("Hyperparameters, e.g. {\"max_depth\": \"6\", \"learning_rate\": \"0.05\"}."),
                "uses": ToolSchema.stringArray("The shared modules (shared/NAME on main) this run imports."),
            ], required: ["name", "rationale"])
    ) { arguments, client in
        let params = RunStartParams(
            name: try arguments.string("name"), rationale: try arguments.string("rationale"),
            params: try arguments.stringMap("params"), uses: try arguments.optionalStrings("uses"))
        return try toolValue(try client.startRun(params))
    }

    static let logMetrics = MCPTool(
        name: "log_metrics", title: "Log metrics, params and tags",
        description: """
            Record metric points (per-step training and validation curves, summary numbers such as a CV score), \
            params and tags on a running run. Metric keys use letters, digits, _ - . space : / (e.g. val_loss, \
            train/auc); values are finite numbers; step is an integer (default 0). Send a whole curve in one \
            call (large calls are split into batches of 5,000 points). Each batch has an id (`batch`, or one \
            derived from the content), and the daemon records an id once: repeating a call after an error or \
            a lost reply adds nothing twice. The reply says how many points were added and the run's total.
            """,
        input: ToolSchema.object(
            [
                "run": ToolSchema.run(),
                "metrics": .object([
                    "type": "array", "description": "Metric points, e.g. [{\"key\": \"val_loss\", \"value\": 0.41, \"step\": 3}].",
                    "items": ToolSchema.object(
                        [
                            "key": ToolSchema.string("The metric's name.", minLength: 1),
                            "value": ToolSchema.number("A finite number."),
                            "step": ToolSchema.integer("The step or epoch (default 0).", minimum: 0),
                            "timestamp": ToolSchema.integer("Milliseconds since the epoch (default: now).", minimum: 0),
                        ], required: ["key", "value"]),
                ]),
                "params": ToolSchema.stringMap("Params to add (written once)."),
                "tags": ToolSchema.stringMap("Tags to set (may be overwritten)."),
                "batch": ToolSchema.string("An id for this call, unique within the run (e.g. epoch-3); default: derived from the content."),
            ], required: ["run"]),
        idempotent: true
    ) { arguments, client in
        let run = try arguments.int64("run")
        let points = try (arguments.array("metrics") ?? []).enumerated().map { index, item in
            try point(item, index: index)
        }
        let params = try arguments.stringMap("params")
        let tags = try arguments.stringMap("tags")
        if points.isEmpty, (params ?? [:]).isEmpty, (tags ?? [:]).isEmpty {
            throw ToolInputError("log_metrics: nothing to log: give metrics, params or tags")
        }
        let base = try arguments.optionalString("batch") ?? derivedBatchID(RunLogParams(run: run, metrics: points, params: params, tags: tags))
        let chunks = points.isEmpty ? [[]] : stride(from: 0, to: points.count, by: pointsPerRequest).map {
            Array(points[$0..<min($0 + pointsPerRequest, points.count)])
        }
        var added = 0
        var repeated = 0
        var last: RunLogResult?
        for (index, chunk) in chunks.enumerated() {
            let request = RunLogParams(
                run: run, metrics: chunk.isEmpty ? nil : chunk, params: index == 0 ? params : nil,
                tags: index == 0 ? tags : nil, batch: chunks.count == 1 ? base : "\(base):\(index)")
            let reply = try client.logRun(request)
            if reply.duplicate { repeated += chunk.count } else { added += reply.metrics }
            last = reply
        }
        return .object([
            "run": .int(Int(run)), "batch": .string(base), "metrics": .int(added), "already_recorded": .int(repeated),
            "params": .int(last?.params ?? 0), "tags": .int(last?.tags ?? 0),
            "duplicate": .bool(added == 0 && (last?.duplicate ?? false)),
            "metric_points": .int(Int(last?.metricPoints ?? 0)),
        ])
    }

    static let logArtifact = MCPTool(
        name: "log_artifact", title: "Store an artifact",
        description: """
            Copy a file or directory of your worktree into the run's artifact store. Save the fitted model \
            (with its preprocessing, e.g. a whole sklearn Pipeline) and store it under the name "model": that is \
            what makes the run eligible for submit_private. Names are never replaced; directories may not \
            contain symbolic links. Predictions you evaluate must come from this saved file loaded from disk.
            """,
        input: ToolSchema.object(
            [
                "run": ToolSchema.run(),
                "path": ToolSchema.string("The file or directory, relative to your worktree or absolute.", minLength: 1),
                "name": ToolSchema.string("The artifact's name (default: the path's last component); \"model\" for the model."),
            ], required: ["run", "path"])
    ) { arguments, client in
        let params = RunArtifactParams(
            run: try arguments.int64("run"), path: try arguments.path("path"), name: try arguments.optionalString("name"))
        return try toolValue(try client.artifact(params))
    }

    static let endRun = MCPTool(
        name: "end_run", title: "End a run",
        description: """
            End a run once, as finished or (failed=true) failed, with your analysis: what happened and why, \
            compared with earlier runs by id, what the curves show, and the next step. A run that crashed still \
            ends, as failed, with the reason. No metrics or artifacts are accepted afterwards; a finished run \
            can still be evaluated and submitted.
            """,
        input: ToolSchema.object(
            [
                "run": ToolSchema.run(),
                "analysis": ToolSchema.string("What happened and why, and what to try next.", minLength: 1),
                "failed": ToolSchema.boolean("The run broke or was aborted (default false)."),
            ], required: ["run", "analysis"])
    ) { arguments, client in
        let params = RunEndParams(
            run: try arguments.int64("run"), analysis: try arguments.string("analysis"), failed: try arguments.bool("failed"))
        return try toolValue(try client.endRun(params))
    }

    /// One metric point from the model's arguments, checked like the daemon checks it.
    static func point(_ item: Value, index: Int) throws -> MetricPoint {
        guard let object = item.objectValue, let key = object["key"]?.stringValue else {
            throw ToolInputError("log_metrics: metrics[\(index)] must be an object with a string `key` and a number `value`")
        }
        guard let raw = object["value"], let value = ToolArguments.number(raw) else {
            throw ToolInputError("log_metrics: metrics[\(index)] (\(key)) needs a number `value`")
        }
        var step: Int64 = 0
        if let raw = object["step"], !raw.isNull {
            guard let number = ToolArguments.integer(raw) else {
                throw ToolInputError("log_metrics: metrics[\(index)] (\(key)): `step` must be an integer")
            }
            step = number
        }
        var timestamp: Int64?
        if let raw = object["timestamp"], !raw.isNull {
            guard let number = ToolArguments.integer(raw) else {
                throw ToolInputError("log_metrics: metrics[\(index)] (\(key)): `timestamp` must be an integer (milliseconds)")
            }
            timestamp = number
        }
        let point = MetricPoint(key: key, value: value, step: step, timestamp: timestamp)
        if let problem = RecordRules.pointProblem(point) {
            throw ToolInputError("log_metrics: metrics[\(index)]: \(problem)")
        }
        return point
    }

    /// `mcp:` and a 64-bit FNV-1a hash of the request's canonical JSON: the same call made
    /// again gets the same id, so the daemon records it once.
    static func derivedBatchID(_ params: RunLogParams) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try JSONCoding.line(params) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "mcp:" + String(hash, radix: 16)
    }
}

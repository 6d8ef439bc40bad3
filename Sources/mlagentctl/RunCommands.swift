import ArgumentParser
import Foundation
import MLAgentClient
import MLAgentProtocol

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Record runs: start, log, artifact, end (agents); show (anyone).",
        subcommands: [RunStartCommand.self, RunLogCommand.self, RunArtifactCommand.self, RunEndCommand.self, RunShowCommand.self])
}

/// `KEY=VALUE` pairs from repeated options.
enum KeyValues {
    static func parse(_ pairs: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("\(option) \(pair): expected KEY=VALUE")
            }
            let key = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            if let existing = result[key], existing != value {
                throw ValidationError("\(option) \(key) is given twice with different values")
            }
            result[key] = value
        }
        return result
    }

    static func metrics(_ pairs: [String], step: Int64) throws -> [MetricPoint] {
        try parse(pairs, option: "--metric").sorted { $0.key < $1.key }.map { key, text in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw Output.refuse("--metric \(key)=\(text): the value must be a finite number")
            }
            let point = MetricPoint(key: key, value: value, step: step)
            if let problem = RecordRules.pointProblem(point) { throw Output.refuse(problem) }
            return point
        }
    }
}

/// Makes a path absolute against the working directory (the daemon resolves links itself).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
}

struct RunStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "(agent) Start a run in your direction; prints its id.")

    @Option(name: .long, help: "A short name for the configuration, e.g. hgb-depth6.")
    var name: String

    @Option(name: .long, help: "Why this configuration is worth a run.")
    var rationale: String

    @Option(name: .customLong("param"), help: "A hyperparameter KEY=VALUE (repeatable; written once).")
    var params: [String] = []

    @Option(name: .customLong("uses"), help: "A shared module (shared/NAME on main) the run imports (repeatable).")
    var uses: [String] = []

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let params = try KeyValues.parse(params, option: "--param")
        let run = try options.withClient {
            try $0.startRun(RunStartParams(name: name, rationale: rationale, params: params, uses: uses.isEmpty ? nil : uses))
        }
        if options.json { return try options.printJSON(run) }
        Output.line(String(run.id))
    }
}

struct RunLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "(agent) Log metrics, params and tags on a running run.",
        discussion: """
            --file reads JSON lines, one point per line: {"key": "val_loss", "value": 0.41, "step": 3} \
            (optional "timestamp" in milliseconds). The whole file is checked first, then sent in \
            batches; each batch is recorded once even when it is sent again after a lost connection, \
            so running the same command twice, or a retry after the daemon restarted, adds nothing twice.
            """)

    @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
    var runID: Int64

    @Option(name: .customLong("metric"), help: "A metric KEY=VALUE (repeatable).")
    var metrics: [String] = []

    @Option(name: .long, parsing: .unconditional, help: "The step of the --metric values (default 0).")
    var step: Int64 = 0

    @Option(name: .customLong("param"), help: "A param KEY=VALUE (repeatable; written once).")
    var params: [String] = []

    @Option(name: .customLong("tag"), help: "A tag KEY=VALUE (repeatable).")
    var tags: [String] = []

    @Option(name: .long, help: "A JSON-lines file of metric points.")
    var file: String?

    @Option(name: .long, help: "Points per request with --file.")
    var batchSize = 5000

    @Flag(name: .long, help: "Report each acknowledged batch on stderr.")
    var verbose = false

    @OptionGroup var options: GlobalOptions

    func run() throws {
        guard (1...RunLimits.maxPointsPerRequest).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(RunLimits.maxPointsPerRequest)")
        }
        let single = try KeyValues.metrics(metrics, step: step)
        let params = try KeyValues.parse(params, option: "--param")
        let tags = try KeyValues.parse(tags, option: "--tag")
        var batches: [(points: [MetricPoint], id: String?)] = []
        if let file {
            batches = try MetricsFile.batches(path: file, size: batchSize)
        }
        if single.isEmpty, params.isEmpty, tags.isEmpty, batches.isEmpty {
            if file != nil {
                if options.json { return try options.printJSON(RunLogResult(run: runID, metrics: 0, params: 0, tags: 0, duplicate: false, metricPoints: 0)) }
                return Output.line("\(file ?? ""): no points")
            }
            throw ValidationError("nothing to log: give --metric, --param, --tag or --file")
        }
        let total = batches.reduce(0) { $0 + $1.points.count }
        let result = try options.withClient { client -> RunLogResult in
            var client = client
            var last = RunLogResult(run: runID, metrics: 0, params: 0, tags: 0, duplicate: false, metricPoints: 0)
            var sent = 0
            var skipped = 0
            if !single.isEmpty || !params.isEmpty || !tags.isEmpty {
                // A batch id of this invocation's own, so that a resend after a lost connection
                // is recorded once.
                let request = RunLogParams(
                    run: runID, metrics: single, params: params, tags: tags,
                    batch: "cli-\(UInt64.random(in: 0...UInt64.max))")
                last = try options.resending(request: request, client: &client) { try $0.logRun($1) }
                sent += last.metrics
            }
            for batch in batches {
                let request = RunLogParams(run: runID, metrics: batch.points, batch: batch.id)
                let reply = try options.resending(request: request, client: &client) { try $0.logRun($1) }
                if reply.duplicate { skipped += batch.points.count } else { sent += reply.metrics }
                last = reply
                if verbose {
                    Output.progress("acknowledged \(sent + skipped)/\(total + single.count) points\(reply.duplicate ? " (batch already recorded)" : "")")
                }
            }
            return RunLogResult(
                run: runID, metrics: sent, params: last.params, tags: last.tags, duplicate: skipped > 0 && sent == 0,
                metricPoints: last.metricPoints)
        }
        if options.json { return try options.printJSON(result) }
        var line = "run \(runID): \(result.metrics) metric points logged"
        if total + single.count > result.metrics { line += ", \(total + single.count - result.metrics) already recorded" }
        Output.line(line + " (\(result.metricPoints) in total)")
    }
}

/// Limits shared with the daemon's checks.
enum RunLimits {
    static let maxPointsPerRequest = 100_000
}

/// Reads a metrics JSON-lines file, checking every line before anything is sent.
enum MetricsFile {
    private struct Line: Decodable {
        var key: String
        var value: Double
        var step: Int64?
        var timestamp: Int64?
    }

    static func batches(path: String, size: Int) throws -> [(points: [MetricPoint], id: String?)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Output.refuse("cannot read \(path)")
        }
        var points: [MetricPoint] = []
        var lineHashes: [UInt64] = []
        var lineNumber = 0
        let decoder = JSONDecoder()
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            lineNumber += 1
            let slice = data[start..<end]
            start = end < data.endIndex ? data.index(after: end) : end
            if slice.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let line: Line
            if FastJSON.exceedsDepth(Data(slice)) {
                throw Output.refuse(
                    "\(path) line \(lineNumber): objects or arrays nest deeper than \(FastJSON.maxDepth) levels; a metric point is one flat object")
            }
            do {
                line = try decoder.decode(Line.self, from: slice)
            } catch {
                throw Output.refuse(
                    "\(path) line \(lineNumber): not a metric point: expected {\"key\": NAME, \"value\": NUMBER, \"step\": INTEGER}")
            }
            let point = MetricPoint(key: line.key, value: line.value, step: line.step ?? 0, timestamp: line.timestamp)
            if let problem = RecordRules.pointProblem(point) { throw Output.refuse("\(path) line \(lineNumber): \(problem)") }
            points.append(point)
            lineHashes.append(fnv1a(slice))
        }
        var batches: [(points: [MetricPoint], id: String?)] = []
        var index = 0
        while index < points.count {
            let upper = min(index + size, points.count)
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for value in lineHashes[index..<upper] { hash = (hash ^ value) &* 0x100_0000_01b3 }
            batches.append((Array(points[index..<upper]), "file:\(index):\(upper - index):\(String(hash, radix: 16))"))
            index = upper
        }
        return batches
    }

    static func fnv1a(_ bytes: Data) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

struct RunArtifactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifact",
        abstract: "(agent) Copy a file or directory from your worktree into the daemon's artifact store.")

    @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
    var runID: Int64

    @Argument(help: "A file or directory inside your worktree.")
    var path: String

    @Option(name: .customLong("as"), help: "The name to store it under (a saved model: model).")
    var name: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let info = try options.withClient(timeout: .seconds(600)) {
            try $0.artifact(RunArtifactParams(run: runID, path: absolutePath(path), name: name))
        }
        if options.json { return try options.printJSON(info) }
        Output.line("run \(runID): stored \(info.name) (\(info.files) file\(info.files == 1 ? "" : "s"), \(info.bytes) bytes)")
    }
}

struct RunEndCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "end", abstract: "(agent) End a run with your analysis of what happened.")

    @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
    var runID: Int64

    @Option(name: .long, help: "What happened and why (becomes the run_analysis tag).")
    var analysis: String

    @Flag(name: .long, help: "The run broke; it is kept as failed.")
    var failed = false

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let ended = try options.withClient { try $0.endRun(RunEndParams(run: runID, analysis: analysis, failed: failed)) }
        if options.json { return try options.printJSON(ended) }
        Output.line("run \(ended.id) \(ended.status.rawValue)")
    }
}

struct RunShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a run: params, tags, latest metrics, artifacts, evaluations.")

    @Argument(help: ArgumentHelp("The run id.", valueName: "run"))
    var runID: Int64

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let detail = try options.withClient(idempotent: true) { try $0.showRun(runID) }
        if options.json { return try options.printJSON(detail) }
        let run = detail.run
        Output.line("run \(run.id) \(run.name) [\(run.status.rawValue)] in \(run.direction) (job \(run.jobID))")
        Output.line("  started \(run.startedAt)\(run.endedAt.map { ", ended \($0)" } ?? "")")
        Output.line("  public \(Output.score(run.publicScore))\(Output.interval(run.publicInterval)), private \(Output.score(run.privateScore)), \(run.publicEvals) public evaluations, \(run.metricPoints) metric points")
        Output.line("  rationale: \(run.rationale)")
        if let analysis = run.analysis { Output.line("  analysis: \(analysis)") }
        Output.section("params", detail.params.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" })
        Output.section("tags", detail.tags.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" })
        Output.section(
            "metrics (latest)",
            detail.metrics.values.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value) (step \($0.step))" })
        Output.section(
            "artifacts", detail.artifacts.map { "\($0.name)\($0.isDirectory ? "/" : "") (\($0.files) files, \($0.bytes) bytes)" })
        Output.section(
            "evaluations",
            detail.evaluations.map { "\($0.time) \($0.split) \($0.metric) \(Output.score($0.score))\(Output.interval($0.interval))" })
        Output.section("submissions", detail.submissions.map { "\($0.time) \(SubmitCommand.describe($0))" })
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs.")

    @Option(name: .long, help: "Only runs of this direction.")
    var direction: String?

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let runs = try options.withClient(idempotent: true) { try $0.runs(direction: direction) }
        if options.json { return try options.printJSON(RunList(runs: runs)) }
        if runs.isEmpty { return Output.line("no runs yet") }
        Output.line(
            Output.table(
                ["RUN", "DIRECTION", "NAME", "STATUS", "PUBLIC", "95% CI", "PRIVATE", "MODEL", "POINTS", "STARTED"],
                runs.map { run in
                    [
                        String(run.id), run.direction, run.name, run.status.rawValue, Output.score(run.publicScore),
                        run.publicInterval.map { "\(Output.score($0.low))–\(Output.score($0.high))" } ?? "-",
                        Output.score(run.privateScore), run.hasModel ? "yes" : "no", String(run.metricPoints), run.startedAt,
                    ]
                }))
    }
}

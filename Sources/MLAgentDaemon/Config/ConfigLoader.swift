import Foundation
import Logging
import MLAgentStore
import MLAgentEval
import MLAgentProtocol
import TOMLKit

/// A configuration problem, with the file and key it concerns.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads `mlagentd.toml`. Unknown sections and keys are errors (a typo must not silently
/// fall back to a default), and every type error names the key and the expected type.
public enum ConfigLoader {
    public static func load(path: String, into base: DaemonConfig = DaemonConfig()) throws -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("cannot read config file \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path, into: base)
    }

    public static func parse(_ text: String, source: String, into base: DaemonConfig = DaemonConfig()) throws -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(source): \(error.description) (line \(error.source.begin.line), column \(error.source.begin.column))")
        }
        var config = base
        let reader = Reader(source: source)
        let sections: Set = ["daemon", "store", "scheduler", "sandbox", "evaluation", "mlflow", "agents", "shared", "slurm"]
        for key in table.keys where !sections.contains(key) {
            throw ConfigError("\(source): unknown section [\(key)]; known sections: \(sections.sorted().joined(separator: ", "))")
        }
        if let daemon = try reader.section(table, "daemon", keys: [
            "socket", "state_dir", "workspace", "socket_mode", "max_line_bytes", "idle_timeout",
            "subscriber_buffer", "status_interval", "log_level", "log_target", "data_dir", "prompts_dir", "push_remote",
            "agents_dir", "python", "max_connections", "max_connections_per_agent", "max_connections_per_user",
            "operator_reserve", "listen", "tls_cert", "tls_key", "advertise", "operator_token_file",
        ]) {
            if let v = try reader.string(daemon, "daemon.listen") {
                if v.isEmpty {
                    config.listen = nil
                } else {
                    guard let address = ListenAddress(parsing: v) else {
                        throw ConfigError(
                            "\(source): daemon.listen = \"\(v)\" must be HOST:PORT, such as \"0.0.0.0:7433\", \"[::]:7433\" or \"127.0.0.1:0\" (port 0: any free port), or empty for no TCP listener")
                    }
                    config.listen = address
                }
            }
            if let v = try reader.string(daemon, "daemon.tls_cert") { config.tlsCert = v }
            if let v = try reader.string(daemon, "daemon.tls_key") { config.tlsKey = v }
            if config.tlsCert.isEmpty != config.tlsKey.isEmpty {
                throw ConfigError("\(source): daemon.tls_cert and daemon.tls_key go together: give both PEM files, or neither for a self-signed certificate")
            }
            if let v = try reader.string(daemon, "daemon.advertise") {
                guard v.isEmpty || ListenAddress.isValidHost(v) else {
                    throw ConfigError("\(source): daemon.advertise = \"\(v)\" must be a host name or IP address (no port), or empty for this machine's hostname")
                }
                config.advertise = v
            }
            if let v = try reader.string(daemon, "daemon.operator_token_file") { config.operatorTokenFile = v }
            if let v = try reader.int(daemon, "daemon.max_connections", range: 16...1_000_000) { config.connectionLimits.total = v }
            if let v = try reader.int(daemon, "daemon.max_connections_per_agent", range: 1...1_000_000) {
                config.connectionLimits.perAgent = v
            }
            if let v = try reader.int(daemon, "daemon.max_connections_per_user", range: 1...1_000_000) {
                config.connectionLimits.perUser = v
            }
            if let v = try reader.int(daemon, "daemon.operator_reserve", range: 0...1_000_000) {
                config.connectionLimits.operatorReserve = v
            }
            if let v = try reader.string(daemon, "daemon.push_remote") { config.pushRemote = v }
            if let v = try reader.string(daemon, "daemon.prompts_dir") { config.promptsDir = v }
            if let v = try reader.string(daemon, "daemon.agents_dir") { config.agentsDir = v }
            if let v = try reader.string(daemon, "daemon.python") { config.python = v }
            if let v = try reader.string(daemon, "daemon.data_dir") { config.dataDir = v }
            if let v = try reader.string(daemon, "daemon.socket") { config.socketPath = v }
            if let v = try reader.string(daemon, "daemon.state_dir") { config.stateDir = v }
            if let v = try reader.string(daemon, "daemon.workspace") { config.workspace = v }
            if let v = try reader.string(daemon, "daemon.socket_mode") {
                guard let mode = UInt32(v, radix: 8), mode <= 0o777 else {
                    throw ConfigError("\(source): daemon.socket_mode must be an octal string like \"0660\", got \"\(v)\"")
                }
                config.socketMode = mode
            }
            if let v = try reader.int(daemon, "daemon.max_line_bytes", range: 1024...(64 << 20)) { config.maxLineBytes = v }
            if let v = try reader.duration(daemon, "daemon.idle_timeout") { config.idleTimeout = v }
            if let v = try reader.int(daemon, "daemon.subscriber_buffer", range: 16...1_000_000) { config.subscriberBuffer = v }
            if let v = try reader.duration(daemon, "daemon.status_interval") { config.statusInterval = v }
            if let v = try reader.choice(daemon, "daemon.log_level", Logger.Level.allCases.map(\.rawValue)) {
                config.logLevel = Logger.Level(rawValue: v)!
            }
            if let v = try reader.choice(daemon, "daemon.log_target", DaemonConfig.LogTarget.allCases.map(\.rawValue)) {
                config.logTarget = DaemonConfig.LogTarget(rawValue: v)!
            }
        }
        if let store = try reader.section(table, "store", keys: ["synchronous"]) {
            if let v = try reader.choice(store, "store.synchronous", AppDatabase.Synchronous.allCases.map(\.rawValue)) {
                config.synchronous = AppDatabase.Synchronous(rawValue: v)!
            }
        }
        if let scheduler = try reader.section(table, "scheduler", keys: [
            "max_agents", "default_agent", "max_directions", "autonomy", "max_attempts", "stall_timeout", "kill_grace",
            "max_session_cost_usd",
            "gpus",
        ]) {
            if let v = try reader.int(scheduler, "scheduler.max_agents", range: 1...256) { config.maxAgents = v }
            if let v = try reader.string(scheduler, "scheduler.default_agent") { config.defaultAgent = v }
            if let v = try reader.int(scheduler, "scheduler.max_directions", range: 0...100_000) { config.maxDirections = v }
            if let v = try reader.choice(scheduler, "scheduler.autonomy", DaemonConfig.Autonomy.allCases.map(\.rawValue)) {
                config.autonomy = DaemonConfig.Autonomy(rawValue: v)!
            }
            if let v = try reader.int(scheduler, "scheduler.max_attempts", range: 1...100) { config.maxAttempts = v }
            if let v = try reader.duration(scheduler, "scheduler.stall_timeout") { config.stallTimeout = v }
            if let v = try reader.duration(scheduler, "scheduler.kill_grace") { config.killGrace = v }
            if let v = try reader.double(scheduler, "scheduler.max_session_cost_usd", range: 0...1e9) {
                config.maxSessionCostUSD = v
            }
            if let v = try reader.strings(scheduler, "scheduler.gpus") { config.gpus = v }
        }
        if let sandbox = try reader.section(table, "sandbox", keys: ["mode", "ro_paths"]) {
            if let v = try reader.choice(sandbox, "sandbox.mode", DaemonConfig.SandboxMode.allCases.map(\.rawValue)) {
                config.sandbox = DaemonConfig.SandboxMode(rawValue: v)!
            }
            if let paths = try reader.strings(sandbox, "sandbox.ro_paths") {
                config.sandboxROPaths = try ProfileConfig.absolutePaths(paths, key: "sandbox.ro_paths", source: source)
            }
        }
        if let evaluation = try reader.section(table, "evaluation", keys: [
            "metric", "public_eval_budget", "overfit_gap", "bootstrap_samples", "max_artifact_bytes", "land_artifact_bytes",
            "land_direction_artifact_bytes", "max_job_artifact_bytes", "max_job_artifact_files",
            "max_direction_artifact_bytes", "max_direction_artifact_files", "max_store_artifact_bytes",
            "max_store_artifact_files", "submit", "replay_timeout", "replay_max_memory",
        ]) {
            if let v = try reader.choice(evaluation, "evaluation.submit", DaemonConfig.SubmitMode.allCases.map(\.rawValue)) {
                config.submitMode = DaemonConfig.SubmitMode(rawValue: v)!
            }
            if let v = try reader.duration(evaluation, "evaluation.replay_timeout") { config.replayTimeout = v }
            if let v = try reader.string(evaluation, "evaluation.replay_max_memory") {
                guard let bytes = ResourceConfig.parseBytes(v), bytes >= 64 << 20 else {
                    throw ConfigError("\(source): evaluation.replay_max_memory = \"\(v)\" must be a size of at least 64M, such as \"4G\"")
                }
                config.replayMaxMemory = bytes
            }
            if let v = try reader.int(evaluation, "evaluation.land_direction_artifact_bytes", range: 0...(1 << 50)) {
                config.landDirectionArtifactBytes = Int64(v)
            }
            for (scope, path) in [("job", \ArtifactQuota.job), ("direction", \.direction), ("store", \.store)] {
                if let v = try reader.int(evaluation, "evaluation.max_\(scope)_artifact_bytes", range: 1...(1 << 50)) {
                    config.artifactQuota[keyPath: path].bytes = Int64(v)
                }
                if let v = try reader.int(evaluation, "evaluation.max_\(scope)_artifact_files", range: 1...1_000_000_000) {
                    config.artifactQuota[keyPath: path].files = Int64(v)
                }
            }
            if let v = try reader.choice(evaluation, "evaluation.metric", EvalMetric.allCases.map(\.rawValue)) {
                config.metric = EvalMetric(rawValue: v)!
            }
            if let v = try reader.int(evaluation, "evaluation.public_eval_budget", range: 1...1_000_000) {
                config.publicEvalBudget = v
            }
            if let v = try reader.overfitGaps(evaluation, "evaluation.overfit_gap") {
                config.overfitGaps.merge(v) { _, new in new }
            }
            if let v = try reader.int(evaluation, "evaluation.bootstrap_samples", range: 0...100_000) {
                config.bootstrapSamples = v
            }
            if let v = try reader.int(evaluation, "evaluation.max_artifact_bytes", range: 1...(1 << 50)) {
                config.maxArtifactBytes = Int64(v)
            }
            if let v = try reader.int(evaluation, "evaluation.land_artifact_bytes", range: 0...(1 << 50)) {
                config.landArtifactBytes = Int64(v)
            }
        }
        if let mlflow = try reader.section(table, "mlflow", keys: ["tracking_uri", "serve", "command", "experiment"]) {
            if let v = try reader.string(mlflow, "mlflow.tracking_uri") {
                guard v.isEmpty || v.hasPrefix("http://") || v.hasPrefix("https://") else {
                    throw ConfigError("\(source): mlflow.tracking_uri = \"\(v)\" must be an http:// or https:// URL, or empty")
                }
                config.mlflowTrackingURI = v
            }
            if let v = try reader.bool(mlflow, "mlflow.serve") { config.mlflowServe = v }
            if let v = try reader.string(mlflow, "mlflow.command") { config.mlflowCommand = v }
            if let v = try reader.string(mlflow, "mlflow.experiment") { config.mlflowExperiment = v }
            if config.mlflowServe, MLflowServer.endpoint(config.mlflowTrackingURI) == nil {
                throw ConfigError("\(source): mlflow.serve = true needs mlflow.tracking_uri = \"http://127.0.0.1:PORT\"")
            }
        }
        if let agents = table["agents"] {
            guard let agents = agents.table else { throw ConfigError("\(source): agents must be a table of [agents.NAME] tables") }
            for name in agents.keys {
                if let problem = DirectionName.problem(with: name) {
                    throw ConfigError("\(source): agent profile [agents.\(name)]: \(problem.replacingOccurrences(of: "direction name", with: "name"))")
                }
                let key = "agents.\(name)"
                guard let profile = try reader.section(agents, name, keys: ProfileConfig.keys, prefix: "agents.") else { continue }
                let agent = try ProfileConfig.read(profile, key: key, base: config.agents[name], source: source)
                config.agents[name] = agent
            }
        }
        if let shared = try reader.section(table, "shared", keys: ["review", "reviewer", "test_timeout"]) {
            if let v = try reader.choice(shared, "shared.review", Store.ShareReviewMode.allCases.map(\.rawValue)) {
                config.sharedReview = Store.ShareReviewMode(rawValue: v)!
            }
            if let v = try reader.string(shared, "shared.reviewer") { config.sharedReviewer = v }
            if let v = try reader.duration(shared, "shared.test_timeout") { config.sharedTestTimeout = v }
        }
        if let slurm = try reader.section(table, "slurm", keys: SlurmConfig.keys) {
            config.slurm = try SlurmConfig.read(slurm, reader: reader, base: config.slurm)
        }
        if config.sharedReview == .agent, config.agents[config.sharedReviewer] == nil {
            throw ConfigError(
                "\(source): shared.review = \"agent\" needs shared.reviewer naming an agent profile (got \"\(config.sharedReviewer)\"); known: \(config.agents.keys.sorted().joined(separator: ", "))")
        }
        if config.agents[config.defaultAgent] == nil {
            throw ConfigError("\(source): scheduler.default_agent = \"\(config.defaultAgent)\" names no profile; known: \(config.agents.keys.sorted().joined(separator: ", "))")
        }
        return config
    }

    struct Reader {
        let source: String

        func section(_ table: TOMLTable, _ name: String, keys: Set<String>, prefix: String = "") throws -> TOMLTable? {
            guard let value = table[name] else { return nil }
            guard let section = value.table else {
                throw ConfigError("\(source): \(prefix)\(name) must be a table ([\(prefix)\(name)])")
            }
            for key in section.keys where !keys.contains(key) {
                throw ConfigError("\(source): unknown key \(prefix)\(name).\(key); known keys: \(keys.sorted().joined(separator: ", "))")
            }
            return section
        }

        func strings(_ table: TOMLTable, _ key: String) throws -> [String]? {
            guard let value = value(table, key) else { return nil }
            guard let array = value.array else { throw ConfigError("\(source): \(key) must be an array of strings, got \(value.type)") }
            return try array.map { element in
                guard let string = element.string else { throw ConfigError("\(source): \(key) must contain only strings") }
                return string
            }
        }

        private func value(_ table: TOMLTable, _ dotted: String) -> (any TOMLValueConvertible)? {
            table[String(dotted.split(separator: ".").last!)]
        }

        func string(_ table: TOMLTable, _ key: String) throws -> String? {
            guard let value = value(table, key) else { return nil }
            guard let string = value.string else {
                throw ConfigError("\(source): \(key) must be a string, got \(value.type)")
            }
            return string
        }

        func int(_ table: TOMLTable, _ key: String, range: ClosedRange<Int>) throws -> Int? {
            guard let value = value(table, key) else { return nil }
            guard let int = value.int else { throw ConfigError("\(source): \(key) must be an integer, got \(value.type)") }
            guard range.contains(int) else {
                throw ConfigError("\(source): \(key) = \(int) is out of range \(range.lowerBound)...\(range.upperBound)")
            }
            return int
        }

        func double(_ table: TOMLTable, _ key: String, range: ClosedRange<Double>) throws -> Double? {
            guard let value = value(table, key) else { return nil }
            guard let number = value.double ?? value.int.map(Double.init) else {
                throw ConfigError("\(source): \(key) must be a number, got \(value.type)")
            }
            guard range.contains(number) else {
                throw ConfigError("\(source): \(key) = \(number) is out of range \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        /// `overfit_gap`: one number for every metric (an absolute gap), or a table by metric of
        /// absolute gaps (numbers) and shares of the public score (strings such as "2%").
        func overfitGaps(_ table: TOMLTable, _ key: String) throws -> [EvalMetric: GapFloor]? {
            guard let value = value(table, key) else { return nil }
            if let number = value.double ?? value.int.map(Double.init) {
                let floor = try gapFloor(number, key)
                return Dictionary(uniqueKeysWithValues: EvalMetric.allCases.map { ($0, floor) })
            }
            guard let metrics = value.table else {
                throw ConfigError(
                    "\(source): \(key) must be a number or a table by metric such as { rmse = \"2%\", roc_auc = 0.005 }, got \(value.type)")
            }
            var floors: [EvalMetric: GapFloor] = [:]
            for name in metrics.keys {
                let entry = "\(key).\(name)"
                guard let metric = EvalMetric(rawValue: name) else {
                    throw ConfigError(
                        "\(source): unknown metric \(entry); known metrics: \(EvalMetric.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let item = metrics[name]!
                if let number = item.double ?? item.int.map(Double.init) {
                    floors[metric] = try gapFloor(number, entry)
                } else if let text = item.string, text.hasSuffix("%"),
                    let percent = Double(text.dropLast().trimmingCharacters(in: .whitespaces)), percent.isFinite,
                    (0...1e6).contains(percent)
                {
                    floors[metric] = .relative(percent / 100)
                } else {
                    throw ConfigError(
                        "\(source): \(entry) must be a gap (a number such as 0.005) or a share of the public score (a string such as \"2%\")")
                }
            }
            return floors
        }

        private func gapFloor(_ number: Double, _ key: String) throws -> GapFloor {
            guard number.isFinite, (0...1e12).contains(number) else {
                throw ConfigError("\(source): \(key) = \(number) is out of range 0...1e12")
            }
            return .absolute(number)
        }

        func bool(_ table: TOMLTable, _ key: String) throws -> Bool? {
            guard let value = value(table, key) else { return nil }
            guard let bool = value.bool else { throw ConfigError("\(source): \(key) must be true or false, got \(value.type)") }
            return bool
        }

        func duration(_ table: TOMLTable, _ key: String) throws -> Duration? {
            guard let text = try string(table, key) else { return nil }
            guard let duration = DurationText.parse(text) else {
                throw ConfigError("\(source): \(key) = \"\(text)\" is not a duration; use forms like \"500ms\", \"30s\", \"10m\", \"2h\"")
            }
            return duration
        }

        func choice(_ table: TOMLTable, _ key: String, _ options: [String]) throws -> String? {
            guard let text = try string(table, key) else { return nil }
            guard options.contains(text) else {
                throw ConfigError("\(source): \(key) = \"\(text)\" is not one of \(options.joined(separator: ", "))")
            }
            return text
        }
    }
}

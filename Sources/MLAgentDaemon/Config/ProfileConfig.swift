import Foundation
import TOMLKit

/// One `[agents.NAME]` table. A table for a profile the daemon already knows (a built-in, or one
/// an earlier file defined) starts from it and changes only the keys it names, so
/// `[agents.claude]` with just `env` keeps the shipped command; a new name needs `command`.
enum ProfileConfig {
    static let keys: Set<String> = Set(
        ["command", "timeout", "env", "usage", "price_per_mtok", "max_cost_usd", "ro_paths", "home_files", "executor"]
            + ResourceConfig.keys)

    static func read(_ profile: TOMLTable, key: String, base: AgentProfile?, source: String) throws -> AgentProfile {
        var agent: AgentProfile
        if let command = profile["command"] {
            guard let list = try strings(command, key: "\(key).command", source: source), !list.isEmpty else {
                throw ConfigError("\(source): \(key).command must be a non-empty array of strings")
            }
            agent = base ?? AgentProfile(command: list, timeout: .seconds(7200))
            agent.command = list
        } else if let base {
            agent = base
        } else {
            throw ConfigError("\(source): \(key).command is missing: a new profile needs its argv, e.g. command = [\"sh\", \"{worktree}/agent.sh\"]")
        }
        if let value = profile["timeout"] {
            guard let text = value.string else { throw ConfigError("\(source): \(key).timeout must be a string, got \(value.type)") }
            guard let duration = DurationText.parse(text) else {
                throw ConfigError("\(source): \(key).timeout = \"\(text)\" is not a duration; use forms like \"500ms\", \"30s\", \"10m\", \"2h\"")
            }
            agent.timeout = duration
        }
        if let value = profile["executor"] {
            guard let text = value.string, let executor = AgentProfile.Executor(rawValue: text) else {
                throw ConfigError("\(source): \(key).executor must be \"local\" or \"slurm\"")
            }
            agent.executor = executor
        }
        if let env = profile["env"] {
            guard let table = env.table else { throw ConfigError("\(source): \(key).env must be a table of strings") }
            for variable in table.keys {
                guard let value = table[variable]?.string else {
                    throw ConfigError("\(source): \(key).env.\(variable) must be a string")
                }
                agent.environment[variable] = value
            }
        }
        if let value = profile["ro_paths"] {
            let list = try strings(value, key: "\(key).ro_paths", source: source) ?? []
            agent.roPaths = try absolutePaths(list, key: "\(key).ro_paths", source: source)
        }
        if let value = profile["home_files"] {
            let list = try strings(value, key: "\(key).home_files", source: source) ?? []
            for entry in list {
                if let problem = homeFileProblem(entry) {
                    throw ConfigError("\(source): \(key).home_files entry \"\(entry)\" \(problem)")
                }
            }
            agent.homeFiles = list
        }
        try UsageConfig.read(profile, key: key, into: &agent, source: source)
        try ResourceConfig.read(profile, key: key, into: &agent, source: source)
        return agent
    }

    /// `ro_paths` entries as absolute paths (`~/` is the daemon user's home); `/` is refused.
    static func absolutePaths(_ list: [String], key: String, source: String) throws -> [String] {
        try list.map { entry in
            let path = ((entry as NSString).expandingTildeInPath as NSString).standardizingPath
            guard path.hasPrefix("/"), path != "/" else {
                throw ConfigError("\(source): \(key) entry \"\(entry)\" must be an absolute path (or start with ~/) other than /")
            }
            return path
        }
    }

    /// Why `entry` is not a file under the home directory (`~/.claude/.credentials.json`), if it is not.
    static func homeFileProblem(_ entry: String) -> String? {
        guard entry.hasPrefix("~/") else { return "must start with ~/ (a file in the daemon user's home directory)" }
        let components = entry.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false)
        if components.isEmpty || components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "must name a file below ~/ without empty, . or .. components"
        }
        return nil
    }

    private static func strings(_ value: any TOMLValueConvertible, key: String, source: String) throws -> [String]? {
        guard let array = value.array else { throw ConfigError("\(source): \(key) must be an array of strings, got \(value.type)") }
        return try array.map { element in
            guard let string = element.string else { throw ConfigError("\(source): \(key) must contain only strings") }
            return string
        }
    }
}

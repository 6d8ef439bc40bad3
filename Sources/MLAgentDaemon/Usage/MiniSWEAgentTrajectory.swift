import Foundation
import MLAgentProtocol

/// What mini-swe-agent's trajectory (`-o PATH`: JSON it rewrites after every step, format
/// `mini-swe-agent-1.1`) says about a run's usage: `info.model_stats.instance_cost`, the exact
/// dollar total of its model calls (litellm's prices, unrounded), `api_calls`, and the tokens
/// of each call, from the `extra.response.usage` that each message answering a call keeps
/// (OpenAI's shape, whatever the provider: litellm counts cache reads and writes in
/// `prompt_tokens` and names them in `prompt_tokens_details.cached_tokens`, or Anthropic's
/// `cache_read_input_tokens` and `cache_creation_input_tokens`). The file is the agent's, so
/// it is read with a size bound and parsed leniently: a value of the wrong type counts as
/// absent, and a file without a finite, non-negative cost is refused whole.
struct MiniSWEAgentTrajectory: Equatable, Sendable {
    /// The run's tokens and exact cost (`reported`: the CLI's own figure).
    var usage: TokenUsage
    var apiCalls: Int?
    /// How many messages carried a call's usage.
    var responses: Int

    /// Larger trajectories are not read (the printed cost stays).
    static let maxBytes = 32 << 20
    /// No single count above this is believed; sums stop there too.
    static let maxTokens: Int64 = 1_000_000_000_000_000

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ data: Data) throws(Malformed) -> MiniSWEAgentTrajectory {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw Malformed(description: "not a JSON object (\(Self.describe(error)))")
        }
        guard let cost = file.info?.value?.modelStats?.value?.instanceCost?.value else {
            throw Malformed(description: "no number at info.model_stats.instance_cost")
        }
        guard cost.isFinite, cost >= 0, cost <= 1e9 else {
            throw Malformed(description: "info.model_stats.instance_cost is \(cost), not a dollar figure from 0 to 1e9")
        }
        var usage = TokenUsage(costUSD: cost, reported: true)
        var responses = 0
        for message in file.messages?.value ?? [] {
            guard let fields = message.value?.extra?.value?.response?.value?.usage?.value else { continue }
            responses += 1
            // Cache reads and writes are part of prompt_tokens: what is left is fresh input.
            let details = fields.promptTokensDetails?.value
            let prompt = fields.promptTokens?.count ?? 0
            let cacheRead = min(fields.cacheReadInputTokens?.count ?? details?.cachedTokens?.count ?? 0, prompt)
            let cacheWrite = min(
                fields.cacheCreationInputTokens?.count ?? details?.cacheCreationTokens?.count ?? 0, prompt - cacheRead)
            usage.inputTokens = add(usage.inputTokens, prompt - cacheRead - cacheWrite)
            usage.outputTokens = add(usage.outputTokens, fields.completionTokens?.count ?? 0)
            usage.cacheReadTokens = add(usage.cacheReadTokens, cacheRead)
            usage.cacheWriteTokens = add(usage.cacheWriteTokens, cacheWrite)
        }
        let calls = file.info?.value?.modelStats?.value?.apiCalls?.value
        let apiCalls = calls.flatMap { $0.isFinite && $0 >= 0 && $0 < 1e9 ? Int($0) : nil }
        return MiniSWEAgentTrajectory(usage: usage, apiCalls: apiCalls, responses: responses)
    }

    private static func add(_ total: Int64, _ more: Int64) -> Int64 {
        min(total + min(max(more, 0), maxTokens), maxTokens)
    }

    private static func describe(_ error: any Error) -> String {
        let text: String
        switch error {
        case DecodingError.dataCorrupted(let context): text = context.debugDescription
        case DecodingError.typeMismatch(_, let context): text = context.debugDescription
        default: text = "\(error)"
        }
        return String(text.prefix(200))
    }

    /// Where the profile's command makes mini write its trajectory: the value of `-o` or
    /// `--output` with `{home}`, `{worktree}` and `{job_id}` filled in (relative to the
    /// worktree, mini's working directory), else mini's default in the job's home
    /// (`~/.config/mini-swe-agent/last_mini_run.traj.json`, as `XDG_CONFIG_HOME` points there).
    /// Returns the file and the directory it must lie beneath (the home or the worktree), or
    /// nil when it names a place outside both.
    static func location(command: [String], home: String, worktree: String, jobID: Int64) -> (path: String, root: String)? {
        var output: String?
        var arguments = command.dropFirst()[...]
        while let argument = arguments.popFirst() {
            if argument == "-o" || argument == "--output" {
                output = arguments.popFirst()
            } else if argument.hasPrefix("--output=") {
                output = String(argument.dropFirst("--output=".count))
            }
        }
        guard var path = output else {
            return (home + "/.config/mini-swe-agent/last_mini_run.traj.json", home)
        }
        for (placeholder, value) in [("{home}", home), ("{worktree}", worktree), ("{job_id}", String(jobID))] {
            path = path.replacingOccurrences(of: placeholder, with: value)
        }
        if !path.hasPrefix("/") { path = worktree + "/" + path }
        for root in [home, worktree] where !root.isEmpty && path.hasPrefix(root + "/") {
            return (path, root)
        }
        return nil
    }

    /// Reads the trajectory at `path` beneath `root` without following any link (regular
    /// file, one link, at most `maxBytes`); returns its bytes and when it was last written.
    static func read(_ path: String, beneath root: String, control: CopyControl) throws -> (data: Data, modified: Date) {
        let file = try WorktreeFiles.openBeneath(path, worktree: root)
        let reader = BoundedReader(
            shownAs: path, limit: .init(bytes: Int64(maxBytes), described: "the trajectory limit of \(maxBytes) bytes"),
            control: control)
        let modified = Date(
            timeIntervalSince1970: Double(file.info.st_mtim.tv_sec) + Double(file.info.st_mtim.tv_nsec) / 1e9)
        return (try reader.readAll(file), modified)
    }

    // MARK: The file's shape (only what is read)

    /// A value of the wrong type decodes as nil instead of failing the whole file.
    private struct Lenient<Value: Decodable>: Decodable {
        var value: Value?
        init(from decoder: any Decoder) throws { value = try? Value(from: decoder) }
    }

    private struct File: Decodable {
        var info: Lenient<Info>?
        var messages: Lenient<[Lenient<Message>]>?
    }

    private struct Info: Decodable {
        var modelStats: Lenient<ModelStats>?
        enum CodingKeys: String, CodingKey { case modelStats = "model_stats" }
    }

    private struct ModelStats: Decodable {
        var instanceCost: Lenient<Double>?
        var apiCalls: Lenient<Double>?
        enum CodingKeys: String, CodingKey {
            case instanceCost = "instance_cost"
            case apiCalls = "api_calls"
        }
    }

    private struct Message: Decodable {
        var extra: Lenient<Extra>?
    }

    private struct Extra: Decodable {
        var response: Lenient<Response>?
    }

    private struct Response: Decodable {
        var usage: Lenient<Usage>?
    }

    /// A token count: believed when it is a finite number from 0 to `maxTokens`.
    private struct Count: Decodable {
        var count: Int64?
        init(from decoder: any Decoder) throws {
            let number = try? Double(from: decoder)
            count = number.flatMap { $0.isFinite && $0 >= 0 && $0 <= Double(maxTokens) ? Int64($0) : nil }
        }
    }

    private struct Usage: Decodable {
        var promptTokens: Count?
        var completionTokens: Count?
        var cacheReadInputTokens: Count?
        var cacheCreationInputTokens: Count?
        var promptTokensDetails: Lenient<Details>?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case cacheReadInputTokens = "cache_read_input_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
            case promptTokensDetails = "prompt_tokens_details"
        }
    }

    private struct Details: Decodable {
        var cachedTokens: Count?
        var cacheCreationTokens: Count?
        enum CodingKeys: String, CodingKey {
            case cachedTokens = "cached_tokens"
            case cacheCreationTokens = "cache_creation_tokens"
        }
    }
}

/// Tokens an agent's model consumed and what they cost, as read from the agent's structured
/// output (`usage` in its profile). `costUSD` is the CLI's own figure when `reported`, else an
/// estimate from the profile's `price_per_mtok` table.
public struct TokenUsage: Sendable, Codable, Equatable {
    public var inputTokens: Int64
    public var outputTokens: Int64
    public var cacheReadTokens: Int64
    public var cacheWriteTokens: Int64
    public var costUSD: Double
    /// Whether `costUSD` is entirely the CLI's own figure (false: estimated, at least in part).
    public var reported: Bool

    public init(
        inputTokens: Int64 = 0, outputTokens: Int64 = 0, cacheReadTokens: Int64 = 0, cacheWriteTokens: Int64 = 0,
        costUSD: Double = 0, reported: Bool = false
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.costUSD = costUSD
        self.reported = reported
    }

    public static let zero = TokenUsage()

    public var totalTokens: Int64 {
        Self.add(Self.add(inputTokens, outputTokens), Self.add(cacheReadTokens, cacheWriteTokens))
    }

    /// The sum of two usages; reported only when both are. Counts saturate at `Int64.max`: an
    /// agent's output decides them, and no number it prints may trap the daemon.
    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(
            inputTokens: add(lhs.inputTokens, rhs.inputTokens), outputTokens: add(lhs.outputTokens, rhs.outputTokens),
            cacheReadTokens: add(lhs.cacheReadTokens, rhs.cacheReadTokens),
            cacheWriteTokens: add(lhs.cacheWriteTokens, rhs.cacheWriteTokens), costUSD: lhs.costUSD + rhs.costUSD,
            reported: lhs.reported && rhs.reported)
    }

    /// `a + b`, saturating at the bounds of `Int64` instead of trapping.
    public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    enum CodingKeys: String, CodingKey {
        case reported
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case costUSD = "cost_usd"
    }
}

/// Dollars per million tokens of each kind (`price_per_mtok` in a profile), used to estimate
/// the cost of the tokens a CLI has not priced yet.
public struct PricePerMTok: Sendable, Codable, Equatable {
    public var input: Double
    public var output: Double
    public var cacheRead: Double
    public var cacheWrite: Double

    public init(input: Double, output: Double, cacheRead: Double, cacheWrite: Double) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
    }

    enum CodingKeys: String, CodingKey {
        case input, output
        case cacheRead = "cache_read"
        case cacheWrite = "cache_write"
    }

    public func cost(of usage: TokenUsage) -> Double {
        (Double(usage.inputTokens) * input + Double(usage.outputTokens) * output
            + Double(usage.cacheReadTokens) * cacheRead + Double(usage.cacheWriteTokens) * cacheWrite) / 1_000_000
    }

    /// Claude Sonnet 4.x, the default model of the `claude` profile.
    public static let claudeSonnet = PricePerMTok(input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75)
    /// GPT-5 (Codex's default model family): cached input at a tenth of the input price.
    public static let gpt5 = PricePerMTok(input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0)
}

/// `usage.report`: the session's total, each job's and each direction's usage.
public struct UsageReport: Sendable, Codable, Equatable {
    public var session: TokenUsage
    /// `[scheduler] max_session_cost_usd`; nil when there is no cap.
    public var maxSessionCostUSD: Double?
    public var sessionCapReached: Bool
    public var jobs: [Job]
    public var directions: [Direction]
    /// Each agent profile's `price_per_mtok`, by profile name (profiles without one are absent).
    public var prices: [String: PricePerMTok]

    public struct Job: Sendable, Codable, Equatable {
        public var jobID: Int64
        public var direction: String
        public var agent: String
        public var usage: TokenUsage
        public init(jobID: Int64, direction: String, agent: String, usage: TokenUsage) {
            self.jobID = jobID
            self.direction = direction
            self.agent = agent
            self.usage = usage
        }
        enum CodingKeys: String, CodingKey {
            case direction, agent, usage
            case jobID = "job_id"
        }
    }

    public struct Direction: Sendable, Codable, Equatable {
        public var direction: String
        public var usage: TokenUsage
        public init(direction: String, usage: TokenUsage) {
            self.direction = direction
            self.usage = usage
        }
    }

    public init(
        session: TokenUsage, maxSessionCostUSD: Double?, sessionCapReached: Bool, jobs: [Job], directions: [Direction],
        prices: [String: PricePerMTok] = [:]
    ) {
        self.prices = prices
        self.session = session
        self.maxSessionCostUSD = maxSessionCostUSD
        self.sessionCapReached = sessionCapReached
        self.jobs = jobs
        self.directions = directions
    }

    /// The usage of one direction, if any of its jobs used tokens.
    public func usage(ofDirection name: String) -> TokenUsage? {
        directions.first { $0.direction == name }?.usage
    }

    enum CodingKeys: String, CodingKey {
        case session, jobs, directions, prices
        case maxSessionCostUSD = "max_session_cost_usd"
        case sessionCapReached = "session_cap_reached"
    }
}

extension Method {
    /// `usage.report` (operators): tokens and cost of the session, each job and each direction.
    public static let usageReport = "usage.report"
}

/// Dollar amounts and token counts as people read them: cents for a dollar and more and for
/// whole cents, four decimals below.
public enum USD {
    public static func format(_ amount: Double) -> String {
        let value = amount.isFinite ? amount : 0
        let cents = (value * 100).rounded()
        let digits = value >= 1 || abs(value * 100 - cents) < 1e-9 ? 2 : 4
        return "$" + fixed(value, digits: digits)
    }

    static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded()
        let whole = Int64(scaled / scale)
        let fraction = Int64(abs(scaled - Double(whole) * scale))
        var text = String(fraction)
        while text.count < digits { text = "0" + text }
        return "\(whole).\(text)"
    }

    /// A token count with thousands separators.
    public static func tokens(_ count: Int64) -> String {
        let digits = Array(String(count))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}

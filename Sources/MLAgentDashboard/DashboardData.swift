public import MLAgentProtocol

/// Everything the dashboard shows, gathered by the caller (the daemon or `mlagentctl`).
///
/// The dashboard module only renders: it does no I/O and reads no clock; "now" is `generatedAt`.
public struct DashboardData: Sendable {
    /// The page title, e.g. "mlagent research session".
    public var title: String
    /// When the data was read, in the `Timestamp` format; running jobs are drawn up to it.
    public var generatedAt: String
    public var leaderboard: Leaderboard
    public var runs: [Run]
    /// Metric points per run id, already downsampled (at most a few hundred points per key).
    public var curves: [Int64: [MetricPoint]]
    public var jobs: [Job]
    public var directions: [Direction]
    /// Tokens and cost of the session, its jobs and directions (`usage.report`), when read.
    public var usage: UsageReport?
    /// The shared modules on `main` and who adopted them (`summary`).
    public var sharedModules: [SharedModule]

    public init(
        title: String = "mlagent research session", generatedAt: String, leaderboard: Leaderboard, runs: [Run] = [],
        curves: [Int64: [MetricPoint]] = [:], jobs: [Job] = [], directions: [Direction] = [], usage: UsageReport? = nil,
        sharedModules: [SharedModule] = []
    ) {
        self.usage = usage
        self.sharedModules = sharedModules
        self.title = title
        self.generatedAt = generatedAt
        self.leaderboard = leaderboard
        self.runs = runs
        self.curves = curves
        self.jobs = jobs
        self.directions = directions
    }
}

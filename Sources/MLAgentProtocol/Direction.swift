public import Foundation

/// A research direction, once its name is known.
public struct Direction: Sendable, Codable, Equatable {
    public var name: String
    public var jobID: Int64
    public var branch: String
    /// `in_progress`, `completed`, `failed` or `abandoned`.
    public var status: String
    public var rationale: String
    public var guidance: String
    public var learnings: String?
    public var startedAt: Date
    public var finishedAt: Date?
    /// The run whose private predictions were scored (once per direction).
    public var submittedRun: Int64?
    /// The submitted run's private score trails its public score by more than `overfit_gap`.
    public var overfit: Bool

    enum CodingKeys: String, CodingKey {
        case name, branch, status, rationale, guidance, learnings, overfit
        case jobID = "job_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case submittedRun = "submitted_run"
    }

    public init(
        name: String, jobID: Int64, branch: String, status: String, rationale: String, guidance: String,
        learnings: String?, startedAt: Date, finishedAt: Date?, submittedRun: Int64? = nil, overfit: Bool = false
    ) {
        self.name = name
        self.jobID = jobID
        self.branch = branch
        self.status = status
        self.rationale = rationale
        self.guidance = guidance
        self.learnings = learnings
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.submittedRun = submittedRun
        self.overfit = overfit
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        jobID = try c.decode(Int64.self, forKey: .jobID)
        branch = try c.decode(String.self, forKey: .branch)
        status = try c.decode(String.self, forKey: .status)
        rationale = try c.decodeIfPresent(String.self, forKey: .rationale) ?? ""
        guidance = try c.decodeIfPresent(String.self, forKey: .guidance) ?? ""
        learnings = try c.decodeIfPresent(String.self, forKey: .learnings)
        startedAt = try Timestamp.parse(c.decode(String.self, forKey: .startedAt))
        finishedAt = try c.decodeIfPresent(String.self, forKey: .finishedAt).map(Timestamp.parse)
        submittedRun = try c.decodeIfPresent(Int64.self, forKey: .submittedRun)
        overfit = try c.decodeIfPresent(Bool.self, forKey: .overfit) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(jobID, forKey: .jobID)
        try c.encode(branch, forKey: .branch)
        try c.encode(status, forKey: .status)
        try c.encode(rationale, forKey: .rationale)
        try c.encode(guidance, forKey: .guidance)
        try c.encode(learnings, forKey: .learnings)
        try c.encode(Timestamp.format(startedAt), forKey: .startedAt)
        try c.encode(finishedAt.map(Timestamp.format), forKey: .finishedAt)
        try c.encode(submittedRun, forKey: .submittedRun)
        try c.encode(overfit, forKey: .overfit)
    }
}


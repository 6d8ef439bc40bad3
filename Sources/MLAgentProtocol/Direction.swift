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

    enum CodingKeys: String, CodingKey {
        case name, branch, status, rationale, guidance, learnings
        case jobID = "job_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    public init(
        name: String, jobID: Int64, branch: String, status: String, rationale: String, guidance: String,
        learnings: String?, startedAt: Date, finishedAt: Date?
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
    }
}


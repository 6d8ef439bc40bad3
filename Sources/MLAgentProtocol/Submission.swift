/// How a direction's private score was obtained, and whether the saved model stands behind it.
///
/// By default (`[evaluation] submit = "replay"`) the daemon itself loads the run's `model`
/// artifact (an MLflow model directory) in a sandboxed scorer and predicts both validation
/// splits: the private score comes from those predictions, and the replayed public predictions
/// are compared with the ones the run was evaluated with. With `submit = "predictions"` the
/// agent hands in the private predictions itself.
public enum SubmissionOutcome: String, Sendable, Codable, CaseIterable {
    /// The replayed public predictions equal the evaluated ones within ``Submission/tolerance``.
    case reproduced
    /// The saved model predicts something else than what the run was evaluated with: the
    /// private score is the replayed model's, and the replayed public score stands beside the
    /// reported one.
    case mismatch
    /// The model failed to load or predict (or ran past the scorer's limits): nothing was scored
    /// or spent.
    case unreproducible
    /// The agent's own private predictions (`submit = "predictions"`): nothing shows that the
    /// saved model made them.
    case agentPredicted = "agent-predicted"
}

/// One submission of a run: its outcome and, for a replay, how the replayed public predictions
/// compare with the evaluated ones.
public struct Submission: Sendable, Codable, Equatable {
    /// Largest absolute difference between a replayed and an evaluated public prediction for
    /// the two to count as the same.
    public static let tolerance = 1e-6

    public var run: Int64
    public var outcome: SubmissionOutcome
    /// The public score of the replayed predictions, beside the score the run reported.
    public var replayedPublicScore: Double?
    public var reportedPublicScore: Double?
    /// The largest |replayed − evaluated| over the public rows.
    public var maxAbsDifference: Double?
    /// Public rows whose replayed prediction differs by more than the tolerance.
    public var differingRows: Int?
    /// Wall-clock seconds of the replay (load and predict of both splits).
    public var seconds: Double?
    /// Why the model could not be replayed, in one sentence, and the end of the scorer's log.
    public var reason: String?
    public var log: String?
    public var time: String

    public init(
        run: Int64, outcome: SubmissionOutcome, replayedPublicScore: Double? = nil, reportedPublicScore: Double? = nil,
        maxAbsDifference: Double? = nil, differingRows: Int? = nil, seconds: Double? = nil, reason: String? = nil,
        log: String? = nil, time: String
    ) {
        self.run = run
        self.outcome = outcome
        self.replayedPublicScore = replayedPublicScore
        self.reportedPublicScore = reportedPublicScore
        self.maxAbsDifference = maxAbsDifference
        self.differingRows = differingRows
        self.seconds = seconds
        self.reason = reason
        self.log = log
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case run, outcome, seconds, reason, log, time
        case replayedPublicScore = "replayed_public_score"
        case reportedPublicScore = "reported_public_score"
        case maxAbsDifference = "max_abs_difference"
        case differingRows = "differing_rows"
    }

    /// One line for tables and direction files: "reproduced by replay", "mismatch: replayed
    /// public 0.8120 vs reported 0.9010", "agent-predicted".
    public var summary: String {
        switch outcome {
        case .reproduced: return "reproduced by replay"
        case .agentPredicted: return "agent-predicted (not replayed)"
        case .unreproducible: return "unreproducible: \(reason ?? "the model could not be replayed")"
        case .mismatch:
            let replayed = replayedPublicScore.map { String(format: "%.4f", $0) } ?? "n/a"
            let reported = reportedPublicScore.map { String(format: "%.4f", $0) } ?? "n/a"
            return "mismatch: replayed public \(replayed) vs reported \(reported)"
        }
    }
}

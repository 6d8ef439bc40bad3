import Foundation
import MLAgentProtocol

/// How a direction file states where its private score came from.
extension DirectionFile {
    static func describe(_ submission: Submission) -> String {
        switch submission.outcome {
        case .reproduced:
            return "reproduced: the daemon replayed the saved model, whose public predictions equal the evaluated ones "
                + "(largest difference \(String(format: "%.1e", submission.maxAbsDifference ?? 0))); the private score is the replayed model's"
        case .mismatch:
            return "mismatch: the saved model does not reproduce the evaluated public predictions "
                + "(\(submission.differingRows ?? 0) rows differ by more than \(Submission.tolerance)); replayed public "
                + "\(format(submission.replayedPublicScore)) vs reported \(format(submission.reportedPublicScore)); "
                + "the private score is the replayed model's"
        case .agentPredicted:
            return "agent-predicted: scored from the agent's own predictions file; the saved model was not replayed"
        case .unreproducible:
            return "unreproducible: \(sentence(submission.reason ?? "the saved model could not be replayed"))"
        }
    }
}

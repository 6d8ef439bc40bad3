/// Why a set of predictions could not be parsed or scored.
///
/// `EvalError` owns only the wording. An error whose ``subject`` is `.predictions` is written for
/// the agent that produced the predictions: it names the file and line (for CSV problems) or the
/// metric and what to change (for scoring problems), and never states a fact about the targets.
/// An error whose subject is `.targets` describes the targets themselves; it is meant for the
/// operator (the daemon checks the targets when it starts) and must never reach an agent.
public struct EvalError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What the error is about, and so who may read it.
    public enum Subject: Sendable, Equatable {
        /// The predictions (or the call): the message may be shown to the agent as is.
        case predictions
        /// The targets do not fit the metric: an operator's problem, never shown to an agent.
        case targets
    }

    /// A complete sentence (or two).
    public var message: String
    public var subject: Subject

    public init(_ message: String, subject: Subject = .predictions) {
        self.message = message
        self.subject = subject
    }

    public var description: String { message }
}

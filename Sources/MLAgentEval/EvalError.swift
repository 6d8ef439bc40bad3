/// Why a set of predictions could not be parsed or scored.
///
/// `EvalError` owns only the wording: every message is written for the agent that produced the
/// predictions, so it names the file and line (for CSV problems) or the metric and what to change
/// (for scoring problems). Messages never quote target values beyond what the metric itself would
/// reveal (for example that the targets hold a single class).
public struct EvalError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A complete sentence (or two) meant to be shown to the agent as is.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

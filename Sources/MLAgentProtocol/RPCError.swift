/// A protocol error: the JSON-RPC numeric code plus a stable `kind` that scripts can match on,
/// and a message that tells the caller what to do about it.
public struct RPCError: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: Details

    public struct Details: Sendable, Codable, Equatable {
        public var kind: String
        /// Extra structured context (the offending field, limits, ids...).
        public var context: [String: JSONValue]?

        public init(kind: String, context: [String: JSONValue]? = nil) {
            self.kind = kind
            self.context = context
        }
    }

    public init(_ kind: RPCErrorKind, _ message: String, context: [String: JSONValue]? = nil) {
        self.code = kind.code
        self.message = message
        self.data = Details(kind: kind.rawValue, context: context)
    }

    public var kind: RPCErrorKind? { RPCErrorKind(rawValue: data.kind) }

    public var description: String { message }
}

/// The stable error kinds. New kinds may be added within a protocol version; existing
/// spellings never change.
public enum RPCErrorKind: String, Sendable, CaseIterable {
    case parseError = "parse_error"
    case invalidRequest = "invalid_request"
    case methodNotFound = "method_not_found"
    case invalidParams = "invalid_params"
    case lineTooLong = "line_too_long"
    case notFound = "not_found"
    case conflict = "conflict"
    case invalidState = "invalid_state"
    case unauthorized = "unauthorized"
    case shuttingDown = "shutting_down"
    case internalError = "internal_error"
    /// The predictions file is malformed (row count, values, format).
    case invalidPredictions = "invalid_predictions"
    /// The direction spent its public evaluations.
    case budgetExhausted = "budget_exhausted"
    /// The caller may not touch this path, run or direction.
    case forbidden = "forbidden"
    /// The peer holds as many connections as its cap allows; the connection is closed.
    case tooManyConnections = "too_many_connections"
    /// A total the daemon keeps (artifact bytes or files per job, direction or store) would be
    /// exceeded; nothing was stored.
    case limitExceeded = "limit_exceeded"
    /// The daemon could not replay the run's saved model to score a submission (it failed to
    /// load or predict, or ran past the scorer's limits); nothing was scored or spent.
    case unreproducible = "unreproducible"

    public var code: Int {
        switch self {
        case .parseError: -32700
        case .invalidRequest, .lineTooLong: -32600
        case .methodNotFound: -32601
        case .invalidParams: -32602
        case .internalError: -32603
        case .notFound: -32004
        case .conflict: -32009
        case .invalidState: -32010
        case .unauthorized: -32001
        case .shuttingDown: -32003
        case .forbidden: -32002
        case .budgetExhausted: -32011
        case .invalidPredictions: -32012
        case .tooManyConnections: -32013
        case .limitExceeded: -32014
        case .unreproducible: -32015
        }
    }
}

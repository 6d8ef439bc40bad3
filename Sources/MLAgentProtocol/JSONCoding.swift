public import Foundation

/// Shared encoder and decoder settings for the wire format: snake_case keys are spelled out
/// by `CodingKeys`, dates travel as ISO 8601 strings with milliseconds, output is compact.
/// Both are thread-safe and shared, since creating them per message costs measurable time.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder = JSONDecoder()

    /// Encodes one value as one line (without the trailing newline).
    public static func line(_ value: some Encodable) throws -> Data {
        try encoder.encode(value)
    }
}

/// A successful reply whose result is encoded straight from a typed value.
public struct RPCTypedResult<Result: Encodable & Sendable>: Encodable, Sendable {
    public var jsonrpc = "2.0"
    public var id: RPCID
    public var result: Result

    public init(id: RPCID, result: Result) {
        self.id = id
        self.result = result
    }
}

/// A request whose params are encoded straight from a typed value.
public struct RPCTypedRequest<Params: Encodable & Sendable>: Encodable, Sendable {
    public var jsonrpc = "2.0"
    public var id: RPCID
    public var method: String
    public var params: Params?
    /// The job token of an agent (`MLAGENT_TOKEN`); absent for operator calls.
    public var token: String?

    public init(id: RPCID, method: String, params: Params?, token: String? = nil) {
        self.id = id
        self.method = method
        self.params = params
        self.token = token
    }
}

/// A reply decoded straight into a typed result (or its error).
public struct RPCTypedReply<Result: Decodable>: Decodable {
    public var id: RPCID?
    public var method: String?
    public var result: Result?
    public var error: RPCError?
}

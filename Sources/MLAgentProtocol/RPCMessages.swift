/// The protocol version spoken by this build. Only additive changes happen within a version.
public let protocolVersion = 1

/// The default maximum length of one request line, newline excluded.
public let defaultMaxLineBytes = 1 << 20

/// A client request. `id` is absent for notifications (which this server ignores).
public struct RPCRequest: Sendable, Codable, Equatable {
    public var jsonrpc: String
    public var id: RPCID?
    public var method: String
    public var params: JSONValue?

    public init(id: RPCID?, method: String, params: JSONValue? = nil) {
        self.jsonrpc = "2.0"
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A successful reply.
public struct RPCResult: Sendable, Codable, Equatable {
    public var jsonrpc: String = "2.0"
    public var id: RPCID
    public var result: JSONValue

    public init(id: RPCID, result: JSONValue) {
        self.id = id
        self.result = result
    }
}

/// An error reply. `id` is null when the request could not be parsed far enough to read it.
public struct RPCErrorReply: Sendable, Codable, Equatable {
    public var jsonrpc: String = "2.0"
    public var id: RPCID?
    public var error: RPCError

    public init(id: RPCID?, error: RPCError) {
        self.id = id
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jsonrpc, forKey: .jsonrpc)
        if let id { try container.encode(id, forKey: .id) } else { try container.encodeNil(forKey: .id) }
        try container.encode(error, forKey: .error)
    }
}

/// A server-initiated message without an id: the hello, events and overflow notices.
public struct RPCNotification: Sendable, Codable, Equatable {
    public var jsonrpc: String = "2.0"
    public var method: String
    public var params: JSONValue

    public init(method: String, params: JSONValue) {
        self.method = method
        self.params = params
    }
}

/// Anything the server can send, as decoded by a client.
public enum ServerMessage: Sendable, Equatable {
    case result(RPCResult)
    case error(RPCErrorReply)
    case notification(RPCNotification)

    private struct Probe: Decodable {
        var id: RPCID?
        var method: String?
        var error: RPCError?
        var result: JSONValue?
    }

    public static func decode(_ data: some Sequence<UInt8>) throws -> ServerMessage {
        let bytes = Array(data)
        let decoder = JSONCoding.decoder
        let probe = try decoder.decode(Probe.self, from: .init(bytes))
        if let error = probe.error {
            return .error(RPCErrorReply(id: probe.id, error: error))
        }
        if probe.method != nil, probe.id == nil {
            return .notification(try decoder.decode(RPCNotification.self, from: .init(bytes)))
        }
        guard let id = probe.id else {
            throw RPCError(.parseError, "server message has neither an id nor a method")
        }
        return .result(RPCResult(id: id, result: probe.result ?? .null))
    }
}

import Foundation
public import MLAgentProtocol

/// A blocking connection to `mlagentd`: reads the hello, then sends requests and reads replies
/// one line at a time. Notifications that arrive while waiting for a reply are queued for
/// `nextNotification()`. Not thread-safe: use one connection per thread.
public final class Connection {
    /// The socket path, or `tls://HOST:PORT`.
    public let path: String
    public private(set) var hello: Hello
    private let stream: any ByteStream
    private var buffer: [UInt8] = []
    private var scanned = 0
    private var nextID: Int64 = 1
    private var pendingNotifications: [RPCNotification] = []
    private var isClosed = false
    /// Sent with every typed call: an agent's `MLAGENT_TOKEN`.
    public var token: String?

    /// Connects to the Unix socket at `path` and reads the server hello. `timeout` bounds each
    /// blocking read.
    public convenience init(path: String, source: SocketLocator.Source = .flag, timeout: Duration? = .seconds(30)) throws {
        try self.init(endpoint: .unix(path: path, source: source), timeout: timeout)
    }

    /// Connects to `endpoint` (a Unix socket, or the TCP+TLS listener with a pinned
    /// certificate) and reads the server hello. `timeout` bounds each blocking read.
    public init(endpoint: DaemonEndpoint, timeout: Duration? = .seconds(30)) throws {
        switch endpoint {
        case .unix(let path, let source):
            self.path = path
            stream = try UnixByteStream(path: path, source: source, timeout: timeout)
        case .tls(let host, let port, let fingerprint):
            let stream = try TLSByteStream(host: host, port: port, fingerprint: fingerprint, timeout: timeout)
            self.path = endpoint.description
            self.stream = stream
        }
        hello = Hello(server: "", version: "", protocolVersion: 0, maxLineBytes: 0, capabilities: [])
        let opening = try readMessage()
        // A daemon that refuses the connection (a peer over its connection cap) says why
        // instead of its hello.
        if case .error(let refusal) = opening { throw ClientError.rpc(refusal.error) }
        guard case .notification(let first) = opening, first.method == Method.hello else {
            throw ClientError.protocolViolation("the first line was not a hello")
        }
        hello = try first.params.decode(Hello.self)
    }

    deinit { close() }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        stream.close()
    }

    // MARK: Calls

    /// Sends one request and waits for its reply, returning the raw result.
    public func call(_ method: String, params: JSONValue? = nil) throws -> JSONValue {
        let id = RPCID.number(nextID)
        nextID += 1
        try send(RPCRequest(id: id, method: method, params: params))
        while true {
            switch try readMessage() {
            case .result(let result) where result.id == id:
                return result.result
            case .error(let reply) where reply.id == id || reply.id == nil:
                throw ClientError.rpc(reply.error)
            case .notification(let notification):
                pendingNotifications.append(notification)
            case .result, .error:
                continue
            }
        }
    }

    /// Typed call: encodes `params` and decodes the result as `R` directly from the line.
    public func call<P: Encodable & Sendable, R: Decodable>(_ method: String, params: P?, as type: R.Type) throws -> R {
        let id = RPCID.number(nextID)
        nextID += 1
        var data = try JSONCoding.line(RPCTypedRequest(id: id, method: method, params: params, token: token))
        data.append(UInt8(ascii: "\n"))
        try sendRaw(Array(data))
        while true {
            guard let line = try readLine() else { throw ClientError.closed }
            let reply: RPCTypedReply<R>
            do {
                reply = try JSONCoding.decoder.decode(RPCTypedReply<R>.self, from: Data(line))
            } catch {
                // Not decodable as R: maybe an error reply or a notification; decode generically.
                switch try ServerMessage.decode(line) {
                case .error(let error) where error.id == id || error.id == nil: throw ClientError.rpc(error.error)
                case .notification(let notification):
                    pendingNotifications.append(notification)
                    continue
                case .result(let result) where result.id == id:
                    throw ClientError.protocolViolation("\(method) result does not decode as \(R.self): \(error)")
                default: continue
                }
            }
            if reply.id == nil, reply.method != nil {
                if case .notification(let notification) = try ServerMessage.decode(line) {
                    pendingNotifications.append(notification)
                }
                continue
            }
            if let error = reply.error, reply.id == id || reply.id == nil { throw ClientError.rpc(error) }
            guard reply.id == id else { continue }
            guard let result = reply.result else {
                throw ClientError.protocolViolation("\(method) reply has no result")
            }
            return result
        }
    }

    public func call<R: Decodable>(_ method: String, as type: R.Type) throws -> R {
        try call(method, params: Optional<EmptyParams>.none, as: R.self)
    }

    /// The next server notification (events during a subscription), blocking until one comes.
    public func nextNotification() throws -> RPCNotification {
        if !pendingNotifications.isEmpty { return pendingNotifications.removeFirst() }
        while true {
            if case .notification(let notification) = try readMessage() { return notification }
        }
    }

    // MARK: Raw lines (for tests and tools)

    public func send(_ request: RPCRequest) throws {
        var data = try JSONCoding.line(request)
        data.append(UInt8(ascii: "\n"))
        try sendRaw(Array(data))
    }

    public func sendRaw(_ bytes: [UInt8]) throws {
        try stream.write(bytes)
    }

    /// Reads one line (without its newline); nil at end of stream.
    public func readLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = buffer.count
            let chunk = try stream.read(limit: 65536)
            if chunk.isEmpty { return nil }
            buffer.append(contentsOf: chunk)
        }
    }

    public func readMessage() throws -> ServerMessage {
        guard let line = try readLine() else { throw ClientError.closed }
        do {
            return try ServerMessage.decode(line)
        } catch {
            throw ClientError.protocolViolation(String(decoding: line.prefix(200), as: UTF8.self))
        }
    }
}

/// Encodes as nothing: for typed calls without params.
public struct EmptyParams: Codable, Sendable {}

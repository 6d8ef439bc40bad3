import Foundation
public import MLAgentProtocol

/// A blocking connection to `mlagentd`: reads the hello, then sends requests and reads replies
/// one line at a time. Notifications that arrive while waiting for a reply are queued for
/// `nextNotification()`. Not thread-safe: use one connection per thread.
public final class Connection {
    public let path: String
    public private(set) var hello: Hello
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var scanned = 0
    private var nextID: Int64 = 1
    private var pendingNotifications: [RPCNotification] = []
    private var isClosed = false
    /// Sent with every typed call: an agent's `MLAGENT_TOKEN`.
    public var token: String?

    /// Connects and reads the server hello. `timeout` bounds each blocking read.
    public init(path: String, source: SocketLocator.Source = .flag, timeout: Duration? = .seconds(30)) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        guard fd >= 0 else { throw ClientError.io("socket(): \(String(cString: strerror(errno)))") }
        guard path.utf8.count <= UnixSocketAddress.maxPathBytes else {
            Glibc.close(fd)
            throw ClientError.cannotConnect(
                path: path, reason: "path is longer than the \(UnixSocketAddress.maxPathBytes) bytes a Unix socket allows",
                source: source)
        }
        let result = UnixSocketAddress.connect(fd, path: path)
        if result != 0 {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ClientError.cannotConnect(path: path, reason: reason, source: source)
        }
        if let timeout {
            var value = timeval(
                tv_sec: Int(timeout.components.seconds),
                tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
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
        Glibc.close(fd)
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
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ClientError.io("write to \(path) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
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
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
            if count == 0 { return nil }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timeout }
                throw ClientError.io("read from \(path) failed: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[..<count])
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

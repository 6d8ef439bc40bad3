import Foundation
import Logging
import MLAgentProtocol
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Where the listening socket comes from.
enum ListenSource: Sendable {
    /// Bind (and own) a socket file at this path.
    case path(String)
    /// Serve an already-bound socket passed by systemd socket activation.
    case activated(fd: Int32, path: String)

    var info: ListenerInfo {
        switch self {
        case .path(let path): ListenerInfo(path: path, mode: .bound)
        case .activated(_, let path): ListenerInfo(path: path, mode: .activated)
        }
    }
}

/// The JSON-lines server of the Unix sockets, and through ``TLSListener`` of the TCP+TLS
/// listener, which shares its pipeline and request loop. One child task per connection in a
/// discarding task group; a failing connection never affects the others or the server.
final class ControlServer: Service {
    typealias Child = (channel: NIOAsyncChannel<InboundFrame, ByteBuffer>, state: ConnectionState)

    let core: DaemonCore
    let source: ListenSource
    let router: RequestRouter
    let registry = ConnectionRegistry()
    let refusals = RefusalLog()
    /// The connection caps, fitted under the descriptor limit when the server starts.
    let limits: ConnectionLimits
    let onListening: @Sendable () -> Void
    let logger: Logger

    let services: AgentServices?
    /// Who may call over TCP besides live jobs' tokens.
    let remoteAccess: RemoteAccess

    init(
        core: DaemonCore, source: ListenSource, services: AgentServices?, mirror: MLflowMirror? = nil,
        mlflowServer: MLflowServer? = nil, remoteAccess: RemoteAccess = RemoteAccess(),
        onListening: @escaping @Sendable () -> Void
    ) {
        self.services = services
        self.remoteAccess = remoteAccess
        self.core = core
        self.source = source
        self.onListening = onListening
        self.logger = core.logger
        self.limits = core.config.connectionLimits.fitted(toDescriptors: ConnectionLimits.raiseDescriptorLimit())
        self.router = Self.router(core: core, listener: source.info, services: services, mirror: mirror, mlflowServer: mlflowServer)
    }

    func run() async throws {
        let config = core.config
        let registry = registry
        let bootstrap = Self.serverBootstrap()
        let gate = AcceptGate()
        let initializer = childInitializer(gate: gate, tls: nil)

        let server: NIOAsyncChannel<Child, Never>
        switch source {
        case .path(let path):
            let previous = umask(0o777 & ~mode_t(config.socketMode))
            defer { umask(previous) }
            server = try await bootstrap.bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            chmod(path, mode_t(config.socketMode))
        case .activated(let fd, _):
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
        }
        let agentServer = try await bindAgentSocket(bootstrap, initializer: initializer)
        let authorizer = Authorizer(socketPath: source.info.path)
        logger.info(
            "listening", metadata: ["socket": "\(source.info.path)", "listen": "\(source.info.mode.rawValue)"])
        onListening()

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let agentServer {
                    group.addTask { try await self.accept(agentServer, gate: gate, authorizer: authorizer) }
                }
                try await accept(server, gate: gate, authorizer: authorizer)
            }
        } onGracefulShutdown: {
            self.logger.info("stopping: no new connections; finishing in-flight requests")
            gate.close()
            registry.drainAll()
            Task {
                await gate.drained(within: .seconds(2))
                server.channel.close(promise: nil)
                agentServer?.channel.close(promise: nil)
            }
        }
        if case .path(let path) = source {
            unlink(path)
        }
        if agentServer != nil, let path = core.config.agentSocketPath { unlink(path) }
        logger.info("control server stopped")
    }

    /// Serves every connection `server` accepts until it closes.
    func accept(_ server: NIOAsyncChannel<Child, Never>, gate: AcceptGate, authorizer: Authorizer) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await child in inbound {
                    gate.leave()
                    group.addTask { await self.serve(child, authorizer: authorizer) }
                }
            }
        }
    }

    /// Binds the agents' socket (``DaemonConfig/agentSocketPath``) in its own directory (mode
    /// 0700, the socket 0600: only the daemon's user, which sandboxed agents map to).
    private func bindAgentSocket(
        _ bootstrap: ServerBootstrap, initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Child>
    ) async throws -> NIOAsyncChannel<Child, Never>? {
        guard let path = core.config.agentSocketPath else { return nil }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
        let previous = umask(0o177)
        defer { umask(previous) }
        return try await bootstrap.bind(
            unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
    }

    // MARK: Connections

    func serve(_ child: Child, authorizer: Authorizer) async {
        let state = child.state
        registry.add(state)
        defer { registry.remove(state) }
        var connectionLogger = logger
        connectionLogger[metadataKey: "conn"] = "\(state.id)"
        if let peer = state.peer { connectionLogger[metadataKey: "peer.pid"] = "\(peer.pid)" }
        if let host = state.remoteHost { connectionLogger[metadataKey: "peer.host"] = "\(host)" }
        let log = connectionLogger
        let key = if let host = state.remoteHost { PeerKey.remote(host) } else { await peerKey(state.peer) }
        do {
            try await child.channel.executeThenClose { inbound, outbound in
                let writer = LineWriter(outbound: outbound)
                // Over its cap a peer is told at once, and the connection closes: the listener
                // keeps accepting, so operators and other agents still get in.
                if let refusal = registry.admit(state, as: key, limits: limits) {
                    try await writer.send(
                        RPCErrorReply(
                            id: nil,
                            error: RPCError(.tooManyConnections, refusal, context: ["peer": .string(key.description)])))
                    await recordRefusal(key, reason: refusal, logger: log)
                    return
                }
                try await writer.send(
                    RPCNotification(
                        method: Method.hello,
                        params: try JSONValue(
                            encoding: Hello(
                                server: "mlagentd", version: mlagentVersion, protocolVersion: protocolVersion,
                                maxLineBytes: core.config.maxLineBytes,
                                capabilities: ["events.subscribe", "events.overflow-resume", "group-commit"]))))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var subscription: EventSubscription?
                    defer {
                        if let subscription { core.bus.unsubscribe(subscription) }
                    }
                    for try await frame in inbound {
                        guard state.beginRequest() else { break }
                        switch frame {
                        case .tooLong(let length):
                            log.notice("rejected oversized line", metadata: ["bytes": "\(length)"])
                            try await writer.send(
                                RPCErrorReply(
                                    id: nil,
                                    error: RPCError(
                                        .lineTooLong,
                                        "request line of \(length) bytes exceeds the limit of \(core.config.maxLineBytes) bytes; it was discarded and the connection stays open",
                                        context: ["limit": .int(Int64(core.config.maxLineBytes)), "length": .int(Int64(length))])))
                        case .line(let buffer):
                            let line = Data(buffer.readableBytesView)
                            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                                _ = state.endRequest()
                                continue
                            }
                            if let started = try await handleLine(
                                line, state: state, authorizer: authorizer, writer: writer, logger: log,
                                hasSubscription: subscription != nil)
                            {
                                subscription = started.subscription
                                group.addTask {
                                    try await self.pump(started, writer: writer)
                                }
                            }
                        }
                        if state.endRequest() { break }
                    }
                    group.cancelAll()
                }
            }
        } catch {
            log.debug("connection closed with error: \(error)")
        }
    }

    struct StartedSubscription: Sendable {
        let subscription: EventSubscription
        let since: Int64
        let job: Int64?
    }

    /// Parses one request line, dispatches it and writes the reply. Returns a subscription
    /// when the request started one.
    private func handleLine(
        _ line: Data, state: ConnectionState, authorizer: Authorizer, writer: LineWriter, logger: Logger,
        hasSubscription: Bool
    ) async throws -> StartedSubscription? {
        let envelope: Envelope
        let fastResult = FastJSON.readEnvelope(line)
        if case .envelope(let fast) = fastResult {
            envelope = Envelope(jsonrpc: fast.jsonrpc, id: fast.id, method: fast.method, token: fast.token)
        } else if fastResult == .tooDeep || FastJSON.exceedsDepth(line) {
            // Checked before any recursive decoder sees the line: nesting is bounded for all.
            try await writer.send(
                RPCErrorReply(
                    id: nil,
                    error: RPCError(
                        .invalidRequest,
                        "the request nests objects or arrays deeper than the limit of \(FastJSON.maxDepth) levels; it was not executed",
                        context: ["limit": .int(Int64(FastJSON.maxDepth))])))
            return nil
        } else if let decoded = try? JSONCoding.decoder.decode(Envelope.self, from: line) {
            envelope = decoded
        } else {
            let message: String
            if (try? JSONCoding.decoder.decode(JSONValue.self, from: line)) != nil {
                message = "a request must be a JSON object with \"jsonrpc\":\"2.0\", \"id\" and a string \"method\""
                try await writer.send(RPCErrorReply(id: nil, error: RPCError(.invalidRequest, message)))
            } else {
                message = "the line is not valid JSON; send one JSON-RPC object per line, like {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.status\"}"
                try await writer.send(RPCErrorReply(id: nil, error: RPCError(.parseError, message)))
            }
            return nil
        }
        let id = envelope.id
        guard let version = envelope.jsonrpc, version == "2.0" else {
            let message = envelope.jsonrpc.map { "unsupported jsonrpc version \"\($0)\"; use \"2.0\"" }
                ?? "the request has no \"jsonrpc\":\"2.0\" member; every request carries it"
            try await writer.send(RPCErrorReply(id: id, error: RPCError(.invalidRequest, message)))
            return nil
        }
        logger.debug("request", metadata: ["method": "\(envelope.method)"])
        var context = RequestContext(connectionID: state.id, peer: state.peer)
        let access = envelope.method == Method.eventsSubscribe ? .both : router.access[envelope.method]
        if state.remoteHost != nil {
            // Over TCP: a live job's token, or the operator's secret; nothing else.
            guard let caller = try await authorizeRemote(envelope.method, token: envelope.token, access: access, id: id, writer: writer)
            else { return nil }
            context.agentJobID = caller.jobID
        } else if let token = envelope.token {
            // An agent call: the token names the job, and only agent methods are open to it.
            guard let services, let jobID = await services.scheduler.jobID(forToken: token) else {
                try await reply(
                    id: id,
                    error: RPCError(.unauthorized, "the token is unknown or its job is no longer running; agents use the MLAGENT_TOKEN they were started with"),
                    writer: writer)
                return nil
            }
            await services.scheduler.touch(jobID)
            context.agentJobID = jobID
            if access == .operator {
                try await reply(
                    id: id, error: RPCError(.unauthorized, "\(envelope.method) is an operator call; agents cannot make it"),
                    writer: writer)
                return nil
            }
        } else if access == .operator || access == .both {
            let fromAgent = await state.isFromAgent {
                guard let services, let pid = state.peer?.pid else { return false }
                return await services.scheduler.isAgentProcess(pid)
            }
            if fromAgent || !authorizer.isOperator(state.peer) {
                try await reply(
                    id: id,
                    error: RPCError(
                        .unauthorized,
                        fromAgent
                            ? "\(envelope.method) came from an agent's process without its token; agents call with MLAGENT_TOKEN and cannot make operator calls"
                            : "\(envelope.method) is an operator call; run it as the daemon's user, root, or a member of the socket's group"),
                    writer: writer)
                return nil
            }
        }
        if envelope.method == Method.eventsSubscribe {
            return try await subscribe(line: line, id: id, writer: writer, state: state, hasSubscription: hasSubscription)
        }
        guard let entry = router.entry(for: envelope.method) else {
            try await reply(
                id: id,
                error: RPCError(
                    .methodNotFound,
                    "unknown method \"\(envelope.method)\"; known methods: \(router.methods.joined(separator: ", ")), \(Method.eventsSubscribe)",
                    context: ["method": .string(envelope.method)]),
                writer: writer)
            return nil
        }
        do {
            // Requests without an id are notifications: run them, send nothing back.
            let reply = try await entry(line, id ?? .number(0), context)
            if id != nil { try await writer.sendLine(reply) }
        } catch let error as RPCError where error.kind != .internalError {
            try await reply(id: id, error: error, writer: writer)
        } catch {
            // The details (SQL, paths of the state directory) stay in the log; the client gets
            // an id to quote to the operator.
            let errorID = InternalErrorID.next()
            logger.error(
                "request failed", metadata: ["method": "\(envelope.method)", "error_id": "\(errorID)", "error": "\(error)"])
            try await reply(
                id: id,
                error: RPCError(
                    .internalError,
                    "internal error \(errorID) in \(envelope.method): the daemon logged the details under this id; nothing was changed unless the daemon's log says so. Retry, or report the id to the operator",
                    context: ["error_id": .string(errorID)]),
                writer: writer)
        }
        return nil
    }

    func reply(id: RPCID?, error: RPCError, writer: LineWriter) async throws {
        // Requests without an id are notifications: JSON-RPC sends them no reply.
        guard id != nil else { return }
        try await writer.send(RPCErrorReply(id: id, error: error))
    }

    private struct Envelope: Decodable {
        var jsonrpc: String?
        var id: RPCID?
        var method: String
        var token: String?
    }
}

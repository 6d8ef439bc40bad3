import NIOConcurrencyHelpers
import NIOCore

/// Per-connection bookkeeping shared between the NIO pipeline (idle timeout) and the async
/// request loop (graceful drain).
final class ConnectionState: Sendable {
    let id: UInt64
    let channel: any Channel
    let peer: PeerCredentials?
    /// The remote IP address of a TCP peer (which has no Unix credentials); nil on a Unix socket.
    let remoteHost: String?

    private struct Inner {
        var busy = false
        var draining = false
        var subscribed = false
        var fromAgent: Bool?
    }
    private let inner = NIOLockedValueBox(Inner())

    init(id: UInt64, channel: any Channel, peer: PeerCredentials?, remoteHost: String? = nil) {
        self.id = id
        self.channel = channel
        self.peer = peer
        self.remoteHost = remoteHost
    }

    /// Marks a request as in flight; false when the server is draining and the request must
    /// not start.
    func beginRequest() -> Bool {
        inner.withLockedValue { inner in
            guard !inner.draining else { return false }
            inner.busy = true
            return true
        }
    }

    /// Marks the request done; true when the connection should now close (draining).
    func endRequest() -> Bool {
        inner.withLockedValue { inner in
            inner.busy = false
            return inner.draining
        }
    }

    var isSubscribed: Bool {
        get { inner.withLockedValue { $0.subscribed } }
    }

    /// Whether the peer is an agent's process, computed once per connection (a process does
    /// not change sides).
    func isFromAgent(_ compute: () async -> Bool) async -> Bool {
        if let known = inner.withLockedValue({ $0.fromAgent }) { return known }
        let value = await compute()
        inner.withLockedValue { $0.fromAgent = value }
        return value
    }

    func setSubscribed(_ value: Bool) {
        inner.withLockedValue { $0.subscribed = value }
    }

    /// Starts draining: an idle connection closes now, a busy one after its current reply.
    func drain() {
        let closeNow = inner.withLockedValue { inner -> Bool in
            inner.draining = true
            return !inner.busy
        }
        if closeNow { channel.close(promise: nil) }
    }
}

/// The live connections, so that shutdown can drain them.
final class ConnectionRegistry: Sendable {
    private struct Inner {
        var connections: [UInt64: ConnectionState] = [:]
        var nextID: UInt64 = 1
        var draining = false
        var keys: [UInt64: PeerKey] = [:]
        var open: [PeerKey: Int] = [:]
        var agentsOpen = 0
    }
    private let inner = NIOLockedValueBox(Inner())

    /// Counts a new connection against its peer's caps, or returns why it is refused (then it
    /// is not counted).
    func admit(_ connection: ConnectionState, as key: PeerKey, limits: ConnectionLimits) -> String? {
        inner.withLockedValue { inner in
            if let refusal = limits.refusal(
                for: key, open: inner.open, agentsOpen: inner.agentsOpen, totalOpen: inner.keys.count)
            {
                return refusal
            }
            inner.keys[connection.id] = key
            inner.open[key, default: 0] += 1
            if key.isAgent { inner.agentsOpen += 1 }
            return nil
        }
    }

    func makeID() -> UInt64 {
        inner.withLockedValue { inner in
            defer { inner.nextID += 1 }
            return inner.nextID
        }
    }

    func add(_ connection: ConnectionState) {
        let drainNow = inner.withLockedValue { inner -> Bool in
            inner.connections[connection.id] = connection
            return inner.draining
        }
        if drainNow { connection.drain() }
    }

    func remove(_ connection: ConnectionState) {
        inner.withLockedValue { inner in
            inner.connections.removeValue(forKey: connection.id)
            guard let key = inner.keys.removeValue(forKey: connection.id) else { return }
            inner.open[key, default: 1] -= 1
            if inner.open[key] == 0 { inner.open.removeValue(forKey: key) }
            if key.isAgent { inner.agentsOpen -= 1 }
        }
    }

    func drainAll() {
        let all = inner.withLockedValue { inner -> [ConnectionState] in
            inner.draining = true
            return Array(inner.connections.values)
        }
        for connection in all { connection.drain() }
    }
}

/// Closes connections that sent nothing for the idle timeout, unless they are subscribed to
/// events (a `tail -f` is quiet by design).
final class IdleTimeoutHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = InboundFrame
    let state: ConnectionState

    init(state: ConnectionState) {
        self.state = state
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if !state.isSubscribed {
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

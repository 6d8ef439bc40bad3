import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The per-connection pipeline every listener shares (the Unix sockets and the TCP+TLS one):
/// TLS first when there is a context, then the idle timeout, the line framer and the async
/// channel the request loop reads.
extension ControlServer {
    static func serverBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            // A client that half-closes (`printf … | socat - UNIX-CONNECT:…`) still gets the
            // replies to everything it sent before its EOF; then the connection closes.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
    }

    /// Sets up each accepted connection. With `tls` (the TCP listener) the peer has no Unix
    /// credentials: it is known by its remote address, and only tokens authorise its calls.
    func childInitializer(gate: AcceptGate, tls: NIOSSLContext?) -> @Sendable (any Channel) -> EventLoopFuture<Child> {
        let registry = registry
        let maxLine = core.config.maxLineBytes
        let idle = TimeAmount.nanoseconds(Int64(core.config.idleTimeout.seconds * 1e9))
        return { channel in
            guard gate.enter() else { return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
            let peer: EventLoopFuture<PeerCredentials?> = tls == nil
                ? Self.peerCredentials(of: channel) : channel.eventLoop.makeSucceededFuture(nil)
            return peer.flatMap { peer in
                channel.eventLoop.makeCompletedFuture {
                    let remoteHost = tls == nil ? nil : (channel.remoteAddress?.ipAddress ?? "unknown")
                    let state = ConnectionState(id: registry.makeID(), channel: channel, peer: peer, remoteHost: remoteHost)
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                        try pipeline.addHandler(HandshakeDeadline(timeout: .seconds(10)))
                    }
                    if idle > .zero {
                        try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: maxLine)))
                    try pipeline.addHandler(IdleTimeoutHandler(state: state))
                    let wrapped = try NIOAsyncChannel<InboundFrame, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(
                            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16),
                            isOutboundHalfClosureEnabled: false))
                    return (wrapped, state)
                }
            }.flatMapErrorThrowing { error in
                gate.leave()
                throw error
            }
        }
    }

    static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<RawPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { cred -> PeerCredentials? in
            PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
        }.recover { _ in nil }
    }
}

extension ControlServer {
    /// Same layout as Linux's `struct ucred`, which Glibc only exports under `_GNU_SOURCE`.
    struct RawPeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }
}

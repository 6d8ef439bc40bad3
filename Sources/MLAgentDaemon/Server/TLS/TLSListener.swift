import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The TCP+TLS listener (`[daemon] listen`) for agents on other machines: TLS first, then the
/// same pipeline, request loop, router, connection caps and registry as the Unix sockets
/// (``ControlServer``). Bound by ``bind(server:address:identity:)`` before the services start,
/// so the port (port 0: any free one) is known to the scheduler from its first submission.
final class TLSListener: Service {
    let server: ControlServer
    let channel: NIOAsyncChannel<ControlServer.Child, Never>
    let gate: AcceptGate
    let endpoint: RemoteEndpoint.Info

    private init(
        server: ControlServer, channel: NIOAsyncChannel<ControlServer.Child, Never>, gate: AcceptGate,
        endpoint: RemoteEndpoint.Info
    ) {
        self.server = server
        self.channel = channel
        self.gate = gate
        self.endpoint = endpoint
    }

    static func bind(server: ControlServer, address: ListenAddress, identity: TLSIdentity) async throws -> TLSListener {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.chain.map { .certificate($0) }, privateKey: .privateKey(identity.key))
        configuration.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: configuration)
        let gate = AcceptGate()
        let channel: NIOAsyncChannel<ControlServer.Child, Never>
        do {
            channel = try await ControlServer.serverBootstrap()
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port, childChannelInitializer: server.childInitializer(gate: gate, tls: context))
        } catch {
            throw ConfigError("cannot listen on \(address) (daemon.listen): \(error)")
        }
        let local = channel.channel.localAddress
        let config = server.core.config
        let endpoint = RemoteEndpoint.Info(
            bound: ListenAddress.authority(host: local?.ipAddress ?? address.host, port: local?.port ?? address.port),
            advertiseHost: config.advertisedHost, port: local?.port ?? address.port, fingerprint: identity.fingerprint)
        let directory = (config.stateDir as NSString).appendingPathComponent("tls")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TLSIdentity.writeAtomically(
            identity.fingerprint + "\n", to: (directory as NSString).appendingPathComponent("fingerprint"), mode: 0o644)
        return TLSListener(server: server, channel: channel, gate: gate, endpoint: endpoint)
    }

    func run() async throws {
        let server = server
        let channel = channel
        let gate = gate
        server.logger.info(
            "listening over TCP with TLS",
            metadata: ["address": "\(endpoint.bound)", "advertise": "\(endpoint.address)", "sha256": "\(endpoint.fingerprint)"])
        let authorizer = Authorizer(socketPath: server.source.info.path)
        try await withGracefulShutdownHandler {
            try await server.accept(channel, gate: gate, authorizer: authorizer)
        } onGracefulShutdown: {
            gate.close()
            server.registry.drainAll()
            Task {
                await gate.drained(within: .seconds(2))
                channel.channel.close(promise: nil)
            }
        }
        server.logger.info("TLS listener stopped")
    }
}

import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection to the daemon's TCP listener, made blocking for ``Connection``: NIO runs
/// it on the shared event loop group, an inbound handler appends the decrypted bytes to a
/// ``StreamInbox``, and `read` waits on it with the same timeout as a Unix socket's read.
/// The server's certificate is not checked against a CA or a host name: its leaf's SHA-256
/// must equal the pinned fingerprint (`MLAGENT_TLS_FINGERPRINT`), or the handshake fails and
/// nothing is sent.
final class TLSByteStream: ByteStream {
    private let channel: any Channel
    private let inbox: StreamInbox
    private let pin: FingerprintPin
    private let address: String
    private let timeout: Duration?
    private var isClosed = false

    init(host: String, port: Int, fingerprint: String, timeout: Duration?) throws {
        let address = "tls://" + (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        self.address = address
        self.timeout = timeout
        let pin = FingerprintPin(expected: fingerprint)
        let inbox = StreamInbox()
        self.pin = pin
        self.inbox = inbox
        var configuration = TLSConfiguration.makeClientConfiguration()
        // The custom callback below replaces chain and host name checks; with `.none` NIOSSL
        // would not call it at all.
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv12
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError.io("cannot set up TLS: \(error)")
        }
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(
                        context: context, serverHostname: nil,
                        customVerificationCallback: { certificates, promise in
                            promise.succeed(pin.verify(leaf: certificates.first) ? .certificateVerified : .failed)
                        })
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                }
            }
        do {
            channel = try bootstrap.connect(host: host, port: port).wait()
        } catch {
            throw ClientError.cannotConnect(path: address, reason: "\(error)", source: .address)
        }
        inbox.attach(channel)
    }

    deinit { close() }

    func write(_ bytes: [UInt8]) throws {
        do {
            try channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).wait()
        } catch {
            if let mismatch = pin.mismatch { throw mismatch.error(address: address) }
            throw ClientError.io("write to \(address) failed: \(error)")
        }
    }

    func read(limit: Int) throws -> [UInt8] {
        switch inbox.read(limit: limit, timeout: timeout) {
        case .bytes(let bytes): return bytes
        case .end: return []
        case .timeout: throw ClientError.timeout
        case .failed(let error):
            if let mismatch = pin.mismatch { throw mismatch.error(address: address) }
            throw ClientError.io("read from \(address) failed: \(error)")
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        channel.close(promise: nil)
    }
}

/// Checks the server's leaf certificate against the pinned SHA-256, and remembers what it saw.
final class FingerprintPin: Sendable {
    let expected: String
    private let seen = NIOLockedValueBox<String?>(nil)

    struct Mismatch {
        var expected: String
        var actual: String

        func error(address: String) -> ClientError {
            .fingerprintMismatch(address: address, expected: expected, actual: actual)
        }
    }

    init(expected: String) {
        self.expected = expected.lowercased().replacingOccurrences(of: ":", with: "")
    }

    func verify(leaf: NIOSSLCertificate?) -> Bool {
        let actual = (try? leaf?.toDERBytes()).map { der in
            SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
        } ?? "(no certificate)"
        seen.withLockedValue { $0 = actual }
        return actual == expected
    }

    var mismatch: Mismatch? {
        guard let actual = seen.withLockedValue({ $0 }), actual != expected else { return nil }
        return Mismatch(expected: expected, actual: actual)
    }
}

/// Appends what the TLS handler decrypts to the inbox; the end of the stream or an error ends it.
private final class InboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let inbox: StreamInbox

    init(inbox: StreamInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        inbox.append(Array(buffer.readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.finish(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A server that closes without TLS's close_notify ends the stream like an EOF would.
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            inbox.finish(error: nil)
        } else {
            inbox.finish(error: error)
        }
        context.close(promise: nil)
    }
}

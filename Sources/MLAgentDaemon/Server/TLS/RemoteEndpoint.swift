import NIOConcurrencyHelpers

/// Where agents on other machines reach the daemon, once the TCP listener is bound: read by
/// `status` and by the Slurm executor's environment.
final class RemoteEndpoint: Sendable {
    struct Info: Sendable, Equatable {
        /// The bound address, `HOST:PORT`.
        var bound: String
        var advertiseHost: String
        var port: Int
        /// Lowercase hex SHA-256 of the certificate's DER.
        var fingerprint: String

        /// `tls://<advertise>:<port>`, what `MLAGENT_ADDRESS` is set to.
        var address: String { "tls://" + ListenAddress.authority(host: advertiseHost, port: port) }
    }

    private let info = NIOLockedValueBox<Info?>(nil)

    var current: Info? { info.withLockedValue { $0 } }

    func set(_ value: Info) { info.withLockedValue { $0 = value } }
}

public import MLAgentProtocol

/// Errors a client sees. `description` is a one-line message fit for a terminal.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// Nothing listens at the socket path.
    case cannotConnect(path: String, reason: String, source: SocketLocator.Source)
    /// The daemon answered with a protocol error.
    case rpc(RPCError)
    /// The daemon closed the connection.
    case closed
    /// The daemon sent something this client does not understand.
    case protocolViolation(String)
    case io(String)
    case timeout
    /// `MLAGENT_ADDRESS` or `MLAGENT_TLS_FINGERPRINT` is unusable.
    case badAddress(String)
    /// The TLS server's certificate is not the pinned one; nothing was sent to it.
    case fingerprintMismatch(address: String, expected: String, actual: String)

    /// The connection broke or could not be made: worth retrying against a restarting daemon.
    public var isConnectionLoss: Bool {
        switch self {
        case .cannotConnect, .closed, .io, .timeout, .protocolViolation: true
        case .rpc, .badAddress, .fingerprintMismatch: false
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let path, let reason, let source):
            source == .address
                ? "cannot reach mlagentd at \(path) (\(source.description)): \(reason). Is the daemon running with [daemon] listen set, and is the port reachable from here?"
                : "cannot reach mlagentd at \(path) (\(source.description)): \(reason). Is the daemon running? Start it with `systemctl start mlagentd` or `make demo`, or point --socket / MLAGENT_SOCKET at its socket"
        case .rpc(let error): error.message
        case .closed: "mlagentd closed the connection"
        case .protocolViolation(let message): "unexpected reply from mlagentd: \(message)"
        case .io(let message): message
        case .timeout: "mlagentd did not answer in time"
        case .badAddress(let message): message
        case .fingerprintMismatch(let address, let expected, let actual):
            "the server at \(address) presents a certificate with SHA-256 fingerprint \(actual), but MLAGENT_TLS_FINGERPRINT is \(expected); nothing was sent. Use the fingerprint `mlagentctl status` shows on the daemon's machine (also in <state_dir>/tls/fingerprint)"
        }
    }
}

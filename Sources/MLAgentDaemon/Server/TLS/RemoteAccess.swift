import Foundation
import MLAgentProtocol

/// Who may call over TCP, where peers have no Unix credentials: a live job through its token
/// (an agent call), or, when `[daemon] operator_token_file` is set, whoever sends that file's
/// secret as the token (an operator call). Nothing is open without a token.
struct RemoteAccess: Sendable {
    /// The secret of `operator_token_file`, read once at start.
    let operatorToken: [UInt8]?

    init(operatorToken: String? = nil) {
        self.operatorToken = operatorToken.map { Array($0.utf8) }
    }

    /// Reads the secret (surrounding whitespace ignored); an empty or unreadable file stops the
    /// daemon rather than silently leaving operator calls closed or open.
    static func load(config: DaemonConfig) throws -> RemoteAccess {
        guard !config.operatorTokenFile.isEmpty else { return RemoteAccess() }
        let path = config.operatorTokenFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("cannot read daemon.operator_token_file \(path): \(String(cString: strerror(errno)))")
        }
        let secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard secret.utf8.count >= 16 else {
            throw ConfigError("daemon.operator_token_file \(path) must hold a secret of at least 16 characters")
        }
        return RemoteAccess(operatorToken: secret)
    }

    /// Whether `token` is the operator's secret, in time independent of where they differ.
    func isOperatorToken(_ token: String) -> Bool {
        guard let secret = operatorToken else { return false }
        let given = Array(token.utf8)
        var difference = UInt8(truncatingIfNeeded: given.count ^ secret.count)
        for index in 0..<secret.count {
            difference |= secret[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}

/// The caller of a request over TCP.
enum RemoteCaller: Sendable {
    case `operator`
    case agent(jobID: Int64)

    var jobID: Int64? {
        if case .agent(let id) = self { return id }
        return nil
    }
}

extension ControlServer {
    /// Authorises a request that came over TCP, or replies with `unauthorized` and returns nil.
    func authorizeRemote(
        _ method: String, token: String?, access: MethodAccess?, id: RPCID?, writer: LineWriter
    ) async throws -> RemoteCaller? {
        guard let token, !token.isEmpty else {
            try await reply(
                id: id,
                error: RPCError(
                    .unauthorized,
                    "\(method) came over TCP without a token; over TCP every request carries a token: agents send their job's MLAGENT_TOKEN, operators the secret of [daemon] operator_token_file (or use the Unix socket)"),
                writer: writer)
            return nil
        }
        if remoteAccess.isOperatorToken(token) { return .operator }
        guard let services, let jobID = await services.scheduler.jobID(forToken: token) else {
            try await reply(
                id: id,
                error: RPCError(
                    .unauthorized,
                    "the token is unknown or its job is no longer running; agents use the MLAGENT_TOKEN they were started with"),
                writer: writer)
            return nil
        }
        await services.scheduler.touch(jobID)
        if access == .operator {
            try await reply(
                id: id,
                error: RPCError(
                    .unauthorized,
                    "\(method) is an operator call and is refused over TCP; configure [daemon] operator_token_file and send its secret as the token, or call over the Unix socket"),
                writer: writer)
            return nil
        }
        return .agent(jobID: jobID)
    }
}

import Foundation
import MLAgentProtocol

/// The credentials of the process at the other end of a connection (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}

/// What a request handler knows about who is calling.
public struct RequestContext: Sendable {
    public var connectionID: UInt64
    public var peer: PeerCredentials?
    /// The job whose token came with the request (an agent call).
    public var agentJobID: Int64?

    public init(connectionID: UInt64, peer: PeerCredentials?, agentJobID: Int64? = nil) {
        self.connectionID = connectionID
        self.peer = peer
        self.agentJobID = agentJobID
    }

    /// The calling agent's job, or an error for calls without a token.
    func requireAgent(_ method: String) throws -> Int64 {
        guard let agentJobID else {
            throw RPCError(
                .unauthorized,
                "\(method) is an agent call: run it from the agent's environment, where MLAGENT_TOKEN is set")
        }
        return agentJobID
    }
}

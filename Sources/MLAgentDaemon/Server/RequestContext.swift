import Foundation

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

    public init(connectionID: UInt64, peer: PeerCredentials?) {
        self.connectionID = connectionID
        self.peer = peer
    }
}

import Foundation

/// Decides who may make operator calls. Anyone who can connect got through the socket's
/// file permissions; on top of that an operator is root, the daemon's own user, or a member
/// of the group that owns the socket (the `mlagent` group under systemd).
struct Authorizer: Sendable {
    let daemonUID: UInt32
    let socketGroup: UInt32?

    init(socketPath: String) {
        daemonUID = getuid()
        var info = stat()
        socketGroup = stat(socketPath, &info) == 0 ? info.st_gid : nil
    }

    func isOperator(_ peer: PeerCredentials?) -> Bool {
        guard let peer else { return false }
        if peer.uid == 0 || peer.uid == daemonUID { return true }
        guard let group = socketGroup else { return false }
        if peer.gid == group { return true }
        return Self.groups(of: peer.uid, primary: peer.gid).contains(group)
    }

    private static func groups(of uid: UInt32, primary: UInt32) -> [UInt32] {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return [primary] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, primary, &groups, &count)
        }
        return Array(groups.prefix(Int(max(count, 0))))
    }
}

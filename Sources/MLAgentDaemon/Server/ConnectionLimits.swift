import Foundation

/// Who holds a connection, for the connection caps: one agent's sandbox (its pid namespace), an
/// agent without a sandbox (its process group), a local user, or a host reaching the TCP
/// listener (counted as agents: only agent calls come that way, and they never take the
/// operators' reserve).
enum PeerKey: Hashable, Sendable, CustomStringConvertible {
    case sandbox(String)
    case agentGroup(Int32)
    case user(UInt32)
    case remote(String)

    var isAgent: Bool {
        if case .user = self { return false }
        return true
    }

    var description: String {
        switch self {
        case .sandbox(let namespace): "agent sandbox \(namespace)"
        case .agentGroup(let group): "agent process group \(group)"
        case .user(let uid): "uid \(uid)"
        case .remote(let host): "host \(host) over TCP"
        }
    }
}

/// The caps one peer cannot exceed, so that no agent can take the socket from everyone else:
/// per agent (a job), per local user, and for all agents together, which leave `operatorReserve`
/// connections that only operators and other users can take.
struct ConnectionLimits: Sendable, Equatable {
    var total: Int
    var perAgent: Int
    var perUser: Int
    var operatorReserve: Int

    /// Why a new connection of `key` is refused, given the open ones, or nil.
    func refusal(for key: PeerKey, open: [PeerKey: Int], agentsOpen: Int, totalOpen: Int) -> String? {
        let mine = open[key] ?? 0
        if key.isAgent {
            if mine >= perAgent {
                if case .remote(let host) = key {
                    return "host \(host) already holds \(mine) TCP connections to mlagentd, the limit per remote host (max_connections_per_agent = \(perAgent)); close some (each mlagentctl call needs one while it runs)"
                }
                return "this agent already holds \(mine) connections to mlagentd, its limit (max_connections_per_agent = \(perAgent)); close some (each mlagentctl call needs one while it runs)"
            }
            if agentsOpen >= total - operatorReserve {
                return "agents hold \(agentsOpen) connections to mlagentd, the limit for all agents together (max_connections minus operator_reserve); retry shortly"
            }
        } else {
            if mine >= perUser {
                return "uid already holds \(mine) connections to mlagentd, its limit (max_connections_per_user = \(perUser)); close some"
            }
            if totalOpen >= total {
                return "mlagentd has \(totalOpen) open connections, its limit (max_connections = \(total)); retry shortly"
            }
        }
        return nil
    }
}

extension ConnectionLimits {
    /// Raises the soft descriptor limit to the hard one and fits `total` under it, with room
    /// for the database, logs and agent pipes. Returns the limit in force.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The caps as configured, with `total` kept below the descriptor limit.
    func fitted(toDescriptors descriptors: Int) -> ConnectionLimits {
        var copy = self
        copy.total = max(16, min(total, descriptors - 256))
        copy.operatorReserve = min(operatorReserve, copy.total / 2)
        return copy
    }
}

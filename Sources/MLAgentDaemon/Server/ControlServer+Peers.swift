import Foundation
import Logging
import MLAgentProtocol
import NIOConcurrencyHelpers

extension ControlServer {
    /// Who is on the other end of a connection, for the connection caps: an agent's sandbox
    /// (its pid namespace differs from the daemon's), an agent without a sandbox (its process
    /// group), or a local user.
    func peerKey(_ peer: PeerCredentials?) async -> PeerKey {
        guard let peer else { return .user(UInt32.max) }
        if case .namespace(let namespace) = ProcessTable.lookUpPidNamespace(of: peer.pid),
            namespace != ProcessTable.ownPidNamespace
        {
            return .sandbox(namespace)
        }
        if let services, await services.scheduler.isAgentProcess(peer.pid) {
            let group = ProcessTable.statFields(peer.pid).flatMap { $0.count > 2 ? Int32($0[2]) : nil }
            return .agentGroup(group ?? peer.pid)
        }
        return .user(peer.uid)
    }

    /// Records that a peer hit a connection cap: a log line each time, an event at most once a
    /// minute per peer (a flood must not flood the event log too).
    func recordRefusal(_ key: PeerKey, reason: String, logger: Logger) async {
        logger.notice("refused connection", metadata: ["peer": "\(key)", "reason": "\(reason)"])
        guard refusals.shouldRecord(key) else { return }
        var job: Int64?
        switch key {
        case .sandbox(let namespace): job = await services?.scheduler.jobID(forNamespace: namespace)
        case .agentGroup(let group): job = await services?.scheduler.jobID(processGroup: group)
        case .user, .remote: job = nil
        }
        var data: [String: JSONValue] = [
            "limit": .string(EventKind.limitKey(in: reason, fallback: "max_connections")), "peer": .string(key.description),
        ]
        if let job { data["job"] = .int(job) }
        let who = job.map { "job \($0)" } ?? key.description
        _ = try? await core.store.record(kind: EventKind.limitHit, jobID: job, message: "\(who) hit the connection limit: \(reason)", data: data)
    }
}

/// When each peer's last connection refusal was recorded as an event.
final class RefusalLog: Sendable {
    private let last = NIOLockedValueBox([PeerKey: ContinuousClock.Instant]())

    func shouldRecord(_ key: PeerKey) -> Bool {
        let now = ContinuousClock.now
        return last.withLockedValue { last in
            if let previous = last[key], now - previous < .seconds(60) { return false }
            last[key] = now
            return true
        }
    }
}

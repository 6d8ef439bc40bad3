import Foundation
import MLAgentProtocol
import MLAgentStore

/// `daemon.status`: version, uptime, queue counts by state, pool usage.
struct StatusHandler: RequestHandler {
    static let method = Method.status
    static let access = MethodAccess.both
    let core: DaemonCore
    let listener: ListenerInfo

    func handle(_ params: NoParams, context: RequestContext) async throws -> DaemonStatus {
        let snapshot = core.store.snapshot()
        var status = DaemonStatus(
            version: mlagentVersion, protocolVersion: protocolVersion, pid: getpid(),
            startedAt: Timestamp.format(core.startedAt), uptimeSeconds: (core.uptimeSeconds * 1000).rounded() / 1000,
            paused: snapshot.paused,
            queue: Dictionary(uniqueKeysWithValues: snapshot.counts.map { ($0.key.rawValue, $0.value) }),
            pool: .init(running: snapshot.counts[.running] ?? 0, maxAgents: core.config.maxAgents),
            lastSeq: snapshot.lastSeq, socket: listener.path, listen: listener.mode.rawValue,
            stateDir: core.config.stateDir)
        status.usage = core.usage.total
        if let endpoint = core.remoteEndpoint.current {
            status.tls = .init(address: endpoint.bound, advertise: endpoint.address, fingerprint: endpoint.fingerprint)
        }
        let stored = core.store.artifactTotals()
        let cap = core.config.artifactQuota.store
        status.artifacts = ArtifactStoreUsage(bytes: stored.bytes, files: stored.files, maxBytes: cap.bytes, maxFiles: cap.files)
        if core.config.agents.values.contains(where: { $0.executor == .slurm }) {
            let cluster = try await core.store.slurmPool()
            status.pool.running -= cluster.running + cluster.pending
            status.cluster = .init(running: cluster.running, pending: cluster.pending, maxJobs: core.config.slurm.maxJobs)
        }
        return status
    }
}

/// How the daemon got its listening socket.
struct ListenerInfo: Sendable {
    enum Mode: String, Sendable {
        case bound
        case activated
    }
    var path: String
    var mode: Mode
}

import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore
import ServiceLifecycle

/// What handlers ask of the scheduler: activity, token and sandbox lookups, cancel, and the
/// session controls (continue, stop, resume).
extension Scheduler {
    /// An agent made a protocol call.
    func touch(_ jobID: Int64) {
        agents[jobID]?.lastSeen = .now
    }

    /// The job id for an agent token, if that agent is running.
    func jobID(forToken token: String) -> Int64? {
        agents.first { $0.value.token == token }?.key
    }

    /// The running job whose sandbox is the pid namespace `namespace`, or whose agent leads
    /// the process group `group` (without a sandbox).
    func jobID(forNamespace namespace: String? = nil, processGroup group: Int32? = nil) -> Int64? {
        agents.first { entry in
            (namespace != nil && entry.value.processes.namespace == namespace)
                || (group != nil && entry.value.processes.leader == group)
        }?.key
    }

    /// Whether `pid` belongs to an agent, and so may never make operator calls: any process in
    /// a pid namespace other than the daemon's (every sandboxed process, wherever a double fork
    /// or `setsid` took it, and after its job too); one that is gone (its connection outlived
    /// it) or that runs as the daemon's user and still cannot be inspected; and, without a
    /// sandbox, a running agent or one of its descendants.
    func isAgentProcess(_ pid: Int32) -> Bool {
        switch ProcessTable.lookUpPidNamespace(of: pid) {
        case .namespace(let namespace):
            if namespace != ProcessTable.ownPidNamespace { return true }
        case .gone:
            return true
        case .denied:
            let uids = ProcessTable.uids(of: pid)
            if uids.isEmpty || uids.contains(getuid()) { return true }
        }
        let roots = Set(agents.values.map(\.pid))
        guard !roots.isEmpty else { return false }
        var current = pid
        for _ in 0..<64 {
            if roots.contains(current) { return true }
            guard let parent = ProcessTable.parent(of: current), parent > 1 else { return false }
            current = parent
        }
        return false
    }

    /// Cancels a running job: its process group is stopped and the job ends as cancelled.
    /// Returns once the agent is gone (or at most after the kill grace and a margin).
    func cancel(_ id: Int64, reason: String) async -> Bool {
        if agents[id] == nil {
            // Claimed but still starting: stop it as soon as it is registered.
            guard launching.contains(id) || submitting.contains(id) else { return false }
            pendingCancels[id] = reason
        } else {
            stop(id, ending: .cancelled(reason: reason), event: EventKind.agentKilled)
        }
        await withCheckedContinuation { continuation in
            endWaiters[id, default: []].append(continuation)
            signal.wake()
        }
        return true
    }

    /// The agent of `jobID` declared its direction.
    func directionDeclared(jobID: Int64, name: String) {
        agents[jobID]?.job.direction = name
        agents[jobID]?.lastSeen = .now
    }

    func continueSession() {
        awaitingOperator = false
        signal.wake()
    }

    /// `mlagentctl stop`: no new launches; with `now`, running jobs are cancelled.
    func stopSession(now: Bool) async -> [Int64] {
        stopped = true
        var cancelled: [Int64] = []
        if now {
            for id in agents.keys.sorted() {
                if await cancel(id, reason: "stopped by operator (stop --now)") { cancelled.append(id) }
            }
        }
        return cancelled
    }

    func resumeSession() {
        stopped = false
        awaitingOperator = false
        signal.wake()
    }
}

import Foundation

/// The processes of one agent, as the scheduler signals them: the process it started (bwrap,
/// or the agent itself without a sandbox) with its process group, and the sandbox's pid
/// namespace. The namespace is the agent's whole world: when its init (bwrap's pid 1) dies, the
/// kernel kills every process in it, including those that started a session of their own or
/// were re-parented away by a double fork, so nothing an agent started outlives its job.
struct AgentProcesses: Sendable {
    /// What the scheduler spawned; its process group is the agent's without a sandbox.
    var leader: Int32?
    /// The host pid of the sandbox's init, and its pid namespace (`pid:[…]`).
    var sandboxInit: Int32?
    var namespace: String?

    init(leader: Int32?, sandboxInit: Int32? = nil, namespace: String? = nil) {
        self.leader = leader
        // The daemon's own namespace is never an agent's sandbox (its members are everyone).
        let foreign = namespace.flatMap { $0 == ProcessTable.ownPidNamespace ? nil : $0 }
        self.sandboxInit = foreign == nil ? nil : sandboxInit
        self.namespace = foreign
    }

    /// The sandbox of a running bwrap: its child in another pid namespace (after a restart,
    /// when the launch-time record is missing).
    static func discover(leader: Int32) -> AgentProcesses {
        let own = ProcessTable.pidNamespace(of: leader)
        for child in ProcessTable.children(of: leader) {
            if let namespace = ProcessTable.pidNamespace(of: child), namespace != own {
                return AgentProcesses(leader: leader, sandboxInit: child, namespace: namespace)
            }
        }
        return AgentProcesses(leader: leader)
    }

    /// The sandbox's init while it is the same process (its pid not reused).
    var liveInit: Int32? {
        guard let sandboxInit, let namespace, ProcessTable.pidNamespace(of: sandboxInit) == namespace else { return nil }
        return sandboxInit
    }

    /// Whether any process of the sandbox is still alive.
    var sandboxAlive: Bool {
        guard let namespace else { return false }
        return liveInit.map(ProcessTable.isAlive) ?? !ProcessTable.members(of: namespace).isEmpty
    }

    /// SIGTERM, so the agent can stop gracefully: without a sandbox to the process group; in
    /// one to every process of the namespace but its init (bwrap's init takes no signal from
    /// outside but SIGKILL, and ends on its own once the agent has).
    func terminate() {
        guard let namespace else {
            if let leader { kill(-leader, SIGTERM) }
            return
        }
        for pid in ProcessTable.members(of: namespace) where pid != sandboxInit { kill(pid, SIGTERM) }
    }

    /// SIGKILL to the process group and to the sandbox's init, which ends the whole namespace;
    /// when the init cannot be told apart any more, to every process left in the namespace.
    func killAll() {
        if let leader { kill(-leader, SIGKILL) }
        if let live = liveInit {
            kill(live, SIGKILL)
        } else if let namespace {
            for pid in ProcessTable.members(of: namespace) { kill(pid, SIGKILL) }
        }
    }

    /// The record kept beside the job's log, so that a restarted daemon finds the sandbox even
    /// after bwrap itself is gone.
    var record: String {
        "\(sandboxInit.map(String.init) ?? "-") \(namespace ?? "-")\n"
    }

    init(leader: Int32?, record: String) {
        let fields = record.split(whereSeparator: \.isWhitespace).map(String.init)
        self.init(
            leader: leader, sandboxInit: fields.first.flatMap { Int32($0) },
            namespace: fields.count > 1 && fields[1].hasPrefix("pid:[") ? fields[1] : nil)
    }
}

/// What a job's agent used, read from its cgroup when the job ended (`job.show`): peak memory,
/// processes (left at the end, and at most at once) and CPU time. Fields the kernel does not
/// report are absent. `enforcement` says how its limits were applied: `cgroup v2`, `cgroup v1`
/// or `rlimits` (no cgroup: no figures either).
public struct AgentResources: Sendable, Codable, Equatable {
    public var enforcement: String
    public var peakMemoryBytes: Int64?
    public var processes: Int64?
    public var peakProcesses: Int64?
    public var cpuUsec: Int64?

    public init(
        enforcement: String, peakMemoryBytes: Int64? = nil, processes: Int64? = nil, peakProcesses: Int64? = nil,
        cpuUsec: Int64? = nil
    ) {
        self.enforcement = enforcement
        self.peakMemoryBytes = peakMemoryBytes
        self.processes = processes
        self.peakProcesses = peakProcesses
        self.cpuUsec = cpuUsec
    }

    enum CodingKeys: String, CodingKey {
        case enforcement
        case peakMemoryBytes = "peak_memory_bytes"
        case processes
        case peakProcesses = "peak_processes"
        case cpuUsec = "cpu_usec"
    }
}

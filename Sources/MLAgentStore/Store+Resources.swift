import Foundation
import GRDB
public import MLAgentProtocol

extension Store {
    /// Records what a job's agent used (replacing an earlier record of the same job).
    public func recordResources(jobID: Int64, resources: AgentResources) async throws {
        try await write { context in
            try context.db.execute(
                sql: """
                    INSERT INTO job_resources(job_id, enforcement, peak_memory_bytes, processes, peak_processes,
                                              cpu_usec, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(job_id) DO UPDATE SET enforcement = excluded.enforcement,
                      peak_memory_bytes = excluded.peak_memory_bytes, processes = excluded.processes,
                      peak_processes = excluded.peak_processes, cpu_usec = excluded.cpu_usec,
                      recorded_at = excluded.recorded_at
                    """,
                arguments: [
                    jobID, resources.enforcement, resources.peakMemoryBytes, resources.processes,
                    resources.peakProcesses, resources.cpuUsec, context.now,
                ])
        }
    }

    /// What one job's agent used, nil before it ended.
    public func resources(jobID: Int64) async throws -> AgentResources? {
        try await database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job_resources WHERE job_id = ?", arguments: [jobID]).map { row in
                AgentResources(
                    enforcement: row["enforcement"], peakMemoryBytes: row["peak_memory_bytes"], processes: row["processes"],
                    peakProcesses: row["peak_processes"], cpuUsec: row["cpu_usec"])
            }
        }
    }
}

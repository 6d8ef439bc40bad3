import Foundation
import GRDB
public import MLAgentProtocol

extension Store {
    /// Records the running totals of a job's usage (replacing what was recorded before).
    public func recordUsage(jobID: Int64, usage: TokenUsage) async throws {
        try await write { context in
            try context.db.execute(
                sql: """
                    INSERT INTO job_usage(job_id, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                                          cost_usd, reported, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(job_id) DO UPDATE SET input_tokens = excluded.input_tokens,
                      output_tokens = excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens,
                      cache_write_tokens = excluded.cache_write_tokens, cost_usd = excluded.cost_usd,
                      reported = excluded.reported, updated_at = excluded.updated_at
                    """,
                arguments: [
                    jobID, usage.inputTokens, usage.outputTokens, usage.cacheReadTokens, usage.cacheWriteTokens,
                    usage.costUSD, usage.reported, context.now,
                ])
        }
    }

    /// The recorded usage of one job, nil when nothing was read.
    public func usage(jobID: Int64) async throws -> TokenUsage? {
        try await database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job_usage WHERE job_id = ?", arguments: [jobID]).map(Self.usage(from:))
        }
    }

    /// Every job's usage with its direction and agent, in job order.
    public func usageByJob() async throws -> [UsageReport.Job] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT u.*, j.direction AS direction, j.agent AS agent FROM job_usage u
                    JOIN jobs j ON j.id = u.job_id ORDER BY u.job_id
                    """
            ).map { row in
                UsageReport.Job(
                    jobID: row["job_id"], direction: row["direction"], agent: row["agent"], usage: Self.usage(from: row))
            }
        }
    }

    /// The usage of the jobs of one direction, nil when none of them used any.
    public func usage(direction: String) async throws -> TokenUsage? {
        let jobs = try await usageByJob().filter { $0.direction == direction }
        return jobs.isEmpty ? nil : jobs.map(\.usage).reduce(TokenUsage(reported: true), +)
    }

    static func usage(from row: Row) -> TokenUsage {
        TokenUsage(
            inputTokens: row["input_tokens"], outputTokens: row["output_tokens"], cacheReadTokens: row["cache_read_tokens"],
            cacheWriteTokens: row["cache_write_tokens"], costUSD: row["cost_usd"], reported: row["reported"])
    }
}

import Foundation
import GRDB
import MLAgentProtocol
import MLAgentStore
import Testing

@Suite("Store")
struct StoreTests {
    func request(_ direction: String, priority: Int = 0) -> Store.EnqueueRequest {
        .init(direction: direction, guidance: "", agent: "command", priority: priority)
    }

    @Test("migrations create the schema and are listed in order")
    func migrations() throws {
        let database = try AppDatabase.inMemory()
        #expect(AppDatabase.migrationNames == ["v1", "v2", "v3", "v4", "v5-mlflow", "v6-eval", "v7-archive", "v8-inbox", "v9-usage", "v10-resources", "v11-predictions", "v12-submissions", "v13-shared", "v14-shared-review", "v15-slurm"])
        let names = [
            "jobs", "events", "settings", "directions", "intents", "runs", "run_params", "run_tags", "metrics",
            "latest_metrics", "metric_batches", "artifacts", "evaluations", "mlflow_runs", "mlflow_dead_letters",
            "mlflow_directions", "inbox_messages", "job_usage", "job_resources", "evaluation_predictions", "submissions", "share_proposals", "share_files",
        ]
        let tables: [Bool] = try database.writer.read { db in try names.map { try db.tableExists($0) } }
        #expect(tables == Array(repeating: true, count: names.count))
    }

    @Test("enqueue stores the job and its event in one transaction with increasing seq")
    func enqueueAppendsEvents() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        let first = try await store.enqueue(request("alpha"))
        let second = try await store.enqueue(request("beta"))
        #expect(second.id > first.id)
        #expect(first.state == .queued)
        let events = try await store.events()
        #expect(events.map(\.kind) == [EventKind.jobEnqueued, EventKind.jobEnqueued])
        #expect(events.map(\.jobID) == [first.id, second.id])
        #expect(events[0].seq < events[1].seq)
        #expect(store.lastSeq() == events[1].seq)
    }

    @Test("a duplicate direction is refused and the rest of its batch still commits")
    func duplicateInBatch() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        _ = try await store.enqueue(request("taken"))
        let results = await withTaskGroup(of: Result<Job, RPCError>.self) { group in
            for name in ["taken", "free-1", "free-2", "taken", "free-3"] {
                group.addTask {
                    do { return .success(try await store.enqueue(request(name))) } catch let error as RPCError {
                        return .failure(error)
                    } catch { return .failure(RPCError(.internalError, "\(error)")) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let failures = results.compactMap { if case .failure(let error) = $0 { error } else { nil } }
        #expect(failures.count == 2)
        #expect(failures.allSatisfy { $0.kind == .conflict && $0.message.contains("taken") })
        let jobs = try await store.jobs()
        #expect(Set(jobs.map(\.direction)) == ["taken", "free-1", "free-2", "free-3"])
        // One enqueued event per stored job: refused requests left nothing behind.
        #expect(try await store.events().count == 4)
    }

    @Test("empty directions (agent picks) may repeat")
    func agentPicks() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        _ = try await store.enqueue(request(""))
        _ = try await store.enqueue(request(""))
        #expect(try await store.jobs().count == 2)
    }

    @Test("transitions follow the state machine and record from/to")
    func transitions() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        let job = try await store.enqueue(request("gamma"))
        let running = try await store.transition(id: job.id, to: .running)
        #expect(running.attempts == 1)
        #expect(running.startedAt != nil)
        await #expect(throws: RPCError.self) { try await store.transition(id: job.id, to: .running) }
        let done = try await store.transition(id: job.id, to: .completed, reason: "landed")
        #expect(done.finishedAt != nil)
        let last = try #require(try await store.events().last)
        #expect(last.kind == EventKind.jobState)
        #expect(last.data["from"] == "running")
        #expect(last.data["to"] == "completed")
        #expect(last.data["reason"] == "landed")
    }

    @Test("cancel refuses final jobs and unknown ids with the right kinds")
    func cancel() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        let job = try await store.enqueue(request("delta"))
        let cancelled = try await store.cancel(id: job.id, reason: nil)
        #expect(cancelled.state == .cancelled)
        #expect(cancelled.reason == "cancelled by operator")
        do {
            _ = try await store.cancel(id: job.id, reason: nil)
            Issue.record("second cancel succeeded")
        } catch let error as RPCError {
            #expect(error.kind == .invalidState)
        }
        do {
            _ = try await store.cancel(id: 999, reason: nil)
            Issue.record("cancel of an unknown id succeeded")
        } catch let error as RPCError {
            #expect(error.kind == .notFound)
            #expect(error.message.contains("999"))
        }
    }

    @Test("queued jobs list by priority then FIFO")
    func queueOrder() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        _ = try await store.enqueue(request("low", priority: -1))
        _ = try await store.enqueue(request("first", priority: 0))
        _ = try await store.enqueue(request("urgent", priority: 10))
        _ = try await store.enqueue(request("second", priority: 0))
        let order = try await store.jobs(state: .queued).map(\.direction)
        #expect(order == ["urgent", "first", "second", "low"])
        let counts = store.counts()
        #expect(try await store.countsFromDatabase() == counts)
        #expect(counts[.queued] == 4)
        #expect(counts[.running] == 0)
    }

    @Test("the pause flag is durable and records an event only when it changes")
    func pause() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        #expect(store.isPaused() == false)
        #expect(try await store.setPaused(true))
        #expect(try await store.setPaused(true))
        #expect(store.isPaused())
        #expect(try await store.setPaused(false) == false)
        #expect(try await store.events().map(\.kind) == [EventKind.queuePaused, EventKind.queueResumed])
    }

    @Test("concurrent writers through a WAL file database: all committed, seq contiguous, fewer transactions")
    func groupCommitOnDisk() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlagent-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.sqlite3").path
        let store = try Store(database: try AppDatabase.open(path: path))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask { _ = try await store.enqueue(request("d\(index)")) }
            }
            try await group.waitForAll()
        }
        let transactions = await store.committedTransactions()
        #expect(transactions >= 1 && transactions <= 300)

        // Reopen the file: everything acknowledged is there.
        let reopened = try AppDatabase.open(path: path)
        let (count, seqs, mode) = try await reopened.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs"),
                try Int64.fetchAll(db, sql: "SELECT seq FROM events ORDER BY seq"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            )
        }
        #expect(count == 300)
        #expect(seqs == Array(1...300))
        #expect(mode == "wal")
    }

    @Test("a database written by the first schema version still opens and reads")
    func goldenFixture() async throws {
        let url = try #require(Bundle.module.url(forResource: "v1-state", withExtension: "sql", subdirectory: "Fixtures"))
        let sql = try String(contentsOf: url, encoding: .utf8)
        let queue = try DatabaseQueue()
        try await queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
        let store = try Store(database: try AppDatabase(queue))
        let jobs = try await store.jobs()
        #expect(jobs.map(\.direction) == ["catboost-tuning", "", "feature-interactions"])
        #expect(jobs.map(\.state) == [.queued, .queued, .cancelled])
        #expect(jobs[0].guidance == "try depth 6-10")
        let events = try await store.events()
        #expect(events.map(\.kind) == [
            EventKind.daemonStarted, EventKind.jobEnqueued, EventKind.jobEnqueued, EventKind.jobEnqueued,
            EventKind.jobState, EventKind.queuePaused,
        ])
        #expect(store.isPaused())
        // New writes continue the sequence.
        let next = try await store.enqueue(request("after-upgrade"))
        #expect(next.id == 4)
    }
}

@Suite("Runs")
struct RunStoreTests {
    static let policy = EvaluationPolicy(metric: "roc_auc", higherIsBetter: true, publicEvalBudget: 100, overfitGap: 0.02)

    /// A store with one running job on direction `d`, and its job id.
    func running() async throws -> (Store, Int64) {
        let store = try Store(database: try AppDatabase.inMemory())
        _ = try await store.enqueue(.init(direction: "d", guidance: "", agent: "command", priority: 0))
        let ticket = try #require(
            try await store.claimNextJob(maxRunning: 1, worktree: { _ in "/w" }, logPath: { _ in "/l" }))
        return (store, ticket.job.id)
    }

    @Test("metric batches: latest value per key by step, a batch id recorded once, params written once")
    func logging() async throws {
        let (store, job) = try await running()
        let run = try await store.startRun(jobID: job, name: "r", rationale: "why", params: ["depth": "3"])
        var points: [MetricPoint] = []
        for index in 0..<1000 {
            let key = index % 2 == 0 ? "a" : "b"
            points.append(MetricPoint(key: key, value: Double(index), step: Int64(999 - index)))
        }
        let first = try await store.logRun(jobID: job, RunLogParams(run: run.id, metrics: points, batch: "x"))
        #expect(first.metrics == 1000 && !first.duplicate)
        let again = try await store.logRun(jobID: job, RunLogParams(run: run.id, metrics: points, batch: "x"))
        #expect(again.duplicate && again.metricPoints == 1000)
        let detail = try await store.runDetail(id: run.id, policy: Self.policy)
        // The latest value is the one with the highest step, not the last one sent.
        #expect(detail.metrics["a"]?.step == 999 && detail.metrics["a"]?.value == 0)
        #expect(detail.metrics["b"]?.step == 998 && detail.metrics["b"]?.value == 1)
        await #expect(throws: RPCError.self) {
            _ = try await store.logRun(jobID: job, RunLogParams(run: run.id, params: ["depth": "4"]))
        }
        _ = try await store.logRun(jobID: job, RunLogParams(run: run.id, params: ["depth": "3", "lr": "0.1"]))
        #expect(try await store.runDetail(id: run.id, policy: Self.policy).params == ["depth": "3", "lr": "0.1"])
        let page = try await store.metricHistory(run: run.id, key: "a", after: 0, limit: 300)
        #expect(page.points.count == 300 && page.next != nil)
        let rest = try await store.metricHistory(run: run.id, key: "a", after: page.next!, limit: 300)
        #expect(rest.points.count == 200 && rest.next == nil)
    }

    @Test("evaluations: the budget, submit once, and the gap's sign for lower-is-better metrics")
    func evaluations() async throws {
        let (store, job) = try await running()
        let policy = EvaluationPolicy(metric: "rmse", higherIsBetter: false, publicEvalBudget: 2, overfitGap: 0.1)
        let run = try await store.startRun(jobID: job, name: "r", rationale: "why", params: [:])
        _ = try await store.recordArtifact(jobID: job, run: run.id, name: "model", isDirectory: true, files: 1, bytes: 10)
        let one = try await store.recordEvaluation(
            jobID: job, run: run.id, split: .publicSplit, score: 1.0, interval: nil, rows: 5, policy: policy)
        #expect(one.publicEvalsLeft == 1)
        _ = try await store.recordEvaluation(
            jobID: job, run: run.id, split: .publicSplit, score: 0.9, interval: nil, rows: 5, policy: policy)
        do {
            _ = try await store.recordEvaluation(
                jobID: job, run: run.id, split: .publicSplit, score: 0.8, interval: nil, rows: 5, policy: policy)
            Issue.record("a third evaluation was accepted")
        } catch let error as RPCError {
            #expect(error.kind == .budgetExhausted)
        }
        _ = try await store.endRun(jobID: job, run: run.id, analysis: "ok", failed: false)
        let submitted = try await store.recordEvaluation(
            jobID: job, run: run.id, split: .privateSplit, score: 1.2, interval: nil, rows: 5, policy: policy)
        // rmse: private 1.2 is worse than public 0.9 by 0.3.
        #expect(abs((submitted.gap ?? 0) - 0.3) < 1e-12 && submitted.overfit == true)
        await #expect(throws: RPCError.self) {
            _ = try await store.recordEvaluation(
                jobID: job, run: run.id, split: .privateSplit, score: 1.0, interval: nil, rows: 5, policy: policy)
        }
        let board = try await store.leaderboard(policy: policy)
        #expect(board.directions.first?.flags.contains("overfit") == true)
        #expect(board.directions.first?.publicScore == 0.9)
    }
}

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
        #expect(AppDatabase.migrationNames == ["v1", "v2"])
        let tables: [Bool] = try database.writer.read { db in
            try ["jobs", "events", "settings"].map { try db.tableExists($0) }
        }
        #expect(tables == [true, true, true])
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

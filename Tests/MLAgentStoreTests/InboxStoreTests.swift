import Foundation
import MLAgentProtocol
import MLAgentStore
import Testing

@Suite("Store: inbox")
struct InboxStoreTests {
    @Test("messages are read once, --all shows them again, and sending and reading are events")
    func readOnce() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        let job = try await store.enqueue(.init(direction: "alpha", guidance: "", agent: "command", priority: 0))
        let first = try await store.say(jobID: job.id, text: "try a lower learning rate")
        let second = try await store.say(jobID: job.id, text: "and\nlog the curves")
        #expect(first.readAt == nil && second.id > first.id)

        let inbox = try await store.readInbox(jobID: job.id, all: false)
        #expect(inbox.new == 2 && inbox.messages.map(\.text) == ["try a lower learning rate", "and\nlog the curves"])
        #expect(inbox.messages.allSatisfy { $0.readAt != nil })
        #expect(try await store.readInbox(jobID: job.id, all: false).messages.isEmpty)
        _ = try await store.say(jobID: job.id, text: "third")
        let all = try await store.readInbox(jobID: job.id, all: true)
        #expect(all.messages.count == 3 && all.new == 1)
        // A message keeps the time it was first read.
        #expect(all.messages[0].readAt.map(Timestamp.format) == inbox.messages[0].readAt.map(Timestamp.format))
        #expect(try await store.inboxMessages(jobID: job.id).count == 3)

        let events = try await store.events(job: job.id).map(\.kind)
        #expect(events.filter { $0 == EventKind.jobMessage }.count == 3)
        #expect(events.filter { $0 == EventKind.jobMessageRead }.count == 2)
    }

    @Test("unknown and ended jobs get no messages")
    func refusals() async throws {
        let store = try Store(database: try AppDatabase.inMemory())
        await #expect(throws: RPCError.self) { try await store.say(jobID: 42, text: "hello") }
        let job = try await store.enqueue(.init(direction: "beta", guidance: "", agent: "command", priority: 0))
        _ = try await store.cancel(id: job.id, reason: nil)
        do {
            _ = try await store.say(jobID: job.id, text: "too late")
            Issue.record("a cancelled job accepted a message")
        } catch let error as RPCError {
            #expect(error.kind == .invalidState && error.message.contains("is cancelled"))
        }
        #expect(InboxRules.problem(with: " \n") != nil)
        #expect(InboxRules.problem(with: String(repeating: "x", count: InboxRules.maxMessageBytes + 1)) != nil)
        #expect(InboxRules.problem(with: "fine") == nil)
    }
}

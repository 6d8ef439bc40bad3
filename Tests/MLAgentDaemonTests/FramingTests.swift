import MLAgentProtocol
@testable import MLAgentDaemon
import NIOCore
import NIOEmbedded
import Testing

@Suite("Line framing")
struct FramingTests {
    func channel(max: Int) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: max)))
        return channel
    }

    func frames(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let frame = try channel.readInbound(as: InboundFrame.self) {
            switch frame {
            case .line(let buffer): out.append(String(buffer: buffer))
            case .tooLong(let length): out.append("<too long: \(length)>")
            }
        }
        return out
    }

    @Test("lines split across reads are joined; CRLF is accepted")
    func splitting() throws {
        let channel = try channel(max: 100)
        try channel.writeInbound(ByteBuffer(string: "{\"a\":"))
        #expect(try frames(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(string: "1}\n{\"b\":2}\r\n{\"c\""))
        #expect(try frames(channel) == ["{\"a\":1}", "{\"b\":2}"])
        try channel.writeInbound(ByteBuffer(string: ":3}\n"))
        #expect(try frames(channel) == ["{\"c\":3}"])
        _ = try channel.finish()
    }

    @Test("an oversized line is dropped without buffering it and the stream recovers")
    func oversized() throws {
        let channel = try channel(max: 16)
        try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 40)))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "y", count: 40)))
        #expect(try frames(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(string: "zz\n{\"ok\":1}\n"))
        #expect(try frames(channel) == ["<too long: 82>", "{\"ok\":1}"])
        // A long line that arrives complete in one read.
        try channel.writeInbound(ByteBuffer(string: String(repeating: "q", count: 17) + "\nsmall\n"))
        #expect(try frames(channel) == ["<too long: 17>", "small"])
        // Exactly at the limit is fine.
        try channel.writeInbound(ByteBuffer(string: String(repeating: "k", count: 16) + "\n"))
        #expect(try frames(channel) == [String(repeating: "k", count: 16)])
        _ = try channel.finish()
    }
}

@Suite("Event subscriptions")
struct SubscriptionTests {
    func event(_ seq: Int64, job: Int64? = nil) -> Event {
        Event(seq: seq, time: .now, kind: "test", jobID: job, direction: nil, message: "", data: [:])
    }

    @Test("a full buffer turns into one overflow notice after the buffered events, then live again")
    func overflow() async {
        let bus = EventBus()
        let subscription = bus.subscribe(capacity: 3, job: nil)
        bus.publish((1...10).map { event($0) })
        var seen: [String] = []
        for _ in 0..<4 {
            switch await subscription.next() {
            case .event(let event): seen.append("e\(event.seq)")
            case .overflow(let dropped): seen.append("overflow \(dropped)")
            case .closed: seen.append("closed")
            }
        }
        #expect(seen == ["e1", "e2", "e3", "overflow 7"])
        bus.publish([event(11)])
        if case .event(let event) = await subscription.next() { #expect(event.seq == 11) } else {
            Issue.record("expected event 11")
        }
        bus.unsubscribe(subscription)
        if case .closed = await subscription.next() {} else { Issue.record("expected closed") }
        #expect(bus.subscriberCount == 0)
    }

    @Test("a job filter only buffers that job's events")
    func jobFilter() async {
        let bus = EventBus()
        let subscription = bus.subscribe(capacity: 10, job: 7)
        bus.publish([event(1, job: 6), event(2, job: 7), event(3)])
        if case .event(let event) = await subscription.next() { #expect(event.seq == 2) } else {
            Issue.record("expected event 2")
        }
    }

    @Test("a waiting reader wakes when an event is published")
    func wakeUp() async {
        let bus = EventBus()
        let subscription = bus.subscribe(capacity: 10, job: nil)
        async let next = subscription.next()
        try? await Task.sleep(for: .milliseconds(20))
        bus.publish([event(5)])
        if case .event(let event) = await next { #expect(event.seq == 5) } else { Issue.record("expected event 5") }
    }
}

import MLAgentProtocol
import NIOConcurrencyHelpers

/// Fans committed events out to live subscribers without ever blocking the publisher.
///
/// Each subscriber has a bounded buffer. A subscriber that falls behind is marked as
/// overflowed instead of slowing the daemon down; it then catches up from the event log in
/// SQLite (see `EventPump`), so no event is ever lost to it.
final class EventBus: Sendable {
    private let subscribers = NIOLockedValueBox<[ObjectIdentifier: EventSubscription]>([:])

    func subscribe(capacity: Int, job: Int64?) -> EventSubscription {
        let subscription = EventSubscription(capacity: capacity, job: job)
        subscribers.withLockedValue { $0[ObjectIdentifier(subscription)] = subscription }
        return subscription
    }

    func unsubscribe(_ subscription: EventSubscription) {
        _ = subscribers.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(subscription)) }
        subscription.close()
    }

    func publish(_ events: [Event]) {
        let current = subscribers.withLockedValue { Array($0.values) }
        for subscriber in current { subscriber.offer(events) }
    }

    var subscriberCount: Int { subscribers.withLockedValue { $0.count } }
}

/// One subscriber's bounded buffer.
final class EventSubscription: Sendable {
    enum Next: Sendable {
        case event(Event)
        /// The buffer filled up and `dropped` events were not buffered; catch up from the log.
        case overflow(dropped: Int)
        case closed
    }

    private struct State {
        var buffer: [Event] = []
        var head = 0
        var dropped = 0
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    let capacity: Int
    let job: Int64?
    private let state = NIOLockedValueBox(State())

    init(capacity: Int, job: Int64?) {
        self.capacity = capacity
        self.job = job
    }

    func offer(_ events: [Event]) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard !state.closed else { return nil }
            for event in events where job == nil || event.jobID == job {
                if state.dropped > 0 || state.buffer.count - state.head >= capacity {
                    state.dropped += 1
                } else {
                    state.buffer.append(event)
                }
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func close() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns the next buffered item, waiting for one if needed. After `.overflow` the
    /// buffer starts afresh, so the caller must re-read the log from its last seq.
    func next() async -> Next {
        while true {
            let item = state.withLockedValue { state -> Next? in
                if state.head < state.buffer.count {
                    let event = state.buffer[state.head]
                    state.head += 1
                    if state.head == state.buffer.count {
                        state.buffer.removeAll(keepingCapacity: true)
                        state.head = 0
                    } else if state.head > 4096 {
                        state.buffer.removeFirst(state.head)
                        state.head = 0
                    }
                    return .event(event)
                }
                if state.dropped > 0 {
                    let dropped = state.dropped
                    state.dropped = 0
                    return .overflow(dropped: dropped)
                }
                if state.closed { return .closed }
                return nil
            }
            if let item { return item }
            if Task.isCancelled { return .closed }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLockedValue { state -> Bool in
                        if state.head < state.buffer.count || state.dropped > 0 || state.closed { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.close()
            }
        }
    }
}

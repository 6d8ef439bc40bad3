import Foundation
import MLAgentProtocol
import NIOCore

/// Event subscriptions: the log from a `since`, then live events, with overflow catch-up.
extension ControlServer {
    struct SubscribeEnvelope: Decodable {
        var params: EventsParams?
    }

    func subscribe(
        line: Data, id: RPCID?, writer: LineWriter, state: ConnectionState, hasSubscription: Bool
    ) async throws -> StartedSubscription? {
        let params: EventsParams
        do {
            params = try JSONCoding.decoder.decode(SubscribeEnvelope.self, from: line).params ?? EventsParams()
        } catch let error as DecodingError {
            try await reply(
                id: id, error: RPCError(.invalidParams, "\(Method.eventsSubscribe): \(DecodingErrorText.describe(error))"),
                writer: writer)
            return nil
        }
        if hasSubscription {
            try await reply(
                id: id, error: RPCError(.invalidState, "this connection is already subscribed; open another connection"),
                writer: writer)
            return nil
        }
        if let since = params.since, since < 0 {
            try await reply(id: id, error: RPCError(.invalidParams, "since must be 0 or a seq, got \(since)"), writer: writer)
            return nil
        }
        // Register first, then read the log: nothing committed in between can be missed.
        let subscription = core.bus.subscribe(capacity: core.config.subscriberBuffer, job: params.job)
        let lastSeq = core.store.lastSeq()
        let since = params.since ?? lastSeq
        state.setSubscribed(true)
        if let id {
            try await writer.send(
                RPCTypedResult(id: id, result: SubscribeResult(subscribed: true, since: since, lastSeq: lastSeq)))
        }
        return StartedSubscription(subscription: subscription, since: since, job: params.job)
    }

    /// Sends a subscriber the log from its `since`, then live events; after an overflow it
    /// tells the client and re-reads the log from the last event it delivered.
    func pump(_ started: StartedSubscription, writer: LineWriter) async throws {
        var last = started.since
        let page = 500
        func catchUp() async throws {
            while true {
                let events = try await core.store.events(since: last, job: started.job, limit: page)
                for event in events {
                    try await writer.send(EventNotification(params: event))
                    last = event.seq
                }
                if events.count < page { return }
            }
        }
        try await catchUp()
        while true {
            switch await started.subscription.next() {
            case .event(let event):
                guard event.seq > last else { continue }
                try await writer.send(EventNotification(params: event))
                last = event.seq
            case .overflow(let dropped):
                logger.notice("event subscriber fell behind; catching up from the log", metadata: ["dropped": "\(dropped)"])
                try await writer.send(
                    RPCNotification(
                        method: Method.eventsOverflow,
                        params: try JSONValue(encoding: OverflowNotice(lastSeq: last, dropped: dropped))))
                try await catchUp()
            case .closed:
                return
            }
        }
    }}

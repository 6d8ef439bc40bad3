import NIOConcurrencyHelpers

/// Connections between their child-channel initializer and the accept loop. NIO drops a child
/// whose initializer finished after its server channel closed, and an `NIOAsyncChannel` dropped
/// unused traps ("Deinited NIOAsyncWriter without calling finish()"). So at shutdown the gate
/// closes first (later initializers fail and NIO closes their connections), and the listeners
/// close only once every child that passed it has reached the accept loop.
final class AcceptGate: Sendable {
    private let state = NIOLockedValueBox((open: true, pending: 0))

    /// Whether a new connection may be set up; it is then pending until ``leave()``.
    func enter() -> Bool {
        state.withLockedValue { state in
            guard state.open else { return false }
            state.pending += 1
            return true
        }
    }

    /// A pending connection reached the accept loop, or its set-up failed.
    func leave() {
        state.withLockedValue { $0.pending = max(0, $0.pending - 1) }
    }

    /// No new connection is set up from now on.
    func close() {
        state.withLockedValue { $0.open = false }
    }

    var pending: Int { state.withLockedValue { $0.pending } }

    /// Waits until no connection is pending, at most `limit`.
    func drained(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while pending > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

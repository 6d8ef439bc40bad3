import ServiceLifecycle

/// The loop of a long-lived service: its body runs whenever it is woken and every `interval`,
/// until the daemon shuts down gracefully. Wakes while the body runs coalesce into one more pass.
struct WakeSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a pass now (from any context).
    func wake() { continuation.yield() }

    /// Runs `body` at once when `immediately`, then at every wake and every `interval`.
    func run(every interval: Duration, immediately: Bool = true, _ body: @escaping @Sendable () async -> Void) async {
        let continuation = continuation
        let stream = stream
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        continuation.yield()
                    }
                }
                if immediately { continuation.yield() }
                for await _ in stream {
                    if Task.isCancelled { break }
                    await body()
                }
                group.cancelAll()
            }
        }
    }
}

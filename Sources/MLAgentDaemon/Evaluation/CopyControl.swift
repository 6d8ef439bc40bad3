import Foundation
import MLAgentProtocol
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Bounds one read or copy of agent files in time and lets it be stopped: the request was
/// cancelled, or the daemon is stopping. Copies run on a small pool of their own threads,
/// never on the NIO event loops or Swift's cooperative threads, so a slow copy delays no
/// one else's request, and every chunk checks in here, so a stop takes effect within one
/// chunk.
final class CopyControl: Sendable {
    enum Stop: UInt8 {
        case running, cancelled, stopping
    }

    let timeLimit: Duration
    private let stop = Atomic<UInt8>(Stop.running.rawValue)
    /// Set when the work starts on a copy thread: waiting for a thread does not count.
    private let deadline = Mutex<ContinuousClock.Instant?>(nil)

    init(timeLimit: Duration) {
        self.timeLimit = timeLimit
    }

    func start() {
        let now = ContinuousClock.now
        deadline.withLock { $0 = now.advanced(by: timeLimit) }
    }

    func cancel(_ reason: Stop) {
        _ = stop.compareExchange(expected: Stop.running.rawValue, desired: reason.rawValue, ordering: .relaxed)
    }

    var state: Stop { Stop(rawValue: stop.load(ordering: .relaxed)) ?? .running }

    /// Throws when the copy must end now; `what` names it for the agent.
    func check(_ what: String) throws {
        switch state {
        case .running: break
        case .cancelled:
            throw RPCError(.invalidState, "the request was cancelled while the daemon read \(what); nothing was recorded")
        case .stopping:
            throw RPCError(
                .shuttingDown, "the daemon is stopping and gave up reading \(what); nothing was recorded: send it again once the daemon is back")
        }
        if let deadline = deadline.withLock({ $0 }), ContinuousClock.now >= deadline {
            let seconds = Int((Double(timeLimit.components.seconds) + Double(timeLimit.components.attoseconds) / 1e18).rounded(.up))
            throw RPCError(
                .invalidParams,
                "reading \(what) took longer than the limit of \(seconds) s; nothing was recorded: write a smaller file, or one that nothing changes while it is read")
        }
    }

    /// Threads for blocking file work on behalf of agents. A few, so that one agent's many
    /// uploads queue behind each other instead of taking every core.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 3)
        pool.start()
        return pool
    }()

    /// Runs `body` on the copy threads with a fresh control, which is cancelled when the
    /// calling task is and stopped when the daemon shuts down gracefully.
    static func run<T: Sendable>(timeLimit: Duration, _ body: @escaping @Sendable (CopyControl) throws -> T) async throws -> T {
        let control = CopyControl(timeLimit: timeLimit)
        return try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                do {
                    return try await pool.runIfActive {
                        control.start()
                        return try body(control)
                    }
                } catch is CancellationError {
                    control.cancel(.cancelled)
                    try control.check("the file")
                    throw CancellationError()
                }
            } onCancel: {
                control.cancel(.cancelled)
            }
        } onGracefulShutdown: {
            control.cancel(.stopping)
        }
    }
}

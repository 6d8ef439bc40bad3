import Foundation
import Logging
import MLAgentProtocol
import ServiceLifecycle

/// Talks to the service manager: `READY=1` once the socket listens (migrations ran before the
/// server started), `STATUS=` with live queue counts, `WATCHDOG=1` at half the watchdog
/// interval, `STOPPING=1` at shutdown.
final class SystemdNotifier: Service {
    let core: DaemonCore
    let ready: AsyncStream<Void>
    private let logger: Logger

    init(core: DaemonCore, ready: AsyncStream<Void>) {
        self.core = core
        self.ready = ready
        self.logger = core.logger
    }

    func run() async throws {
        var iterator = ready.makeAsyncIterator()
        guard await iterator.next() != nil else { return }
        let readyState = "READY=1\nMAINPID=\(getpid())\nSTATUS=\(statusLine())"
        SystemdNotify.send(readyState)
        logger.info("ready", metadata: ["uptime_ms": "\(Int(core.uptimeSeconds * 1000))"])

        let watchdog = SystemdNotify.watchdogInterval()
        let statusEvery = core.config.statusInterval
        var tick = statusEvery
        if let watchdog { tick = min(tick, watchdog / 2) }
        if tick <= .zero { tick = .seconds(1) }
        let period = tick
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var nextStatus = clock.now + statusEvery
            var lastStatus = ""
            while !Task.isCancelled {
                do { try await Task.sleep(for: period) } catch { break }
                if watchdog != nil { SystemdNotify.send("WATCHDOG=1") }
                if clock.now >= nextStatus {
                    nextStatus = clock.now + statusEvery
                    let line = self.statusLine()
                    if line != lastStatus {
                        SystemdNotify.send("STATUS=\(line)")
                        lastStatus = line
                    }
                }
            }
        }
        SystemdNotify.send("STOPPING=1\nSTATUS=stopping: finishing in-flight requests")
        _ = try? await core.store.record(kind: EventKind.daemonStopping, message: "mlagentd stopping (pid \(getpid()))")
        logger.info("stopping")
    }

    func statusLine() -> String {
        let (counts, _, paused) = core.store.snapshot()
        return "\(counts[.queued] ?? 0) queued, \(counts[.running] ?? 0)/\(core.config.maxAgents) running, "
            + "\(counts[.completed] ?? 0) completed, \(counts[.failed] ?? 0) failed"
            + (paused ? " (paused)" : "")
    }
}

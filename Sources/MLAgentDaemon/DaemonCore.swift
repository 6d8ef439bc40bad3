import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore

/// The long-lived state every service and handler shares: configuration, the store and the
/// event bus. Created once by `Daemon` at start.
final class DaemonCore: Sendable {
    let config: DaemonConfig
    let store: Store
    let bus: EventBus
    /// Every job's tokens and cost, kept current by the usage meter.
    let usage = UsageLedger()
    /// The TCP+TLS listener's address and fingerprint, once bound (`[daemon] listen`).
    let remoteEndpoint = RemoteEndpoint()
    let logger: Logger
    let startedAt: Date
    let clock = ContinuousClock()
    let startInstant: ContinuousClock.Instant

    init(config: DaemonConfig, database: AppDatabase, logger: Logger) throws {
        self.config = config
        self.logger = logger
        let bus = EventBus()
        self.bus = bus
        self.store = try Store(database: database) { events in
            bus.publish(events)
        }
        self.startedAt = Date()
        self.startInstant = ContinuousClock.now
    }

    var uptimeSeconds: Double { (ContinuousClock.now - startInstant).seconds }
}

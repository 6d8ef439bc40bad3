import Foundation
import MLAgentClient

/// Runs the MCP tools' daemon calls: each on a connection of its own (nothing goes stale
/// between the model's calls), off Swift's cooperative threads since the client blocks. Like
/// every agent's `mlagentctl`, it waits up to a minute for a restarting daemon, and sends a call
/// that changes nothing (or carries a batch id) again after a lost connection, for up to 90 s.
struct DaemonGateway: Sendable {
    let socket: String?
    let token: String?

    init(socket: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.socket = socket
        self.token = environment["MLAGENT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func perform<T: Sendable>(idempotent: Bool, _ body: @escaping @Sendable (DaemonClient) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try self.call(idempotent: idempotent, body) })
            }
        }
    }

    private func call<T>(idempotent: Bool, _ body: (DaemonClient) throws -> T) throws -> T {
        let deadline = ContinuousClock.now + .seconds(90)
        var delay = 0.1
        while true {
            let client = try connect()
            defer { client.connection.close() }
            do {
                return try body(client)
            } catch let error as ClientError where error.isConnectionLoss {
                guard idempotent, token != nil, ContinuousClock.now < deadline else { throw error }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 2)
            }
        }
    }

    private func connect() throws -> DaemonClient {
        let deadline = ContinuousClock.now + .seconds(60)
        var delay = 0.1
        while true {
            do {
                let client = try Client(socket: socket, timeout: .seconds(3600))
                client.connection.token = token
                return client
            } catch let error as ClientError where error.isConnectionLoss {
                guard token != nil, ContinuousClock.now < deadline else { throw error }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 2)
            }
        }
    }
}

/// mlagentd's client, named apart from the MCP SDK's `Client`.
typealias DaemonClient = MLAgentClient.Client

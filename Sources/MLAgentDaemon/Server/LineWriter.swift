import Foundation
import MLAgentProtocol
import NIOCore

/// Writes one JSON value per line to a connection.
struct LineWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    func send(_ value: some Encodable) async throws {
        try await sendLine(try JSONCoding.line(value))
    }

    /// Writes an already encoded JSON line, adding the newline.
    func sendLine(_ data: Data) async throws {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 1)
        buffer.writeBytes(data)
        buffer.writeInteger(UInt8(ascii: "\n"))
        try await outbound.write(buffer)
    }
}

/// The `event` notification, encoded straight from the event.
struct EventNotification: Encodable, Sendable {
    var jsonrpc = "2.0"
    var method = Method.event
    var params: Event
}

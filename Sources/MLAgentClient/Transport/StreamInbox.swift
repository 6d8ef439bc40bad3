import Foundation
import NIOCore

/// Bytes received on an event loop, waiting for a blocking reader: a buffer behind a condition
/// variable. Past `highWater` buffered bytes the channel stops reading until the reader catches
/// up, so a fast server cannot grow the buffer without bound.
final class StreamInbox: @unchecked Sendable {
    enum ReadResult {
        case bytes([UInt8])
        case end
        case timeout
        case failed(any Error)
    }

    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var ended = false
    private var failure: (any Error)?
    private var paused = false
    private var channel: (any Channel)?
    private let highWater = 4 << 20

    func attach(_ channel: any Channel) {
        condition.lock()
        self.channel = channel
        condition.unlock()
    }

    func append(_ bytes: [UInt8]) {
        condition.lock()
        buffer.append(contentsOf: bytes)
        let pause = !paused && buffer.count > highWater
        if pause { paused = true }
        let channel = channel
        condition.signal()
        condition.unlock()
        if pause, let channel { channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
    }

    func finish(error: (any Error)?) {
        condition.lock()
        if !ended {
            ended = true
            failure = error
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits up to `timeout` (nil: forever) for bytes or the end of the stream.
    func read(limit: Int, timeout: Duration?) -> ReadResult {
        let deadline = timeout.map { Date().addingTimeInterval(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
        condition.lock()
        while buffer.isEmpty, !ended {
            if let deadline {
                if !condition.wait(until: deadline), buffer.isEmpty, !ended {
                    condition.unlock()
                    return .timeout
                }
            } else {
                condition.wait()
            }
        }
        guard !buffer.isEmpty else {
            let failure = failure
            condition.unlock()
            return failure.map { .failed($0) } ?? .end
        }
        let count = min(limit, buffer.count)
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        let resume = paused && buffer.count < highWater / 2
        if resume { paused = false }
        let channel = channel
        condition.unlock()
        if resume, let channel { channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
        return .bytes(bytes)
    }
}

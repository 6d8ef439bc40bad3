import NIOCore

/// One inbound frame: a complete line, or the notice that a line exceeded the limit.
enum InboundFrame: Sendable {
    case line(ByteBuffer)
    /// A line longer than the limit was discarded up to its newline; `length` is how many
    /// bytes were seen before giving up (at least the limit).
    case tooLong(length: Int)
}

/// Splits the byte stream at `\n` and enforces the maximum line length without buffering an
/// oversized line: once a line passes `maxLineBytes`, its bytes are dropped until the next
/// newline, one `.tooLong` frame is emitted, and the connection keeps working.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    let maxLineBytes: Int
    private var discarding = false
    private var discarded = 0
    private var scanned = 0

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let readable = buffer.readableBytesView
        let searchStart = readable.startIndex + scanned
        if let newline = readable[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - readable.startIndex
            scanned = 0
            if discarding {
                let total = discarded + length
                buffer.moveReaderIndex(forwardBy: length + 1)
                discarding = false
                discarded = 0
                context.fireChannelRead(Self.wrapInboundOut(.tooLong(length: total)))
                return .continue
            }
            if length > maxLineBytes {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(Self.wrapInboundOut(.tooLong(length: length)))
                return .continue
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
            return .continue
        }
        // No newline yet.
        if discarding || readable.count > maxLineBytes {
            discarding = true
            discarded += readable.count
            buffer.moveReaderIndex(forwardBy: readable.count)
            scanned = 0
            return .needMoreData
        }
        scanned = readable.count
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A final line without a newline is still a request.
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if buffer.readableBytes > 0, !discarding {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            scanned = 0
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}

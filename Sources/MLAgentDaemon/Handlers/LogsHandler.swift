import Foundation
import MLAgentProtocol

/// `job.logs`: a chunk of an agent's stdout/stderr log.
struct LogsHandler: RequestHandler {
    static let method = Method.logs
    static let maxChunk = 256 * 1024
    let core: DaemonCore

    func handle(_ params: LogsParams, context: RequestContext) async throws -> LogChunk {
        let job = try await core.store.job(id: params.id)
        let limit = min(max(params.limit ?? Self.maxChunk, 1), Self.maxChunk)
        guard let path = job.logPath, let handle = FileHandle(forReadingAtPath: path) else {
            return LogChunk(jobID: job.id, offset: 0, nextOffset: 0, size: 0, data: "", running: job.state == .running)
        }
        defer { try? handle.close() }
        let size = Int64(try handle.seekToEnd())
        var offset = params.offset ?? 0
        if offset < 0 { offset = max(0, size + offset) }
        offset = min(offset, size)
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: limit) ?? Data()
        // Never split a UTF-8 sequence: stop before an incomplete trailing character, unless it
        // is the end of a log nothing writes to any more (the job is not running): then the
        // trailing bytes are returned, with replacement characters where they are invalid.
        let atEnd = offset + Int64(data.count) >= size
        let usable = atEnd && job.state != .running ? data.count : Self.completeUTF8Prefix(data)
        let text = String(decoding: data.prefix(usable), as: UTF8.self)
        return LogChunk(
            jobID: job.id, offset: offset, nextOffset: offset + Int64(usable), size: size, data: text,
            running: job.state == .running)
    }

    /// The length of the longest prefix of `data` that does not end inside a UTF-8 sequence.
    static func completeUTF8Prefix(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        let count = bytes.count
        var index = count - 1
        var continuation = 0
        while index >= 0, index >= count - 4, bytes[index] & 0xC0 == 0x80 {
            index -= 1
            continuation += 1
        }
        guard index >= 0 else { return count }
        let lead = bytes[index]
        let needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0
        return continuation >= needed ? count : index
    }
}

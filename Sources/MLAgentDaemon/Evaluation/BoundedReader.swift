import Foundation
import MLAgentProtocol

/// Reads a regular file an agent named through the descriptor that was checked, in bounded
/// chunks from its start until `read` says end of file, whatever `stat` said. The file must
/// keep the size it had when it was opened and its single link: one that grows, shrinks or
/// gains a hard link while it is read is refused, as is one over the size limit, one that
/// takes longer than the time limit, and one whose copy was stopped.
struct BoundedReader {
    static let defaultChunkBytes = 1 << 20

    /// The limit on the file's size, and how to tell the agent about it.
    struct Limit {
        var bytes: Int64
        /// Says what the limit is, e.g. "the artifact limit of 1073741824 bytes".
        var described: String
    }

    /// What the agent called the file, for messages.
    let shownAs: String
    let limit: Limit
    let control: CopyControl
    var chunkBytes = Self.defaultChunkBytes

    /// Refuses `file` unless it is a regular file with a single link within the size limit.
    func check(_ file: borrowing BeneathOpener.Opened) throws {
        guard file.isRegular else {
            throw RPCError(.invalidParams, "\(shownAs) is not a regular file", context: ["path": .string(shownAs)])
        }
        guard file.info.st_nlink <= 1 else {
            throw RPCError(
                .invalidParams,
                "\(shownAs) has \(file.info.st_nlink) hard links; the daemon reads only files with a single link (a hard link can be a file from outside your worktree): write or copy the file instead of linking it",
                context: ["path": .string(shownAs), "links": .int(Int64(file.info.st_nlink))])
        }
        guard Int64(file.info.st_size) <= limit.bytes else { throw tooLarge(size: Int64(file.info.st_size)) }
    }

    /// Reads all of `file` (checked first), handing each chunk to `sink`; returns the bytes read.
    @discardableResult
    func read(_ file: borrowing BeneathOpener.Opened, sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        try check(file)
        let size = Int64(file.info.st_size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            try control.check(shownAs)
            let count = pread(file.fd, buffer.baseAddress, chunkBytes, off_t(total))
            if count < 0 {
                if errno == EINTR { continue }
                throw RPCError(
                    .invalidParams, "cannot read \(shownAs): \(String(cString: strerror(errno)))", context: ["path": .string(shownAs)])
            }
            if count == 0 { break }
            total += Int64(count)
            if total > size { throw changed(grew: true, from: size, to: total) }
            try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        if total < size { throw changed(grew: false, from: size, to: total) }
        var after = stat()
        guard fstat(file.fd, &after) == 0 else {
            throw RPCError(.invalidParams, "cannot read \(shownAs): \(String(cString: strerror(errno)))", context: ["path": .string(shownAs)])
        }
        if Int64(after.st_size) != total { throw changed(grew: Int64(after.st_size) > total, from: size, to: Int64(after.st_size)) }
        guard after.st_nlink <= 1 else {
            throw RPCError(
                .invalidParams,
                "\(shownAs) gained a hard link while the daemon read it; the daemon reads only files with a single link",
                context: ["path": .string(shownAs)])
        }
        return total
    }

    /// Reads all of `file` into memory.
    func readAll(_ file: borrowing BeneathOpener.Opened) throws -> Data {
        var data = Data()
        data.reserveCapacity(Int(min(Int64(file.info.st_size), limit.bytes)))
        try read(file) { data.append(contentsOf: $0) }
        return data
    }

    /// Copies all of `file` to the descriptor `destination`; returns the bytes copied.
    @discardableResult
    func copy(_ file: borrowing BeneathOpener.Opened, to destination: Int32) throws -> Int64 {
        try read(file) { chunk in
            var offset = 0
            while offset < chunk.count {
                let written = write(destination, chunk.baseAddress! + offset, chunk.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw RPCError(.internalError, "cannot write the copy of \(shownAs): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    func tooLarge(size: Int64) -> RPCError {
        RPCError(
            .invalidParams,
            "\(shownAs) is \(size) bytes, more than \(limit.described); nothing was copied",
            context: ["path": .string(shownAs), "limit": .int(limit.bytes), "bytes": .int(size)])
    }

    private func changed(grew: Bool, from before: Int64, to after: Int64) -> RPCError {
        RPCError(
            .invalidParams,
            "\(shownAs) \(grew ? "grew" : "shrank") while the daemon read it (\(before) bytes when opened, \(grew ? "at least " : "")\(after) bytes then); nothing was recorded: finish writing the file before you send it, and leave it alone until the call returns",
            context: ["path": .string(shownAs), "bytes_at_open": .int(before)])
    }
}

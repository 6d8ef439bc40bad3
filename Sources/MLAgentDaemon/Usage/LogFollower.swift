import Foundation

/// Follows one growing log file from its last offset and hands out complete lines. Memory is
/// bounded: at most `chunk` bytes are read per call, and a line longer than `maxLine` is
/// dropped whole (nothing that long carries usage worth reading). Costs one `stat` when the
/// file did not grow.
struct LogFollower {
    let path: String
    var offset: UInt64 = 0
    private var pending: [UInt8] = []
    private var dropping = false
    static let chunk = 1 << 20
    static let maxLine = 4 << 20

    init(path: String) { self.path = path }

    /// Reads what was appended since the last call (up to `chunk` bytes) and calls `line` for
    /// each complete line. Returns whether more is left to read.
    mutating func read(_ line: (UnsafeRawBufferPointer) -> Void) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let size = UInt64(info.st_size)
        if size < offset {
            // Truncated or replaced: start again from its beginning.
            offset = 0
            pending.removeAll()
        }
        guard size > offset else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let wanted = Int(min(UInt64(Self.chunk), size - offset))
        var buffer = [UInt8](repeating: 0, count: wanted)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(offset)) }
        guard got > 0 else { return false }
        offset += UInt64(got)
        buffer.withUnsafeBytes { raw in
            var start = 0
            while start < got {
                guard let found = memchr(raw.baseAddress! + start, 0x0A, got - start) else {
                    append(UnsafeRawBufferPointer(rebasing: raw[start..<got]))
                    return
                }
                let end = raw.baseAddress!.distance(to: UnsafeRawPointer(found))
                let piece = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                if dropping {
                    dropping = false
                } else if pending.isEmpty {
                    line(piece)
                } else {
                    append(piece)
                    if !dropping { pending.withUnsafeBytes { line($0) } }
                    dropping = false
                }
                pending.removeAll(keepingCapacity: true)
                start = end + 1
            }
        }
        return offset < size
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !dropping else { return }
        if pending.count + bytes.count > Self.maxLine {
            pending.removeAll()
            dropping = true
        } else {
            pending.append(contentsOf: bytes)
        }
    }
}

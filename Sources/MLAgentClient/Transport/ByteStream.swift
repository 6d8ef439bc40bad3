import Foundation

/// The bytes under a ``Connection``: a Unix socket's descriptor or a TLS stream. Blocking; not
/// thread-safe (one connection per thread).
protocol ByteStream: AnyObject {
    /// Writes every byte, or throws.
    func write(_ bytes: [UInt8]) throws
    /// Reads what is there (at most `limit` bytes), blocking until something is; empty at end
    /// of stream. Throws ``ClientError/timeout`` after the connection's read timeout.
    func read(limit: Int) throws -> [UInt8]
    func close()
}

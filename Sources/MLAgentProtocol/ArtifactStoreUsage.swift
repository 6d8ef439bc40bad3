/// Bytes and files in the daemon's artifact store, with the store's caps (`daemon.status`).
public struct ArtifactStoreUsage: Sendable, Codable, Equatable {
    public var bytes: Int64
    public var files: Int64
    public var maxBytes: Int64
    public var maxFiles: Int64

    public init(bytes: Int64, files: Int64, maxBytes: Int64, maxFiles: Int64) {
        self.bytes = bytes
        self.files = files
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
    }

    enum CodingKeys: String, CodingKey {
        case bytes, files
        case maxBytes = "max_bytes"
        case maxFiles = "max_files"
    }
}

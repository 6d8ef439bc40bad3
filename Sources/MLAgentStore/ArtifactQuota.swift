public import MLAgentProtocol

/// Totals the artifact store keeps per job, per direction and in all, so that no agent can
/// fill the disk by uploading many artifacts each under the per-artifact limit.
public struct ArtifactQuota: Sendable, Equatable {
    public struct Cap: Sendable, Equatable {
        public var bytes: Int64
        public var files: Int64
        public init(bytes: Int64, files: Int64) {
            self.bytes = bytes
            self.files = files
        }
    }

    public var job: Cap
    public var direction: Cap
    public var store: Cap

    public init(job: Cap, direction: Cap, store: Cap) {
        self.job = job
        self.direction = direction
        self.store = store
    }

    /// What is used now, for each scope.
    public struct Used: Sendable, Equatable {
        public var job: Cap
        public var direction: Cap
        public var store: Cap
    }

    /// The room left for one more upload: the smallest of the three, with the cap that sets it.
    public struct Room: Sendable, Equatable {
        public var bytes: Int64
        public var files: Int64
        /// Names the cap that leaves the least room, e.g. "the job's artifact total of 4294967296 bytes".
        public var bytesCap: String
        public var filesCap: String
    }

    public func room(_ used: Used) -> Room {
        let scopes: [(String, Cap, Cap, String)] = [
            ("the job's", job, used.job, "max_job_artifact"),
            ("the direction's", direction, used.direction, "max_direction_artifact"),
            ("the artifact store's", store, used.store, "max_store_artifact"),
        ]
        var room = Room(bytes: .max, files: .max, bytesCap: "", filesCap: "")
        for (owner, cap, used, key) in scopes {
            let bytes = cap.bytes - used.bytes
            if bytes < room.bytes {
                room.bytes = bytes
                room.bytesCap = "\(owner) artifact total of \(cap.bytes) bytes ([evaluation] \(key)_bytes; \(used.bytes) used)"
            }
            let files = cap.files - used.files
            if files < room.files {
                room.files = files
                room.filesCap = "\(owner) artifact total of \(cap.files) files ([evaluation] \(key)_files; \(used.files) used)"
            }
        }
        return room
    }

    /// Why an artifact of `bytes` and `files` does not fit, or nil.
    public func problem(adding bytes: Int64, files: Int64, to used: Used) -> String? {
        let room = room(used)
        if bytes > room.bytes { return "an artifact of \(bytes) bytes does not fit \(room.bytesCap)" }
        if files > room.files { return "an artifact of \(files) files does not fit \(room.filesCap)" }
        return nil
    }

    public static func exceeded(_ problem: String, run: Int64) -> RPCError {
        RPCError(
            .limitExceeded, "\(problem); nothing was stored. Keep fewer or smaller artifacts (the model and what explains it)",
            context: ["run": .int(run)])
    }
}

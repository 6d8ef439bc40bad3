import Foundation

/// Shared code on `main` (`shared/NAME/`): an agent proposes files from its worktree as a
/// utility that later agents may import; the proposal is a record of its own, with the files'
/// contents as they were when it was made.
public struct ShareProposeParams: Sendable, Codable, Equatable {
    /// The utility's slug; a name already proposed gets its next version.
    public var name: String
    public var summary: String
    /// Absolute paths inside the agent's worktree (files, not directories).
    public var paths: [String]
    /// The proposal's tests (pytest files), also inside the worktree.
    public var tests: [String]?
    /// The runs that used the code; default: the direction's finished runs.
    public var runs: [Int64]?

    public init(name: String, summary: String, paths: [String], tests: [String]? = nil, runs: [Int64]? = nil) {
        self.name = name
        self.summary = summary
        self.paths = paths
        self.tests = tests
        self.runs = runs
    }
}

/// One file of a proposal: where it lands under `shared/NAME/`, its size and SHA-256.
public struct ShareFile: Sendable, Codable, Equatable {
    public var path: String
    public var bytes: Int
    public var sha256: String
    public var isTest: Bool

    public init(path: String, bytes: Int, sha256: String, isTest: Bool) {
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
        self.isTest = isTest
    }

    enum CodingKeys: String, CodingKey {
        case path, bytes, sha256
        case isTest = "is_test"
    }
}

/// A proposal: `proposed` until its review (later steps: `tested`, `approved`, `rejected`,
/// `landed`).
public struct ShareProposal: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var version: Int
    public var status: String
    public var summary: String
    public var direction: String
    public var jobID: Int64
    public var runs: [Int64]
    public var files: [ShareFile]
    public var createdAt: String

    public init(
        id: Int64, name: String, version: Int, status: String, summary: String, direction: String, jobID: Int64,
        runs: [Int64], files: [ShareFile], createdAt: String
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.status = status
        self.summary = summary
        self.direction = direction
        self.jobID = jobID
        self.runs = runs
        self.files = files
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, version, status, summary, direction, runs, files
        case jobID = "job_id"
        case createdAt = "created_at"
    }
}

public struct ShareIDParams: Sendable, Codable, Equatable {
    public var id: Int64
    public init(id: Int64) { self.id = id }
}

public struct ShareList: Sendable, Codable, Equatable {
    public var proposals: [ShareProposal]
    public init(proposals: [ShareProposal]) { self.proposals = proposals }
}

/// A proposal with its files' text (`share.show`).
public struct ShareDetail: Sendable, Codable, Equatable {
    public var proposal: ShareProposal
    /// path → the file's text (UTF-8; the daemon takes only text files).
    public var contents: [String: String]

    public init(proposal: ShareProposal, contents: [String: String]) {
        self.proposal = proposal
        self.contents = contents
    }
}

/// The rules of shared code: names, sizes and what counts as data.
public enum ShareRules {
    public static let maxFileBytes = 1 << 20
    public static let maxTotalBytes = 4 << 20
    public static let maxFiles = 200
    public static let maxSummaryBytes = 4096
    /// Extensions of data files, never shared.
    public static let dataExtensions: Set<String> = [
        "csv", "tsv", "parquet", "feather", "arrow", "npy", "npz", "pkl", "pickle", "joblib", "h5", "hdf5", "xlsx", "xls",
        "zip", "gz", "bz2", "xz", "zst", "tar", "db", "sqlite", "sqlite3", "skops", "onnx", "pt", "pth", "safetensors",
    ]

    /// A slug: lowercase letters, digits and single hyphens, 2–48 characters.
    public static func nameProblem(_ name: String) -> String? {
        let valid = name.utf8.count >= 2 && name.utf8.count <= 48
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && !name.hasPrefix("-") && !name.hasSuffix("-") && !name.contains("--")
        return valid
            ? nil
            : "shared module name \"\(name)\" must be a slug: 2 to 48 lowercase letters, digits and single hyphens (e.g. target-encoding); no /, .. or spaces"
    }

    /// Whether `text` looks like a table of values rather than code: at least 20 lines, nine in
    /// ten of them numbers separated by commas, tabs, semicolons or spaces.
    public static func looksLikeData(_ text: Substring) -> Bool {
        var lines = 0
        var numeric = 0
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            lines += 1
            let fields = trimmed.split(whereSeparator: { ",;\t ".contains($0) })
            if !fields.isEmpty, fields.allSatisfy({ Double($0) != nil }) { numeric += 1 }
        }
        return lines >= 20 && numeric * 10 >= lines * 9
    }
}

extension Method {
    public static let sharePropose = "share.propose"
    public static let shareList = "share.list"
    public static let shareShow = "share.show"
}

extension EventKind {
    /// An agent proposed shared code (`data.proposal`, `data.name`, `data.version`, `data.files`).
    public static let shareProposed = "share.proposed"
}

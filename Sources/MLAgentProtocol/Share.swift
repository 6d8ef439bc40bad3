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

/// Where a proposal stands. `proposed` → gate 1 (its tests and those of every shared module on
/// `main`) → `failed` or `tested` → review → `rejected` or `approved` → `landed` (or `failed`
/// when the tests, run again on a `main` that moved, fail). An older version still pending
/// when a newer one lands is `superseded`.
public enum ShareStatus {
    public static let proposed = "proposed"
    public static let tested = "tested"
    public static let failed = "failed"
    public static let approved = "approved"
    public static let rejected = "rejected"
    public static let landed = "landed"
    public static let superseded = "superseded"
    /// States a proposal never leaves.
    public static let final: Set<String> = [failed, rejected, landed, superseded]
}

/// A proposal of shared code and where it stands.
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
    /// Who decided: `operator`, `job N` (a reviewer agent) or `tests` (`[shared] review = "tests"`).
    public var reviewer: String?
    /// The reviewer's reason, or why the tests failed.
    public var reason: String?
    /// The reviewer job launched for it (`[shared] review = "agent"`).
    public var reviewJob: Int64?
    /// The `main` commit it landed with.
    public var landedCommit: String?
    /// The last run of its tests.
    public var test: ShareTestSummary?

    public init(
        id: Int64, name: String, version: Int, status: String, summary: String, direction: String, jobID: Int64,
        runs: [Int64], files: [ShareFile], createdAt: String, reviewer: String? = nil, reason: String? = nil,
        reviewJob: Int64? = nil, landedCommit: String? = nil, test: ShareTestSummary? = nil
    ) {
        self.reviewer = reviewer
        self.reason = reason
        self.reviewJob = reviewJob
        self.landedCommit = landedCommit
        self.test = test
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
        case id, name, version, status, summary, direction, runs, files, reviewer, reason, test
        case jobID = "job_id"
        case createdAt = "created_at"
        case reviewJob = "review_job"
        case landedCommit = "landed_commit"
    }
}

/// One run of a proposal's tests (gate 1, or again before landing on a `main` that moved).
public struct ShareTestSummary: Sendable, Codable, Equatable {
    public var passed: Bool
    /// The `main` commit the candidate was built on.
    public var mainCommit: String
    /// One line: what ran and how it ended.
    public var summary: String
    public var seconds: Double
    public var at: String

    public init(passed: Bool, mainCommit: String, summary: String, seconds: Double, at: String) {
        self.passed = passed
        self.mainCommit = mainCommit
        self.summary = summary
        self.seconds = seconds
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case passed, summary, seconds, at
        case mainCommit = "main_commit"
    }
}

/// A test run with its output (`share.show`).
public struct ShareTestRun: Sendable, Codable, Equatable {
    public var summary: ShareTestSummary
    /// pytest's output (the last 64 KiB).
    public var output: String

    public init(summary: ShareTestSummary, output: String) {
        self.summary = summary
        self.output = output
    }
}

/// `share.approve` and `share.reject` (operator): a decision with its reason.
public struct ShareDecisionParams: Sendable, Codable, Equatable {
    public var id: Int64
    public var reason: String?
    public init(id: Int64, reason: String? = nil) {
        self.id = id
        self.reason = reason
    }
}

/// `share.review` (a reviewer agent): its verdict on the proposal it was launched for.
public struct ShareReviewParams: Sendable, Codable, Equatable {
    public var id: Int64
    public var approve: Bool
    public var reason: String?
    public init(id: Int64, approve: Bool, reason: String? = nil) {
        self.id = id
        self.approve = approve
        self.reason = reason
    }
}

/// `share.diff`: the proposal against `shared/NAME/` on the `main` its tests last ran on.
public struct ShareDiff: Sendable, Codable, Equatable {
    public var id: Int64
    public var mainCommit: String
    /// A unified diff (`git diff`), new files in full.
    public var diff: String

    public init(id: Int64, mainCommit: String, diff: String) {
        self.id = id
        self.mainCommit = mainCommit
        self.diff = diff
    }

    enum CodingKeys: String, CodingKey {
        case id, diff
        case mainCommit = "main_commit"
    }
}

/// A shared module on `main` and who adopted it (`summary`, the dashboard).
public struct SharedModule: Sendable, Codable, Equatable {
    public var name: String
    public var version: Int
    public var summary: String
    public var direction: String
    /// What a run imports: its top-level Python modules and packages.
    public var imports: [String]
    /// Each direction whose runs recorded it (`run start --uses`), with those runs' best public score.
    public var adoptions: [Adoption]

    public struct Adoption: Sendable, Codable, Equatable {
        public var direction: String
        public var runs: [Int64]
        public var best: Double?
        public init(direction: String, runs: [Int64], best: Double?) {
            self.direction = direction
            self.runs = runs
            self.best = best
        }
    }

    public init(name: String, version: Int, summary: String, direction: String, imports: [String], adoptions: [Adoption]) {
        self.name = name
        self.version = version
        self.summary = summary
        self.direction = direction
        self.imports = imports
        self.adoptions = adoptions
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
    /// Every run of its tests, oldest first.
    public var tests: [ShareTestRun]

    public init(proposal: ShareProposal, contents: [String: String], tests: [ShareTestRun] = []) {
        self.proposal = proposal
        self.contents = contents
        self.tests = tests
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
    public static let shareDiff = "share.diff"
    public static let shareApprove = "share.approve"
    public static let shareReject = "share.reject"
    public static let shareReview = "share.review"
}

extension EventKind {
    /// An agent proposed shared code (`data.proposal`, `data.name`, `data.version`, `data.files`).
    public static let shareProposed = "share.proposed"
    /// A proposal's tests passed or failed (`data.proposal`, `data.passed`, `data.main_commit`).
    public static let shareTested = "share.tested"
    public static let shareApproved = "share.approved"
    public static let shareRejected = "share.rejected"
    /// A proposal landed under `shared/NAME/` (`data.commit`).
    public static let shareLanded = "share.landed"
}

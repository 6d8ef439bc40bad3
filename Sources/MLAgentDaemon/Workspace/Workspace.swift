import Foundation
import Logging
import MLAgentProtocol

/// The research workspace: a git repository whose `main` is the shared knowledge base
/// (`data/`, `research_directions/`, `mlruns/`). Agents work in worktrees under the state
/// directory; only `land` writes `main`, through `git fast-import`, so no worktree in use
/// ever sees files change under it.
struct Workspace: Sendable {
    let path: String
    let stateDir: String
    let git: Git
    /// Serialises every git operation on the repository (its lock files allow one writer).
    let lock = AsyncLock()

    var targetsDir: String { (stateDir as NSString).appendingPathComponent("targets") }
    var worktreesDir: String { (stateDir as NSString).appendingPathComponent("worktrees") }

    static let targetSuffix = "_y.csv"
    static let datasetFiles = ["train.csv", "val_public_X.csv", "val_private_X.csv"]
    static let targetFiles = ["val_public_y.csv", "val_private_y.csv"]

    init(path: String, stateDir: String) {
        self.path = path
        self.stateDir = stateDir
        self.git = Git(directory: path)
    }

    /// Opens the workspace, creating it from `dataDir` when it is missing or empty. An existing
    /// workspace is used as it is, but one that tracks target files is refused.
    static func prepare(path: String, stateDir: String, dataDir: String, logger: Logger) async throws -> Workspace {
        let workspace = Workspace(path: path, stateDir: stateDir)
        let manager = FileManager.default
        let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? []
        if contents.isEmpty {
            try await workspace.create(from: dataDir, logger: logger)
        } else {
            guard manager.fileExists(atPath: (path as NSString).appendingPathComponent(".git")) else {
                throw ConfigError(
                    "workspace \(path) exists but is not a git repository; point --workspace at an empty or missing directory to create one, or at an mlagent workspace")
            }
            let tracked = try await workspace.git.run(["ls-files", "-z", "--", "*\(targetSuffix)"])
                .split(separator: "\0").map(String.init)
            if !tracked.isEmpty {
                throw ConfigError(
                    "workspace \(path) tracks target files (\(tracked.joined(separator: ", "))); agents must never see targets. Remove them from every commit (for example with git filter-repo), move them to the --data directory, and restart")
            }
            _ = try await workspace.git.run(["rev-parse", "--verify", "refs/heads/main"])
        }
        try workspace.importTargets(from: dataDir, logger: logger)
        try manager.createDirectory(atPath: workspace.worktreesDir, withIntermediateDirectories: true)
        return workspace
    }

    private func create(from dataDir: String, logger: Logger) async throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        try await git.run(["init", "--quiet", "--initial-branch=main"])
        try await git.run(["config", "gc.auto", "0"])
        var files: [String: Landing.Content] = [:]
        var missing: [String] = []
        for name in Self.datasetFiles {
            let source = (dataDir as NSString).appendingPathComponent(name)
            if manager.fileExists(atPath: source) {
                files["data/\(name)"] = .file(source)
            } else {
                missing.append(name)
            }
        }
        if !missing.isEmpty {
            logger.warning(
                "dataset incomplete: the workspace is created without these files",
                metadata: ["data_dir": "\(dataDir)", "missing": "\(missing.joined(separator: ","))"])
        }
        files["research_directions/README.md"] = .text(Templates.researchDirectionsReadme)
        files["mlruns/README.md"] = .text(Templates.mlrunsReadme)
        files[".gitignore"] = .text(Templates.gitignore)
        _ = try await landUnlocked([Landing(intentID: 0, message: "Initialize the research workspace", files: files)])
        logger.info("workspace created", metadata: ["workspace": "\(path)", "data_dir": "\(dataDir)"])
    }

    /// Copies `*_y.csv` from the dataset into `<state>/targets` (mode 0600) once.
    func importTargets(from dataDir: String, logger: Logger) throws {
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: targetsDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let sources = ((try? manager.contentsOfDirectory(atPath: dataDir)) ?? []).filter { $0.hasSuffix(Self.targetSuffix) }
        for name in sources {
            let destination = (targetsDir as NSString).appendingPathComponent(name)
            if manager.fileExists(atPath: destination) { continue }
            let temporary = destination + ".tmp"
            try? manager.removeItem(atPath: temporary)
            try manager.copyItem(atPath: (dataDir as NSString).appendingPathComponent(name), toPath: temporary)
            chmod(temporary, 0o600)
            rename(temporary, destination)
            logger.info("imported targets", metadata: ["file": "\(name)"])
        }
    }

    // MARK: main

    /// What one landing writes on `main`, in one commit.
    struct Landing: Sendable {
        enum Content: Sendable {
            case text(String)
            case file(String)
            /// Every regular file under a directory, at `<prefix>/<relative path>`.
            case directory(String)
        }
        /// The intent this landing carries out (0 for the initial commit); recorded as a
        /// `Mlagent-Intent:` trailer so that a replay after a crash is recognised.
        var intentID: Int64
        var message: String
        var files: [String: Content]
        /// Paths (files or whole directories) removed before `files` are written.
        var deletions: [String] = []
    }

    /// Lands each landing as its own commit on top of `main`, all through one `git fast-import`
    /// process (the cost of starting git is paid once per batch, not once per direction).
    /// fast-import updates `refs/heads/main` only as a fast-forward from the commit the batch
    /// started from. Returns the new commit ids, in order.
    func land(batch landings: [Landing]) async throws -> [String] {
        guard !landings.isEmpty else { return [] }
        return try await lock.withLock { try await landUnlocked(landings) }
    }

    private func landUnlocked(_ landings: [Landing]) async throws -> [String] {
        let hasMain = try await git.status(["rev-parse", "--verify", "--quiet", "refs/heads/main"]).status == 0
        // The fast-import stream goes through a file, written in pieces: a landing may carry
        // large artifacts, and none of it has to fit in memory at once.
        let streamPath = (stateDir as NSString).appendingPathComponent("landing/fast-import-\(UInt64.random(in: 0...UInt64.max)).stream")
        try FileManager.default.createDirectory(
            atPath: (streamPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: streamPath) }
        let stream = try FastImportStream(path: streamPath)
        let now = Int(Date().timeIntervalSince1970)
        for (index, landing) in landings.enumerated() {
            var message = landing.message
            if landing.intentID > 0 { message += "\n\nMlagent-Intent: \(landing.intentID)\n" }
            let messageData = Data(message.utf8)
            try stream.write("commit refs/heads/main\n")
            try stream.write("mark :\(index + 1)\n")
            try stream.write("committer mlagentd <mlagentd@localhost> \(now) +0000\n")
            try stream.write("data \(messageData.count)\n")
            try stream.write(messageData)
            try stream.write("\n")
            if index == 0, hasMain { try stream.write("from refs/heads/main^0\n") }
            for path in landing.deletions {
                try Self.checkKnowledgeBasePath(path)
                try stream.write("D \(path)\n")
            }
            for (path, content) in landing.files.sorted(by: { $0.key < $1.key }) {
                if landing.intentID > 0 { try Self.checkKnowledgeBasePath(path) }
                switch content {
                case .text(let text):
                    try stream.blob(Data(text.utf8), path: path)
                case .file(let source):
                    try stream.blob(file: source, path: path)
                case .directory(let source):
                    let enumerator = FileManager.default.enumerator(atPath: source)
                    while let relative = enumerator?.nextObject() as? String {
                        let full = (source as NSString).appendingPathComponent(relative)
                        var isDirectory: ObjCBool = false
                        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue
                        else { continue }
                        // Never a path git cannot check out (uploads refuse them already).
                        if GitPathRules.problem(path + "/" + relative) != nil { continue }
                        try stream.blob(file: full, path: path + "/" + relative)
                    }
                }
            }
            try stream.write("\n")
        }
        for index in landings.indices { try stream.write("get-mark :\(index + 1)\n") }
        try stream.write("done\n")
        try stream.close()
        let output = try await git.run(["fast-import", "--quiet", "--done", "--cat-blob-fd=1"], inputFile: streamPath)
        let commits = output.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard commits.count == landings.count else {
            throw Git.Failure(arguments: ["fast-import"], status: 0, stderr: "expected \(landings.count) commit ids, got: \(output)")
        }
        return commits
    }

    /// The intents already carried out on `main` (from the `Mlagent-Intent:` trailers of its
    /// recent history), with the commit that carried out each.
    func landedIntents() async throws -> [Int64: String] {
        let log = try await lock.withLock {
            try await git.run(["log", "-n", "500", "--format=%H %(trailers:key=Mlagent-Intent,valueonly,separator=%x20)", "refs/heads/main"])
        }
        var landed: [Int64: String] = [:]
        for line in log.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let commit = fields.first else { continue }
            for id in fields.dropFirst().compactMap({ Int64($0) }) { landed[id] = String(commit) }
        }
        return landed
    }

    /// Pushes `main` to `remote` (a fast-forward; the remote's main is never rewritten).
    func pushMain(to remote: String) async throws {
        _ = try await lock.withLock { try await git.run(["push", "--quiet", remote, "refs/heads/main:refs/heads/main"]) }
    }

    // MARK: Worktrees

    /// A fresh worktree for a job on `exp/<direction>` from the current `main`, or detached
    /// when the agent has yet to declare its direction.
    func addWorktree(name: String, branch: String?) async throws -> String {
        try await lock.withLock { try await addWorktreeUnlocked(name: name, branch: branch) }
    }

    private func addWorktreeUnlocked(name: String, branch: String?, directory: String? = nil) async throws -> String {
        if let directory { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let location = ((directory ?? worktreesDir) as NSString).appendingPathComponent(name)
        var info = stat()
        if lstat(location, &info) == 0 || FileManager.default.fileExists(atPath: metadata(of: location)) {
            // Left by an earlier attempt: the agent's files go without any link being followed,
            // and git forgets the worktree (its metadata points at a missing directory).
            try TreeRemover.remove(location)
            try await git.run(["worktree", "prune"])
        }
        if let branch {
            let exists = try await git.status(["rev-parse", "--verify", "--quiet", "refs/heads/\(branch)"]).status == 0
            if exists {
                try await git.run(["worktree", "add", "--quiet", location, branch])
            } else {
                try await git.run(["worktree", "add", "--quiet", "-b", branch, location, "main"])
            }
        } else {
            try await git.run(["worktree", "add", "--quiet", "--detach", location, "main"])
        }
        let recorded = (try? String(contentsOfFile: metadata(of: location) + "/gitdir", encoding: .utf8)) ?? ""
        guard recorded.trimmingCharacters(in: .whitespacesAndNewlines) == location + "/.git" else {
            throw ConfigError("git recorded the worktree \(location) elsewhere than \(metadata(of: location)); remove stale entries with `git worktree prune` in \(path)")
        }
        return location
    }

    /// A fresh worktree (as ``addWorktree(name:branch:)``) and the commit `main` was at when it
    /// was made, read under the same lock: where a job started.
    /// `directory` is where it is made (default: the state directory's `worktrees/`).
    func addWorktreeFromMain(name: String, branch: String?, directory: String? = nil) async throws -> (path: String, main: String) {
        try await lock.withLock {
            let main = try await git.run(["rev-parse", "--verify", "refs/heads/main^{commit}"]).trimmingCharacters(in: .whitespacesAndNewlines)
            return (try await addWorktreeUnlocked(name: name, branch: branch, directory: directory), main)
        }
    }

    /// The worktree's own metadata in the workspace repository (`.git/worktrees/<name>`), which
    /// agents cannot write. The `.git` file inside the worktree is the agent's and never read.
    func metadata(of worktree: String) -> String {
        (path as NSString).appendingPathComponent(".git/worktrees/\((worktree as NSString).lastPathComponent)")
    }

    /// Names the worktree's branch once the agent declared its direction: the branch is created
    /// at the worktree's commit and its HEAD (in the workspace's metadata) points at it.
    func attachBranch(worktree: String, branch: String) async throws {
        try await lock.withLock {
            let meta = Git(gitDir: metadata(of: worktree))
            let ref = "refs/heads/\(branch)"
            if try await git.status(["rev-parse", "--verify", "--quiet", ref]).status != 0 {
                let head = try await meta.run(["rev-parse", "--verify", "HEAD^{commit}"])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                try await git.run(["update-ref", "-m", "mlagentd: direction declared", ref, head, ""])
            }
            try await meta.run(["symbolic-ref", "HEAD", ref])
        }
    }

    /// Commits whatever the agent left in its worktree to its branch (the archive), then
    /// removes the worktree. The branch is kept forever. Returns the archive commit.
    @discardableResult
    func archiveAndRemove(worktree: String, fallbackBranch: String, message: String) async throws -> String? {
        try await lock.withLock {
            try await archiveAndRemoveUnlocked(worktree: worktree, fallbackBranch: fallbackBranch, message: message)
        }
    }

    /// The archive is written like a landing: the daemon reads the files itself
    /// (`WorktreeSnapshot`) and `git fast-import` in the workspace writes the commit, on a
    /// scratch ref first so that a worktree left unchanged adds no commit. The branch is the one
    /// the worktree's metadata names, or `fallbackBranch` when the agent never declared.
    private func archiveAndRemoveUnlocked(worktree: String, fallbackBranch: String, message: String) async throws -> String? {
        var info = stat()
        guard lstat(worktree, &info) == 0 else {
            try await git.run(["worktree", "prune"])
            return nil
        }
        let meta = Git(gitDir: metadata(of: worktree))
        let hasMetadata = FileManager.default.fileExists(atPath: metadata(of: worktree) + "/HEAD")
        var branch = "refs/heads/\(fallbackBranch)"
        var detached: String?
        if hasMetadata {
            let symbolic = try await meta.status(["symbolic-ref", "--quiet", "HEAD"])
            if symbolic.status == 0 {
                branch = symbolic.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                // Never declared: the work is kept on a branch named after the job.
                detached = try await revision("HEAD", in: meta)
            }
        }
        let branchHead = try await revision(branch)
        var start = branchHead ?? detached
        if start == nil { start = try await revision("refs/heads/main") }
        guard let parent = start else { throw ConfigError("cannot archive \(worktree): no commit to start from") }
        let scratch = "refs/mlagent/archive/\((worktree as NSString).lastPathComponent)"
        _ = try? await git.run(["update-ref", "-d", scratch])
        let streamPath = (stateDir as NSString).appendingPathComponent(
            "landing/archive-\(UInt64.random(in: 0...UInt64.max)).stream")
        try FileManager.default.createDirectory(
            atPath: (streamPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: streamPath) }
        // The tree first, in a file of its own: the message names what was left out.
        let treePath = streamPath + ".tree"
        defer { try? FileManager.default.removeItem(atPath: treePath) }
        let tree = try FastImportStream(path: treePath)
        let summary = try WorktreeSnapshot().write(root: worktree, into: tree)
        try tree.close()
        var text = message
        if !summary.skipped.isEmpty {
            text += "\n\nLeft out (\(summary.skipped.count)):\n"
                + summary.skipped.prefix(50).map { "- \($0)\n" }.joined() + (summary.skipped.count > 50 ? "- …\n" : "")
        }
        let messageData = Data(text.utf8)
        let stream = try FastImportStream(path: streamPath)
        try stream.write("commit \(scratch)\ncommitter mlagentd <mlagentd@localhost> \(Int(Date().timeIntervalSince1970)) +0000\n")
        try stream.write("data \(messageData.count)\n")
        try stream.write(messageData)
        try stream.write("\nfrom \(parent)\ndeleteall\n")
        try stream.append(contentsOf: treePath)
        try stream.write("\ndone\n")
        try stream.close()
        try await git.run(["fast-import", "--quiet", "--done"], inputFile: streamPath)
        let archived = try await revision(scratch) ?? parent
        try await git.run(["update-ref", "-d", scratch])
        var commit = parent
        if try await revision(archived + "^{tree}") != revision(parent + "^{tree}") {
            try await git.run(["update-ref", "-m", "mlagentd: archive", branch, archived, branchHead ?? ""])
            commit = archived
        } else if branchHead == nil {
            try await git.run(["update-ref", "-m", "mlagentd: archive", branch, parent, ""])
        }
        try TreeRemover.remove(worktree)
        try await git.run(["worktree", "prune"])
        return commit
    }

    /// The commit `name` resolves to, or nil.
    private func revision(_ name: String, in repository: Git? = nil) async throws -> String? {
        let result = try await (repository ?? git).status(["rev-parse", "--verify", "--quiet", name])
        return result.status == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}

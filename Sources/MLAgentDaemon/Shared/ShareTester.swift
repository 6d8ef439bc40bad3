import Foundation
import Logging
import MLAgentProtocol
import MLAgentStore

/// Gate 1: builds a proposal's candidate (a fresh worktree of `main` with the proposal's files
/// as `shared/NAME/`), then imports the new module and runs its tests and the tests of every
/// other shared module on `main` there, each suite with `python -m pytest` from its module's
/// directory, in ``ShareTestSandbox``, all within `[shared] test_timeout`. Each run keeps its
/// log, `<state>/share-tests/p<ID>-<n>.log`.
struct ShareTester: Sendable {
    let config: DaemonConfig
    let workspace: Workspace
    let limits: AgentLimits
    let logger: Logger

    /// A candidate built and ready to test.
    struct Candidate: Sendable {
        var proposal: ShareProposal
        var directory: String
        var logPath: String
        var commit: String
        var diff: String
        /// Every module in the candidate (the proposal's first): its name, imports and tests.
        var modules: [(name: String, imports: [String], tests: [String])]
        /// Why the candidate cannot work, found before any test (two modules with one import name).
        var problem: String?
    }

    /// Builds the candidate of `proposal` on the current `main`. The caller holds `main` still
    /// (``MergeActor/holdingMain(_:)``), so that `modules` are those on that commit.
    func prepare(_ proposal: ShareProposal, files: [Store.ProposedFile], modules: [Store.LandedModule]) async throws -> Candidate {
        let commit = try await workspace.mainCommit()
        let (directory, logPath) = try makePaths(proposal.id)
        try await workspace.addCandidate(at: directory, commit: commit)
        let root = "shared/\(proposal.name)"
        let moduleDirectory = (directory as NSString).appendingPathComponent(root)
        try TreeRemover.remove(moduleDirectory)
        for file in files {
            let destination = (moduleDirectory as NSString).appendingPathComponent(file.path)
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: destination, contents: file.content) else {
                throw ConfigError("cannot write \(destination)")
            }
        }
        let diff = try await workspace.candidateDiff(directory, prefix: root, exclude: "\(root)/README.md")
        let imports = Store.LandedModule.imports(of: files.filter { !$0.isTest }.map(\.path))
        var all = [(name: proposal.name, imports: imports, tests: files.filter(\.isTest).map(\.path))]
        var problem: String?
        for module in modules where module.name != proposal.name {
            all.append((module.name, module.imports, module.tests))
            if let clash = imports.first(where: module.imports.contains) {
                problem = "\(proposal.name) would shadow shared/\(module.name)/: both provide the import \"\(clash)\"; rename the module or the file"
            }
        }
        return Candidate(proposal: proposal, directory: directory, logPath: logPath, commit: commit, diff: diff, modules: all, problem: problem)
    }

    /// Runs the candidate's checks and removes the candidate (its log stays).
    func run(_ candidate: Candidate) async -> Store.ShareTestResult {
        let started = ContinuousClock.now
        var summaries: [String] = []
        var passed = true
        if let problem = candidate.problem {
            append(candidate.logPath, "mlagentd: \(problem)\n")
            passed = false
            summaries.append(problem)
        }
        let deadline = started + config.sharedTestTimeout
        let sandbox = ShareTestSandbox(config: config, candidate: candidate.directory, modules: candidate.modules.map(\.name))
        var steps: [(module: String, label: String, arguments: [String])] = []
        if passed, let first = candidate.modules.first, !first.imports.isEmpty {
            steps.append((first.name, "import \(first.imports.joined(separator: ", "))", ["-c", "import " + first.imports.joined(separator: ", ")]))
        }
        for module in candidate.modules where passed && !module.tests.isEmpty {
            steps.append((module.name, "tests", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no", "-o", "addopts="] + module.tests))
        }
        for (index, step) in steps.enumerated() {
            append(candidate.logPath, "$ cd shared/\(step.module) && python \(step.arguments.joined(separator: " "))\n")
            let before = (try? FileManager.default.attributesOfItem(atPath: candidate.logPath)[.size] as? Int) ?? 0
            let process = ConfinedProcess(limits: limits, leaf: "share-test-\((candidate.directory as NSString).lastPathComponent)-\(index)", maxMemory: config.replayMaxMemory)
            let exit: ConfinedProcess.Exit
            do {
                exit = try await process.run(
                    argv: sandbox.argv(module: step.module, arguments: step.arguments), environment: sandbox.environment,
                    logPath: candidate.logPath, deadline: deadline)
            } catch {
                logger.error("cannot start a proposal's tests", metadata: ["proposal": "\(candidate.proposal.id)", "error": "\(error)"])
                summaries.append("the daemon could not start the tests")
                passed = false
                break
            }
            let output = Self.read(candidate.logPath, from: before)
            let outcome = Self.outcome(exit, output: output, step: step.label, module: step.module, timeout: config.sharedTestTimeout)
            summaries.append(outcome.summary)
            if !outcome.passed {
                passed = false
                break
            }
        }
        if steps.isEmpty, passed { summaries.append("nothing to test: no code to import and no tests") }
        let seconds = ConfinedProcess.seconds(ContinuousClock.now - started)
        await workspace.removeCandidate(at: candidate.directory)
        logger.info(
            "proposal tested",
            metadata: ["proposal": "\(candidate.proposal.id)", "name": "\(candidate.proposal.name)", "passed": "\(passed)",
                       "main_commit": "\(candidate.commit)", "seconds": "\(String(format: "%.2f", seconds))"])
        return Store.ShareTestResult(
            passed: passed, mainCommit: candidate.commit, summary: summaries.joined(separator: "; "),
            output: Self.tail(of: candidate.logPath, bytes: 64 << 10), diff: candidate.diff, seconds: seconds)
    }

    /// What one step's exit means, in one line.
    static func outcome(_ exit: ConfinedProcess.Exit, output: String, step: String, module: String, timeout: Duration)
        -> (passed: Bool, summary: String)
    {
        guard let status = exit.status else {
            return (false, "\(module) \(step): stopped at the time limit ([shared] test_timeout = \(DurationText.format(timeout)))")
        }
        if exit.oomKills > 0 { return (false, "\(module) \(step): ran out of memory and was stopped") }
        let last = output.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "= ")) } ?? ""
        if status == 0 { return (true, "\(module) \(step): \(step == "tests" ? last : "ok")") }
        if step == "tests", status == 5 { return (false, "\(module) tests: pytest collected no tests") }
        return (false, "\(module) \(step) failed (exit \(status))\(last.isEmpty ? "" : ": \(last.prefix(300))")")
    }

    /// `<state>/share-tests/p<ID>-<n>` and its log, the next n for this proposal.
    private func makePaths(_ id: Int64) throws -> (String, String) {
        let root = workspace.candidatesDir
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for attempt in 1...10_000 {
            let log = (root as NSString).appendingPathComponent("p\(id)-\(attempt).log")
            let fd = open(log, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            if fd >= 0 {
                close(fd)
                return (String(log.dropLast(4)), log)
            }
            guard errno == EEXIST else { break }
        }
        throw ConfigError("cannot create a test log under \(root): \(String(cString: strerror(errno)))")
    }

    private func append(_ path: String, _ text: String) { AgentLauncher.appendToLog(path, text) }

    static func read(_ path: String, from offset: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(offset))
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    static func tail(of path: String, bytes: Int) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let text = read(path, from: max(0, size - bytes))
        return size > bytes ? "…\n" + text : text
    }
}

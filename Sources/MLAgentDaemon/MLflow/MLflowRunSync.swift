import Foundation
import MLAgentProtocol
import MLAgentStore

/// Brings one run, or the parent run of one direction, up to date in one MLflow experiment.
/// Every create is recorded before it is sent and looked up by its tags after an unclear
/// outcome; every other request is idempotent, and progress is recorded after each one.
struct MLflowRunSync: Sendable {
    let core: DaemonCore
    let uri: String
    let experiment: String
    let client: MLflowClient
    let workspaceID: String
    let datasets: [MLflowClient.Dataset]

    var store: Store { core.store }

    // MARK: Directions

    /// The parent run of a direction: created once, then its tags and status follow the direction.
    func direction(_ direction: Store.MirrorDirection) async throws {
        let identity = [
            MLflowClient.Entry(key: MLflowTags.workspaceID, value: workspaceID),
            .init(key: MLflowTags.kind, value: "direction"), .init(key: MLflowTags.direction, value: direction.name),
        ]
        var target = direction.mlflowRunID
        if target == nil, direction.state == "creating" {
            target = try await client.findRun(experimentID: experiment, tags: identity)
        }
        if target == nil {
            try await store.mirrorDirectionCreating(uri: uri, direction: direction.name)
            do {
                target = try await client.createRun(
                    experimentID: experiment, name: direction.name, startTime: Self.milliseconds(direction.startedAt), tags: identity)
            } catch MLflowClient.Failure.permanent(let status, let code, let message) {
                try await store.mirrorDeadLetter(
                    uri: uri, run: 0, operation: "runs/create of the parent run of direction \(direction.name)", status: status,
                    reason: "\(code): \(message)", stopRun: false)
                try await store.mirrorDirectionSynced(uri: uri, direction: direction.name, signature: direction.signature, dead: true)
                return
            }
        }
        guard let target else { return }
        try await store.mirrorDirectionCreated(uri: uri, direction: direction.name, mlflowRunID: target)

        var tags = MLflowTags.source(
            agent: direction.agent, branch: direction.branch, commit: direction.commit, workspace: core.config.workspace)
        for entry in identity { tags[entry.key] = entry.value }
        tags[MLflowTags.workspace] = core.config.workspace
        tags[MLflowTags.runName] = direction.name
        tags[MLflowTags.note] = MLflowTags.directionNote(direction)
        tags["direction_status"] = direction.status
        let cuts = try await sendTags(tags, run: target, label: "direction \(direction.name)", dead: 0)
        let status: String? = switch direction.status {
        case "completed": "FINISHED"
        case "failed": "FAILED"
        case "abandoned": "KILLED"
        default: nil
        }
        if let status {
            try await permanentIsDeadLetter(run: 0, operation: "runs/update of the parent run of direction \(direction.name)") {
                try await client.updateRun(run: target, status: status, endTime: direction.finishedAt.map(Self.milliseconds))
            }
        }
        try await store.mirrorDirectionSynced(uri: uri, direction: direction.name, signature: direction.signature, cutTags: cuts)
    }

    // MARK: Runs

    /// Brings one run up to date; returns the metric points sent.
    func run(_ pending: Store.MirrorRun) async throws -> Int {
        let id = pending.runID
        let detail = try await store.runDetail(id: id, policy: core.config.evaluationPolicy)
        let run = detail.run
        let parent = try await store.mirrorParentRun(uri: uri, direction: run.direction)
        let identity = [
            MLflowClient.Entry(key: MLflowTags.workspaceID, value: workspaceID), .init(key: MLflowTags.runID, value: String(id)),
        ]
        var mlflowRun = pending.mlflowRunID
        if mlflowRun == nil {
            // runs/create is not idempotent: after an unclear outcome, look the run up by its tags.
            if pending.state == "creating" {
                mlflowRun = try await client.findRun(experimentID: experiment, tags: identity)
            }
            if mlflowRun == nil {
                try await store.mirrorCreating(uri: uri, run: id)
                var tags = identity + [.init(key: MLflowTags.direction, value: run.direction), .init(key: MLflowTags.kind, value: "run")]
                if let parent { tags.append(.init(key: MLflowTags.parentRunID, value: parent)) }
                do {
                    mlflowRun = try await client.createRun(
                        experimentID: experiment, name: run.name, startTime: MLflowMirror.milliseconds(run.startedAt), tags: tags)
                } catch MLflowClient.Failure.permanent(let status, let code, let message) {
                    try await store.mirrorDeadLetter(
                        uri: uri, run: id, operation: "runs/create", status: status, reason: "\(code): \(message)", stopRun: true)
                    return 0
                }
            }
            try await store.mirrorCreated(uri: uri, run: id, mlflowRunID: mlflowRun!)
        }
        let target = mlflowRun!

        if pending.syncedVersion < pending.version {
            let context = try await store.mirrorRunContext(run: id)
            let params = detail.params.sorted { $0.key < $1.key }.map { MLflowClient.Entry(key: $0.key, value: $0.value) }
            for chunk in MLflowMirror.chunks(params, MLflowMirror.maxParams) {
                try await permanentIsDeadLetter(run: id, operation: "log-batch params") {
                    try await client.logBatch(run: target, params: chunk)
                }
            }
            var tags = detail.tags
            for (key, value) in MLflowTags.source(
                agent: context.agent, branch: detail.tags[RunTag.branch] ?? "exp/\(run.direction)", commit: context.commit,
                workspace: core.config.workspace)
            {
                tags[key] = value
            }
            for entry in identity { tags[entry.key] = entry.value }
            tags[MLflowTags.direction] = run.direction
            tags[MLflowTags.kind] = "run"
            tags[MLflowTags.jobID] = String(run.jobID)
            tags[MLflowTags.runName] = run.name
            tags[MLflowTags.note] = MLflowTags.runNote(directionRationale: context.directionRationale, run: run)
            if let parent { tags[MLflowTags.parentRunID] = parent }
            for (key, value) in MLflowTags.submission(detail.submissions) { tags[key] = value }
            let cuts = try await sendTags(tags, run: target, label: "run \(id)", dead: id)
            if cuts != pending.cutTags { try await store.mirrorCutTags(uri: uri, run: id, keys: cuts) }
        }

        if !pending.inputsLogged {
            if !datasets.isEmpty {
                try await permanentIsDeadLetter(run: id, operation: "runs/log-inputs") {
                    try await client.logInputs(run: target, datasets: datasets)
                }
            }
            try await store.mirrorInputsLogged(uri: uri, run: id)
        }

        let sent = try await MLflowMetricSync(store: store, uri: uri, client: client).send(run: id, to: target, pending: pending)

        var uploaded = pending.artifactsSent
        let root = URL(fileURLWithPath: core.config.stateDir).appendingPathComponent("artifacts/\(id)")
        for artifact in detail.artifacts where !uploaded.contains(artifact.name) {
            let source = root.appendingPathComponent(artifact.name).path
            for (file, path) in MLflowMirror.files(source, as: artifact.name, isDirectory: artifact.isDirectory) {
                try await permanentIsDeadLetter(run: id, operation: "artifact upload \(path)") {
                    try await client.uploadArtifact(experimentID: experiment, run: target, path: path, file: file)
                }
            }
            uploaded.append(artifact.name)
            try await store.mirrorArtifactSent(uri: uri, run: id, sent: uploaded)
        }
        if let model = detail.artifacts.first(where: { $0.name == "model" }), pending.modelState != "ready",
            pending.modelState != "dead"
        {
            try await MLflowLoggedModel(sync: self).log(
                model, of: detail, mlflowRun: target, pending: pending, source: root.appendingPathComponent(model.name).path)
        }

        if run.status != .running {
            try await permanentIsDeadLetter(run: id, operation: "runs/update") {
                try await client.updateRun(
                    run: target, status: run.status == .finished ? "FINISHED" : "FAILED", endTime: run.endedAt.map(MLflowMirror.milliseconds))
            }
        }
        try await store.mirrorSynced(uri: uri, run: id, version: pending.version)
        return sent
    }

    // MARK: Helpers

    /// Sends `tags` in MLflow-sized batches; a value over MLflow's limit is cut, and its full
    /// text uploaded first (so the note never names a missing file). Returns the cut keys.
    private func sendTags(_ tags: [String: String], run target: String, label: String, dead: Int64) async throws -> [String] {
        let (entries, cuts) = MLflowTags.prepare(tags)
        for cut in cuts {
            try await permanentIsDeadLetter(run: dead, operation: "full text of tag \(cut.key) of \(label)") {
                try await client.upload(Data(cut.text.utf8), to: "\(experiment)/\(target)/artifacts/\(cut.artifact)")
            }
        }
        for chunk in MLflowMirror.chunks(entries, MLflowMirror.maxTags) {
            try await permanentIsDeadLetter(run: dead, operation: "log-batch tags of \(label)") {
                try await client.logBatch(run: target, tags: chunk)
            }
        }
        return cuts.map(\.key)
    }

    /// Runs `body`; a permanent refusal is recorded as a dead letter and the mirror moves on.
    func permanentIsDeadLetter(run: Int64, operation: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch MLflowClient.Failure.permanent(let status, let code, let message) {
            try await store.mirrorDeadLetter(
                uri: uri, run: run, operation: operation, status: status, reason: "\(code): \(message)", stopRun: false)
        }
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

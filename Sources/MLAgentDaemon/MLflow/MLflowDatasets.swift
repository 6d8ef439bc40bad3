import Foundation

/// The dataset inputs every run is logged with (`runs/log-inputs`): the training file and the
/// public and private validation feature files on the workspace's `main`, each with its git
/// blob id as digest (its first 12 hex digits, which `git cat-file -p` accepts in the
/// workspace), so the Dataset column of MLflow names exactly the data the run saw.
enum MLflowDatasets {
    /// File on main → (dataset name, `mlflow.data.context`).
    static let files: [(file: String, name: String, context: String)] = [
        ("data/train.csv", "train", "training"),
        ("data/val_public_X.csv", "val_public_X", "validation"),
        ("data/val_private_X.csv", "val_private_X", "test"),
    ]

    /// The datasets present on the workspace's main (none when it has no such files).
    static func read(workspace: String) async throws -> [MLflowClient.Dataset] {
        let git = Git(directory: workspace)
        let listing = try await git.run(["ls-tree", "-l", "refs/heads/main", "--"] + files.map(\.file))
        var found: [String: (blob: String, size: Int64)] = [:]
        for line in listing.split(separator: "\n") {
            // "<mode> blob <id> <size>\t<path>"
            let parts = line.split(separator: "\t", maxSplits: 1)
            let fields = parts.first?.split(separator: " ", omittingEmptySubsequences: true) ?? []
            guard parts.count == 2, fields.count == 4, fields[1] == "blob" else { continue }
            found[String(parts[1])] = (String(fields[2]), Int64(fields[3]) ?? 0)
        }
        return files.compactMap { entry in
            guard let blob = found[entry.file] else { return nil }
            let source = json(["uri": workspace, "revision": "main", "path": entry.file, "blob": blob.blob])
            return MLflowClient.Dataset(
                name: entry.name, digest: String(blob.blob.prefix(12)), sourceType: "git", source: source,
                profile: json(["bytes": blob.size]), context: entry.context)
        }
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

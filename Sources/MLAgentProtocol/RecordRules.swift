/// What makes a run record valid, shared by the daemon (which enforces it) and clients (which
/// check a whole metrics file before sending any of it). The rules are MLflow's, so that every
/// record can be mirrored there.
public enum RecordRules {
    public static let maxKeyBytes = 250
    /// Steps and timestamps beyond 2^53 cannot be represented exactly by JSON readers.
    public static let maxStep: Int64 = 1 << 53

    /// Letters, digits, `_`, `-`, `.`, ` ` and `/`; `/`-separated segments that are neither
    /// empty, `.` nor `..`.
    public static func keyProblem(_ key: String, kind: String) -> String? {
        if key.isEmpty { return "\(kind) name is empty" }
        if key.utf8.count > maxKeyBytes { return "\(kind) name \"\(key.prefix(40))…\" is longer than \(maxKeyBytes) bytes" }
        for scalar in key.unicodeScalars {
            let value = scalar.value
            let ok = (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
                || "_-. /".unicodeScalars.contains(scalar)
            if !ok {
                return "\(kind) name \"\(key)\" contains \"\(scalar)\"; use letters, digits, \"_\", \"-\", \".\", \" \" and \"/\""
            }
        }
        // MLflow treats names as file paths: they must not change when resolved as one.
        if key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "\(kind) name \"\(key)\" must not start or end with \"/\", or contain \"//\", \".\" or \"..\" segments"
        }
        return nil
    }

    /// Why a metric point cannot be recorded, or nil. `checkKey` may be false for a key
    /// already checked.
    public static func pointProblem(_ point: MetricPoint, checkKey: Bool = true) -> String? {
        if checkKey {
            if let problem = keyProblem(point.key, kind: "metric") { return problem }
            if point.key == RunMetric.publicScore || point.key == RunMetric.privateScore {
                return "metric \(point.key) is logged by the daemon from `mlagentctl eval` and `submit`; log your own estimate under another name"
            }
        }
        if !point.value.isFinite {
            return "metric \(point.key) at step \(point.step) is \(point.value); values must be finite numbers"
        }
        if point.step < 0 || point.step > maxStep {
            return "metric \(point.key) has step \(point.step); steps run from 0 to 2^53"
        }
        if let timestamp = point.timestamp, timestamp < 0 || timestamp > maxStep {
            return "metric \(point.key) has timestamp \(timestamp); use milliseconds since the epoch"
        }
        return nil
    }
}

/// What makes a run record valid, shared by the daemon (which enforces it) and clients (which
/// check a whole metrics file before sending any of it). The rules are MLflow's, so that every
/// record can be mirrored there.
public enum RecordRules {
    /// MLflow counts a name's length in Unicode code points.
    public static let maxKeyLength = 250
    /// Steps and timestamps beyond 2^53 cannot be represented exactly by JSON readers.
    public static let maxStep: Int64 = 1 << 53

    /// MLflow's rule (`^[/\w.\- :]*$` with Python's Unicode `\w`, then "the name must not
    /// change when normalised as a path"): letters and digits of any script, `_`, `-`, `.`, ` `,
    /// `:` and `/`; `/`-separated segments that are neither empty, `.` nor `..`; no leading `..`.
    public static func keyProblem(_ key: String, kind: String) -> String? {
        if key.isEmpty { return "\(kind) name is empty" }
        let length = key.unicodeScalars.count
        if length > maxKeyLength {
            return "\(kind) name \"\(key.prefix(40))…\" is \(length) characters long; the limit is \(maxKeyLength)"
        }
        for scalar in key.unicodeScalars where !isNameScalar(scalar) {
            let shown = scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
                ? "U+" + String(scalar.value, radix: 16, uppercase: true) : "\"\(scalar)\""
            return "\(kind) name \"\(key)\" contains \(shown); use letters or digits (of any script), \"_\", \"-\", \".\", \" \", \":\" and \"/\""
        }
        // MLflow treats names as file paths: they must not change when resolved as one.
        if key.hasPrefix("..") || key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "\(kind) name \"\(key)\" must not start with \"..\" or \"/\", end with \"/\", or contain \"//\", \".\" or \"..\" segments"
        }
        return nil
    }

    /// Python's `\w` for `str` patterns (letters and numbers of every script, and `_`), plus
    /// `/`, `.`, `-`, ` ` and `:`.
    public static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x5F, 0x2F, 0x2E, 0x2D, 0x20, 0x3A: return true
        case ..<0x80: return false
        default: break
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return scalar.properties.numericType != nil
        }
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

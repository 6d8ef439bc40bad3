import Foundation

/// Escaping of text for HTML (and the inline SVG inside it).
enum HTML {
    /// Escapes text for element content and quoted attribute values alike.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Shortens text to `limit` characters with an ellipsis (before escaping).
    static func truncate(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(1, limit - 1))) + "…"
    }
}

/// JSON text for the embedded data block: `<`, `>` and `&` are written as `\u003c`… so that
/// nothing inside the block can close the `<script>` element.
enum JSONText {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}": out += String(format: "\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// A finite number, or `null`.
    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Number formatting: never prints `nan`, `inf` or `-0`.
enum Fmt {
    /// An SVG coordinate, rounded to a tenth of a unit.
    static func coord(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (min(max(value, -1e6), 1e6) * 10).rounded() / 10
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(rounded)
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "—" }
        let text = String(format: "%.\(max(0, min(decimals, 10)))f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(text.dropFirst()) }
        return text
    }

    /// A signed number, e.g. `+0.0131`.
    static func signed(_ value: Double, _ decimals: Int) -> String {
        let text = fixed(value, decimals)
        return value > 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "+" + text : text
    }

    /// The decimals that distinguish ticks `step` apart.
    static func decimals(forStep step: Double) -> Int {
        guard step.isFinite, step > 0 else { return 0 }
        return max(0, min(8, Int((-log10(step) - 1e-9).rounded(.up))))
    }

    /// About four significant digits for scores of this magnitude (0.7826, 12.35, 1234).
    static func scoreDecimals(maxAbs: Double) -> Int {
        guard maxAbs.isFinite, maxAbs > 0 else { return 4 }
        return max(0, min(6, 3 - Int(log10(maxAbs).rounded(.down))))
    }

    /// A duration like `1h 13m`, `12m 05s` or `45s`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "—" }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        if h > 0 { return "\(h)h \(m < 10 ? "0" : "")\(m)m" }
        if m > 0 { return "\(m)m \(s < 10 ? "0" : "")\(s)s" }
        return "\(s)s"
    }

    /// A UTC time like `2026-11-27 10:15` (seconds since the epoch).
    static func time(_ seconds: Double, style: TimeStyle = .dateMinutes) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 2.5e11 else { return "—" }
        let text = Array(timestampString(seconds))  // 2026-11-27T10:15:02.123Z
        func part(_ range: Range<Int>) -> String { String(text[range]) }
        switch style {
        case .dateMinutes: return part(0..<10) + " " + part(11..<16)
        case .minutes: return part(11..<16)
        case .seconds: return part(11..<19)
        case .dayMinutes: return part(5..<10) + " " + part(11..<16)
        case .day: return part(5..<10)
        }
    }

    enum TimeStyle { case dateMinutes, minutes, seconds, dayMinutes, day }

    private static func timestampString(_ seconds: Double) -> String {
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).000Z"
    }
}

/// A finite value, or nil.
func finiteValue(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}

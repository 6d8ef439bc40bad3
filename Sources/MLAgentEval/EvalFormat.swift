/// Locale-independent formatting for the messages in ``EvalError``.
///
/// `EvalFormat` owns only presentation: counts with thousands separators ("4,999") and quoting of
/// offending input. It never uses the process locale, so messages are identical everywhere.
enum EvalFormat {
    /// `n` with a comma every three digits: 4999 → "4,999".
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = n < 0 ? "-" : ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    /// "1 prediction row" / "4,999 prediction rows".
    static func count(_ n: Int, _ singular: String, _ plural: String) -> String {
        "\(count(n)) \(n == 1 ? singular : plural)"
    }

    /// The maximum number of characters of offending input quoted in a message.
    static let quoteLimit = 40

    /// `text` as a Swift-style quoted literal (control characters escaped), cut to ``quoteLimit``
    /// characters with a trailing "…" when longer.
    static func quote(_ text: String) -> String {
        guard text.count > quoteLimit else { return text.debugDescription }
        return String(text.prefix(quoteLimit)).debugDescription + "…"
    }

    /// Raw bytes from a file, decoded leniently as UTF-8 and quoted like ``quote(_:)``.
    static func quote(_ bytes: UnsafeRawBufferPointer) -> String {
        quote(String(decoding: bytes, as: UTF8.self))
    }
}

/// Direction names are lowercase slugs: they become branch names (`exp/<name>`) and file
/// names (`research_directions/<name>.md`), so the rule is strict.
public enum DirectionName {
    public static let maxLength = 64

    /// Returns nil when `name` is a valid slug, else a message saying what is wrong.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "direction name is empty" }
        if name.utf8.count > maxLength {
            return "direction name is \(name.utf8.count) bytes long; the limit is \(maxLength)"
        }
        var previousWasDash = true
        for scalar in name.unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9":
                previousWasDash = false
            case "-":
                if previousWasDash {
                    return "direction name \"\(name)\" has a leading or doubled '-'"
                }
                previousWasDash = true
            default:
                return "direction name \"\(name)\" contains \"\(scalar)\"; use lowercase letters, digits and single dashes (like catboost-tuning)"
            }
        }
        if previousWasDash { return "direction name \"\(name)\" ends with '-'" }
        return nil
    }
}

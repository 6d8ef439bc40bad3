public import Foundation

extension FastJSON {
    /// Whether objects and arrays in `line` nest deeper than `limit`, scanning the bytes
    /// once without recursion (strings and their escapes are skipped). Run before any
    /// recursive decoder sees a line.
    public static func exceedsDepth(_ line: Data, limit: Int = maxDepth) -> Bool {
        line.withUnsafeBytes { raw -> Bool in
            var depth = 0
            var inString = false
            var escaped = false
            for byte in raw {
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > limit { return true }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth -= 1
                default: break
                }
            }
            return false
        }
    }
}

/// Artifact names and the names of the files inside artifact directories. Artifacts land on
/// `main` under `mlruns/`, so nothing in them may be a name that git treats as its own
/// `.git` on some system: `main` could no longer be checked out there.
extension RecordRules {
    public static let maxArtifactNameBytes = 255

    /// Why `name` cannot name an artifact, or nil: a relative path of `/`-separated segments of
    /// ASCII letters, digits, `.`, `_` and `-`, none empty, `.`, `..` or a `.git` look-alike.
    public static func artifactNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the artifact name is empty" }
        if name.utf8.count > maxArtifactNameBytes {
            return "the artifact name is longer than \(maxArtifactNameBytes) bytes"
        }
        for segment in name.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." || segment == ".." {
                return "artifact name \"\(name)\" must be a relative path without empty, \".\" or \"..\" segments"
            }
            if !segment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }) {
                return "artifact name \"\(name)\" may contain only letters, digits, \".\", \"_\", \"-\" and \"/\""
            }
            if isGitDirectoryName(segment) {
                return "artifact name \"\(name)\" has the segment \"\(segment)\", which git treats as .git; it could never be checked out from main, so choose another name"
            }
        }
        return nil
    }

    /// Whether git refuses `segment` (one path component) as a name for its own `.git`: `.git`
    /// in any case, with trailing dots or spaces or an NTFS stream suffix (`.git. `, `.git::$DATA`),
    /// its NTFS short name `git~1`, any of these after a backslash (a separator on Windows),
    /// and any of these spelt with the code points HFS+ ignores. This covers the rules of git's
    /// `verify_path` (`is_ntfs_dotgit`, `is_hfs_dotgit`), which `git fsck` reports as
    /// `hasDotgit`, and errs on the side of refusing.
    public static func isGitDirectoryName(_ segment: some StringProtocol) -> Bool {
        var stripped = String.UnicodeScalarView()
        stripped.append(contentsOf: segment.unicodeScalars.filter { !hfsIgnores($0) })
        for spelling in [Array(segment.utf8), Array(String(stripped).utf8)] {
            var start = 0
            while start <= spelling.count {
                let end = spelling[start...].firstIndex(of: UInt8(ascii: "\\")) ?? spelling.count
                if isNTFSDotGit(spelling[start..<end]) { return true }
                start = end + 1
            }
        }
        return false
    }

    /// `.git` or `git~1` (ASCII case-insensitive), then only dots and spaces up to the end, a
    /// separator or a `:` stream suffix.
    private static func isNTFSDotGit(_ bytes: ArraySlice<UInt8>) -> Bool {
        func folded(_ byte: UInt8) -> UInt8 { byte | 0x20 }
        var index = bytes.startIndex
        func take(_ expected: String, caseInsensitive: Bool) -> Bool {
            for wanted in expected.utf8 {
                guard index < bytes.endIndex else { return false }
                let byte = caseInsensitive && wanted >= UInt8(ascii: "a") ? folded(bytes[index]) : bytes[index]
                guard byte == wanted else { return false }
                index += 1
            }
            return true
        }
        let matched: Bool
        if bytes.first == UInt8(ascii: ".") {
            index += 1
            matched = take("git", caseInsensitive: true)
        } else {
            matched = take("git", caseInsensitive: true) && take("~1", caseInsensitive: false)
        }
        guard matched else { return false }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: ":") { return true }
            if byte != UInt8(ascii: ".") && byte != UInt8(ascii: " ") { return false }
            index += 1
        }
        return true
    }

    /// Zero-width and directional marks that HFS+ leaves out when it compares names.
    private static func hfsIgnores(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200C...0x200F, 0x202A...0x202E, 0x206A...0x206F, 0xFEFF: true
        default: false
        }
    }
}

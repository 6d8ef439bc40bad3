import Foundation

/// A job's own home directory: `<state>/logs/job-N.home`, kept with the job's log and never on
/// `main`. Agents' CLIs write their settings, caches and session files there (`HOME` and the XDG
/// directories point into it); the profile's `home_files` (credentials, settings) are shown in it
/// read-only, and its shell startup files put `mlagentctl` first on `PATH`, so every shell an
/// agent starts finds it, login shells that rebuild `PATH` from `/etc/profile` included.
struct PrivateHome: Sendable {
    let path: String

    init(logPath: String) {
        path = (logPath as NSString).deletingPathExtension + ".home"
    }

    /// The XDG base directories inside the home.
    var environment: [String: String] {
        [
            "HOME": path,
            "XDG_CONFIG_HOME": path + "/.config", "XDG_CACHE_HOME": path + "/.cache",
            "XDG_DATA_HOME": path + "/.local/share", "XDG_STATE_HOME": path + "/.local/state",
        ]
    }

    /// Creates the home (mode 0700) and its startup files naming `binDirectory`, and returns the
    /// profile's home files that exist, as (host file, place in this home). Without a sandbox the
    /// files are copied in (mode 0600), since nothing can show them read-only.
    func prepare(
        homeFiles: [String], userHome: String, binDirectory: String, copyFiles: Bool
    ) throws -> [(source: String, destination: String)] {
        let manager = FileManager.default
        try manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for directory in [".config", ".cache", ".local/share", ".local/state"] {
            try manager.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true)
        }
        let line = "# Written by mlagentd: mlagentctl comes first on PATH in every shell.\n"
            + "case \":$PATH:\" in *\":\(binDirectory):\"*) ;; *) PATH=\"\(binDirectory):$PATH\"; export PATH ;; esac\n"
        for name in [".profile", ".bashrc", ".zshenv"] {
            let file = path + "/" + name
            if let existing = try? String(contentsOfFile: file, encoding: .utf8), existing.contains(line) { continue }
            try line.write(toFile: file, atomically: true, encoding: .utf8)
        }
        var shown: [(source: String, destination: String)] = []
        for entry in homeFiles {
            let relative = String(entry.dropFirst(2))
            let source = (userHome as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let destination = (path as NSString).appendingPathComponent(relative)
            try manager.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if copyFiles {
                try? manager.removeItem(atPath: destination)
                try manager.copyItem(atPath: source, toPath: destination)
                try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination)
            } else if !manager.fileExists(atPath: destination) {
                // The mount point of the read-only bind.
                _ = manager.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            shown.append((source, destination))
        }
        return shown
    }

    /// The daemon user's home directory, where `home_files` are read from.
    static var userHome: String {
        ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    }
}

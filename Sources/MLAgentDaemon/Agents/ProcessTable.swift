import Foundation

/// What `/proc` tells the daemon about processes: parents, states, pid namespaces and the
/// `MLAGENT_TOKEN` in their environment. The daemon sees sandboxed processes with their host
/// pids; they see none of the daemon's.
enum ProcessTable {
    /// The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, ...
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func isZombie(_ pid: Int32) -> Bool {
        statFields(pid)?.first == "Z"
    }

    /// Whether `pid` exists and is not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let state = statFields(pid)?.first else { return false }
        return state != "Z" && state != "X"
    }

    static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    static func allPids() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }

    /// The pid namespace of `pid` (`pid:[4026531836]`), or nil with `errno` set.
    static func pidNamespace(of pid: Int32) -> String? {
        namespace(at: "/proc/\(pid)/ns/pid")
    }

    /// The outcome of looking up a process's pid namespace.
    enum NamespaceLookup: Equatable {
        case namespace(String)
        /// The process exists but the daemon may not inspect it (another user's).
        case denied
        case gone
    }

    static func lookUpPidNamespace(of pid: Int32) -> NamespaceLookup {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/\(pid)/ns/pid", &buffer, buffer.count - 1)
        if count > 0 {
            return .namespace(String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return errno == EACCES || errno == EPERM ? .denied : .gone
    }

    /// The daemon's own pid namespace: agents in a sandbox are never in it.
    static let ownPidNamespace: String? = namespace(at: "/proc/self/ns/pid")

    private static func namespace(at path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The real, effective, saved and filesystem uids of `pid` (`/proc/<pid>/status` is readable
    /// for every process, whoever owns it).
    static func uids(of pid: Int32) -> [UInt32] {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return [] }
        return line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
    }

    /// The living processes of a pid namespace, by host pid.
    static func members(of namespace: String) -> [Int32] {
        allPids().filter { pidNamespace(of: $0) == namespace && isAlive($0) }
    }

    /// The children of `pid`.
    static func children(of pid: Int32) -> [Int32] {
        allPids().filter { parent(of: $0) == pid }
    }

    /// A process carrying an agent's token.
    struct Carrier: Sendable {
        var pid: Int32
        /// In the daemon's pid namespace (bwrap itself, or any agent process without a sandbox).
        var outside: Bool
    }

    /// Maps MLAGENT_TOKEN values to the process that carries each closest to the daemon: one in
    /// the daemon's pid namespace (the sandbox's bwrap) before any inside a sandbox, then the
    /// oldest (lowest pid).
    static func processesByToken() -> [String: Carrier] {
        var result: [String: Carrier] = [:]
        for pid in allPids() {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            for variable in data.split(separator: 0) where variable.starts(with: Array("MLAGENT_TOKEN=".utf8)) {
                let token = String(decoding: variable.dropFirst("MLAGENT_TOKEN=".utf8.count), as: UTF8.self)
                let outside = pidNamespace(of: pid) == ownPidNamespace
                if let existing = result[token] {
                    if existing.outside && !outside { continue }
                    if existing.outside == outside && existing.pid < pid { continue }
                }
                result[token] = Carrier(pid: pid, outside: outside)
            }
        }
        return result
    }
}

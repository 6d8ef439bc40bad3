import Foundation

/// A command the daemon runs to its end and reads (git, sbatch, squeue, scancel): its stdout and
/// stderr read on threads of their own, its stdin from `input`, a file, or /dev/null.
enum ChildCommand {
    struct UnreadableInput: Error {
        var path: String
    }

    static func run(
        executable: String, arguments: [String], environment: [String: String], input: Data? = nil, inputFile: String? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: resolve(executable, path: environment["PATH"]))
        process.arguments = arguments
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = input == nil ? nil : Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let inputHandle = inputFile.flatMap { FileHandle(forReadingAtPath: $0) }
        if let inputFile, inputHandle == nil { throw UnreadableInput(path: inputFile) }
        defer { try? inputHandle?.close() }
        process.standardInput = inputHandle ?? stdin ?? FileHandle.nullDevice
        let box = OutputBox()
        return try await withCheckedThrowingContinuation { continuation in
            let group = DispatchGroup()
            group.enter()
            group.enter()
            group.enter()
            process.terminationHandler = { _ in group.leave() }
            do {
                try process.run()
            } catch {
                for handle in [stdout.fileHandleForReading, stdout.fileHandleForWriting, stderr.fileHandleForReading,
                               stderr.fileHandleForWriting] {
                    try? handle.close()
                }
                continuation.resume(throwing: error)
                return
            }
            // The child has its copies; the parent's write ends must go, or EOF never comes.
            try? stdout.fileHandleForWriting.close()
            try? stderr.fileHandleForWriting.close()
            try? stdin?.fileHandleForReading.close()
            // Blocking pipe I/O runs on threads of its own: on Dispatch's global queues it would
            // hold workers that the pool, sized to the cores, replaces only after a delay.
            Thread {
                box.out = stdout.fileHandleForReading.readDataToEndOfFile()
                try? stdout.fileHandleForReading.close()
                group.leave()
            }.start()
            Thread {
                box.err = stderr.fileHandleForReading.readDataToEndOfFile()
                try? stderr.fileHandleForReading.close()
                group.leave()
            }.start()
            if let input, let stdin {
                Thread {
                    try? stdin.fileHandleForWriting.write(contentsOf: input)
                    try? stdin.fileHandleForWriting.close()
                }.start()
            }
            group.notify(queue: .global()) {
                continuation.resume(
                    returning: (
                        process.terminationStatus, String(decoding: box.out, as: UTF8.self),
                        String(decoding: box.err, as: UTF8.self)
                    ))
            }
        }
    }

    /// `name` itself when it holds a slash, else its first executable match on `path`.
    static func resolve(_ name: String, path: String?) -> String {
        guard !name.contains("/") else { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return "/usr/bin/\(name)"
    }
}

private final class OutputBox: @unchecked Sendable {
    var out = Data()
    var err = Data()
}

import Foundation
@testable import MLAgentDaemon
import MLAgentProtocol
import Testing

/// Reading files an agent names: beneath the worktree, no links, no special files, a single
/// link, and a file that keeps its size while it is read.
@Suite("reading agent files beneath the worktree")
struct BeneathReaderTests {
    /// A worktree and a private directory beside it (as the daemon's targets are).
    final class Sandbox {
        let base: String
        var worktree: String { base + "/worktree" }
        var secret: String { base + "/targets" }

        init() throws {
            var template = Array("/var/tmp/mla-beneath-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
            base = String(cString: made)
            try FileManager.default.createDirectory(atPath: worktree + "/sub", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: secret, withIntermediateDirectories: true)
            try write("targets/val_public_y.csv", "target\nSECRET\n")
            try write("worktree/good.csv", "prediction\n0.5\n")
            try write("worktree/sub/inner.csv", "prediction\n0.25\n")
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        func write(_ relative: String, _ text: String) throws {
            try text.write(toFile: base + "/" + relative, atomically: false, encoding: .utf8)
        }

        func read(_ path: String, strategy: BeneathOpener.Strategy, limit: Int = 1 << 20) throws -> String {
            let data = try WorktreeFiles.readNow(
                path, worktree: worktree, maxBytes: limit, control: started(), opener: BeneathOpener(strategy: strategy))
            return String(decoding: data, as: UTF8.self)
        }
    }

    static func started(_ limit: Duration = .seconds(60)) -> CopyControl {
        let control = CopyControl(timeLimit: limit)
        control.start()
        return control
    }

    /// The message of the RPCError `body` throws.
    static func refusal(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "(accepted)"
        } catch let error as RPCError {
            return error.message
        } catch {
            return "(not an RPCError: \(error))"
        }
    }

    static let strategies: [BeneathOpener.Strategy] = [.automatic, .stepwise]

    @Test("regular files beneath the worktree are read, by either strategy", arguments: strategies)
    func reads(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        #expect(try box.read(box.worktree + "/good.csv", strategy: strategy) == "prediction\n0.5\n")
        #expect(try box.read(box.worktree + "/./sub//inner.csv", strategy: strategy) == "prediction\n0.25\n")
    }

    @Test("relative, outside and .. paths are refused before anything is opened", arguments: strategies)
    func outside(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        #expect(Self.refusal { try box.read("good.csv", strategy: strategy) }.contains("is relative"))
        #expect(Self.refusal { try box.read(box.secret + "/val_public_y.csv", strategy: strategy) }.contains("outside your worktree"))
        #expect(Self.refusal { try box.read(box.worktree + "/../targets/val_public_y.csv", strategy: strategy) }.contains("outside your worktree"))
        #expect(Self.refusal { try box.read(box.worktree + "/sub/../good.csv", strategy: strategy) }.contains("outside your worktree"))
        #expect(Self.refusal { try box.read(box.worktree + "x/good.csv", strategy: strategy) }.contains("outside your worktree"))
        #expect(Self.refusal { try box.read(box.worktree + "/missing.csv", strategy: strategy) }.contains("does not exist"))
        #expect(Self.refusal { try box.read(box.worktree + "/good.csv/x", strategy: strategy) }.contains("is not a directory"))
    }

    @Test("a symbolic link as the file or as any directory on the way is refused", arguments: strategies)
    func links(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        symlink(box.secret + "/val_public_y.csv", box.worktree + "/file-link.csv")
        symlink(box.secret, box.worktree + "/dir-link")
        symlink("sub", box.worktree + "/inner-link")
        symlink("good.csv", box.worktree + "/relative-link.csv")
        for path in ["/file-link.csv", "/relative-link.csv"] {
            let message = Self.refusal { try box.read(box.worktree + path, strategy: strategy) }
            #expect(message.contains("is a symbolic link") && message.contains("outside your worktree"), "\(message)")
        }
        for path in ["/dir-link/val_public_y.csv", "/inner-link/inner.csv"] {
            let message = Self.refusal { try box.read(box.worktree + path, strategy: strategy) }
            #expect(message.contains(path.split(separator: "/")[0] + " in ") && message.contains("symbolic link"), "\(message)")
        }
    }

    @Test("pipes, sockets and directories are not read as predictions", arguments: strategies)
    func specialFiles(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        #expect(mkfifo(box.worktree + "/pipe.csv", 0o600) == 0)
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketFD) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let socketPath = box.worktree + "/sock.csv"
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        for name in ["pipe.csv", "sock.csv"] {
            let message = Self.refusal { try box.read(box.worktree + "/" + name, strategy: strategy) }
            #expect(message.contains("not a regular file or directory"), "\(name): \(message)")
        }
        #expect(Self.refusal { try box.read(box.worktree + "/sub", strategy: strategy) }.contains("is not a regular file"))
    }

    @Test("a file with a second hard link is refused", arguments: strategies)
    func hardLinks(_ strategy: BeneathOpener.Strategy) throws {
        let box = try Sandbox()
        try box.write("copy.csv", "target\nSECRET\n")
        #expect(link(box.base + "/copy.csv", box.worktree + "/linked.csv") == 0)
        let message = Self.refusal { try box.read(box.worktree + "/linked.csv", strategy: strategy) }
        #expect(message.contains("has 2 hard links"), "\(message)")
        unlink(box.base + "/copy.csv")
        #expect(try box.read(box.worktree + "/linked.csv", strategy: strategy) == "target\nSECRET\n")
    }

    @Test("the size limit is checked before reading")
    func sizeLimit() throws {
        let box = try Sandbox()
        let message = Self.refusal { try box.read(box.worktree + "/good.csv", strategy: .automatic, limit: 4) }
        #expect(message.contains("is 15 bytes, more than the limit of 4 bytes"), "\(message)")
    }

    /// Reads `good.csv` in 4-byte chunks, changing it with `change` after the first chunk.
    func readChanging(_ change: @escaping (Int32) -> Void) throws -> String {
        let box = try Sandbox()
        try box.write("worktree/big.csv", String(repeating: "0123456789", count: 10))
        let file = try WorktreeFiles.openBeneath(box.worktree + "/big.csv", worktree: box.worktree)
        let writer = open(box.worktree + "/big.csv", O_WRONLY | O_APPEND)
        defer { close(writer) }
        var reader = BoundedReader(shownAs: "big.csv", limit: .init(bytes: 1 << 20, described: "1 MiB"), control: Self.started())
        reader.chunkBytes = 4
        var chunks = 0
        return Self.refusal {
            try reader.read(file) { _ in
                chunks += 1
                if chunks == 1 { change(writer) }
            }
        }
    }

    @Test("a file that shrinks or grows while it is read is refused, wherever it ends")
    func changingSize() throws {
        let truncated = try readChanging { ftruncate($0, 0) }
        #expect(truncated.contains("big.csv shrank while the daemon read it (100 bytes when opened, 4 bytes then)"), "\(truncated)")
        let shorter = try readChanging { ftruncate($0, 50) }
        #expect(shorter.contains("shrank") && shorter.contains("50 bytes then"), "\(shorter)")
        let longer = try readChanging { _ = write($0, "more", 4) }
        #expect(longer.contains("big.csv grew while the daemon read it (100 bytes when opened, at least 104 bytes then)"), "\(longer)")
        // Shrunk, then grown back past its old size before the end.
        let regrown = try readChanging { fd in
            ftruncate(fd, 8)
            _ = write(fd, String(repeating: "x", count: 200), 200)
        }
        #expect(regrown.contains("grew"), "\(regrown)")
    }

    @Test("copies stop at their time limit, on cancellation and when the daemon stops")
    func stops() throws {
        let expired = Self.started(.zero)
        #expect(Self.refusal { try expired.check("big.csv") }.contains("took longer than the limit of 0 s"))
        let cancelled = Self.started()
        cancelled.cancel(.cancelled)
        #expect(Self.refusal { try cancelled.check("big.csv") }.contains("cancelled"))
        let stopping = Self.started()
        stopping.cancel(.stopping)
        do {
            try stopping.check("big.csv")
            Issue.record("not stopped")
        } catch let error as RPCError {
            #expect(error.kind == .shuttingDown)
        }
    }

    @Test("the async read runs on the copy threads and honours cancellation")
    func asyncRead() async throws {
        let box = try Sandbox()
        let data = try await WorktreeFiles.read(box.worktree + "/good.csv", worktree: box.worktree, maxBytes: 100)
        #expect(String(decoding: data, as: UTF8.self) == "prediction\n0.5\n")
        try FileManager.default.createDirectory(atPath: box.worktree + "/big", withIntermediateDirectories: true)
        let big = open(box.worktree + "/big/huge.bin", O_WRONLY | O_CREAT, 0o644)
        ftruncate(big, 64 << 20)
        close(big)
        let task = Task {
            try await WorktreeFiles.read(box.worktree + "/big/huge.bin", worktree: box.worktree, maxBytes: 2 << 30)
        }
        task.cancel()
        await #expect(throws: RPCError.self) { _ = try await task.value }
    }
}

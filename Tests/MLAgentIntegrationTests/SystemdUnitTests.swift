import Foundation
import Testing

@Suite("systemd units")
struct SystemdUnitTests {
    @Test("systemd-analyze verify prints nothing for mlagentd.service and mlagentd.socket")
    func verify() throws {
        let dir = try TempDir("unit")
        let root = Binaries.repositoryRoot.appendingPathComponent("systemd")
        // As `make install` does: point ExecStart at the installed binary.
        let service = try String(contentsOf: root.appendingPathComponent("mlagentd.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin", with: Binaries.directory.path)
        try service.write(toFile: dir.file("mlagentd.service"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            atPath: root.appendingPathComponent("mlagentd.socket").path, toPath: dir.file("mlagentd.socket"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify", dir.file("mlagentd.service"), dir.file("mlagentd.socket")]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.isEmpty, "\(text)")
        #expect(service.contains("Type=notify"))
        #expect(service.contains("WatchdogSec="))
        #expect(service.contains("StateDirectory=mlagent"))
        #expect(service.contains("RuntimeDirectory=mlagent"))
        #expect(!service.contains("PrivateDevices=yes"), "agents need GPUs")
        #expect(!service.contains("PrivateNetwork=yes"), "agents need networking")
        #expect(service.contains("Delegate=yes"), "agents' cgroups")
        #expect(service.contains("OOMScoreAdjust=-"), "the OOM killer takes agents first")
        #expect(service.contains("MemoryMin="))
        #expect(!service.contains("ProtectControlGroups=yes"), "the delegated cgroup must stay writable")
    }
}

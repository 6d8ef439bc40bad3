import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// The sandbox is an allow-list: an agent sees the system directories, what its profile adds,
/// its worktree, a private home and a private /tmp, and nothing else of the machine: not home
/// directories, not /var, not another daemon's targets or a repository holding them in its
/// history. Every shell finds mlagentctl; an agent that cannot start fails at once.
@Suite("the sandbox's view of the machine", .serialized)
struct SandboxViewTests {
    /// Targets where users and other daemons keep them: another instance's data and state under
    /// /var/tmp, and a git repository under a home directory that has them only in its history.
    func plantDecoys(_ root: TempDir, home: TempDir) throws {
        for path in ["other/data/val_private_y.csv", "other/state/targets/val_public_y.csv"] {
            try FileManager.default.createDirectory(
                atPath: (root.file(path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "target\n1\n0\n".write(toFile: root.file(path), atomically: true, encoding: .utf8)
        }
        let repository = home.file("downloads/dataset")
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        try "target\n1\n0\n".write(toFile: repository + "/val_private_y.csv", atomically: true, encoding: .utf8)
        for arguments in [
            ["init", "-q", repository], ["-C", repository, "add", "val_private_y.csv"],
            ["-C", repository, "-c", "user.name=u", "-c", "user.email=u@example.org", "commit", "-qm", "targets"],
            ["-C", repository, "rm", "-q", "val_private_y.csv"],
            ["-C", repository, "-c", "user.name=u", "-c", "user.email=u@example.org", "commit", "-qm", "gone"],
        ] {
            let git = try ChildProcess(
                executable: "/usr/bin/git", arguments: arguments, environment: ProcessInfo.processInfo.environment,
                outputPath: "/dev/null")
            git.waitUntilExit()
            try #require(git.terminationStatus == 0, "git \(arguments)")
        }
    }

    /// The installation a venv was made from (its `pyvenv.cfg` `home`, and that one's prefix).
    static func pythonHome(of venv: String) -> [String] {
        let text = (try? String(contentsOfFile: venv + "/pyvenv.cfg", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("home") }),
            let value = line.split(separator: "=", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
        else { return [] }
        let bin = URL(fileURLWithPath: value).resolvingSymlinksInPath().path
        return [value, (bin as NSString).deletingLastPathComponent]
    }

    @Test("only the allow-list is visible: no homes, /var or decoy targets; a private home with read-only home_files; mlagentctl from a login shell")
    func allowList() throws {
        let decoys = try TempDir("decoys", under: "/var/tmp")
        let userHome = try TempDir("home", under: "/var/tmp")
        try plantDecoys(decoys, home: userHome)
        try FileManager.default.createDirectory(atPath: userHome.file(".fakecli"), withIntermediateDirectories: true)
        try "sign-in secret\n".write(toFile: userHome.file(".fakecli/auth.json"), atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(label: "view", config: """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "probe"
            max_attempts = 1
            [agents.probe]
            command = ["sh", "@DIR@/agents/probe.sh"]
            timeout = "2m"
            home_files = ["~/.fakecli/auth.json", "~/.fakecli/missing.json"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n")
        try daemon.write(
            "agents/probe.sh",
            """
            exec > view.txt 2>&1
            for p in /home /root /var /srv /mnt /media \(decoys.path) \(userHome.path) @DIR@ @DIR@/state/targets; do
              if [ -e "$p" ]; then echo "VISIBLE $p $(ls -A "$p" | tr '\\n' ' ')"; else echo "absent $p"; fi
            done
            echo "found-any: $(find / -name '*_y.csv' -not -path '/proc/*' 2>/dev/null | tr '\\n' ' ')"
            echo "repos: $(find / -name '.git' -not -path '/proc/*' -not -path "$PWD/*" 2>/dev/null | grep -v '^/usr\\|^/opt' | tr '\\n' ' ')"
            echo "home=$HOME config=$XDG_CONFIG_HOME cache=$XDG_CACHE_HOME"
            echo "home-file: $(cat "$HOME/.fakecli/auth.json")"
            if echo stolen >> "$HOME/.fakecli/auth.json" 2>/dev/null; then echo "home-file WRITABLE"; else echo "home-file read-only"; fi
            [ -e "$HOME/.fakecli/missing.json" ] && echo "missing file appeared" || echo "missing file skipped"
            echo scratch > "$HOME/.cache/scratch" && echo "home writable"
            echo "login: $(env -i HOME="$HOME" PATH=/usr/bin:/bin bash -l -c 'command -v mlagentctl')"
            echo "sh: $(env -i HOME="$HOME" ENV="$HOME/.profile" PATH=/usr/bin:/bin sh -i -c 'command -v mlagentctl' 2>/dev/null)"
            echo "ctl=$MLAGENT_CTL python=$MLAGENT_PYTHON tmpdir=$TMPDIR"
            env -i HOME="$HOME" PATH=/usr/bin:/bin MLAGENT_SOCKET="$MLAGENT_SOCKET" MLAGENT_TOKEN="$MLAGENT_TOKEN" \\
              bash -l -c 'mlagentctl direction declare allow-list --rationale "probes what the sandbox shows"'
            echo done > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        try daemon.start(extraEnvironment: ["HOME": userHome.path], launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: ""))
        try waitUntil("the probe to end", timeout: .seconds(60)) { try client.show(id: 1).state.isFinal }
        let probe = try client.show(id: 1)
        #expect(probe.state == .completed, "\(probe.reason ?? "")")
        var view = ""
        try waitUntil("the probe's archive") {
            let shown = try daemon.git("show", "exp/allow-list:view.txt")
            view = shown.output
            return shown.status == 0
        }
        // What is visible of those places are only the paths mounted back: the Python
        // installation, the agents' scripts, the worktree, the home, the socket.
        let python = Binaries.repositoryRoot.path + "/.venv/bin/python"
        let needed = [
            python, URL(fileURLWithPath: python).resolvingSymlinksInPath().path, daemon.dir.file("agents"),
            daemon.dir.file("state/workspace"), daemon.dir.file("state/logs/job-1.home"), daemon.socketPath,
            daemon.dir.file("ctl"), daemon.dir.file("agents/probe.sh"),
        ] + Self.pythonHome(of: Binaries.repositoryRoot.path + "/.venv")
        for line in view.split(separator: "\n") where line.hasPrefix("VISIBLE ") {
            let words = line.split(separator: " ").map(String.init)
            for entry in words.dropFirst(2) {
                let path = words[1] + "/" + entry
                #expect(needed.contains { $0 == path || $0.hasPrefix(path + "/") }, "\(path) is visible: \(line)")
            }
        }
        #expect(view.contains("absent /home") && view.contains("absent \(decoys.path)") && view.contains("absent \(userHome.path)"))
        #expect(view.contains("absent \(daemon.dir.file("state/targets"))"), "\(view)")
        let found = view.split(separator: "\n").filter { $0.hasPrefix("found") }
        #expect(found.allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasSuffix(":") }, "targets were found: \(found)")
        let repos = view.split(separator: "\n").first { $0.hasPrefix("repos:") } ?? ""
        #expect(!repos.contains(userHome.path) && !repos.contains(decoys.path), "\(repos)")
        let home = daemon.dir.file("state/logs/job-1.home")
        #expect(view.contains("home=\(home) config=\(home)/.config cache=\(home)/.cache"), "\(view)")
        #expect(view.contains("home-file: sign-in secret"), "\(view)")
        #expect(view.contains("home-file read-only") && view.contains("missing file skipped"), "\(view)")
        #expect(view.contains("home writable"), "\(view)")
        #expect(view.contains("login: /run/mlagent/bin/mlagentctl"), "\(view)")
        #expect(view.contains("ctl=/run/mlagent/bin/mlagentctl") && view.contains("tmpdir=/tmp"), "\(view)")
        // The home stays with the job's log, the user's file untouched; nothing of it on main.
        #expect(FileManager.default.fileExists(atPath: home + "/.cache/scratch"))
        #expect(try String(contentsOfFile: userHome.file(".fakecli/auth.json"), encoding: .utf8) == "sign-in secret\n")
        let files = try daemon.git("ls-tree", "-r", "--name-only", "main").output
        #expect(!files.contains(".home"), "\(files)")
        #expect(try daemon.terminate() == 0)
    }

    @Test("an agent whose executable is missing, not on PATH or inside the state directory fails at once, naming the path")
    func hiddenExecutableFailsFast() throws {
        let daemon = try TestDaemon(label: "fast", config: """
            [daemon]
            data_dir = "@DIR@/data"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            default_agent = "missing"
            max_attempts = 3
            [agents.missing]
            command = ["@DIR@/nowhere/agent", "{prompt_file}"]
            [agents.unknown]
            command = ["no-such-agent-cli", "-p", "{prompt}"]
            [agents.hidden]
            command = ["@DIR@/state/bin/agent"]
            [agents.roless]
            command = ["sh", "-c", "true"]
            ro_paths = ["@DIR@/not-there"]
            """)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("state/bin/agent", "#!/bin/sh\nexit 0\n")
        chmod(daemon.dir.file("state/bin/agent"), 0o755)
        try daemon.start(launching: true)
        let client = try daemon.client()
        let expected = [
            ("missing", "the agent's executable \(daemon.dir.file("nowhere/agent")) does not exist"),
            ("unknown", "the agent's executable \"no-such-agent-cli\" is not on the daemon's PATH"),
            ("hidden", "lies in the daemon's state directory"),
            ("roless", "ro_paths entry \(daemon.dir.file("not-there")) does not exist"),
        ]
        for (index, (agent, message)) in expected.enumerated() {
            let id = Int64(index + 1)
            _ = try client.enqueue(EnqueueParams(direction: "", agent: agent))
            try waitUntil("job \(id) to fail", timeout: .seconds(20)) { try client.show(id: id).state.isFinal }
            let job = try client.show(id: id)
            #expect(job.state == .failed)
            #expect(job.attempts == 1, "a job that cannot start is not retried")
            #expect((job.reason ?? "").contains(message), "\(job.reason ?? "")")
            let log = try daemon.ctl("logs", String(id)).stdout
            #expect(log.contains(message), "\(log)")
        }
        _ = try client.status()
        #expect(try daemon.terminate() == 0)
    }
}

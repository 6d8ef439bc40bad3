import Foundation
import MLAgentClient
import MLAgentProtocol
import Testing

/// Steering a running agent: `mlagentctl say` puts a message in the job's inbox, the agent reads
/// it with `mlagentctl inbox`, and the message lands in the direction file on main.
@Suite("say and inbox", .serialized)
struct InboxTests {
    func makeDaemon() throws -> TestDaemon {
        let config = """
            [daemon]
            data_dir = "@DIR@/data"
            agents_dir = "@DIR@/agents"
            prompts_dir = "\(Binaries.repositoryRoot.appendingPathComponent("config/prompts").path)"
            [scheduler]
            kill_grace = "2s"
            [agents.listener]
            command = ["sh", "{agents_dir}/listener.sh"]
            """
        let daemon = try TestDaemon(label: "say", config: config)
        try daemon.write("data/train.csv", "f00,target\n0.1,0\n0.3,1\n")
        try daemon.write("data/val_public_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_private_X.csv", "f00\n1\n2\n")
        try daemon.write("data/val_public_y.csv", "target\n0\n1\n")
        try daemon.write("data/val_private_y.csv", "target\n1\n0\n")
        // Polls its inbox between "runs" until a message comes, then tries to steer itself.
        try daemon.write(
            "agents/listener.sh",
            """
            i=0
            while [ $i -lt 600 ]; do
              mlagentctl inbox --json > inbox.json
              grep -q '"new":0' inbox.json || break
              i=$((i + 1)); sleep 0.1
            done
            mlagentctl inbox --all > all.txt
            mlagentctl inbox --json > again.json
            mlagentctl say "$MLAGENT_JOB_ID" "steer myself" 2> say-error.txt; echo $? > say-status.txt
            echo "Listened to the operator." > learnings.md
            mlagentctl direction finish --learnings learnings.md
            """)
        return daemon
    }

    @Test("say reaches a running agent once; refusals are clear; the message lands in the direction file")
    func steering() throws {
        let daemon = try makeDaemon()
        try daemon.start(launching: true)
        let client = try daemon.client()
        _ = try client.enqueue(EnqueueParams(direction: "steer", agent: "listener"))
        try waitUntil("the agent to run", timeout: .seconds(30)) { try client.show(id: 1).state == .running }

        func refused(_ result: CtlResult, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 1, "exit \(result.status): \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        }
        refused(try daemon.ctl("say", "99", "hello"), "no job with id 99")
        refused(try daemon.ctl("say", "1", ""), "the message is empty")
        refused(try daemon.ctl("say", "1", "  \n "), "the message is empty")
        refused(try daemon.ctl("say", "1", String(repeating: "x", count: InboxRules.maxMessageBytes + 1)), "at most")
        refused(try daemon.ctl("inbox"), "job.inbox is an agent call")
        let sent = try daemon.ctl("say", "1", "try a lower learning rate", "--json")
        #expect(sent.status == 0, "\(sent.stderr)")
        let message = try JSONDecoder().decode(InboxMessage.self, from: Data(sent.stdout.utf8))
        #expect(message.jobID == 1 && message.readAt == nil)

        try waitUntil("the agent to finish", timeout: .seconds(90)) { try client.show(id: 1).state.isFinal }
        let job = try client.show(id: 1)
        #expect(job.state == .completed, "\(job.reason ?? "")")
        func branchFile(_ name: String) throws -> String {
            var text = ""
            try waitUntil("\(name) on exp/steer", timeout: .seconds(30)) {
                let shown = try daemon.git("show", "exp/steer:\(name)")
                text = shown.output
                return shown.status == 0
            }
            return text
        }
        // The agent got it once, marked read; --all shows it again; a second read has nothing new.
        let inbox = try JSONDecoder().decode(Inbox.self, from: Data(try branchFile("inbox.json").utf8))
        #expect(inbox.new == 1 && inbox.messages.map(\.text) == ["try a lower learning rate"])
        #expect(inbox.messages.first?.readAt != nil)
        #expect(try branchFile("all.txt").contains("operator: try a lower learning rate"))
        let again = try JSONDecoder().decode(Inbox.self, from: Data(try branchFile("again.json").utf8))
        #expect(again.new == 0 && again.messages.isEmpty)
        // An agent cannot say anything.
        #expect(try branchFile("say-status.txt").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try branchFile("say-error.txt").contains("job.say is an operator call"))

        // Sending and reading are events; the message is in the direction file on main.
        let kinds = try client.events(since: 0, job: 1).events.map(\.kind)
        #expect(kinds.filter { $0 == EventKind.jobMessage }.count == 1)
        #expect(kinds.filter { $0 == EventKind.jobMessageRead }.count == 1)
        var file = ""
        try waitUntil("the final landing") {
            file = try daemon.git("show", "main:research_directions/steer.md").output
            return file.contains("Status: completed")
        }
        let section = try #require(file.components(separatedBy: "## Messages").dropFirst().first, "\(file)")
        #expect(section.contains(": try a lower learning rate"), "\(file)")
        #expect(section.contains("(read 20"), "\(file)")

        // An ended job gets no more messages.
        refused(try daemon.ctl("say", "1", "too late"), "job 1 is completed")
        #expect(try daemon.terminate() == 0)
    }
}

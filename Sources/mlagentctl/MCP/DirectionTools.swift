import MCP
import MLAgentClient
import MLAgentProtocol

/// The direction's lifecycle (declare, finish) and the operator's messages to the agent.
enum DirectionTools {
    static let tools: [MCPTool] = [declareDirection, finishDirection, readInbox]

    static let declareDirection = MCPTool(
        name: "declare_direction", title: "Declare your direction",
        description: """
            Name the research direction you picked, before any run, when the job has no assigned direction \
            (MLAGENT_DIRECTION is empty). The daemon names your branch exp/<name> and lands \
            research_directions/<name>.md (in_progress) on main. The name is a lowercase slug of letters, \
            digits and single dashes (at most 64 bytes), used once per workspace: pick one that no direction \
            in list_directions has. A refused name comes back as an error saying why; pick another.
            """,
        input: ToolSchema.object(
            [
                "name": ToolSchema.string("A new slug, e.g. hist-gbm-monotone.", minLength: 1, pattern: "^[a-z0-9]+(-[a-z0-9]+)*$"),
                "rationale": ToolSchema.string(
                    "Why this direction, and what it adds to earlier ones (cite their names or runs).", minLength: 1),
            ], required: ["name", "rationale"])
    ) { arguments, client in
        try toolValue(try client.declare(name: try arguments.string("name"), rationale: try arguments.string("rationale")))
    }

    static let finishDirection = MCPTool(
        name: "finish_direction", title: "Finish your direction",
        description: """
            End your direction with your learnings (Markdown): what worked, what did not, and what to try next, \
            citing run ids. The daemon marks it completed and lands its file with a Results section and every \
            run's records on main; runs still running are marked failed. Refused while a finished run with a \
            model has not been submitted: call submit_private first. Call it once, as your last step.
            """,
        input: ToolSchema.object(
            ["learnings": ToolSchema.string("Markdown learnings, citing run ids.", minLength: 1)], required: ["learnings"])
    ) { arguments, client in
        try toolValue(try client.finish(learnings: try arguments.string("learnings")))
    }

    static let readInbox = MCPTool(
        name: "read_inbox", title: "Read the operator's messages",
        description: """
            Messages the operator sent you while you work (for example "try a lower learning rate"), oldest \
            first; the unread ones are marked read. Look between runs and follow them: they take priority over \
            your own plans. `new` counts the messages you had not read yet; with all=true every message is \
            returned again.
            """,
        input: ToolSchema.object(["all": ToolSchema.boolean("Return every message, not only the unread ones (default false).")]),
        readOnly: false
    ) { arguments, client in
        try toolValue(try client.inbox(all: try arguments.bool("all") ?? false))
    }
}

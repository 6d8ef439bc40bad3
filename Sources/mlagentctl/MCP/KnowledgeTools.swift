import MCP
import MLAgentClient
import MLAgentProtocol

/// The knowledge base: directions with their status, results and learnings, a direction's
/// runs, one run in full, and the leaderboard. All read-only, open to every agent.
enum KnowledgeTools {
    static let tools: [MCPTool] = [listDirections, listRuns, showRun, leaderboard, compareRuns]

    /// Keys of a leaderboard entry that the direction itself already carries.
    private static let directionKeys: Set<String> = ["direction", "branch", "status", "rationale", "started_at", "finished_at", "job_id"]

    static let listDirections = MCPTool(
        name: "list_directions", title: "List research directions",
        description: """
            The shared knowledge base: every research direction of this workspace (yours and other agents'), \
            live from the daemon, with its status (in_progress, completed, failed, abandoned), rationale, \
            operator guidance, learnings (Markdown written by the agent that finished it: what worked, what \
            failed, what to try next) and results (rank, best public score with its 95% interval, best run, \
            submitted run, private score, public/private gap, run counts, flags such as overfit). The same \
            content as research_directions/*.md on main. Read it before choosing or declaring a direction, \
            and build on earlier learnings instead of repeating them.
            """,
        input: ToolSchema.object([
            "name": ToolSchema.string("Only this direction (its slug)."),
            "status": ToolSchema.string("Only directions with this status: in_progress, completed, failed or abandoned."),
            "include_learnings": ToolSchema.boolean("Include each direction's learnings text (default true)."),
        ]),
        readOnly: true
    ) { arguments, client in
        let name = try arguments.optionalString("name")
        let status = try arguments.optionalString("status")
        let learnings = try arguments.bool("include_learnings") ?? true
        let board = try client.leaderboard()
        let entries = Dictionary(board.directions.map { ($0.direction, $0) }, uniquingKeysWith: { first, _ in first })
        var directions: [Value] = []
        for direction in try client.directions() {
            if let name, direction.name != name { continue }
            if let status, direction.status != status { continue }
            guard case .object(var object) = try toolValue(direction) else { continue }
            if !learnings { object["learnings"] = nil }
            if let entry = entries[direction.name], case .object(let results) = try toolValue(entry) {
                object["results"] = .object(results.filter { !directionKeys.contains($0.key) })
            }
            directions.append(.object(object))
        }
        return .object([
            "metric": .string(board.metric), "higher_is_better": .bool(board.higherIsBetter),
            "public_eval_budget": .int(board.publicEvalBudget), "directions": .array(directions),
        ])
    }

    static let listRuns = MCPTool(
        name: "list_runs", title: "List runs",
        description: """
            The runs (experiments) of one direction, or of all directions without `direction`, in id order: \
            id, name, status (running, finished, failed), rationale, analysis, latest public score and its 95% \
            interval, public evaluations spent, private score, number of metric points, and whether a model \
            artifact is stored. Use show_run for a run's params, metrics and evaluations.
            """,
        input: ToolSchema.object(["direction": ToolSchema.string("The direction's slug; omit for every run.")]),
        readOnly: true
    ) { arguments, client in
        try toolValue(RunList(runs: try client.runs(direction: try arguments.optionalString("direction"))))
    }

    static let showRun = MCPTool(
        name: "show_run", title: "Show a run",
        description: """
            Everything recorded on one run of any direction: the run, its params, tags, the latest value of \
            every metric, its artifacts and its evaluations (public scores with intervals; the private one with \
            its gap). Useful to reuse what worked in an earlier run.
            """,
        input: ToolSchema.object(["run": ToolSchema.run()], required: ["run"]),
        readOnly: true
    ) { arguments, client in
        try toolValue(try client.showRun(try arguments.int64("run")))
    }

    static let leaderboard = MCPTool(
        name: "leaderboard", title: "Leaderboard",
        description: """
            Directions ranked by their best public score (the metric and whether higher is better are in the \
            reply), each with the 95% bootstrap interval, private score and public/private gap of its \
            submission, how its private predictions were obtained (submission.outcome: reproduced, mismatch, \
            unreproducible or agent-predicted), run counts, public evaluations spent, flags (overfit, \
            no_submission, budget_exhausted, failed, abandoned, mismatch, unreproducible) and vs_leader: its \
            best run minus the leader's on the same public rows with a 95% paired-bootstrap interval \
            (distinguishable false: not reliably different from the leader).
            """,
        input: ToolSchema.object([:]),
        readOnly: true
    ) { _, client in
        try toolValue(try client.leaderboard())
    }

    static let compareRuns = MCPTool(
        name: "compare_runs", title: "Compare two runs",
        description: """
            A paired bootstrap of two runs' public predictions on the same rows: the difference A − B of the \
            metric (positive: A is better when higher is better), its 95% interval, the probability that A is \
            better, and whether the two are distinguishable (the interval excludes 0). Any two runs with a \
            public evaluation, of any direction. Use it before claiming that one configuration beats another: \
            a difference inside the interval is noise.
            """,
        input: ToolSchema.object(
            ["run_a": ToolSchema.run("Run A."), "run_b": ToolSchema.run("Run B.")], required: ["run_a", "run_b"]),
        readOnly: true
    ) { arguments, client in
        try toolValue(try client.compare(runA: try arguments.int64("run_a"), runB: try arguments.int64("run_b")))
    }
}

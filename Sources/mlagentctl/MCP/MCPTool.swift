import MCP
import MLAgentClient

/// One MCP tool: what the model sees (name, description, input schema) and the daemon call
/// behind it. Results are JSON objects, sent both as text and as structured content.
struct MCPTool: Sendable {
    let definition: Tool
    /// Whether the call may be sent again after a lost connection: reads, and writes the
    /// daemon deduplicates (metric batches with ids).
    let idempotent: Bool
    let call: @Sendable (ToolArguments, DaemonClient) throws -> Value

    init(
        name: String, title: String, description: String, input: Value, readOnly: Bool = false,
        idempotent: Bool = false, call: @escaping @Sendable (ToolArguments, DaemonClient) throws -> Value
    ) {
        self.definition = Tool(
            name: name, title: title, description: description, inputSchema: input,
            annotations: .init(
                title: title, readOnlyHint: readOnly, destructiveHint: false, idempotentHint: readOnly || idempotent,
                openWorldHint: false))
        self.idempotent = readOnly || idempotent
        self.call = call
    }
}

/// A daemon reply as a tool result value.
func toolValue(_ value: some Codable) throws -> Value {
    try Value(value)
}

import Foundation
import MCP
import MLAgentClient
import MLAgentProtocol

/// Every tool of `mlagentctl mcp`, and how a call becomes a daemon request and a result:
/// a refusal from the daemon comes back as a tool error (`isError`) carrying its message.
struct MCPToolbox: Sendable {
    let tools: [MCPTool]

    static let standard = MCPToolbox(
        tools: KnowledgeTools.tools + DirectionTools.tools + RunTools.tools + EvaluationTools.tools)

    func call(_ params: CallTool.Parameters, gateway: DaemonGateway) async -> CallTool.Result {
        guard let tool = tools.first(where: { $0.definition.name == params.name }) else {
            return Self.failure("unknown tool \(params.name); the tools are \(tools.map(\.definition.name).joined(separator: ", "))")
        }
        let arguments = ToolArguments(tool: params.name, values: params.arguments)
        do {
            let value = try await gateway.perform(idempotent: tool.idempotent) { client in
                try tool.call(arguments, client)
            }
            return CallTool.Result(content: [.text(text: Self.render(value), annotations: nil, _meta: nil)], structuredContent: Optional(value), isError: false)
        } catch let error as ClientError {
            if case .rpc(let refusal) = error {
                return Self.failure("\(refusal.message) (\(refusal.data.kind))")
            }
            return Self.failure("\(params.name) did not reach mlagentd: \(error.description)")
        } catch let error as ToolInputError {
            return Self.failure(error.description)
        } catch {
            return Self.failure("\(params.name) failed: \(error)")
        }
    }

    static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }

    /// The result as compact JSON with sorted keys.
    static func render(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }
}

import Foundation
import MLAgentProtocol

/// Maps method names to handlers and turns a raw request line into a reply.
struct RequestRouter: Sendable {
    /// Decodes the params from the request line, runs the handler and encodes the whole reply
    /// line for `id` in one pass.
    typealias Entry = @Sendable (_ line: Data, _ id: RPCID, _ context: RequestContext) async throws -> Data

    private var entries: [String: Entry] = [:]
    private(set) var access: [String: MethodAccess] = [:]

    var methods: [String] { entries.keys.sorted() }

    mutating func register<H: RequestHandler>(_ handler: H) {
        access[H.method] = H.access
        let fastType = H.Params.self as? any FastDecodableParams.Type
        let fast: (@Sendable (Data) -> H.Params?)?
        if let fastType {
            fast = { line in fastType.fastDecode(line: line) as? H.Params }
        } else {
            fast = nil
        }
        entries[H.method] = { line, id, context in
            let params: H.Params
            if let fast, let decoded = fast(line) {
                params = decoded
            } else { do {
                let envelope = try JSONCoding.decoder.decode(ParamsEnvelope<H.Params>.self, from: line)
                if let decoded = envelope.params {
                    params = decoded
                } else if let fallback = handler.defaultParams {
                    params = fallback
                } else {
                    throw RPCError(.invalidParams, "\(H.method) needs params; see docs/protocol.md for its shape")
                }
            } catch let error as DecodingError {
                throw RPCError(.invalidParams, "\(H.method): \(DecodingErrorText.describe(error))")
            } }
            let output = try await handler.handle(params, context: context)
            return try JSONCoding.line(RPCTypedResult(id: id, result: output))
        }
    }

    func entry(for method: String) -> Entry? { entries[method] }

    private struct ParamsEnvelope<P: Decodable>: Decodable {
        var params: P?
    }
}

/// Params with a hand-written decoder for hot paths (see `FastJSON`); nil falls back to
/// `JSONDecoder`.
protocol FastDecodableParams: Sendable {
    static func fastDecode(line: Data) -> Self?
}

extension RunLogParams: FastDecodableParams {
    static func fastDecode(line: Data) -> RunLogParams? { FastJSON.runLogParams(line) }
}

/// Turns `DecodingError`s into one-line messages that name the offending field.
enum DecodingErrorText {
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let keys = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            return keys.isEmpty ? "value" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) has the wrong type: expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null: expected \(typeName(type))"
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the request is not valid JSON" }
            return "\(path(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "invalid params"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt32.Type: "integer"
        case is Double.Type: "number"
        case is Bool.Type: "boolean"
        default:
            if String(describing: type).hasPrefix("Dictionary") { "object" }
            else if String(describing: type).hasPrefix("Array") { "array" }
            else { "\(type)" }
        }
    }
}

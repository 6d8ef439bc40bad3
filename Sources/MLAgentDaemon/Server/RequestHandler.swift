import Foundation
import MLAgentProtocol

/// One protocol method. Each lives in its own file under `Handlers/`.
protocol RequestHandler: Sendable {
    associatedtype Params: Decodable & Sendable
    associatedtype Output: Encodable & Sendable

    static var method: String { get }
    /// Whether the method needs operator rights (as opposed to an agent's job token).
    static var operatorOnly: Bool { get }
    /// Params used when the request has none.
    var defaultParams: Params? { get }

    func handle(_ params: Params, context: RequestContext) async throws -> Output
}

extension RequestHandler {
    static var operatorOnly: Bool { true }
    var defaultParams: Params? { nil }
}

/// Params for methods that take none; any object is accepted.
struct NoParams: Codable, Sendable {}

extension RequestHandler where Params == NoParams {
    var defaultParams: NoParams? { NoParams() }
}

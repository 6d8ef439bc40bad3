import Foundation
import MLAgentProtocol

/// One protocol method. Each lives in its own file under `Handlers/`.
protocol RequestHandler: Sendable {
    associatedtype Params: Decodable & Sendable
    associatedtype Output: Encodable & Sendable

    static var method: String { get }
    /// Who may call the method: operators (peer credentials), agents (their job token), or both.
    static var access: MethodAccess { get }
    /// Params used when the request has none.
    var defaultParams: Params? { get }

    func handle(_ params: Params, context: RequestContext) async throws -> Output
}

extension RequestHandler {
    static var access: MethodAccess { .operator }
    var defaultParams: Params? { nil }
}

enum MethodAccess: Sendable {
    case `operator`
    case agent
    case both
}

/// Params for methods that take none; any object is accepted.
struct NoParams: Codable, Sendable {}

extension RequestHandler where Params == NoParams {
    var defaultParams: NoParams? { NoParams() }
}

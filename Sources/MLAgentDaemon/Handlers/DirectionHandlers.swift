import Foundation
import MLAgentProtocol

/// `direction.declare` (agent): names the direction the agent picked; creates its branch and
/// lands its `in_progress` file on main.
struct DeclareHandler: RequestHandler {
    static let method = Method.directionDeclare
    static let access = MethodAccess.agent
    static let maxRationaleBytes = 16 * 1024
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: DeclareParams, context: RequestContext) async throws -> Direction {
        let jobID = try context.requireAgent(Self.method)
        if let problem = DirectionName.problem(with: params.name) {
            throw RPCError(.invalidParams, problem, context: ["field": "name"])
        }
        let rationale = try RunValidation.text(
            params.rationale, field: "rationale", limit: Self.maxRationaleBytes,
            whenEmpty: "say why this direction and what it adds to earlier ones")
        let (direction, _) = try await core.store.declare(jobID: jobID, name: params.name, rationale: rationale)
        let job = try await core.store.job(id: jobID)
        if let worktree = job.worktree {
            do {
                try await services.workspace.attachBranch(worktree: worktree, branch: direction.branch)
            } catch {
                core.logger.error("cannot name the worktree's branch", metadata: ["job.id": "\(jobID)", "error": "\(error)"])
            }
        }
        await services.scheduler.directionDeclared(jobID: jobID, name: direction.name)
        services.merge.wake()
        core.logger.info("direction declared", metadata: ["job.id": "\(jobID)", "direction": "\(direction.name)"])
        return direction
    }
}

/// `direction.finish` (agent): records the learnings and lands the final direction file.
struct FinishHandler: RequestHandler {
    static let method = Method.directionFinish
    static let access = MethodAccess.agent
    static let maxLearningsBytes = 256 * 1024
    let core: DaemonCore
    let services: AgentServices

    func handle(_ params: FinishParams, context: RequestContext) async throws -> Direction {
        let jobID = try context.requireAgent(Self.method)
        let learnings = try RunValidation.text(
            params.learnings, field: "learnings", limit: Self.maxLearningsBytes,
            whenEmpty: "write what worked, what did not and what to try next, citing run ids")
        let (direction, _) = try await core.store.finishDirection(jobID: jobID, learnings: learnings)
        services.merge.wake()
        core.logger.info("direction finished", metadata: ["job.id": "\(jobID)", "direction": "\(direction.name)"])
        return direction
    }
}

/// `direction.list`: every direction with its status.
struct DirectionListHandler: RequestHandler {
    static let method = Method.directionList
    static let access = MethodAccess.both
    let core: DaemonCore

    func handle(_ params: NoParams, context: RequestContext) async throws -> DirectionList {
        DirectionList(directions: try await core.store.directions())
    }
}

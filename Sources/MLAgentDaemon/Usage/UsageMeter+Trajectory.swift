import Foundation
import Logging
import MLAgentProtocol

/// mini-swe-agent prints its cost to the cent and never a token; its trajectory holds the exact
/// figures. When such a job's agent has ended, the trajectory its profile's command names is
/// read (see ``MiniSWEAgentTrajectory``): one written during this attempt replaces the printed
/// figure of the last run. Whatever is wrong with it (missing, a link, too large, older than the
/// attempt, not JSON) is logged, and the printed cost stays.
extension UsageMeter {
    static let trajectoryReadLimit: Duration = .seconds(30)

    func trajectory(of job: Running) async -> MiniSWEAgentTrajectory? {
        guard let profile = core.config.agents[job.agent], profile.usage == .miniSWEAgent, !job.logPath.isEmpty else {
            return nil
        }
        var log = core.logger
        log[metadataKey: "job.id"] = "\(job.jobID)"
        let home = PrivateHome(logPath: job.logPath).path
        guard
            let (path, root) = MiniSWEAgentTrajectory.location(
                command: profile.command, home: home, worktree: job.worktree, jobID: job.jobID)
        else {
            log.notice("mini-swe-agent's trajectory is not read: its -o names a place outside the job's home and worktree; the printed cost stays")
            return nil
        }
        log[metadataKey: "trajectory"] = "\(path)"
        let started = (try? await core.store.job(id: job.jobID))?.startedAt
        do {
            // Read and parsed on the copy threads: up to 32 MiB of JSON is no work for an actor.
            let trajectory = try await CopyControl.run(timeLimit: Self.trajectoryReadLimit) { control in
                let (data, modified) = try MiniSWEAgentTrajectory.read(path, beneath: root, control: control)
                if let started, modified < started { throw Stale() }
                return try MiniSWEAgentTrajectory.parse(data)
            }
            log.info(
                "read mini-swe-agent's trajectory",
                metadata: ["cost_usd": "\(trajectory.usage.costUSD)", "tokens": "\(trajectory.usage.totalTokens)",
                           "api_calls": "\(trajectory.apiCalls.map(String.init) ?? "-")"])
            return trajectory
        } catch is Stale {
            log.notice("mini-swe-agent's trajectory predates this attempt of the job (an earlier attempt's); the printed cost stays")
        } catch let error as MiniSWEAgentTrajectory.Malformed {
            log.warning("mini-swe-agent's trajectory is unusable: \(error.description); the printed cost stays")
        } catch let error as RPCError {
            log.notice("mini-swe-agent's trajectory is not read: \(error.message); the printed cost stays")
        } catch {
            log.notice("mini-swe-agent's trajectory is not read: \(error); the printed cost stays")
        }
        return nil
    }

    private struct Stale: Error {}
}

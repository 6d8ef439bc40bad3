import Foundation
@testable import MLAgentDaemon
import MLAgentEval
import MLAgentProtocol
import Testing

/// The rendered prompt names the target and the predictions as the metric needs them.
@Suite("Prompt wording")
struct PromptWordingTests {
    func prompt(metric: EvalMetric) throws -> String {
        var config = DaemonConfig()
        config.metric = metric
        let prompts = ConfigTests.repositoryRoot.appendingPathComponent("config/prompts").path
        let launcher = AgentLauncher(config: config, socketPath: "/s", workspacePath: "/w", promptsDir: prompts)
        let now = Date(timeIntervalSince1970: 1_795_766_400)
        let job = Job(id: 3, direction: "hgb", guidance: "", agent: "command", priority: 0, state: .running, attempts: 1,
                      reason: nil, createdAt: now, updatedAt: now, startedAt: now, finishedAt: nil)
        return try launcher.renderPrompt(
            .init(job: job, token: "t", worktree: "/w/job-3", logPath: "/l", profile: config.agents["command"]!, gpu: nil))
    }

    @Test("a regression target is not called a label column; predictions follow the metric")
    func followsTheMetric() throws {
        let rmse = try prompt(metric: .rmse)
        #expect(!rmse.contains("label column"), "\(rmse)")
        #expect(rmse.contains("the target column `target` (a real value to predict: this is regression)"))
        #expect(rmse.contains("predicted values, finite numbers on the target's scale"))
        #expect(!rmse.contains("{target}") && !rmse.contains("{predictions}"))
        let auc = try prompt(metric: .rocAUC)
        #expect(auc.contains("the label column `target` (class 0 or 1)"))
        #expect(auc.contains("probabilities of class 1, in [0, 1]"))
        let f1 = try prompt(metric: .f1)
        #expect(f1.contains("predicted class labels, 0 or 1 (not probabilities)"))
    }
}

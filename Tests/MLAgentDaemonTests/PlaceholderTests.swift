import Foundation
import MLAgentProtocol
import Testing

@testable import MLAgentDaemon

@Suite("placeholders and usage sums")
struct PlaceholderTests {
    @Test("placeholders fill in one pass: values holding placeholders stay as they are; unknown and unclosed braces stay")
    func onePass() {
        let values = ["{prompt}": "use {worktree} and {metric}", "{worktree}": "/w", "{metric}": "roc_auc"]
        #expect(Placeholders.fill("{prompt}", values) == "use {worktree} and {metric}")
        #expect(Placeholders.fill("cd {worktree} && run {prompt}", values) == "cd /w && run use {worktree} and {metric}")
        #expect(Placeholders.fill("{unknown} {worktree", values) == "{unknown} {worktree")
        #expect(Placeholders.fill("{{worktree}}", values) == "{/w}")
        #expect(Placeholders.fill("no braces", values) == "no braces")
    }

    @Test("token sums saturate instead of trapping on an agent's huge counts")
    func saturating() {
        let huge = TokenUsage(inputTokens: .max - 1, outputTokens: 10, cacheReadTokens: .max, cacheWriteTokens: 1)
        let sum = huge + huge
        #expect(sum.inputTokens == .max && sum.cacheReadTokens == .max && sum.outputTokens == 20)
        #expect(huge.totalTokens == .max)
        #expect(TokenUsage.add(.min, -1) == .min)
    }
}

import MLAgentProtocol
import Testing

/// Metric, param and tag names follow MLflow's validator (its parity over every code point is
/// checked against MLflow itself in the integration tests).
@Suite("record names: MLflow's rule")
struct RecordRulesTests {
    @Test(
        "names MLflow accepts are accepted",
        arguments: ["eval:auc", "précision", "損失/訓練", "val loss", "a-b_c.d", "Ωmega²", "٣", "a..b", ".a", "train/loss:step"])
    func accepted(_ key: String) {
        #expect(RecordRules.keyProblem(key, kind: "metric") == nil)
    }

    @Test("names MLflow refuses are refused", arguments: ["", "f1!", "..a", "a/../b", "a//b", "a/", "/a", ".", "a/.", "x\u{00A0}y", "a\tb"])
    func refused(_ key: String) {
        #expect(RecordRules.keyProblem(key, kind: "metric") != nil)
    }

    @Test("the message names the character and never calls a letter of another script a non-letter")
    func message() throws {
        let problem = try #require(RecordRules.keyProblem("précision!", kind: "metric"))
        #expect(problem.contains("contains \"!\"") && problem.contains("letters or digits (of any script)") && problem.contains("\":\""))
        #expect(!problem.contains("\"é\""))
        #expect(try #require(RecordRules.keyProblem("a\tb", kind: "tag")).contains("U+9"))
    }

    @Test("the length limit counts characters, as MLflow does")
    func length() {
        #expect(RecordRules.keyProblem(String(repeating: "é", count: 250), kind: "param") == nil)
        #expect(RecordRules.keyProblem(String(repeating: "é", count: 251), kind: "param")?.contains("251 characters") == true)
    }
}

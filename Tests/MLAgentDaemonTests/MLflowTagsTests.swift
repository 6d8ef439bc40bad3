import Foundation
import Testing

@testable import MLAgentDaemon

@Suite("MLflow tags and names")
struct MLflowTagsTests {
    @Test("a value over 8,000 characters is cut to exactly 8,000 with a note naming its artifact; shorter ones pass unchanged")
    func cut() throws {
        let long = String(repeating: "é", count: 8_001)
        let exact = String(repeating: "x", count: 8_000)
        let (entries, cuts) = MLflowTags.prepare(["run_analysis": long, "short": "kept", "exact": exact])
        #expect(entries.map(\.key) == ["exact", "run_analysis", "short"])
        let cutValue = try #require(entries.first { $0.key == "run_analysis" }?.value)
        #expect(cutValue.unicodeScalars.count == MLflowTags.maxValueLength)
        #expect(cutValue.hasPrefix("éééé") && cutValue.hasSuffix("the full text is the artifact mlagent/tags/run_analysis.txt]"))
        #expect(entries.first { $0.key == "exact" }?.value == exact && entries.first { $0.key == "short" }?.value == "kept")
        #expect(cuts == [MLflowTags.Cut(key: "run_analysis", artifact: "mlagent/tags/run_analysis.txt", text: long)])
    }

    @Test(
        "the default experiment is named after the workspace",
        arguments: [
            ("/srv/research/churn", "churn"), ("/work/proj/.mlagent/workspace", "proj"), ("/var/lib/mlagent/workspace", "mlagent"),
            ("/workspace", "mlagent"),
        ])
    func experimentName(_ path: String, _ name: String) {
        #expect(MLflowTags.workspaceName(workspace: path) == name)
    }

    @Test("logged model names avoid the characters MLflow refuses; MLmodel values are quoted YAML")
    func modelFile() {
        #expect(MLflowModelFile.modelName("hgb/depth.6:v'2") == "hgb-depth-6-v-2")
        #expect(MLflowModelFile.quote("it's\nfine") == "'it''s fine'")
    }
}

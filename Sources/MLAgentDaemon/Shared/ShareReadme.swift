import Foundation
import MLAgentProtocol

/// `shared/NAME/README.md`, written by the daemon when a proposal lands: what the module does,
/// where it came from, how it was tested and who approved it.
struct ShareReadme {
    var detail: ShareDetail
    var imports: [String]

    func render() -> String {
        let proposal = detail.proposal
        var lines = [
            "# \(proposal.name) (shared module, version \(proposal.version))", "",
            proposal.summary.trimmingCharacters(in: .whitespacesAndNewlines), "",
            "- Version: \(proposal.version) (proposal \(proposal.id)), proposed \(proposal.createdAt)",
            "- Proposed by: direction \(proposal.direction), job \(proposal.jobID)",
            "- Runs that used it: \(proposal.runs.isEmpty ? "none recorded" : proposal.runs.map { "run \($0)" }.joined(separator: ", "))",
        ]
        if !imports.isEmpty {
            lines.append("- Import: \(imports.map { "`import \($0)`" }.joined(separator: ", ")) (agents have `shared/\(proposal.name)` on `PYTHONPATH`); record it with `mlagentctl run start … --uses \(proposal.name)`")
        }
        let tests = proposal.files.filter(\.isTest).map(\.path)
        lines.append("- Tests: \(tests.isEmpty ? "none given" : tests.map { "`\($0)`" }.joined(separator: ", "))")
        if let test = proposal.test {
            lines.append("- Test result: \(test.passed ? "passed" : "failed") on main at \(test.mainCommit.prefix(10)) (\(String(format: "%.1f", test.seconds)) s): \(test.summary)")
        }
        lines.append("- Reviewed by: \(proposal.reviewer ?? "-")\(proposal.reason.map { ": \($0)" } ?? "")")
        lines += ["", "## Files", ""]
        for file in proposal.files {
            lines.append("- `\(file.path)`\(file.isTest ? " (test)" : ""): \(file.bytes) bytes, sha256 \(file.sha256.prefix(12))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation
import MLAgentClient
import MLAgentProtocol

/// Prints an agent's log as `logs` receives it: whole lines rendered through
/// `StreamJSONRenderer` (stream-json becomes readable lines, anything else prints as it is), or
/// the bytes as they are with `--raw`.
struct LogPrinter {
    let raw: Bool
    private var renderer: StreamJSONRenderer
    private var partial = ""

    init(raw: Bool, prices: PricePerMTok?) {
        self.raw = raw
        self.renderer = StreamJSONRenderer(prices: prices)
    }

    /// The price table of the job's agent profile, for the running cost.
    static func prices(client: Client, job id: Int64) -> PricePerMTok? {
        guard let job = try? client.show(id: id), let report = try? client.usageReport() else { return nil }
        return report.prices[job.agent]
    }

    mutating func write(_ text: String) {
        if raw {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        partial += text
        guard let last = partial.lastIndex(of: "\n") else { return }
        let complete = partial[..<last]
        partial = String(partial[partial.index(after: last)...])
        var out = ""
        for line in complete.split(separator: "\n", omittingEmptySubsequences: false) {
            for rendered in renderer.render(String(line)) { out += rendered + "\n" }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// The last line, when the log does not end with a newline.
    mutating func finish() {
        guard !raw, !partial.isEmpty else { return }
        let rest = partial
        partial = ""
        let out = renderer.render(rest).map { $0 + "\n" }.joined()
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

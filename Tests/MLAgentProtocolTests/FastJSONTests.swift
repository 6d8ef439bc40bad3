import Foundation
import MLAgentProtocol
import Testing

@Suite("FastJSON")
struct FastJSONTests {
    struct Request: Decodable {
        var params: RunLogParams?
    }

    func decoded(_ text: String) -> RunLogParams? {
        try? JSONDecoder().decode(Request.self, from: Data(text.utf8)).params
    }

    @Test("run.log params read by the fast path equal JSONDecoder's")
    func matchesFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            var points: [MetricPoint] = []
            for index in 0..<Int.random(in: 0...300, using: &generator) {
                let value: Double = switch index % 4 {
                case 0: Double.random(in: -1e6...1e6, using: &generator)
                case 1: Double(Int.random(in: -1000...1000, using: &generator))
                case 2: Double.random(in: 0...1, using: &generator) * 1e-300
                default: 1.0 / Double(index + 1)
                }
                points.append(
                    MetricPoint(
                        key: ["loss", "val/auc", "épsilon", "a b"][index % 4], value: value, step: Int64(index),
                        timestamp: index % 3 == 0 ? nil : 1_790_000_000_000 + Int64(index)))
            }
            let params = RunLogParams(
                run: Int64(round), metrics: points, params: round % 2 == 0 ? ["depth": "3"] : nil, tags: ["t": "v"],
                batch: round % 3 == 0 ? nil : "b\(round)")
            let line = try JSONCoding.line(
                RPCTypedRequest(id: .number(Int64(round)), method: Method.runLog, params: params, token: "tok"))
            let fast = try #require(FastJSON.runLogParams(line))
            #expect(fast == params)
            let envelope = try #require(FastJSON.envelope(line))
            #expect(envelope.method == Method.runLog && envelope.token == "tok" && envelope.id == .number(Int64(round)))
        }
    }

    @Test("unknown fields are skipped; escapes, odd numbers and bad JSON go to the fallback")
    func edges() {
        let extra = #"{"jsonrpc":"2.0","id":"x","method":"run.log","extra":{"a":[1,2.5e-3,true,null,{"b":"c"}]},"params":{"run":3,"metrics":[{"key":"k","value":-0.5e2,"step":2,"more":[]}],"batch":null}}"#
        #expect(FastJSON.runLogParams(Data(extra.utf8)) == decoded(extra))
        #expect(FastJSON.envelope(Data(extra.utf8))?.id == .string("x"))
        for text in [
            #"{"params":{"run":1,"metrics":[{"key":"a\"b","value":1}]}}"#,  // escaped key
            #"{"params":{"run":1,"metrics":[{"key":"k","value":01}]}}"#,  // not JSON
            #"{"params":{"run":1,"metrics":[{"key":"k","value":1,}]}}"#,  // trailing comma
            #"{"params":{"run":1,"metrics":[{"key":"k"}]}}"#,  // no value
            #"{"params":{"run":1.5}}"#,
            #"{"params":{"run":1}} x"#,
            #"{"params":{"run":1,"metrics":[{"key":"k","value":1,"step":null}]}}"#,
        ] {
            #expect(FastJSON.runLogParams(Data(text.utf8)) == nil, "\(text)")
        }
        #expect(FastJSON.envelope(Data(#"{"id":1}"#.utf8)) == nil)
        #expect(FastJSON.envelope(Data(#"{"id":1,"method":"a","jsonrpc":2}"#.utf8)) == nil)
    }
}

import Foundation
import MLAgentEval
import Testing

/// `Fixtures/paired_bootstrap.json`, written by `Fixtures/make_paired_fixtures.py`: an
/// independent implementation (scikit-learn on the resampled rows themselves).
struct PairedFixture: Decodable, Sendable {
    struct Summary: Decodable, Sendable {
        var observed: Double
        var confidence: Double
        var expected_samples: Int
        var expected_low: Double
        var expected_high: Double
        var expected_a_better: Int
        var expected_b_better: Int
        var expected_probability_a_better: Double
        var expected_distinguishable: Bool
    }

    struct Explicit: Decodable, Sendable {
        var name: String
        var metric: String
        var y_true: [Double]
        var a: [Double]
        var b: [Double]
        var resamples: String
        var expected_differences: [Double?]
    }

    struct Seeded: Decodable, Sendable {
        var name: String
        var metric: String
        var y_true: [Double]
        var a: [Double]
        var b: [Double]
        var samples: Int
        var seed: UInt64
    }

    var sklearn_version: String
    var resamples: [String: [[Int]]]
    var explicit: [Explicit]
    var seeded: [Seeded]
    /// The summaries of `explicit` and `seeded` in order (decoded from the same objects).
    var explicitSummaries: [Summary]
    var seededSummaries: [Summary]

    private enum Keys: String, CodingKey { case sklearn_version, resamples, explicit, seeded }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        sklearn_version = try container.decode(String.self, forKey: .sklearn_version)
        resamples = try container.decode([String: [[Int]]].self, forKey: .resamples)
        explicit = try container.decode([Explicit].self, forKey: .explicit)
        seeded = try container.decode([Seeded].self, forKey: .seeded)
        explicitSummaries = try container.decode([Summary].self, forKey: .explicit)
        seededSummaries = try container.decode([Summary].self, forKey: .seeded)
    }

    static func load() throws -> PairedFixture {
        guard let url = Bundle.module.url(forResource: "paired_bootstrap", withExtension: "json", subdirectory: "Fixtures")
        else { throw SklearnFixture.Missing(description: "Fixtures/paired_bootstrap.json is missing from the test bundle") }
        return try JSONDecoder().decode(PairedFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct PairedBootstrapTests {
    private func check(_ result: PairedComparison, _ expected: PairedFixture.Summary, _ name: String) {
        #expect(abs(result.difference - expected.observed) <= 1e-12, "\(name): \(result.difference)")
        #expect(result.samples == expected.expected_samples, "\(name)")
        #expect(abs(result.low - expected.expected_low) <= 1e-12, "\(name): \(result.low) vs \(expected.expected_low)")
        #expect(abs(result.high - expected.expected_high) <= 1e-12, "\(name): \(result.high) vs \(expected.expected_high)")
        #expect(result.aBetter == expected.expected_a_better && result.bBetter == expected.expected_b_better, "\(name)")
        #expect(abs(result.probabilityABetter - expected.expected_probability_a_better) <= 1e-12, "\(name)")
        #expect(result.distinguishable == expected.expected_distinguishable, "\(name)")
        #expect(result.confidence == expected.confidence)
    }

    @Test("each resample's paired difference equals scikit-learn's on the same rows, to 1e-12")
    func explicitResamplesMatchPython() throws {
        let fixture = try PairedFixture.load()
        #expect(fixture.explicit.count >= 10)
        for (reference, expected) in zip(fixture.explicit, fixture.explicitSummaries) {
            let metric = try #require(EvalMetric(rawValue: reference.metric))
            let resamples = try #require(fixture.resamples[reference.resamples])
            let differences = try PairedBootstrap.differences(
                metric: metric, truth: reference.y_true, a: reference.a, b: reference.b, resamples: resamples)
            #expect(differences.count == reference.expected_differences.count)
            for (index, (mine, theirs)) in zip(differences, reference.expected_differences).enumerated() {
                switch (mine, theirs) {
                case let (mine?, theirs?):
                    #expect(abs(mine - theirs) <= 1e-12, "\(reference.name) resample \(index): \(mine) vs \(theirs)")
                case (nil, nil): break
                default: Issue.record("\(reference.name) resample \(index): \(String(describing: mine)) vs \(String(describing: theirs))")
                }
            }
            let observed = try metric.score(truth: reference.y_true, predictions: reference.a)
                - metric.score(truth: reference.y_true, predictions: reference.b)
            let summary = PairedBootstrap.summarize(
                observed: observed, differences: differences.compactMap { $0 }, higherIsBetter: metric.higherIsBetter,
                confidence: expected.confidence)
            check(summary, expected, reference.name)
        }
    }

    @Test("the seeded bootstrap equals a Python re-implementation of its random stream")
    func seededMatchesPython() throws {
        let fixture = try PairedFixture.load()
        for (reference, expected) in zip(fixture.seeded, fixture.seededSummaries) {
            let metric = try #require(EvalMetric(rawValue: reference.metric))
            let result = try PairedBootstrap.compare(
                metric: metric, truth: reference.y_true, a: reference.a, b: reference.b, samples: reference.samples,
                confidence: expected.confidence, seed: reference.seed)
            check(result, expected, reference.name)
        }
    }

    @Test("B against A is the exact reverse of A against B; identical predictions tie everywhere")
    func symmetry() throws {
        let fixture = try PairedFixture.load()
        let reference = try #require(fixture.seeded.first)
        let forward = try PairedBootstrap.compare(
            metric: .rocAUC, truth: reference.y_true, a: reference.a, b: reference.b, samples: 300, seed: 9)
        let backward = try PairedBootstrap.compare(
            metric: .rocAUC, truth: reference.y_true, a: reference.b, b: reference.a, samples: 300, seed: 9)
        #expect(backward.difference == -forward.difference)
        #expect(abs(backward.low + forward.high) <= 1e-15 && abs(backward.high + forward.low) <= 1e-15)
        #expect(backward.aBetter == forward.bBetter && backward.bBetter == forward.aBetter)
        let reversed = forward.reversed
        #expect(reversed.aBetter == backward.aBetter && reversed.difference == backward.difference)
        let same = try PairedBootstrap.compare(
            metric: .rocAUC, truth: reference.y_true, a: reference.a, b: reference.a, samples: 100, seed: 1)
        #expect(same.difference == 0 && same.low == 0 && same.high == 0 && !same.distinguishable)
        #expect(same.aBetter == 0 && same.bBetter == 0 && same.probabilityABetter == 0)
    }

    @Test("inputs that cannot be scored throw; no samples gives the observed difference alone")
    func refusals() throws {
        #expect(throws: EvalError.self) {
            try PairedBootstrap.compare(metric: .rocAUC, truth: [0, 1], a: [0.2, 0.8], b: [0.2], seed: 1)
        }
        #expect(throws: EvalError.self) {
            try PairedBootstrap.compare(metric: .rocAUC, truth: [0, 1], a: [0.2, 1.5], b: [0.2, 0.3], seed: 1)
        }
        #expect(throws: EvalError.self) {
            try PairedBootstrap.differences(metric: .mae, truth: [0, 1], a: [0, 1], b: [1, 0], resamples: [[0, 2]])
        }
        let none = try PairedBootstrap.compare(metric: .mae, truth: [0, 1], a: [0, 1], b: [1, 0], samples: 0, seed: 1)
        #expect(none.difference == -1 && none.samples == 0 && none.low.isNaN && !none.distinguishable)
    }

    /// Bootstrap time for the daemon's default (1000 resamples) on 30,000 rows; run in release
    /// mode for a figure (`swift test -c release --filter PairedBootstrapTests`).
    @Test("1000 paired ROC AUC resamples on 30,000 rows")
    func timing() throws {
        var generator = SystemRandomNumberGenerator()
        let rows = 30_000
        let truth = (0..<rows).map { _ in Double(Int.random(in: 0...1, using: &generator)) }
        let a = truth.map { min(max(0.3 * $0 + 0.7 * Double.random(in: 0..<1, using: &generator), 0), 1) }
        let b = a.map { min(max($0 + Double.random(in: -0.01...0.01, using: &generator), 0), 1) }
        let clock = ContinuousClock()
        var result: PairedComparison?
        let elapsed = try clock.measure {
            result = try PairedBootstrap.compare(metric: .rocAUC, truth: truth, a: a, b: b, samples: 1000, seed: 5)
        }
        // The figure, for the README (the test runner's output shows only results).
        let figure = "paired bootstrap, roc_auc, 1000 resamples × \(rows) rows: \(elapsed)\n"
        try? figure.write(
            toFile: NSTemporaryDirectory() + "/mlagent-paired-bootstrap-timing.txt", atomically: true, encoding: .utf8)
        #expect(result?.samples == 1000)
    }
}

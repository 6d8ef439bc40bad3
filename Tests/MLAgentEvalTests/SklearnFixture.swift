import Foundation

/// `Fixtures/sklearn_metrics.json`, written by `Fixtures/make_fixtures.py` with scikit-learn.
struct SklearnFixture: Decodable, Sendable {
    struct MetricCase: Decodable, Sendable, CustomStringConvertible {
        var metric: String
        var name: String
        var y_true: [Double]
        var y_pred: [Double]
        var weights: [Double]?
        var expected: Double

        var description: String { "\(metric)/\(name)" }
    }

    struct PercentileCase: Decodable, Sendable {
        var name: String
        var values: [Double]
        var q: [Double]
        var expected: [Double]
    }

    struct BootstrapCase: Decodable, Sendable {
        var metric: String
        var y_true: [Double]
        var y_pred: [Double]
        var samples: Int
        var confidence: Double
        var seed: UInt64
        var expected_samples: Int
        var expected_low: Double
        var expected_high: Double
    }

    var sklearn_version: String
    var numpy_version: String
    var tolerance: Double
    var cases: [MetricCase]
    var percentiles: [PercentileCase]
    var bootstraps: [BootstrapCase]

    /// Loaded once per test process.
    static let shared: SklearnFixture = {
        guard
            let url = Bundle.module.url(
                forResource: "sklearn_metrics", withExtension: "json", subdirectory: "Fixtures")
        else {
            fatalError("Fixtures/sklearn_metrics.json is missing from the test bundle")
        }
        do {
            return try JSONDecoder().decode(SklearnFixture.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot decode Fixtures/sklearn_metrics.json: \(error)")
        }
    }()
}

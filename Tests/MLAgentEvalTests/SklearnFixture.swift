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

    /// A case where float64 loses digits: scikit-learn's value and the exact value of the
    /// float64 inputs (rational arithmetic, rounded once).
    struct ExactCase: Decodable, Sendable, CustomStringConvertible {
        var metric: String
        var name: String
        var y_true: [Double]
        var y_pred: [Double]
        var sklearn: Double
        var exact: Double

        var description: String { "\(metric)/\(name)" }
    }

    var sklearn_version: String
    var numpy_version: String
    var tolerance: Double
    var cases: [MetricCase]
    var percentiles: [PercentileCase]
    var bootstraps: [BootstrapCase]
    var exact: [ExactCase]

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Loaded once per test process; a missing or unreadable fixture fails the tests that use
    /// it (with the reason) instead of stopping the whole test run.
    private static let loaded: Result<SklearnFixture, any Error> = Result {
        guard
            let url = Bundle.module.url(
                forResource: "sklearn_metrics", withExtension: "json", subdirectory: "Fixtures")
        else {
            throw Missing(description: "Fixtures/sklearn_metrics.json is missing from the test bundle")
        }
        return try JSONDecoder().decode(SklearnFixture.self, from: Data(contentsOf: url))
    }

    static func load() throws -> SklearnFixture { try loaded.get() }
}

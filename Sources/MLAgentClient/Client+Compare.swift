public import MLAgentProtocol

/// Significance: two runs compared on the same public rows.
extension Client {
    /// A paired bootstrap of run `runA`'s public predictions against run `runB`'s.
    public func compare(runA: Int64, runB: Int64) throws -> RunComparison {
        try connection.call(Method.compare, params: CompareParams(runA: runA, runB: runB), as: RunComparison.self)
    }
}

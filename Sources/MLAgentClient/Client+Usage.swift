public import MLAgentProtocol

extension Client {
    /// `usage.report`: tokens and cost of the session, each job and each direction.
    public func usageReport() throws -> UsageReport {
        try connection.call(Method.usageReport, as: UsageReport.self)
    }
}

/// Neumaier (improved Kahan) summation.
///
/// `CompensatedSum` owns the accuracy of the sums the metrics take: ``MetricKernel`` adds rows
/// plainly in blocks of 256 and the block sums through this, which is at least as accurate as
/// numpy's pairwise summation, so means agree with scikit-learn far below 1e-9.
struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    init() {}

    @inline(__always)
    mutating func add(_ value: Double) {
        let total = sum + value
        if abs(sum) >= abs(value) {
            compensation += (sum - total) + value
        } else {
            compensation += (value - total) + sum
        }
        sum = total
    }

    var value: Double { sum + compensation }
}

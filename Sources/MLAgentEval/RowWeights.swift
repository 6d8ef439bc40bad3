/// Per-row weights as seen by ``MetricKernel``: either all ones (an ordinary score) or a buffer
/// of non-negative counts (a weighted score, one bootstrap replicate).
///
/// A protocol rather than an optional buffer so that the unweighted path is specialised and pays
/// nothing for weights.
protocol RowWeights {
    subscript(row: Int) -> Double { get }
}

/// Every row has weight 1.
struct UnitWeights: RowWeights {
    @inline(__always)
    subscript(row: Int) -> Double { 1 }
}

/// Weights read from a buffer with one entry per row; the caller keeps the buffer alive and has
/// checked that every entry is finite and non-negative.
struct BufferWeights: RowWeights {
    let buffer: UnsafeBufferPointer<Double>

    @inline(__always)
    subscript(row: Int) -> Double { buffer[row] }
}

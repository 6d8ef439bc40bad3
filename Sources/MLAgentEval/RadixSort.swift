/// The sort behind ROC AUC: row indices in ascending order of their values.
///
/// `RadixSort` owns that one permutation. A least-significant-digit radix sort over an
/// order-preserving integer image of each double (11-bit digits, digits shared by every value
/// skipped) takes a few passes over the data, several times faster than a comparison sort for
/// the thousands of rows a split has.
enum RadixSort {
    private static let digitBits = 11
    private static let buckets = 1 << digitBits
    private static let passes = (64 + digitBits - 1) / digitBits

    /// The row indices of `values` sorted by ascending value; equal values keep their row order.
    /// The values must not be NaN; -0.0 and 0.0 are equal.
    static func ascendingOrder(of values: [Double]) -> [Int] {
        let count = values.count
        guard count > 1 else { return Array(values.indices) }
        var keys = values.map(sortKey)
        var rows = [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for row in 0..<count { buffer[row] = UInt32(truncatingIfNeeded: row) }
            initialized = count
        }
        guard count >= 256 else {
            // Small inputs: a comparison sort beats clearing the histograms.
            return rows.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
        }
        precondition(count <= Int(UInt32.max), "too many rows to rank")

        // Histograms for every digit in one pass.
        var histograms = [Int](repeating: 0, count: passes * buckets)
        histograms.withUnsafeMutableBufferPointer { histograms in
            for key in keys {
                for pass in 0..<passes {
                    histograms[pass &* buckets &+ digit(key, pass)] &+= 1
                }
            }
        }
        var scratchKeys = [UInt64](repeating: 0, count: count)
        var scratchRows = [UInt32](repeating: 0, count: count)
        for pass in 0..<passes {
            let base = pass * buckets
            // A digit that every key shares does not reorder anything.
            if histograms[base + digit(keys[0], pass)] == count { continue }
            var offset = 0
            for bucket in base..<(base + buckets) {
                let size = histograms[bucket]
                histograms[bucket] = offset
                offset += size
            }
            histograms.withUnsafeMutableBufferPointer { histograms in
                keys.withUnsafeBufferPointer { keys in
                    rows.withUnsafeBufferPointer { rows in
                        scratchKeys.withUnsafeMutableBufferPointer { outKeys in
                            scratchRows.withUnsafeMutableBufferPointer { outRows in
                                for index in 0..<count {
                                    let key = keys[index]
                                    let slot = base &+ digit(key, pass)
                                    let destination = histograms[slot]
                                    histograms[slot] = destination &+ 1
                                    outKeys[destination] = key
                                    outRows[destination] = rows[index]
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &scratchKeys)
            swap(&rows, &scratchRows)
        }
        return rows.map { Int($0) }
    }

    /// An unsigned integer ordered like the double: negative values flipped entirely, others with
    /// the sign bit set; -0.0 is mapped like 0.0.
    @inline(__always)
    private static func sortKey(_ value: Double) -> UInt64 {
        let bits = (value == 0 ? 0.0 : value).bitPattern
        return bits >> 63 == 1 ? ~bits : bits | 1 << 63
    }

    @inline(__always)
    private static func digit(_ key: UInt64, _ pass: Int) -> Int {
        Int(truncatingIfNeeded: (key >> UInt64(pass &* digitBits)) & UInt64(buckets - 1))
    }
}

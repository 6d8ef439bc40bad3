import Foundation

/// A linear map from data values to SVG coordinates. A degenerate or non-finite domain is widened,
/// so the map never divides by zero.
struct LinearScale {
    let d0: Double, d1: Double, r0: Double, r1: Double

    /// `pad` widens the domain by that fraction of its span on each side.
    init(domain lo: Double, _ hi: Double, range r0: Double, _ r1: Double, pad: Double = 0) {
        var (lo, hi) = (lo.isFinite ? lo : 0, hi.isFinite ? hi : 1)
        if lo > hi { swap(&lo, &hi) }
        if hi - lo <= 1e-12 * max(1, abs(lo)) {
            let widen = lo == 0 ? 1 : abs(lo) * 0.05
            (lo, hi) = (lo - widen, hi + widen)
        } else {
            let extra = (hi - lo) * pad
            (lo, hi) = (lo - extra, hi + extra)
        }
        (d0, d1, self.r0, self.r1) = (lo, hi, r0, r1)
    }

    func callAsFunction(_ value: Double) -> Double {
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }

    func ticks(_ count: Int, minStep: Double = 0) -> Ticks { Ticks.linear(d0, d1, count: count, minStep: minStep) }
}

/// Tick values at "nice" steps (1, 2 or 5 times a power of ten) and the decimals to print them.
struct Ticks {
    var values: [Double]
    var decimals: Int

    static func niceStep(span: Double, count: Int) -> Double {
        guard span.isFinite, span > 0 else { return 1 }
        let raw = span / Double(max(count, 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * magnitude
    }

    static func linear(_ lo: Double, _ hi: Double, count: Int, minStep: Double = 0) -> Ticks {
        let step = max(niceStep(span: hi - lo, count: count), minStep)
        guard step > 0, step.isFinite else { return Ticks(values: [], decimals: 0) }
        let first = (lo / step - 1e-9).rounded(.up)
        var values: [Double] = []
        var index = first
        while index * step <= hi + step * 1e-9, values.count < 50 {
            values.append(index * step)
            index += 1
        }
        return Ticks(values: values, decimals: Fmt.decimals(forStep: step))
    }

    /// Time ticks (seconds since the epoch, UTC) at round clock steps, with labels.
    static func time(_ lo: Double, _ hi: Double, count: Int) -> [(value: Double, label: String)] {
        let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                               86400, 172800, 604800]
        let target = (hi - lo) / Double(max(count, 1))
        let step = steps.first(where: { $0 >= target }) ?? (target / 86400).rounded(.up) * 86400
        guard step > 0, step.isFinite, hi > lo else { return [] }
        let multiDay = (lo / 86400).rounded(.down) != (hi / 86400).rounded(.down)
        let style: Fmt.TimeStyle = step >= 86400 ? .day : step < 60 ? .seconds : multiDay ? .dayMinutes : .minutes
        var ticks: [(Double, String)] = []
        var value = (lo / step).rounded(.up) * step
        while value <= hi, ticks.count < 50 {
            ticks.append((value, Fmt.time(value, style: style)))
            value += step
        }
        return ticks
    }

    /// A time domain scaled to the data, with some air around it (3% of the span on each side):
    /// a three-second session spans about three seconds; only a single instant (or a span under
    /// two seconds) is widened, to a two-second window around it.
    static func timeDomain(_ lo: Double, _ hi: Double) -> (Double, Double) {
        let span = hi - lo
        if span < 2 {
            let middle = (lo + hi) / 2
            return (middle - 1, middle + 1)
        }
        let pad = span * 0.03
        return (lo - pad, hi + pad)
    }
}

/// Quartiles (linear interpolation) and Tukey whiskers of a sample.
struct BoxStats {
    var q1: Double, median: Double, q3: Double, whiskerLow: Double, whiskerHigh: Double

    init?(_ values: [Double]) {
        let sorted = values.filter(\.isFinite).sorted()
        guard let first = sorted.first, let last = sorted.last else { return nil }
        func quantile(_ p: Double) -> Double {
            let h = Double(sorted.count - 1) * p
            let index = Int(h.rounded(.down))
            guard index + 1 < sorted.count else { return sorted[index] }
            return sorted[index] + (h - Double(index)) * (sorted[index + 1] - sorted[index])
        }
        let (low, high) = (quantile(0.25), quantile(0.75))
        let fence = 1.5 * (high - low)
        (q1, median, q3) = (low, quantile(0.5), high)
        whiskerLow = sorted.first(where: { $0 >= low - fence }) ?? first
        whiskerHigh = sorted.last(where: { $0 <= high + fence }) ?? last
    }
}

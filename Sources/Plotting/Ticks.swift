import Foundation

/// Axis tick positions and labels: Heckbert's "nice numbers" (Graphics Gems I, 1990) on linear
/// axes, decades on logarithmic ones.
///
/// A nice step is 1, 2 or 5 times a power of ten, chosen so that about `target` ticks fall in
/// the range; ticks are the multiples of the step inside [lo, hi] (so 0 is a tick whenever the
/// range straddles it).
public enum Ticks {
    /// The nice number nearest `x` (`round`) or the smallest nice number ≥ `x` (ceiling).
    public static func niceNumber(_ x: Double, round: Bool) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exponent = floor(log10(x))
        let fraction = x / pow(10, exponent)
        let nice: Double
        if round {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return nice * pow(10, exponent)
    }

    /// The step of the nice ticks of [lo, hi] (≈ `target` ticks).
    public static func step(_ lo: Double, _ hi: Double, target: Int = 5) -> Double {
        let span = niceNumber(hi - lo, round: false)
        return niceNumber(span / Double(max(target - 1, 1)), round: true)
    }

    /// Nice tick values inside [lo, hi], ascending; one tick (lo) for an empty range.
    ///
    /// Heckbert's step can leave fewer than half the requested ticks inside the range (e.g.
    /// 17…12345 gives step 5000: two ticks); then the next smaller nice step is used
    /// (5 → 2 → 1 × 10^k) until at least half of `target` (and two) ticks fall inside.
    public static func linear(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [] }
        guard hi > lo else { return [lo] }
        var d = step(lo, hi, target: target)
        var ticks = multiples(of: d, lo, hi)
        while ticks.count < max(2, (target + 1) / 2) {
            let m = d / pow(10, floor(log10(d)))
            d = m > 4.5 ? d * 0.4 : d * 0.5  // 5 → 2, 2 → 1, 1 → 0.5
            ticks = multiples(of: d, lo, hi)
        }
        return ticks
    }

    static func multiples(of d: Double, _ lo: Double, _ hi: Double) -> [Double] {
        let eps = d * 1e-9
        var ticks: [Double] = []
        var k = (lo / d - 1e-9).rounded(.up)
        while k * d <= hi + eps, ticks.count < 200 {
            let v = k * d
            ticks.append(abs(v) < eps ? 0 : v)
            k += 1
        }
        return ticks
    }

    /// Ticks of a log10 axis whose range is [lo, hi] in log10 units: every decade, or every
    /// nice number of decades when there are many. Values are returned in log10 units.
    public static func logDecades(_ lo: Double, _ hi: Double, target: Int = 6) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return [lo] }
        let d = max(1, step(lo, hi, target: target).rounded(.up))
        var ticks: [Double] = []
        var k = (lo / d).rounded(.up) * d
        while k <= hi + 1e-9, ticks.count < 100 { ticks.append(k); k += d }
        // Less than about two decades: 1, 2 and 5 times each power of ten (if still under two ticks, every
        // integer mantissa).
        for (mantissas, fewer) in [([1.0, 2, 5], 3), ([1.0, 2, 3, 4, 5, 6, 7, 8, 9], 2)] where ticks.count < fewer {
            ticks = []
            for e in Int(floor(lo))...Int(ceil(hi)) {
                for m in mantissas {
                    let t = Double(e) + log10(m)
                    if t >= lo - 1e-9 && t <= hi + 1e-9 { ticks.append(t) }
                }
            }
        }
        return ticks
    }

    /// A label for tick `value` on an axis whose ticks are `step` apart: just enough decimals to
    /// tell neighbouring ticks apart, scientific notation for very large or small numbers.
    public static func label(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = max(abs(value), abs(step))
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.3g", value) }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(min(decimals, 6))f", value)
    }

    /// A label for a log10-axis tick at `exponent`: 0.01, 0.1, 1, 10, 100, else 10^k.
    public static func logLabel(_ exponent: Double) -> String {
        if exponent == exponent.rounded() {
            let k = Int(exponent)
            if (-2...3).contains(k) { return label(pow(10, exponent), step: pow(10, Double(min(k, 0)))) }
            return "1e\(k)"
        }
        return String(format: "%.3g", pow(10, exponent))
    }
}

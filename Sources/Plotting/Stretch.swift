import Foundation

/// How pixel values map to [0, 1] before a colour map: linear, asinh or log between a low and a
/// high cut.
///
/// - `linear`: t = (v − lo)/(hi − lo), clamped.
/// - `asinh` (Lupton et al. 2004, PASP 116, 133): t = asinh(u/a)/asinh(1/a) with u the linear
///   value; linear for u ≪ a, logarithmic for u ≫ a, so faint wings and bright cores both show.
///   `softening` a = 0.1 is the usual choice for astronomical images.
/// - `log`: log10 of the value between log10(lo) and log10(hi) (values ≤ 0 map to 0), for maps
///   spanning decades such as magnification.
///
/// The cuts usually come from `zscale` (IRAF's display algorithm), which ignores the few
/// bright sources that would otherwise set the scale. A range with hi = lo maps every value to
/// 0.5, so a flat image gives a flat picture rather than noise amplified to the full range.
public struct Stretch: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case linear, asinh(softening: Double), log }
    public var kind: Kind
    public var lo: Double
    public var hi: Double

    public init(_ kind: Kind, lo: Double, hi: Double) { self.kind = kind; self.lo = lo; self.hi = hi }

    /// `value` mapped to [0, 1] (NaN stays NaN).
    public func normalized(_ value: Double) -> Double {
        if value.isNaN { return .nan }
        switch kind {
        case .log:
            guard lo > 0, hi > lo else { return 0.5 }
            guard value > 0 else { return 0 }
            return clamp((log10(value) - log10(lo)) / (log10(hi) - log10(lo)))
        case .linear:
            guard hi > lo else { return 0.5 }
            return clamp((value - lo) / (hi - lo))
        case .asinh(let a):
            guard hi > lo else { return 0.5 }
            let u = clamp((value - lo) / (hi - lo))
            return Foundation.asinh(u / a) / Foundation.asinh(1 / a)
        }
    }

    private func clamp(_ x: Double) -> Double { min(max(x, 0), 1) }

    /// IRAF's zscale display range of `values` (NaN and infinities ignored).
    ///
    /// Up to `samples` values, evenly spaced through the array, are sorted; a straight line is
    /// fitted to the sorted values against their rank with iterative 2.5σ rejection (at most 5
    /// passes, keeping at least half); the range is the median ∓ the line's slope × half the
    /// sample count / `contrast` (0.25 as in IRAF), limited to the data's minimum and maximum.
    /// If too many values are rejected, the full range is returned.
    public static func zscale(_ values: [Double], contrast: Double = 0.25, samples: Int = 1000) -> (lo: Double, hi: Double) {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return (0, 0) }
        let stride = max(1, finite.count / samples)
        var s: [Double] = []
        var i = 0
        while i < finite.count, s.count < samples { s.append(finite[i]); i += stride }
        s.sort()
        let n = s.count
        let zmin = s[0], zmax = s[n - 1]
        let center = (n - 1) / 2
        let median = n % 2 == 1 ? s[center] : 0.5 * (s[center] + s[center + 1])
        guard n >= 5 else { return (zmin, zmax) }
        // Line fit value ≈ intercept + slope·x with x the rank centred on the median's.
        var keep = [Bool](repeating: true, count: n)
        var slope = 0.0, intercept = median
        let minKeep = max(5, n / 2)
        for _ in 0..<5 {
            var sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0, m = 0.0
            for k in 0..<n where keep[k] {
                let x = Double(k - center)
                sx += x; sy += s[k]; sxx += x * x; sxy += x * s[k]; m += 1
            }
            let det = m * sxx - sx * sx
            guard det > 0 else { break }
            slope = (m * sxy - sx * sy) / det
            intercept = (sy - slope * sx) / m
            var r2 = 0.0
            for k in 0..<n where keep[k] { let r = s[k] - (intercept + slope * Double(k - center)); r2 += r * r }
            let sigma = (r2 / m).squareRoot()
            var changed = false
            var kept = 0
            for k in 0..<n {
                let r = s[k] - (intercept + slope * Double(k - center))
                let ok = abs(r) <= 2.5 * sigma || sigma == 0
                if ok != keep[k] { changed = true }
                keep[k] = ok
                if ok { kept += 1 }
            }
            if kept < minKeep { return (zmin, zmax) }
            if !changed { break }
        }
        let z1 = max(zmin, median - Double(center) * slope / contrast)
        let z2 = min(zmax, median + Double(n - 1 - center) * slope / contrast)
        return (z1, z2)
    }
}

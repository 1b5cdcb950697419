import TesseraSupport
import RealModule

/// Stellar mass functions, in solar masses, truncated to [minimum, maximum].
///
/// Power laws are written dN/dm ∝ m^(−α):
/// - `salpeter`: α = 2.35 (Salpeter 1955).
/// - `kroupa`: broken power law of Kroupa (2001, MNRAS 322, 231, eq. 2): α = 0.3 for
///   m < 0.08, α = 1.3 for 0.08 ≤ m < 0.5, α = 2.3 for m ≥ 0.5, continuous at the breaks.
/// - `powerLaw`: any single slope.
/// - `fixed`: every star has the same mass (the default, 1 M☉).
///
/// Means are analytic (`meanMass`, `meanSquaredMass`); `sample` draws by inverting the CDF of
/// each power-law segment.
public enum MassFunction: Sendable, Equatable, Hashable, Codable {
    case fixed(mass: Double)
    case salpeter(minimum: Double, maximum: Double)
    case kroupa(minimum: Double, maximum: Double)
    case powerLaw(slope: Double, minimum: Double, maximum: Double)

    /// Every star 1 M☉ (Einstein radius 1).
    public static let unit = MassFunction.fixed(mass: 1)

    /// Salpeter slope α (dN/dm ∝ m^−α).
    public static let salpeterSlope = 2.35
    /// Kroupa (2001) break masses and slopes: α = 0.3 below 0.08 M☉, 1.3 up to 0.5 M☉, 2.3 above.
    public static let kroupaBreaks: [Double] = [0.08, 0.5]
    public static let kroupaSlopes: [Double] = [0.3, 1.3, 2.3]

    /// Checks masses are positive and finite with minimum ≤ maximum.
    public func validate() throws {
        switch self {
        case let .fixed(m):
            try MicrolensingError.require(m.isFinite && m > 0, "mass", m, "must be finite and > 0")
        case let .salpeter(lo, hi), let .kroupa(lo, hi), let .powerLaw(_, lo, hi):
            try MicrolensingError.require(lo.isFinite && lo > 0, "minimumMass", lo, "must be finite and > 0")
            try MicrolensingError.require(hi.isFinite && hi >= lo, "maximumMass", hi, "must be finite and >= minimumMass")
            if case let .powerLaw(a, _, _) = self {
                try MicrolensingError.require(a.isFinite, "slope", a, "must be finite")
            }
        }
    }

    /// The truncated piecewise power law (empty for `fixed`).
    var segments: [PowerLawSegment] {
        switch self {
        case .fixed:
            return []
        case let .salpeter(lo, hi):
            return [PowerLawSegment(lower: lo, upper: hi, slope: Self.salpeterSlope, weight: 1)]
        case let .powerLaw(a, lo, hi):
            return [PowerLawSegment(lower: lo, upper: hi, slope: a, weight: 1)]
        case let .kroupa(lo, hi):
            return PowerLawSegment.broken(breaks: Self.kroupaBreaks, slopes: Self.kroupaSlopes, lower: lo, upper: hi)
        }
    }

    /// ⟨m⟩ in M☉.
    public var meanMass: Double { moment(1) }
    /// ⟨m²⟩ in M☉².
    public var meanSquaredMass: Double { moment(2) }
    /// Smallest and largest possible mass.
    public var bounds: (minimum: Double, maximum: Double) {
        switch self {
        case let .fixed(m): return (m, m)
        case let .salpeter(lo, hi), let .kroupa(lo, hi), let .powerLaw(_, lo, hi): return (lo, hi)
        }
    }

    /// ⟨m^k⟩ = ∫ m^k dN / ∫ dN.
    public func moment(_ k: Double) -> Double {
        if case let .fixed(m) = self { return Double.pow(m, k) }
        let segs = segments
        let lo = bounds.minimum, hi = bounds.maximum
        if lo == hi { return Double.pow(lo, k) }
        var num = 0.0, den = 0.0
        for s in segs {
            num += s.weight * PowerLawSegment.integral(s.lower, s.upper, exponent: k - s.slope)
            den += s.weight * PowerLawSegment.integral(s.lower, s.upper, exponent: -s.slope)
        }
        return num / den
    }

    /// One mass drawn from the distribution (consumes one or two uniforms; none for `fixed`).
    public func sample(using rng: inout RandomSource) -> Double {
        if case let .fixed(m) = self { return m }
        return PowerLawSegment.sample(segments, using: &rng)
    }
}

/// dN/dm = weight·m^(−slope) on [lower, upper].
struct PowerLawSegment: Sendable, Equatable, Hashable {
    var lower: Double
    var upper: Double
    var slope: Double
    var weight: Double

    /// ∫ₐᵇ m^e dm (log for e = −1).
    static func integral(_ a: Double, _ b: Double, exponent e: Double) -> Double {
        if abs(e + 1) < 1e-12 { return Double.log(b / a) }
        return (Double.pow(b, e + 1) - Double.pow(a, e + 1)) / (e + 1)
    }

    /// Number of stars in the segment, ∫ weight·m^−slope dm.
    var number: Double { weight * Self.integral(lower, upper, exponent: -slope) }

    /// A broken power law continuous at `breaks`, truncated to [lower, upper].
    static func broken(breaks: [Double], slopes: [Double], lower: Double, upper: Double) -> [PowerLawSegment] {
        precondition(slopes.count == breaks.count + 1)
        var out: [PowerLawSegment] = []
        var weight = 1.0
        let edges = [0.0] + breaks + [Double.infinity]
        for i in 0..<slopes.count {
            if i > 0 {  // continuity at edges[i]: w_i b^−α_i = w_{i−1} b^−α_{i−1}
                weight *= Double.pow(edges[i], slopes[i] - slopes[i - 1])
            }
            let a = max(lower, edges[i]), b = min(upper, edges[i + 1])
            if a < b || (a == b && lower == upper && a == lower) {
                out.append(PowerLawSegment(lower: a, upper: b, slope: slopes[i], weight: weight))
            }
        }
        return out
    }

    /// Draw from a set of segments: pick one with probability ∝ its number, then invert its CDF,
    /// m = [a^(1−α) + u (b^(1−α) − a^(1−α))]^(1/(1−α)) (m = a (b/a)^u for α = 1).
    static func sample(_ segments: [PowerLawSegment], using rng: inout RandomSource) -> Double {
        guard let first = segments.first else { return .nan }
        if first.lower == first.upper && segments.count == 1 { return first.lower }
        var s = first
        if segments.count > 1 {
            let total = segments.reduce(0) { $0 + $1.number }
            var pick = rng.uniform() * total
            for seg in segments {
                s = seg
                pick -= seg.number
                if pick < 0 { break }
            }
        }
        let u = rng.uniform()
        let a = s.lower, b = s.upper, e = 1 - s.slope
        if abs(e) < 1e-12 { return a * Double.pow(b / a, u) }
        let ae = Double.pow(a, e), be = Double.pow(b, e)
        return min(b, max(a, Double.pow(ae + u * (be - ae), 1 / e)))
    }
}

extension MassFunction {
    /// A mass function by the name configurations and the command line use; the raw values are
    /// the spellings stored in grid files, `params.json` and map attributes (`mass_function`).
    public enum Family: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
        /// Every star 1 M☉ (`MassFunction.unit`); a mass range is ignored.
        case unit
        /// `MassFunction.salpeter` over the mass range.
        case salpeter
        /// `MassFunction.kroupa` over the mass range.
        case kroupa

        /// The mass function of this family over `range` = [minimum, maximum] in M☉, validated.
        public func massFunction(range: [Double]) throws -> MassFunction {
            let function: MassFunction
            switch self {
            case .unit: return .unit
            case .salpeter, .kroupa:
                guard range.count == 2 else {
                    throw MicrolensingError.invalidParameter(name: "mass_range", value: Double(range.count), requirement: "must be [minimum, maximum]")
                }
                function = self == .salpeter ? .salpeter(minimum: range[0], maximum: range[1]) : .kroupa(minimum: range[0], maximum: range[1])
            }
            try function.validate()
            return function
        }
    }
}

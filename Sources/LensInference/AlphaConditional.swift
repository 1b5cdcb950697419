import RealModule

/// A lens's stage-1 density in the coordinates its chain moved in, w (α last, index 6), as `AlphaConditional`
/// slices it: the value alone (no gradient) and log M_h at a point.
public protocol AlphaSliceable: Sendable {
    /// ln q(w) up to a constant; −∞ outside the support.
    func logDensity(_ w: [Double]) throws -> Double
    /// log10 M₂₀₀c [M☉] at w; nil outside the support.
    func logHaloMass(_ w: [Double]) -> Double?
}

extension LensInterimPosterior: AlphaSliceable {
    public func logHaloMass(_ w: [Double]) -> Double? { w[0] }
}

extension EnclosedMassCoordinates: AlphaSliceable {
    public func logHaloMass(_ w: [Double]) -> Double? { logHaloMass(u: w[0], alpha: w[6]) }
}

/// Each stage-1 draw's conditional density of α, for a stage 2 that needs a lens's posterior at one shared α_sps
/// without a kernel in α (the Rao–Blackwell, or Gelfand–Smith, estimate of a marginal density).
///
/// The population model has one α_sps for every lens, so stage 2 needs each lens's posterior *at* α = α_sps. The
/// stage-1 draws put no sample exactly there; `ReweightedPopulation`'s kernel of width h smooths over them, at a bias
/// of order h² and a Monte Carlo noise that grows as h shrinks (measured on the recovery mocks: α_sps moved by more
/// than its interval between h = 0.02, 0.05 and 0.1). Here, instead, the other coordinates are held and α alone is
/// scanned: with r = (w₀…w₅) − b α (b: the least-squares slope of the stage-1 draws' w₀…w₅ on α, so r is
/// uncorrelated with α; a linear shear, Jacobian 1),
///
///     p_i(r, α) = p_i(r) p_i(α | r),   p_i(α | r_j) = q(r_j + b α, α) / ∫ q(r_j + b α′, α′) dα′,
///
/// and ∫ dr p_i(r, α_sps) f(r) ≈ (1/S) Σ_j p_i(α_sps | r_j) f(r_j) over the draws r_j — exact in expectation, with no
/// width. Each kept draw's conditional is computed on a grid over the whole interim α box (it must be normalised
/// over the conditional's support), together with log M_h along the slice; stage 2 interpolates both at α_sps.
/// Holding r rather than the draw's own w₀…w₅ follows the lens's degeneracy (α moves with shear and source position
/// at correlations up to 0.97–1.0 in quads): for a Gaussian posterior the conditional is then the marginal itself.
///
/// Cost: (kept draws) × (grid points) likelihood values without gradients (one full image search each).
public struct AlphaConditional: Sendable, Codable, Equatable {
    /// The α grid: `alphaStart + k·alphaStep`, k = 0 ..< `gridCount`, spanning the interim α box.
    public var alphaStart: Double
    public var alphaStep: Double
    public var gridCount: Int
    /// The kept stage-1 draws in the interim posterior's coordinates z (log M_h, γ₁, γ₂, β_x, β_y, log F_s, α).
    public var draws: [[Double]]
    /// The kept draws in the sampling coordinates w (equal to z but for index 0 in enclosed-mass coordinates).
    public var samplingDraws: [[Double]]
    /// b: the slope of w₀…w₅ on α over all stage-1 draws (7 entries, the last 0).
    public var slope: [Double]
    /// ln p(α_k | r_j) per unit α, [draw][k]; nil where q = 0 (outside the support).
    public var logConditional: [[Double?]]
    /// log M_h at (r_j + b α_k, α_k), [draw][k]; nil outside the support.
    public var logHaloMass: [[Double?]]

    /// The α of grid point k.
    public func alpha(_ k: Int) -> Double { alphaStart + Double(k) * alphaStep }

    /// The slice of kept draw j at α: w(α) = w_j + b (α − α_j) in coordinates 0…5, α in 6.
    public func slicePoint(_ j: Int, alpha: Double) -> [Double] {
        let w = samplingDraws[j]
        var p = w
        for k in 0..<6 { p[k] = w[k] + slope[k] * (alpha - w[6]) }
        p[6] = alpha
        return p
    }

    /// Draw j's slice at α in z (log M_h interpolated, the other coordinates on the slice): a draw of the lens's
    /// parameters given α_sps = α once draw j is picked by its weight (stage 3); nil where the slice has no support.
    public func parameters(_ j: Int, alpha: Double) -> [Double]? {
        guard let at = interpolate(j, alpha: alpha) else { return nil }
        var z = slicePoint(j, alpha: alpha)
        z[0] = at.logHaloMass
        return z
    }

    /// The α range any slice supports (grid points with a density; the taper adds up to one step at each end), or
    /// nil when none does.
    public var supportedAlpha: ClosedRange<Double>? {
        let ks = (0..<gridCount).filter { k in logConditional.contains { $0[k] != nil } }
        guard let lo = ks.first, let hi = ks.last else { return nil }
        return alpha(lo)...alpha(hi)
    }

    /// The draws whose conditional is zero at every grid point: the slice's support is narrower than the grid step
    /// (stage 2 gives them no weight; a run reports their number).
    public var unresolvedDraws: Int { logConditional.filter { $0.allSatisfy { $0 == nil } }.count }

    /// Each kept draw's conditional standard deviation of α [same units as α] (nil for an unresolved draw).
    public var conditionalWidths: [Double?] {
        logConditional.map { row in
            var s0 = 0.0, s1 = 0.0, s2 = 0.0
            for (k, l) in row.enumerated() {
                guard let l else { continue }
                let p = Double.exp(l), a = alpha(k)
                (s0, s1, s2) = (s0 + p, s1 + p * a, s2 + p * a * a)
            }
            guard s0 > 0 else { return nil }
            return (max(s2 / s0 - (s1 / s0) * (s1 / s0), 0)).squareRoot()
        }
    }

    /// Computes the conditionals of `kept` draws, evenly spaced through `draws` (w, all of a lens's stage-1
    /// draws in its sampling coordinates), on a grid of step at most `step` over `alphaRange`.
    /// An image outside the microlensing table counts as q = 0, as it does in stage 1.
    /// - Parameters:
    ///   - toZ: w → z (the interim posterior's coordinates), for the kept draws.
    ///   - slope: b; nil (the default) takes the least-squares slope of the draws (any fixed b gives the same
    ///     estimate in expectation; this one the least noisy for a near-Gaussian posterior).
    public static func compute(_ density: some AlphaSliceable, draws: [[Double]], kept: Int, alphaRange: ClosedRange<Double>,
                               step: Double, slope given: [Double]? = nil,
                               toZ: ([Double]) throws -> [Double]) throws -> AlphaConditional {
        precondition(!draws.isEmpty && kept > 0 && step > 0, "draws, kept > 0 and a positive step")
        let n = Double(draws.count)
        let alphas = draws.map { $0[6] }
        let meanAlpha = alphas.reduce(0, +) / n
        let varAlpha = alphas.reduce(0) { $0 + ($1 - meanAlpha) * ($1 - meanAlpha) } / n
        var slope = given ?? [Double](repeating: 0, count: 7)
        if given == nil, varAlpha > 0 {
            for k in 0..<6 {
                let mean = draws.reduce(0) { $0 + $1[k] } / n
                let cov = draws.reduce(0) { $0 + ($1[k] - mean) * ($1[6] - meanAlpha) } / n
                slope[k] = cov / varAlpha
            }
        }
        let intervals = max(Int(((alphaRange.upperBound - alphaRange.lowerBound) / step).rounded(.up)), 1)
        let gridStep = (alphaRange.upperBound - alphaRange.lowerBound) / Double(intervals)
        let count = min(kept, draws.count)
        let picks = (0..<count).map { Int((Double($0) + 0.5) * n / Double(count)) }
        var result = AlphaConditional(alphaStart: alphaRange.lowerBound, alphaStep: gridStep, gridCount: intervals + 1,
                                      draws: try picks.map { try toZ(draws[$0]) }, samplingDraws: picks.map { draws[$0] },
                                      slope: slope, logConditional: [], logHaloMass: [])
        for j in picks.indices {
            var logQ: [Double] = [], mass: [Double?] = []
            for k in 0..<result.gridCount {
                let w = result.slicePoint(j, alpha: min(result.alpha(k), alphaRange.upperBound))
                var value: Double
                do { value = try density.logDensity(w) } catch LensInferenceError.outsideTable { value = -.infinity }
                let m = value.isFinite ? density.logHaloMass(w) : nil
                if m == nil { value = -.infinity }
                logQ.append(value)
                mass.append(m)
            }
            // Trapezoid normalisation over the grid.
            let top = logQ.max() ?? -.infinity
            if top.isFinite {
                var sum = 0.0
                for (k, l) in logQ.enumerated() {
                    let edge = k == 0 || k == logQ.count - 1
                    sum += (edge ? 0.5 : 1) * Double.exp(l - top)
                }
                let logZ = top + Double.log(sum * gridStep)
                result.logConditional.append(logQ.map { $0.isFinite ? $0 - logZ : nil })
            } else {
                result.logConditional.append(logQ.map { _ in nil })
            }
            result.logHaloMass.append(mass)
        }
        return result
    }

    /// ln p(α | r_j) and log M_h on the slice of draw j at α, with their derivatives in α: a cubic (Catmull–Rom)
    /// interpolation of the grid values where the four nearest are finite, linear where only the two bracketing
    /// ones are; nil where neither bracketing value is finite or α is off the grid.
    ///
    /// At an end of the slice's support (one bracketing value finite, the other not) the density falls linearly to
    /// zero at the next grid point — p = p_edge (1 − f), the trapezoid rule's own assumption in the normalisation —
    /// and log M_h continues linearly. The support's true end lies somewhere in that step, so this is as accurate
    /// as cutting it at the last finite point, and it keeps each draw's weight continuous in α_sps: cut, every one
    /// of a lens's draws whose slice ends near α_sps put a step into stage 2's density, and NUTS adapted step sizes
    /// of 0.003–0.01 on it (split R̂ 1.06 on one 25-lens mock, against 0.05–0.09 in its smoother chains).
    public func interpolate(_ j: Int, alpha: Double) -> (logP: Double, dLogP: Double, logHaloMass: Double, dLogHaloMass: Double)? {
        let t = (alpha - alphaStart) / alphaStep
        guard t >= 0, t <= Double(gridCount - 1) else { return nil }
        let k = min(Int(t), gridCount - 2)
        let f = t - Double(k)
        guard let p = Self.cubic(logConditional[j], k, f, edge: .taperDensity),
              let m = Self.cubic(logHaloMass[j], k, f, edge: .extendLinearly) else { return nil }
        return (p.value, p.slope / alphaStep, m.value, m.slope / alphaStep)
    }

    /// What `cubic` does in an interval with one end missing.
    enum Edge { case taperDensity, extendLinearly }

    /// The value and slope (per grid step) at k + f of a Catmull–Rom spline through `y`, linear at ends and gaps;
    /// in an interval with one end missing, `edge` (ln of a density falling linearly to 0, or the line through the
    /// finite end and its other neighbour).
    static func cubic(_ y: [Double?], _ k: Int, _ f: Double, edge: Edge) -> (value: Double, slope: Double)? {
        guard let y0 = y[k], let y1 = y[k + 1] else {
            switch (y[k], y[k + 1], edge) {
            case let (y0?, nil, .taperDensity):
                return f < 1 ? (y0 + Double.log(1 - f), -1 / (1 - f)) : nil
            case let (nil, y1?, .taperDensity):
                return f > 0 ? (y1 + Double.log(f), 1 / f) : nil
            case let (y0?, nil, .extendLinearly):
                let s = k > 0 ? y[k - 1].map { y0 - $0 } ?? 0 : 0
                return (y0 + f * s, s)
            case let (nil, y1?, .extendLinearly):
                let s = k + 2 < y.count ? y[k + 2].map { $0 - y1 } ?? 0 : 0
                return (y1 - (1 - f) * s, s)
            default:
                return nil
            }
        }
        guard k > 0, k + 2 < y.count, let ym = y[k - 1], let y2 = y[k + 2] else {
            return (y0 + f * (y1 - y0), y1 - y0)
        }
        let m0 = 0.5 * (y1 - ym), m1 = 0.5 * (y2 - y0)
        let f2 = f * f, f3 = f2 * f
        let value = (2 * f3 - 3 * f2 + 1) * y0 + (f3 - 2 * f2 + f) * m0 + (-2 * f3 + 3 * f2) * y1 + (f3 - f2) * m1
        let slope = (6 * f2 - 6 * f) * y0 + (3 * f2 - 4 * f + 1) * m0 + (-6 * f2 + 6 * f) * y1 + (3 * f2 - 2 * f) * m1
        return (value, slope)
    }
}

import Foundation
import Inference
import SceneModel

/// The log-posterior of a patch as an `Inference.LogDensity` over the *constrained* source
/// parameters: the kernel's log-likelihood plus the priors, which are flat inside the bounds
/// except for the parameters listed in `logUniform` (a log-uniform prior, p(x) ∝ 1/x, adding
/// −ln x; used for r_half, see `ParameterBounds.rhalfLogUniform`).
public struct KernelDensity: LogDensity {
    public let kernel: SceneKernel
    /// Indices of parameters with a log-uniform prior (all > 0 inside their bounds).
    public let logUniform: [Int]
    public var dimension: Int { kernel.layout.count }
    public init(kernel: SceneKernel, logUniform: [Int] = []) { self.kernel = kernel; self.logUniform = logUniform }
    public func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        let r = try kernel.evaluate(x)
        var value = r.logLikelihood, gradient = r.gradient
        for i in logUniform {
            value -= Double.log(x[i])
            gradient[i] -= 1 / x[i]
        }
        return (value, gradient)
    }
}

/// The posterior of a patch's active sources in the sampler's unconstrained space: the kernel's
/// likelihood, the priors within `ParameterBounds` (flat, except log-uniform in r_half by
/// default), and the transforms' log-Jacobians.
///
/// Transforms per parameter: fluxes unbounded (identity; a flat prior on flux); ξ, η an interval
/// of ± `positionHalfWidth` arcsec about the source's *catalog* position; q, pa, n, rhalf
/// logistic intervals over their bounds. Because the bounds are fixed per source for the whole
/// run, a covariance in this space stays meaningful from one patch to the next.
///
/// pa is the exception when `paCentres` is given: the model is π-periodic in pa, so a fixed
/// interval (−π/2, π/2] splits the posterior of a source whose pa lies near ±π/2 between both
/// ends of the interval, and the sampler jumps between them (measured on the demo scene: split
/// R̂ 1.2 and ESS 5 in pa). Centred on the source's current pa, an interval of one period holds
/// the mode in its middle and the copies at its ends, where the logistic Jacobian vanishes. The
/// transform's scale at the centre does not depend on the centre, so covariances carry over.
///
/// With `ShapeCoordinates.ellipticity` each galaxy's (q, pa) pair is instead one point of the
/// plane (`EllipticityCoordinates`): the same flat prior in q and pa, without the ring-shaped
/// posteriors of round and small galaxies. pa is then reported on the branch of one period
/// centred on `paCentres` (or on `bounds.pa`).
public struct PatchPosterior: LogDensity {
    /// How a galaxy's axis ratio and position angle appear to the sampler and optimiser.
    public enum ShapeCoordinates: String, Codable, Sendable, CaseIterable {
        /// q and pa, each through a logistic interval.
        case axisRatioAngle = "q_pa"
        /// (u₁, u₂) of `EllipticityCoordinates`.
        case ellipticity
    }

    /// One galaxy's (q, pa) pair held in ellipticity coordinates: the indices of q and pa
    /// (which hold u₁ and u₂ in the unconstrained vector) and the lower end of pa's branch.
    struct ShapePair: Sendable {
        let q: Int, pa: Int, paLower: Double
    }

    /// The element-wise transforms; for the parameters of `shapePairs` they are placeholders
    /// (identity) and `ellipticity` maps the pair instead.
    public private(set) var density: TransformedDensity<KernelDensity>
    public var kernel: SceneKernel { density.base.kernel }

    /// The same posterior with the kernel's pixel loop in `precision` (`SceneKernel.Precision`) and footprint budget
    /// `footprintTolerance` (`SceneKernel.footprintTolerance`): `PatchFitter` samples with
    /// `FitSettings.samplingPrecision` and `samplingFootprintTolerance`, and optimises with the kernel as built.
    public func forSampling(precision: SceneKernel.Precision, footprintTolerance: Double) -> PatchPosterior {
        guard precision != kernel.precision || footprintTolerance != kernel.footprintTolerance else { return self }
        var copy = self
        var k = kernel
        k.precision = precision
        k.footprintTolerance = footprintTolerance
        copy.density = TransformedDensity(KernelDensity(kernel: k, logUniform: density.base.logUniform), transforms: density.transforms,
                                          includeJacobian: density.includeJacobian)
        return copy
    }
    public var dimension: Int { density.dimension }
    let ellipticity: EllipticityCoordinates
    let shapePairs: [ShapePair]

    /// - Parameters:
    ///   - anchors: each active source's catalog (starting) position in this patch's plane.
    ///   - paCentres: per active source, the centre of its pa interval (width that of
    ///     `bounds.pa`); nil, or nil for a source, keeps `bounds.pa`.
    ///   - fluxFloors: per active source and band, a lower bound on the flux (transform
    ///     x = floor + eʸ, see `ParameterBounds.fluxFloorSigmas` and `fluxFloors(kernel:at:sigmas:)`);
    ///     nil (or −∞ for one flux): unbounded (identity).
    ///   - shapes: the coordinates of (q, pa) (default: a logistic interval each).
    public init(kernel: SceneKernel, anchors: [(xi: Double, eta: Double)], bounds: ParameterBounds,
                paCentres: [Double?]? = nil, fluxFloors: [[Double]]? = nil, shapes: ShapeCoordinates = .axisRatioAngle) throws {
        let layout = kernel.layout
        guard anchors.count == layout.sourceCount else {
            throw SceneModelError.dimensionMismatch(what: "position anchors", expected: layout.sourceCount, got: anchors.count)
        }
        if let c = paCentres, c.count != layout.sourceCount {
            throw SceneModelError.dimensionMismatch(what: "pa centres", expected: layout.sourceCount, got: c.count)
        }
        if let f = fluxFloors, f.count != layout.sourceCount || f.contains(where: { $0.count != layout.bandCount }) {
            throw SceneModelError.dimensionMismatch(what: "flux floors", expected: layout.sourceCount * layout.bandCount,
                                                    got: f.reduce(0) { $0 + $1.count })
        }
        var transforms = [ParameterTransform](repeating: .identity, count: layout.count)
        let hw = bounds.positionHalfWidth
        for s in 0..<layout.sourceCount {
            for p in layout.parameters(ofSource: s) {
                let i = layout.index(ofSource: s, p)!
                switch p {
                case let .flux(band):
                    let floor = fluxFloors?[s][band] ?? -.infinity
                    transforms[i] = floor.isFinite ? .lowerBound(floor) : .identity
                case .xi: transforms[i] = .interval(lower: anchors[s].xi - hw, upper: anchors[s].xi + hw)
                case .eta: transforms[i] = .interval(lower: anchors[s].eta - hw, upper: anchors[s].eta + hw)
                case .q: transforms[i] = .interval(lower: bounds.q.lowerBound, upper: bounds.q.upperBound)
                case .pa:
                    if let centre = paCentres?[s] {
                        let half = (bounds.pa.upperBound - bounds.pa.lowerBound) / 2
                        transforms[i] = .interval(lower: centre - half, upper: centre + half)
                    } else {
                        transforms[i] = .interval(lower: bounds.pa.lowerBound, upper: bounds.pa.upperBound)
                    }
                case .sersic: transforms[i] = .interval(lower: bounds.sersic.lowerBound, upper: bounds.sersic.upperBound)
                case .rhalf: transforms[i] = .interval(lower: bounds.rhalf.lowerBound, upper: bounds.rhalf.upperBound)
                }
            }
        }
        var pairs: [ShapePair] = []
        if shapes == .ellipticity {
            for s in 0..<layout.sourceCount {
                guard let iq = layout.index(ofSource: s, .q), let ipa = layout.index(ofSource: s, .pa) else { continue }
                let half = (bounds.pa.upperBound - bounds.pa.lowerBound) / 2
                let lower = paCentres?[s].map { $0 - half } ?? bounds.pa.lowerBound
                pairs.append(ShapePair(q: iq, pa: ipa, paLower: lower))
                transforms[iq] = .identity
                transforms[ipa] = .identity
            }
        }
        self.shapePairs = pairs
        self.ellipticity = EllipticityCoordinates(q: bounds.q)
        let logUniform = bounds.rhalfLogUniform
            ? (0..<layout.sourceCount).compactMap { layout.index(ofSource: $0, .rhalf) } : []
        density = TransformedDensity(KernelDensity(kernel: kernel, logUniform: logUniform), transforms: transforms)
    }

    public func logDensityAndGradient(_ y: [Double]) throws -> (value: Double, gradient: [Double]) {
        guard !shapePairs.isEmpty else { return try density.logDensityAndGradient(y) }
        guard y.count == dimension else { throw InferenceError.dimensionMismatch(expected: dimension, got: y.count) }
        let (v, gx) = try density.base.logDensityAndGradient(constrain(y))
        var (value, g) = density.pullBack(value: v, gradient: gx, at: y)  // (the pairs' identities are replaced below)
        for p in shapePairs {
            let j = ellipticity.jacobian(y[p.q], y[p.pa])
            value += j.logDet
            g[p.q] = gx[p.q] * j.dq.0 + gx[p.pa] * j.dpa.0 + j.logDetGradient.0
            g[p.pa] = gx[p.q] * j.dq.1 + gx[p.pa] * j.dpa.1 + j.logDetGradient.1
        }
        return (value, g)
    }

    /// ∂x/∂y for one active source's parameters (its block of `kernel.layout`, row-major n × n):
    /// diagonal, except for the 2 × 2 (q, pa) block in ellipticity coordinates. Maps a
    /// covariance of the unconstrained block to the constrained one, J Σ Jᵀ.
    public func jacobianBlock(source s: Int, at y: [Double]) -> [Double] {
        let layout = kernel.layout
        let params = layout.parameters(ofSource: s)
        let n = params.count, o = layout.offsets[s]
        var J = [Double](repeating: 0, count: n * n)
        for k in 0..<n { J[k * n + k] = density.transforms[o + k].derivative(y[o + k]) }
        for p in shapePairs where p.q >= o && p.q < o + n {
            let j = ellipticity.jacobian(y[p.q], y[p.pa])
            let a = p.q - o, b = p.pa - o
            J[a * n + a] = j.dq.0; J[a * n + b] = j.dq.1
            J[b * n + a] = j.dpa.0; J[b * n + b] = j.dpa.1
        }
        return J
    }

    /// Flux floors −k·σ_F per active source and band at the constrained parameters `x`, with
    /// σ_F = 1/√(−∂² ln L/∂F²) of the likelihood alone (exact: the model is linear in flux, so
    /// one extra gradient per flux gives it). A start already below −k·σ_F gets its floor k·σ_F
    /// below itself, so every start lies inside; a flux no pixel constrains gets −∞ (no floor).
    /// One kernel evaluation per flux, plus one.
    public static func fluxFloors(kernel: SceneKernel, at x: [Double], sigmas k: Double) throws -> [[Double]] {
        let layout = kernel.layout
        let g0 = try kernel.evaluate(x).gradient
        return try (0..<layout.sourceCount).map { s in
            try (0..<layout.bandCount).map { b in
                let i = layout.index(ofSource: s, .flux(band: b))!
                let h = Swift.max(1, Swift.abs(x[i])) * 1e-3
                var xp = x
                xp[i] += h
                let information = -(try kernel.evaluate(xp).gradient[i] - g0[i]) / h
                // No pixel of this band sees the source: no noise scale, no floor.
                guard information > 0, information.isFinite else { return -Double.infinity }
                let sigma = 1 / information.squareRoot()
                return Swift.min(-k * sigma, x[i] - k * sigma)
            }
        }
    }

    public func constrain(_ y: [Double]) -> [Double] {
        var x = density.constrain(y)
        for p in shapePairs {
            let c = ellipticity.constrain(y[p.q], y[p.pa], paLower: p.paLower)
            x[p.q] = c.q
            x[p.pa] = c.pa
        }
        return x
    }

    public func unconstrain(_ x: [Double]) -> [Double] {
        var y = density.unconstrain(x)
        for p in shapePairs {
            let u = ellipticity.unconstrain(q: x[p.q], pa: x[p.pa])
            y[p.q] = u.u1
            y[p.pa] = u.u2
        }
        return y
    }

    /// Moves constrained values strictly inside the bounds (a catalog value on a bound, or
    /// outside it, would map to ±∞), by `margin` of each interval's width.
    public func clampedInside(_ x: [Double], margin: Double = 1e-3) -> [Double] {
        var inside = zip(x, density.transforms).map { v, t in
            if case let .interval(a, b) = t {
                let m = (b - a) * margin
                return min(max(v, a + m), b - m)
            }
            return v
        }
        // Ellipticity coordinates: q at its lower bound is infinitely far; at its upper bound
        // (the roundest allowed) it is the centre u = 0 and needs no clamping.
        let q = ellipticity.q
        for p in shapePairs {
            inside[p.q] = min(max(inside[p.q], q.lowerBound + (q.upperBound - q.lowerBound) * margin), q.upperBound)
        }
        return inside
    }
}

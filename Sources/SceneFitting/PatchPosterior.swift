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
public struct PatchPosterior: LogDensity {
    public let density: TransformedDensity<KernelDensity>
    public var kernel: SceneKernel { density.base.kernel }
    public var dimension: Int { density.dimension }

    /// - Parameters:
    ///   - anchors: each active source's catalog (starting) position in this patch's plane.
    ///   - paCentres: per active source, the centre of its pa interval (width that of
    ///     `bounds.pa`); nil, or nil for a source, keeps `bounds.pa`.
    ///   - fluxFloors: per active source and band, a lower bound on the flux (transform
    ///     x = floor + eʸ, see `ParameterBounds.fluxFloorSigmas` and `fluxFloors(kernel:at:sigmas:)`);
    ///     nil (or −∞ for one flux): unbounded (identity).
    public init(kernel: SceneKernel, anchors: [(xi: Double, eta: Double)], bounds: ParameterBounds,
                paCentres: [Double?]? = nil, fluxFloors: [[Double]]? = nil) throws {
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
        let logUniform = bounds.rhalfLogUniform
            ? (0..<layout.sourceCount).compactMap { layout.index(ofSource: $0, .rhalf) } : []
        density = TransformedDensity(KernelDensity(kernel: kernel, logUniform: logUniform), transforms: transforms)
    }

    public func logDensityAndGradient(_ y: [Double]) throws -> (value: Double, gradient: [Double]) {
        try density.logDensityAndGradient(y)
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

    public func constrain(_ y: [Double]) -> [Double] { density.constrain(y) }
    public func unconstrain(_ x: [Double]) -> [Double] { density.unconstrain(x) }

    /// Moves constrained values strictly inside the bounds (a catalog value on a bound, or
    /// outside it, would map to ±∞), by `margin` of each interval's width.
    public func clampedInside(_ x: [Double], margin: Double = 1e-3) -> [Double] {
        zip(x, density.transforms).map { v, t in
            if case let .interval(a, b) = t {
                let m = (b - a) * margin
                return min(max(v, a + m), b - m)
            }
            return v
        }
    }
}

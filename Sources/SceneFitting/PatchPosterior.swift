import Foundation
import Inference
import SceneModel

/// The log-likelihood of a patch as an `Inference.LogDensity` over the *constrained* source
/// parameters (flat priors inside the bounds).
public struct KernelDensity: LogDensity {
    public let kernel: SceneKernel
    public var dimension: Int { kernel.layout.count }
    public init(kernel: SceneKernel) { self.kernel = kernel }
    public func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        let r = try kernel.evaluate(x)
        return (r.logLikelihood, r.gradient)
    }
}

/// The posterior of a patch's active sources in the sampler's unconstrained space: the kernel's
/// likelihood, flat priors within `ParameterBounds`, and the transforms' log-Jacobians.
///
/// Transforms per parameter: fluxes unbounded (identity; a flat prior on flux); ξ, η an interval
/// of ± `positionHalfWidth` arcsec about the source's *catalog* position; q, pa, n, rhalf
/// logistic intervals over their bounds. Because the bounds are fixed per source for the whole
/// run, a covariance in this space stays meaningful from one patch to the next.
public struct PatchPosterior: LogDensity {
    public let density: TransformedDensity<KernelDensity>
    public var kernel: SceneKernel { density.base.kernel }
    public var dimension: Int { density.dimension }

    /// - Parameters:
    ///   - anchors: each active source's catalog (starting) position in this patch's plane.
    public init(kernel: SceneKernel, anchors: [(xi: Double, eta: Double)], bounds: ParameterBounds) throws {
        let layout = kernel.layout
        guard anchors.count == layout.sourceCount else {
            throw SceneModelError.dimensionMismatch(what: "position anchors", expected: layout.sourceCount, got: anchors.count)
        }
        var transforms = [ParameterTransform](repeating: .identity, count: layout.count)
        let hw = bounds.positionHalfWidth
        for s in 0..<layout.sourceCount {
            for p in layout.parameters(ofSource: s) {
                let i = layout.index(ofSource: s, p)!
                switch p {
                case .flux: transforms[i] = .identity
                case .xi: transforms[i] = .interval(lower: anchors[s].xi - hw, upper: anchors[s].xi + hw)
                case .eta: transforms[i] = .interval(lower: anchors[s].eta - hw, upper: anchors[s].eta + hw)
                case .q: transforms[i] = .interval(lower: bounds.q.lowerBound, upper: bounds.q.upperBound)
                case .pa: transforms[i] = .interval(lower: bounds.pa.lowerBound, upper: bounds.pa.upperBound)
                case .sersic: transforms[i] = .interval(lower: bounds.sersic.lowerBound, upper: bounds.sersic.upperBound)
                case .rhalf: transforms[i] = .interval(lower: bounds.rhalf.lowerBound, upper: bounds.rhalf.upperBound)
                }
            }
        }
        density = TransformedDensity(KernelDensity(kernel: kernel), transforms: transforms)
    }

    public func logDensityAndGradient(_ y: [Double]) throws -> (value: Double, gradient: [Double]) {
        try density.logDensityAndGradient(y)
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

import Inference
import RealModule

/// Stage-1 sampling coordinates that follow a lens's main degeneracy: the images fix the mass inside their
/// radius, M*(α) + M_h(<θ), far better than they fix how it splits between stars and halo.
///
/// In the interim posterior's coordinates z = (log M_h, γ₁, γ₂, β_x, β_y, log F_s, α) that split is a narrow,
/// curved ridge (log M_h falls as α rises; the stage-1 chains measured correlations of −0.88 to −0.99, α ESS of 1–30
/// in 400 draws, and split R̂ up to 2.4 on the mocks of `infer_recovery.sh`). Here the first coordinate is replaced by
///
///     u = ln a(θ_ref),   a(θ) = θ κ̄(<θ) = α a★(θ) + a_h(θ; M_h)   [arcsec],
///
/// the symmetric part's deflection at θ_ref, the mean distance of the observed images from the lens centre (≈ θ_E):
/// w = (u, γ₁, γ₂, β_x, β_y, log F_s, α). At fixed α, log M_h is the root of a_h(θ_ref; M_h) = e^u − α a★(θ_ref)
/// (a_h rises with M_h), found to 1e-12 dex inside the interim log M_h box; a point whose root would lie outside the
/// box is outside the support (−∞), as it is in z. The density in w is the same posterior,
///
///     ln q(w) = ln p(z(w)) + ln |∂ log M_h/∂u|,   ∂ log M_h/∂u = e^u / a_h′,   a_h′ = ∂a_h/∂ log M_h,
///
/// so draws mapped back through `constrained` are draws of p: the stage-2 reweighting is unchanged.
/// Gradient: the chain rule through the implicit root (∂ log M_h/∂α = −a★/a_h′) on `LensInterimPosterior`'s gradient,
/// and the log-Jacobian's from a_h′ and a_h″ by central differences of a_h (step 1e-3 dex; a_h is smooth).
/// `EnclosedMassCoordinatesTests` checks the round trip, the Jacobian and the gradient against differences of q.
public struct EnclosedMassCoordinates: LogDensity, Sendable {
    public let posterior: LensInterimPosterior
    /// θ_ref [arcsec]: the mean distance of the observed images from the lens centre.
    public let referenceRadius: Double
    /// Step of the differences of a_h in log M_h [dex].
    public var haloStep = 1e-3

    public var dimension: Int { 7 }

    public init(_ posterior: LensInterimPosterior) {
        self.posterior = posterior
        let images = posterior.likelihood.lens.images
        referenceRadius = images.map { ($0.x * $0.x + $0.y * $0.y).squareRoot() }.reduce(0, +) / Double(images.count)
    }

    /// a_h(θ_ref) [arcsec] of the halo alone at log M_h, and α a★(θ_ref) of the stars at α; nil where no valid lens.
    func deflections(logHaloMass m: Double, alpha: Double) -> (halo: Double, stars: Double)? {
        let p = LensParameters(logHaloMass: m, shear1: 0, shear2: 0, sourceX: 0, sourceY: 0, logSourceFlux: 0)
        guard let model = posterior.likelihood.galaxy(p, alphaSPS: alpha)?.model, let halo = model.halo,
              let stars = model.stars else { return nil }
        let r = referenceRadius
        return (r * halo.radialProfile(r).meanKappa, r * stars.radialProfile(r).meanKappa)
    }

    /// u = ln a(θ_ref) for log M_h and α (nil where no valid lens).
    public func enclosedDeflection(logHaloMass m: Double, alpha: Double) -> Double? {
        guard let d = deflections(logHaloMass: m, alpha: alpha) else { return nil }
        return Double.log(d.halo + d.stars)
    }

    /// log M_h with ln a(θ_ref) = u at α, inside the interim box; nil where the root is outside it (or the search
    /// does not converge).
    public func logHaloMass(u: Double, alpha: Double) -> Double? {
        let box = posterior.logHaloMassRange
        guard u.isFinite, let lo = deflections(logHaloMass: box.lowerBound, alpha: alpha),
              let hi = deflections(logHaloMass: box.upperBound, alpha: alpha) else { return nil }
        let target = Double.exp(u) - lo.stars
        guard target >= lo.halo, target <= hi.halo else { return nil }
        // a_h rises with log M_h, close to a power law: regula falsi in (log M_h, ln a_h) with the Illinois
        // modification, which keeps a bracket and converges superlinearly.
        var (a, fa) = (box.lowerBound, Double.log(lo.halo) - Double.log(target))
        var (b, fb) = (box.upperBound, Double.log(hi.halo) - Double.log(target))
        if fa == 0 { return a }
        if fb == 0 { return b }
        var side = 0
        for _ in 0..<100 {
            let c = (a * fb - b * fa) / (fb - fa)
            guard let d = deflections(logHaloMass: c, alpha: alpha) else { return nil }
            let fc = Double.log(d.halo) - Double.log(target)
            if fc == 0 || abs(b - a) < 1e-13 { return c }
            if (fc > 0) == (fb > 0) {
                (b, fb) = (c, fc)
                if side == 1 { fa *= 0.5 }
                side = 1
            } else {
                (a, fa) = (c, fc)
                if side == -1 { fb *= 0.5 }
                side = -1
            }
            if abs(fc) < 1e-15 { return c }
        }
        // Not converged in 100 steps (not seen; a_h is smooth and monotone): no point rather than a guess.
        return nil
    }

    /// z (the interim posterior's coordinates) for w; nil outside the support.
    public func constrained(_ w: [Double]) -> [Double]? {
        guard let m = logHaloMass(u: w[0], alpha: w[6]) else { return nil }
        var z = w
        z[0] = m
        return z
    }

    /// w for z; nil where z is no valid lens.
    public func sampling(_ z: [Double]) -> [Double]? {
        guard let u = enclosedDeflection(logHaloMass: z[0], alpha: z[6]) else { return nil }
        var w = z
        w[0] = u
        return w
    }

    /// a_h′ and a_h″ (derivatives in log M_h) at m by central differences, and α a★ there.
    func haloSlopes(_ m: Double, alpha: Double) -> (first: Double, second: Double, stars: Double)? {
        let h = haloStep
        guard let minus = deflections(logHaloMass: m - h, alpha: alpha), let mid = deflections(logHaloMass: m, alpha: alpha),
              let plus = deflections(logHaloMass: m + h, alpha: alpha) else { return nil }
        return ((plus.halo - minus.halo) / (2 * h), (plus.halo - 2 * mid.halo + minus.halo) / (h * h), mid.stars)
    }

    /// z for w and the halo's slopes there; nil outside the support (α off its box, no root, a_h′ ≤ 0).
    func supported(_ w: [Double]) -> (z: [Double], slopes: (first: Double, second: Double, stars: Double))? {
        guard posterior.alphaRange.contains(w[6]), let z = constrained(w),
              let slopes = haloSlopes(z[0], alpha: w[6]), slopes.first > 0 else { return nil }
        return (z, slopes)
    }

    /// ln q(w) without a gradient: one likelihood value and the halo's slope (for `AlphaConditional`).
    public func logDensity(_ w: [Double]) throws -> Double {
        guard let (z, slopes) = supported(w) else { return -.infinity }
        let value = try posterior.logDensity(z)
        guard value.isFinite else { return -.infinity }
        return value + w[0] - Double.log(slopes.first)
    }

    public func logDensityAndGradient(_ w: [Double]) throws -> (value: Double, gradient: [Double]) {
        let minusInfinity = (-Double.infinity, [Double](repeating: 0, count: 7))
        guard let (z, slopes) = supported(w) else { return minusInfinity }
        let (value, g) = try posterior.logDensityAndGradient(z)
        guard value.isFinite else { return minusInfinity }
        let e = Double.exp(w[0])
        let dmdu = e / slopes.first
        let dmdalpha = -(slopes.stars / w[6]) / slopes.first
        let logJ = w[0] - Double.log(slopes.first)
        let curvature = slopes.second / slopes.first
        var out = g
        out[0] = g[0] * dmdu + 1 - curvature * dmdu
        out[6] = g[6] + g[0] * dmdalpha - curvature * dmdalpha
        return (value + logJ, out)
    }

    /// Unconstrained coordinates for NUTS: u and the η-free coordinates as they are, α logistic on its box.
    public var transforms: [ParameterTransform] {
        [.identity, .identity, .identity, .identity, .identity, .identity,
         .interval(lower: posterior.alphaRange.lowerBound, upper: posterior.alphaRange.upperBound)]
    }
}

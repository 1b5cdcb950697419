import Foundation

/// A galaxy's axis ratio and position angle (q, pa) as a point u = (u₁, u₂) of the plane, the
/// coordinates the sampler moves in when `PatchPosterior` is built with
/// `ShapeCoordinates.ellipticity`.
///
/// Why: in (q, pa) a small or round galaxy's posterior is a ring or a banana. pa is free when
/// q → 1, so the sampler wanders along pa while q sits at its bound, and a source whose pa sits
/// near the ends of its interval has two modes. In the demo scene those shapes gave the
/// run's lowest ESS (19–25 in pa from 250 draws) and its worst split R̂ (1.07–1.10). The
/// ellipticity g = (1 − q)/(1 + q) with phase 2·pa is a smooth coordinate of the Gaussian
/// shape, so the same posterior is close to a Gaussian blob in (g₁, g₂).
///
/// The map (polar in u, angle 2·pa, radius ρ = |u|):
///
///     |g| = g_min + (g_max − g_min) · tanh(ρ²),   q = (1 − |g|)/(1 + |g|),   pa = atan2(u₂, u₁)/2,
///
/// with g_min, g_max the ellipticities of the q bounds (q_max, q_min). tanh(ρ²) rather than
/// tanh(ρ) makes the prior stay the one the scene states — flat in q and pa — *and* keeps the
/// density smooth at u = 0: the Jacobian |∂(q, pa)/∂(u₁, u₂)| = |dq/dg|·(g_max − g_min)·sech²(ρ²)
/// is finite and smooth there, whereas a flat (q, pa) prior seen in (g₁, g₂) has a 1/|g|
/// spike at round shapes. pa is returned on the branch [paLower, paLower + π).
public struct EllipticityCoordinates: Sendable, Equatable {
    /// The axis-ratio bounds the plane maps onto.
    public let q: ClosedRange<Double>
    /// Ellipticities |g| of the q bounds: gMin from q's upper bound, gMax from its lower one.
    public let gMin: Double
    public let gMax: Double

    /// - Parameter q: the axis-ratio bounds (0 < lower < upper ≤ 1).
    public init(q: ClosedRange<Double>) {
        precondition(q.lowerBound > 0 && q.upperBound <= 1 && q.lowerBound < q.upperBound, "q bounds must satisfy 0 < q_min < q_max ≤ 1")
        self.q = q
        gMin = (1 - q.upperBound) / (1 + q.upperBound)
        gMax = (1 - q.lowerBound) / (1 + q.lowerBound)
    }

    /// (u₁, u₂) → (q, pa), pa on [paLower, paLower + π).
    public func constrain(_ u1: Double, _ u2: Double, paLower: Double) -> (q: Double, pa: Double) {
        let s = u1 * u1 + u2 * u2
        let g = gMin + (gMax - gMin) * Foundation.tanh(s)
        let q = (1 - g) / (1 + g)
        let angle = s > 0 ? Foundation.atan2(u2, u1) / 2 : 0
        return (q, Self.wrap(angle, lower: paLower))
    }

    /// (q, pa) → (u₁, u₂). q at q's lower bound maps to infinity; clamp it inside first.
    public func unconstrain(q: Double, pa: Double) -> (u1: Double, u2: Double) {
        let g = (1 - q) / (1 + q)
        let t = Swift.min(Swift.max((g - gMin) / (gMax - gMin), 0), 1)
        let rho = Foundation.atanh(t).squareRoot()
        return (rho * Foundation.cos(2 * pa), rho * Foundation.sin(2 * pa))
    }

    /// The partial derivatives ∂(q, pa)/∂(u₁, u₂) (row q, then row pa), ln|det| of that
    /// Jacobian and its gradient in (u₁, u₂). At u = 0 pa's row is undefined (pa has no meaning
    /// for the roundest shape allowed) and is returned as zeros; q's row is zero there too.
    public func jacobian(_ u1: Double, _ u2: Double) -> (dq: (Double, Double), dpa: (Double, Double), logDet: Double, logDetGradient: (Double, Double)) {
        let s = u1 * u1 + u2 * u2
        let t = Foundation.tanh(s)
        let range = gMax - gMin
        let g = gMin + range * t
        let sech2 = 1 - t * t
        let dqdg = -2 / ((1 + g) * (1 + g))
        let dqds = dqdg * range * sech2
        let dq = (dqds * 2 * u1, dqds * 2 * u2)
        let dpa = s > 0 ? (-u2 / (2 * s), u1 / (2 * s)) : (0.0, 0.0)
        // ln|det| = ln 2 − 2 ln(1 + g) + ln(range) + ln sech²(s); ln sech²(s) = −2 ln cosh(s),
        // written so that it does not overflow: ln cosh(s) = s + ln(1 + e^(−2s)) − ln 2.
        let logSech2 = -2 * (s + Foundation.log1p(Foundation.exp(-2 * s)) - Foundation.log(2.0))
        let logDet = Foundation.log(2.0) - 2 * Foundation.log1p(g) + Foundation.log(range) + logSech2
        // d/ds: −2 (dg/ds)/(1 + g) − 2 tanh(s), with dg/ds = range·sech²(s).
        let dlogds = -2 * range * sech2 / (1 + g) - 2 * t
        return (dq, dpa, logDet, (dlogds * 2 * u1, dlogds * 2 * u2))
    }

    /// `angle` moved by a multiple of π onto [lower, lower + π).
    public static func wrap(_ angle: Double, lower: Double) -> Double {
        var d = (angle - lower).truncatingRemainder(dividingBy: .pi)
        if d < 0 { d += .pi }
        return lower + d
    }
}

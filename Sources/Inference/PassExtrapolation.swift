/// The squared extrapolation (SQUAREM, scheme S3 of Varadhan & Roland 2008, Scand. J. Stat. 35,
/// 335) of a fit done in passes: from three successive pass states, a jump towards the fixed
/// point of the pass-to-pass map.
///
/// Why: refitting each object with its neighbours held at their latest values (MOF's passes, see
/// `PassConvergence`) is block coordinate ascent. In a close blend its distance from the fixed
/// point shrinks only by a nearly constant factor λ per pass — measured λ ≈ 0.8–0.85 on the mock
/// tile's pairs (issue 13), so the per-pass change first falls below 0.1σ after 15–25 passes.
/// With x₁ = F(x₀), x₂ = F(x₁), r = x₁ − x₀ and v = x₂ − 2x₁ + x₀, the point
/// x′ = x₀ − 2αr + α²v with α = −‖r‖/‖v‖ is the fixed point exactly when F is linear with one
/// rate (α = −1/(1 − λ)), and much nearer to it than x₂ in general. The fit continues from x′:
/// the pass that follows, F(x′), is an ordinary pass, and convergence is judged on its change
/// from x′ (the fixed-point residual), never on the jump itself.
///
/// α = −1 gives x′ = x₂ (no acceleration); a jump that leaves the parameters' domain is pulled
/// back towards that by halving α + 1 (the S3 paper's back-tracking), and none is made when the
/// passes are not contracting (‖x₂ − x₁‖ ≥ ‖x₁ − x₀‖, or ‖v‖ ≥ ‖r‖ where α would be ≥ −1).
public enum PassExtrapolation {
    /// The extrapolated point, or nil when no jump is made (the passes are not contracting, the
    /// states did not move, or no acceptable point with α < −1 was found).
    ///
    /// - Parameters:
    ///   - x0, x1, x2: three successive pass states (x1 = F(x0), x2 = F(x1)), same length.
    ///   - scale: per coordinate, the unit the norms are taken in (a standard error); coordinates
    ///     whose scale is not finite and > 0 are left out of the norms but still extrapolated.
    ///   - maxStep: the largest |α| allowed (|α| = 1/(1 − λ) for rate λ; 20 ⇔ λ = 0.95), so that
    ///     noise in nearly converged states cannot produce a long jump.
    ///   - isAcceptable: whether a point lies inside the parameters' domain.
    public static func squared(_ x0: [Double], _ x1: [Double], _ x2: [Double], scale: [Double], maxStep: Double = 20,
                               isAcceptable: ([Double]) -> Bool) -> [Double]? {
        precondition(x0.count == x1.count && x1.count == x2.count && scale.count == x0.count, "PassExtrapolation: lengths differ")
        var rr = 0.0, vv = 0.0, r2r2 = 0.0
        for i in x0.indices where scale[i].isFinite && scale[i] > 0 {
            let r = (x1[i] - x0[i]) / scale[i]
            let r2 = (x2[i] - x1[i]) / scale[i]
            rr += r * r
            r2r2 += r2 * r2
            vv += (r2 - r) * (r2 - r)
        }
        // Contracting: the second step shorter than the first, and α < −1 (‖v‖ < ‖r‖).
        guard rr.isFinite, vv.isFinite, rr > 0, vv > 0, r2r2 < rr, vv < rr else { return nil }
        var alpha = max(-(rr / vv).squareRoot(), -maxStep)
        for _ in 0..<8 {
            guard alpha < -1.01 else { return nil }
            let point = x0.indices.map { i -> Double in
                let r = x1[i] - x0[i], v = x2[i] - 2 * x1[i] + x0[i]
                return x0[i] - 2 * alpha * r + alpha * alpha * v
            }
            if point.allSatisfy(\.isFinite), isAcceptable(point) { return point }
            alpha = (alpha - 1) / 2
        }
        return nil
    }
}

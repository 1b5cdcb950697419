import Foundation
import TesseraSupport

/// The exact circular Sérsic profile of **unit total flux**, used to fit and to check the
/// Gaussian-mixture approximation (`SersicMixture`), never to render.
///
///   I(r) = I₀ exp(−b_n (r / r_half)^(1/n)),   L(<R) / L_tot = P(2n, b_n (R / r_half)^(1/n)),
///
/// where P is the regularized lower incomplete gamma function and b_n is defined exactly by
/// P(2n, b_n) = 1/2 (so r_half encloses half the light), found by Newton's method rather than
/// the usual b_n ≈ 2n − 1/3 approximation. Radii passed to `enclosedFraction` are in units of
/// r_half; `surfaceBrightness` takes r and r_half in the same (any) length unit.
public struct SersicProfile: Sendable, Equatable {
    /// The Sérsic index n (> 0).
    public let n: Double
    /// b_n, solving P(2n, b_n) = 1/2.
    public let b: Double

    public init(n: Double) throws {
        guard n.isFinite, n > 0.05, n <= 50 else {
            throw SceneModelError.invalidArgument("Sersic index n must be in (0.05, 50], got \(n)")
        }
        self.n = n
        self.b = Self.solveB(n)
    }

    /// Fraction of the total flux inside radius `r` (in units of r_half): P(2n, b_n r^(1/n)).
    public func enclosedFraction(radius r: Double) -> Double {
        guard r > 0 else { return 0 }
        return IncompleteGamma.regularizedLower(a: 2 * n, x: b * pow(r, 1 / n))
    }

    /// Surface brightness at radius `r` of a profile with half-light radius `rhalf` and unit total
    /// flux, per unit area in the square of the length unit of `r` and `rhalf`:
    /// I(r) = b^(2n) exp(−b (r/rhalf)^(1/n)) / (2π n rhalf² Γ(2n)).
    public func surfaceBrightness(radius r: Double, rhalf: Double) -> Double {
        let x = b * pow(abs(r) / rhalf, 1 / n)
        let logI = 2 * n * log(b) - x - log(2 * Double.pi * n * rhalf * rhalf) - lgamma(2 * n)
        return exp(logI)
    }

    /// Newton's method on f(b) = P(2n, b) − 1/2 (f′(b) = b^(2n−1) e^(−b) / Γ(2n)), started from
    /// the Ciotti & Bertin (1999) expansion and kept inside a bisection bracket, to full double
    /// precision.
    static func solveB(_ n: Double) -> Double {
        let a = 2 * n
        // Bracket: the median of Gamma(a, 1) lies in (a − 1, a) for a ≥ 1 and in (0, a) always.
        var lo = max(0, a - 1), hi = a
        if IncompleteGamma.regularizedLower(a: a, x: lo) > 0.5 { lo = 0 }
        var x = n > 0.36 ? 2 * n - 1.0 / 3 + 4 / (405 * n) + 46 / (25515 * n * n)
                         : 0.01945 - 0.8902 * n + 10.95 * n * n - 19.67 * n * n * n + 13.43 * n * n * n * n
        if !(x > lo && x < hi) { x = (lo + hi) / 2 }
        for _ in 0..<100 {
            let f = IncompleteGamma.regularizedLower(a: a, x: x) - 0.5
            if f == 0 { return x }
            if f > 0 { hi = x } else { lo = x }
            let dfdx = exp((a - 1) * log(x) - x - lgamma(a))
            var next = x - f / dfdx
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            if abs(next - x) <= 1e-15 * x { return next }
            x = next
        }
        return x
    }
}


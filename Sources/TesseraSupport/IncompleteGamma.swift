import Foundation

/// The regularized incomplete gamma functions in double precision (series below x < a + 1,
/// Lentz continued fraction above, as in Numerical Recipes §6.2).
public enum IncompleteGamma {
    /// P(a, x) = γ(a, x) / Γ(a) for a > 0, x ≥ 0; NaN for invalid arguments.
    public static func regularizedLower(a: Double, x: Double) -> Double {
        guard a > 0, x >= 0, a.isFinite, !x.isNaN else { return .nan }
        if x == 0 { return 0 }
        if x.isInfinite { return 1 }
        return x < a + 1 ? series(a: a, x: x) : 1 - continuedFraction(a: a, x: x)
    }

    /// Q(a, x) = 1 − P(a, x), accurate where P is close to 1.
    public static func regularizedUpper(a: Double, x: Double) -> Double {
        guard a > 0, x >= 0, a.isFinite, !x.isNaN else { return .nan }
        if x == 0 { return 1 }
        if x.isInfinite { return 0 }
        return x < a + 1 ? 1 - series(a: a, x: x) : continuedFraction(a: a, x: x)
    }

    /// P(a, x) = e^(−x) x^a / Γ(a+1) · Σ_k x^k / ((a+1)…(a+k)).
    private static func series(a: Double, x: Double) -> Double {
        var ap = a, term = 1 / a, sum = term
        for _ in 0..<100_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-17 { break }
        }
        return sum * exp(a * log(x) - x - lgamma(a))
    }

    /// Q(a, x) by the modified Lentz evaluation of the continued fraction
    /// Q = e^(−x) x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))).
    private static func continuedFraction(a: Double, x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<100_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(a * log(x) - x - lgamma(a)) * h
    }
}

import RealModule

/// Circularly symmetric lens components (NFW halo, Hernquist stars) in angular units, as closed forms.
///
/// Every radius here is an angle in arcsec from the component's centre; a component gives, at radius r,
/// the convergence κ(r), the mean convergence inside r, κ̄(r) (so the deflection is α = r κ̄(r) along the
/// radius), and the lensing potential ψ(r) in arcsec². Normalisations are dimensionless convergences
/// (Σ / Σ_crit), so a component does not know distances or Σ_crit (see `LensGalaxy` for the physical
/// parameters). The formulas are Wright & Brainerd (2000) / Keeton (2001, astro-ph/0102341, eqs. 47–54)
/// with, near x = r/r_s = 1 and at small x, forms that avoid cancellation (see `nfwQ`, `lnHalfPlusF`).
public protocol AxisymmetricLens: Sendable {
    /// (κ, κ̄(<r), ψ) at radius r > 0 [arcsec]; ψ in arcsec².
    func radialProfile(_ r: Double) -> (kappa: Double, meanKappa: Double, potential: Double)
}

/// NFW convergence profile in angular units, κ(x) = 2 κ_s (1 − F(x))/(x² − 1), x = r/θ_s.
///
/// κ_s = ρ_s r_s / Σ_crit. This is lenstronomy's `NFW` with `Rs` = θ_s and
/// `alpha_Rs` = 4 κ_s θ_s (1 + ln ½) (the deflection at θ_s; `alphaAtScaleRadius`).
public struct AngularNFW: AxisymmetricLens, Equatable {
    /// Angular scale radius θ_s = r_s / D_l [arcsec].
    public let scaleRadius: Double
    /// κ_s = ρ_s r_s / Σ_crit (dimensionless).
    public let kappaS: Double

    public init(scaleRadius: Double, kappaS: Double) throws(StrongLensingError) {
        try requirePositive(scaleRadius, "halo.scaleRadius")
        try requireNonNegative(kappaS, "halo.kappaS")
        self.scaleRadius = scaleRadius
        self.kappaS = kappaS
    }

    /// From lenstronomy's parameters (Rs [arcsec], alpha_Rs [arcsec]).
    public init(scaleRadius: Double, alphaAtScaleRadius: Double) throws(StrongLensingError) {
        try requireNonNegative(alphaAtScaleRadius, "halo.alphaRs")
        try self.init(scaleRadius: scaleRadius,
                      kappaS: alphaAtScaleRadius / (4 * scaleRadius * (1 + Double.log(0.5))))
    }

    /// Deflection at θ_s [arcsec] (lenstronomy's `alpha_Rs`).
    public var alphaAtScaleRadius: Double { 4 * kappaS * scaleRadius * (1 + Double.log(0.5)) }

    public func radialProfile(_ r: Double) -> (kappa: Double, meanKappa: Double, potential: Double) {
        let x = r / scaleRadius
        let kappa = 2 * kappaS * nfwQ(x)
        let meanKappa = 4 * kappaS * lnHalfPlusF(x) / (x * x)
        return (kappa, meanKappa, 2 * kappaS * scaleRadius * scaleRadius * nfwH(x))
    }
}

/// Hernquist (1990) convergence profile in angular units, κ(x) = κ₀ [(2 + x²) F(x) − 3]/(x² − 1)², x = r/θ_s.
///
/// κ₀ = ρ_s r_s / Σ_crit; the total mass is M = 2π ρ_s r_s³, and the projected half-mass (effective) radius
/// is `Hernquist.effectiveRadiusOverScaleRadius` × r_s ≈ 1.8153 r_s. This is lenstronomy's `HERNQUIST` with
/// `Rs` = θ_s and `sigma0` = κ₀.
public struct AngularHernquist: AxisymmetricLens, Equatable {
    /// Angular scale radius θ_s [arcsec].
    public let scaleRadius: Double
    /// κ₀ = ρ_s r_s / Σ_crit (dimensionless; lenstronomy's `sigma0`).
    public let kappa0: Double

    public init(scaleRadius: Double, kappa0: Double) throws(StrongLensingError) {
        try requirePositive(scaleRadius, "stars.scaleRadius")
        try requireNonNegative(kappa0, "stars.kappa0")
        self.scaleRadius = scaleRadius
        self.kappa0 = kappa0
    }

    /// R_e / r_s of the Hernquist profile: the root of M_2D(<R)/M = x²(1 − F(x))/(x² − 1) = ½
    /// (≈ 1.8153, Hernquist 1990), solved by bisection to machine precision.
    public static let effectiveRadiusOverScaleRadius: Double = {
        var lo = 1.0, hi = 3.0
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid * mid * nfwQ(mid) < 0.5 { lo = mid } else { hi = mid }
            if hi - lo <= 1e-16 * hi { break }
        }
        return 0.5 * (lo + hi)
    }()

    public func radialProfile(_ r: Double) -> (kappa: Double, meanKappa: Double, potential: Double) {
        let x = r / scaleRadius
        return (kappa0 * hernquistKappaKernel(x), 2 * kappa0 * nfwQ(x),
                2 * kappa0 * scaleRadius * scaleRadius * lnHalfPlusF(x))
    }
}

// MARK: - Kernels of x = r/r_s

/// F(x) = arccosh(1/x)/√(1−x²) (x < 1), arccos(1/x)/√(x²−1) (x > 1), 1 at x = 1.
/// Near x = 1 (|1 − x²| < 0.05) arccosh and arccos of an argument near 1 lose digits (~1e-11 relative at
/// |x − 1| = 1e-5, enough to spoil finite-difference checks), so F = 1 + u q(x) from the series of `nfwQ`.
@inline(__always)
func lensF(_ x: Double) -> Double {
    let u = 1 - x * x
    if abs(u) < 0.05 { return 1 + u * seriesQ(u) }
    if x < 1 { return Double.acosh(1 / x) / u.squareRoot() }
    return Double.acos(1 / x) / (-u).squareRoot()
}

/// Σ_{k=0}^{15} uᵏ/(2k+3) (truncation error < 0.05¹⁶ for |u| < 0.05).
@inline(__always)
func seriesQ(_ u: Double) -> Double {
    var sum = 0.0
    var k = 15
    while k >= 0 { sum = sum * u + 1.0 / Double(2 * k + 3); k -= 1 }
    return sum
}

/// q(x) = (1 − F(x))/(x² − 1) = (F − 1)/(1 − x²); the series Σ uᵏ/(2k+3), u = 1 − x², for |u| < 0.05.
@inline(__always)
func nfwQ(_ x: Double) -> Double {
    let u = 1 - x * x
    if abs(u) < 0.05 { return seriesQ(u) }
    return (lensF(x) - 1) / u
}

/// ln(x/2) + F(x). For x < 0.5 the cancellation of ln(x/2) against F ≈ ln(2/x) is removed analytically
/// (s = √(1−x²)): ln(x/2) + F = log1p(−x²/(2(1+s))) + ln((1+s)/x) · x²/((1+s)s).
@inline(__always)
func lnHalfPlusF(_ x: Double) -> Double {
    if x < 0.5 {
        let x2 = x * x
        let s = (1 - x2).squareRoot()
        return Double.log(onePlus: -x2 / (2 * (1 + s))) + Double.log((1 + s) / x) * x2 / ((1 + s) * s)
    }
    return Double.log(0.5 * x) + lensF(x)
}

/// NFW potential kernel h(x) = ln²(x/2) − arccosh²(1/x) (x < 1), ln²(x/2) + arccos²(1/x) (x ≥ 1).
/// For x < 1 it is written as the product (a + b)(a − b), a = ln(x/2), b = arccosh(1/x) = ln((1+s)/x),
/// which avoids the cancellation of two ln² terms at small x.
@inline(__always)
func nfwH(_ x: Double) -> Double {
    if x < 1 {
        let x2 = x * x
        let s = (1 - x2).squareRoot()
        return Double.log(onePlus: -x2 / (2 * (1 + s))) * Double.log(x2 / (2 * (1 + s)))
    }
    let a = Double.log(0.5 * x), b = Double.acos(1 / x)
    return a * a + b * b
}

/// [(2 + x²) F(x) − 3]/(x² − 1)²; the series Σ uᵏ (3/(2k+5) − 1/(2k+3)), u = 1 − x², for |u| < 0.05.
@inline(__always)
func hernquistKappaKernel(_ x: Double) -> Double {
    let u = 1 - x * x
    if abs(u) < 0.05 {
        var sum = 0.0
        var k = 15
        while k >= 0 { sum = sum * u + (3.0 / Double(2 * k + 5) - 1.0 / Double(2 * k + 3)); k -= 1 }
        return sum
    }
    return ((2 + x * x) * lensF(x) - 3) / (u * u)
}

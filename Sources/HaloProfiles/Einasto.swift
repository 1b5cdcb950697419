import RealModule
import TesseraSupport

/// Einasto profile ρ(r) = ρ_s exp{−(2/α)[(r/r_s)^α − 1]}, untruncated (CCL `HaloProfileEinasto`,
/// `truncated=False`), normalised so that M(<r_Δ) = M_Δ:
/// M(<r) = 4π ρ_s r_s³ e^{2/α} α⁻¹ (α/2)^{3/α} Γ(3/α) P(3/α, (2/α)(r/r_s)^α).
///
/// The shape α must be given explicitly (CLMM: `Modeling.set_einasto_alpha(α)`); CCL's default instead derives
/// α = 0.155 + 0.0095 ν² (Gao et al. 2008) from the peak height ν(M, z), which needs σ(M) from a power spectrum
/// and is not implemented here. `Einasto.defaultAlpha` = 0.25 is NumCosmo's/CLMM's documented default.
///
/// Σ and Σ̄ are computed by adaptive Gauss–Kronrod quadrature (relative accuracy ≲ 1e-9) with r = R cosh t:
///   Σ(R) = 2 ∫₀^∞ ρ(R cosh t) R cosh t dt,
///   M_2D(<R) = M(<R) + 4π R³ ∫₀^∞ cosh²t sinh t (1 − tanh t) ρ(R cosh t) dt.
/// Units: Mpc (physical), M☉, M☉ Mpc⁻³, M☉ Mpc⁻².
public struct Einasto: HaloProfile {
    public static let defaultAlpha: Double = 0.25
    public let parameters: HaloParameters
    /// Shape parameter α (> 0).
    public let alpha: Double
    /// ρ_s = ρ(r_s) [M☉ Mpc⁻³, physical].
    public let characteristicDensity: Double
    let rs: Double

    public init(_ parameters: HaloParameters, alpha: Double = Einasto.defaultAlpha) throws(HaloProfileError) {
        try requirePositiveFinite(alpha, "alpha")
        self.parameters = parameters
        self.alpha = alpha
        self.rs = parameters.scaleRadius
        let unit = Einasto.massIntegral(x: parameters.concentration, alpha: alpha)
        self.characteristicDensity = parameters.mass / (4 * Double.pi * rs * rs * rs * unit)
    }

    public init(mass: Double, concentration: Double, redshift: Double, alpha: Double = Einasto.defaultAlpha,
                massDefinition: MassDefinition = .critical200, cosmology: Cosmology) throws(HaloProfileError) {
        try self.init(try HaloParameters(mass: mass, concentration: concentration, redshift: redshift,
                                         massDefinition: massDefinition, cosmology: cosmology), alpha: alpha)
    }

    /// ∫₀ˣ y² exp{−(2/α)(y^α − 1)} dy (dimensionless).
    static func massIntegral(x: Double, alpha: Double) -> Double {
        let s = 3 / alpha
        let logPrefactor = 2 / alpha - Double.log(alpha) + s * Double.log(alpha / 2) + Double.logGamma(s)
        return Double.exp(logPrefactor) * IncompleteGamma.regularizedLower(a: s, x: 2 / alpha * Double.pow(x, alpha))
    }

    @inline(__always)
    func rho(_ r: Double) -> Double {
        characteristicDensity * Double.exp(-2 / alpha * (Double.pow(r / rs, alpha) - 1))
    }

    /// Upper limit in t (r = R cosh t) beyond which ρ has dropped by e⁻⁸⁰ relative to ρ(R).
    func tMax(_ R: Double) -> Double {
        let x = R / rs
        let rMax = rs * Double.pow(Double.pow(x, alpha) + 40 * alpha, 1 / alpha)
        return Double.acosh(max(rMax / R, 1.5))
    }

    public func density(at r: Double) throws(HaloProfileError) -> Double {
        try requireRadius(r)
        return rho(r)
    }

    public func enclosedMass(within r: Double) throws(HaloProfileError) -> Double {
        try requireRadius(r)
        return 4 * Double.pi * characteristicDensity * rs * rs * rs * Einasto.massIntegral(x: r / rs, alpha: alpha)
    }

    public func surfaceDensity(at R: Double) throws(HaloProfileError) -> Double {
        try requireRadius(R)
        let integral = Quadrature.integrate({ t in
            let ch = Double.cosh(t)
            return rho(R * ch) * ch
        }, from: 0, to: tMax(R), relativeTolerance: 1e-11)
        return 2 * R * integral
    }

    public func meanSurfaceDensity(within R: Double) throws(HaloProfileError) -> Double {
        let m3 = try enclosedMass(within: R)
        let outer = Quadrature.integrate({ t in
            let ch = Double.cosh(t)
            return ch * ch * Double.sinh(t) * (2 / (1 + Double.exp(2 * t))) * rho(R * ch)
        }, from: 0, to: tMax(R), relativeTolerance: 1e-11)
        let m2 = m3 + 4 * Double.pi * R * R * R * outer
        return m2 / (Double.pi * R * R)
    }

    public func excessSurfaceDensity(at R: Double) throws(HaloProfileError) -> Double {
        try meanSurfaceDensity(within: R) - surfaceDensity(at: R)
    }
}

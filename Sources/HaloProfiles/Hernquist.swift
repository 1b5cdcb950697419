/// Hernquist (1990) profile ρ(r) = ρ_s / [(r/r_s)(1 + r/r_s)³], untruncated (CCL `HaloProfileHernquist`,
/// `truncated=False`, analytic projections), normalised so that M(<r_Δ) = M_Δ:
/// ρ_s = M_Δ (1+c)² / (2π r_s³ c²).
/// Σ(R) = ρ_s r_s [(2+x²)F(x) − 3]/(1−x²)², Σ̄(<R) = 2ρ_s r_s (F(x) − 1)/(1 − x²) (Hernquist 1990 eqs. 33, 37),
/// with series near x = 1. Units: Mpc (physical), M☉, M☉ Mpc⁻³, M☉ Mpc⁻².
public struct Hernquist: ParameterizedHaloProfile {
    public let parameters: HaloParameters
    /// ρ_s [M☉ Mpc⁻³, physical].
    public let characteristicDensity: Double
    let rs: Double

    public init(_ parameters: HaloParameters) {
        self.parameters = parameters
        let c = parameters.concentration
        let rs = parameters.scaleRadius
        self.rs = rs
        self.characteristicDensity = parameters.mass * (1 + c) * (1 + c) / (2 * Double.pi * rs * rs * rs * c * c)
    }

    public func density(at r: Double) throws(HaloProfileError) -> Double {
        try requireRadius(r)
        let x = r / rs
        let y = 1 + x
        return characteristicDensity / (x * y * y * y)
    }

    public func enclosedMass(within r: Double) throws(HaloProfileError) -> Double {
        try requireRadius(r)
        let x = r / rs
        return 2 * Double.pi * characteristicDensity * rs * rs * rs * x * x / ((1 + x) * (1 + x))
    }

    public func surfaceDensity(at R: Double) throws(HaloProfileError) -> Double {
        try requireRadius(R)
        let x = R / rs
        let u = 1 - x * x
        if abs(u) < 0.05 {
            var s = 0.0
            var k = 13
            while k >= 0 { s = s * u + (3.0 / Double(2 * k + 5) - 1.0 / Double(2 * k + 3)); k -= 1 }
            return characteristicDensity * rs * s
        }
        return characteristicDensity * rs * ((2 + x * x) * nfwF(x) - 3) / (u * u)
    }

    public func meanSurfaceDensity(within R: Double) throws(HaloProfileError) -> Double {
        try requireRadius(R)
        return 2 * characteristicDensity * rs * nfwQ(R / rs)
    }

    public func excessSurfaceDensity(at R: Double) throws(HaloProfileError) -> Double {
        try meanSurfaceDensity(within: R) - surfaceDensity(at: R)
    }
}

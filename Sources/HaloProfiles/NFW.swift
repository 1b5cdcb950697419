import RealModule

/// Navarro–Frenk–White profile ρ(r) = ρ_s / [(r/r_s)(1 + r/r_s)²], untruncated (CCL `HaloProfileNFW`,
/// `truncated=False`, analytic projections), normalised so that the mass inside r_Δ is M_Δ:
/// ρ_s = M_Δ / (4π r_s³ [ln(1+c) − c/(1+c)]).
/// Projections: Wright & Brainerd (2000), with a series near x = R/r_s = 1.
/// Units: Mpc (physical), M☉, M☉ Mpc⁻³, M☉ Mpc⁻².
public struct NFW: ParameterizedHaloProfile {
    public let parameters: HaloParameters
    /// ρ_s [M☉ Mpc⁻³, physical].
    public let characteristicDensity: Double
    @usableFromInline let rs: Double
    @usableFromInline let rhoRs: Double // ρ_s r_s [M☉ Mpc⁻²]

    public init(_ parameters: HaloParameters) {
        self.parameters = parameters
        let c = parameters.concentration
        let rs = parameters.scaleRadius
        let m = Double.log(onePlus: c) - c / (1 + c)
        self.characteristicDensity = parameters.mass / (4 * Double.pi * rs * rs * rs * m)
        self.rs = rs
        self.rhoRs = characteristicDensity * rs
    }

    public func density(at r: Double) throws(HaloProfileError) -> Double {
        try requireRadius(r)
        let x = r / rs
        return characteristicDensity / (x * (1 + x) * (1 + x))
    }

    public func enclosedMass(within r: Double) throws(HaloProfileError) -> Double {
        try requireRadius(r)
        let x = r / rs
        return 4 * Double.pi * characteristicDensity * rs * rs * rs * (Double.log(onePlus: x) - x / (1 + x))
    }

    public func surfaceDensity(at R: Double) throws(HaloProfileError) -> Double {
        try requireRadius(R)
        return 2 * rhoRs * nfwQ(R / rs)
    }

    public func meanSurfaceDensity(within R: Double) throws(HaloProfileError) -> Double {
        try requireRadius(R)
        let x = R / rs
        return 4 * rhoRs * nfwMeanKernel(x, nfwF(x))
    }

    /// ΔΣ(R) [M☉ Mpc⁻²]; allocation-free, one transcendental pair per call.
    @inlinable
    public func excessSurfaceDensity(at R: Double) throws(HaloProfileError) -> Double {
        guard R > 0, R.isFinite else {
            if R.isNaN || !R.isFinite { throw .notFinite(parameter: "radius", value: R) }
            throw .nonPositive(parameter: "radius", value: R)
        }
        return excessSurfaceDensityUnchecked(R)
    }

    /// ΔΣ(R) without argument checks (R must be finite and > 0) [M☉ Mpc⁻²].
    @inlinable
    public func excessSurfaceDensityUnchecked(_ R: Double) -> Double {
        let x = R / rs
        let u = 1 - x * x
        let q: Double, f: Double
        if abs(u) < 0.05 {
            var s = 0.0
            var k = 13
            while k >= 0 { s = s * u + 1.0 / Double(2 * k + 3); k -= 1 }
            q = s
            f = 1 + u * s
        } else {
            f = x < 1 ? Double.acosh(1 / x) / (u.squareRoot()) : Double.acos(1 / x) / ((-u).squareRoot())
            q = (f - 1) / u
        }
        return rhoRs * (4 * nfwMeanKernel(x, f) - 2 * q)
    }
}

/// [ln(x/2) + F(x)] / x², with F = `nfwF(x)` passed in. For x < 0.5 the cancellation between ln(x/2) and F is
/// removed analytically (s = √(1−x²)): ln(x/2) + F = log1p(−x²/(2(1+s))) + ln((1+s)/x) · x²/((1+s)s).
@inlinable @inline(__always)
func nfwMeanKernel(_ x: Double, _ f: Double) -> Double {
    let x2 = x * x
    if x < 0.5 {
        let s = (1 - x2).squareRoot()
        return Double.log(onePlus: -x2 / (2 * (1 + s))) / x2 + Double.log((1 + s) / x) / ((1 + s) * s)
    }
    return (Double.log(0.5 * x) + f) / x2
}

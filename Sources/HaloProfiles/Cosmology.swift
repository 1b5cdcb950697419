import RealModule

/// Flat ΛCDM background (w = −1) with photons and massless neutrinos, matching CCL 3 / CLMM's CCL backend.
///
/// E²(z) = Ω_m (1+z)³ + (Ω_γ + Ω_ν,rel)(1+z)⁴ + Ω_Λ, with Ω_Λ = 1 − Ω_m − Ω_γ − Ω_ν,rel (flat).
/// Ω_γ follows CCL: Ω_γ = 4σ_SB T_CMB⁴ / c³ / ρ_crit,0 (CCL constants), and
/// Ω_ν,rel = N_eff · 7/8 · (4/11)^{4/3} · Ω_γ (all neutrinos massless).
/// Distances are integrated numerically (adaptive Gauss–Kronrod, ≲1e-12 relative).
/// All distances are in Mpc (no h); densities in M☉ Mpc⁻³ (physical).
public struct Cosmology: Sendable, Equatable {
    /// Hubble constant H₀ [km s⁻¹ Mpc⁻¹].
    public let H0: Double
    /// Dimensionless Hubble parameter h = H₀ / 100.
    public var h: Double { H0 / 100 }
    /// Cold dark matter density parameter today.
    public let omegaCDM: Double
    /// Baryon density parameter today.
    public let omegaBaryon: Double
    /// Total matter Ω_m = Ω_cdm + Ω_b (no massive neutrinos).
    public let omegaMatter: Double
    /// Photon density parameter today.
    public let omegaPhoton: Double
    /// Massless-neutrino density parameter today.
    public let omegaNeutrinoRelativistic: Double
    /// Cosmological-constant density parameter (closes the budget: flat).
    public let omegaLambda: Double
    /// CMB temperature today [K].
    public let cmbTemperature: Double
    /// Effective number of (massless) neutrino species.
    public let nEff: Double

    /// - Parameters:
    ///   - H0: Hubble constant [km s⁻¹ Mpc⁻¹], > 0.
    ///   - omegaCDM, omegaBaryon: density parameters today, ≥ 0, Ω_cdm + Ω_b ≤ 1.
    ///   - cmbTemperature: T_CMB [K] (≥ 0; 0 switches radiation off). Default 2.7255 (CCL/CLMM).
    ///   - nEff: N_eff of massless neutrinos (≥ 0). Default 3.046 (CLMM's CCL backend).
    public init(H0: Double, omegaCDM: Double, omegaBaryon: Double,
                cmbTemperature: Double = 2.7255, nEff: Double = 3.046) throws(HaloProfileError) {
        try requirePositiveFinite(H0, "H0")
        guard omegaCDM.isFinite, omegaCDM >= 0 else {
            throw .outOfRange(parameter: "omegaCDM", value: omegaCDM, allowed: "[0, 1]")
        }
        guard omegaBaryon.isFinite, omegaBaryon >= 0 else {
            throw .outOfRange(parameter: "omegaBaryon", value: omegaBaryon, allowed: "[0, 1]")
        }
        guard omegaCDM + omegaBaryon > 0, omegaCDM + omegaBaryon <= 1 else {
            throw .outOfRange(parameter: "omegaCDM + omegaBaryon", value: omegaCDM + omegaBaryon, allowed: "(0, 1]")
        }
        guard cmbTemperature.isFinite, cmbTemperature >= 0 else {
            throw .outOfRange(parameter: "cmbTemperature", value: cmbTemperature, allowed: ">= 0")
        }
        guard nEff.isFinite, nEff >= 0 else { throw .outOfRange(parameter: "nEff", value: nEff, allowed: ">= 0") }
        self.H0 = H0
        self.omegaCDM = omegaCDM
        self.omegaBaryon = omegaBaryon
        self.omegaMatter = omegaCDM + omegaBaryon
        self.cmbTemperature = cmbTemperature
        self.nEff = nEff
        let h = H0 / 100
        let c = Constants.speedOfLight
        let rhoPhotonKgM3 = 4 * Constants.stefanBoltzmann / (c * c * c) * Double.pow(cmbTemperature, 4)
        let rhoCritKgM3 = Constants.CCL.rhoCritical * h * h * Constants.CCL.solarMass
            / Double.pow(Constants.megaparsec, 3)
        self.omegaPhoton = rhoPhotonKgM3 / rhoCritKgM3
        self.omegaNeutrinoRelativistic = nEff * 7.0 / 8.0 * Double.pow(4.0 / 11.0, 4.0 / 3.0) * omegaPhoton
        self.omegaLambda = 1 - omegaMatter - omegaPhoton - omegaNeutrinoRelativistic
    }

    /// Ω_γ + Ω_ν,rel today.
    public var omegaRadiation: Double { omegaPhoton + omegaNeutrinoRelativistic }

    /// Hubble distance c / H₀ [Mpc].
    public var hubbleDistance: Double { Constants.speedOfLightKmPerS / H0 }

    /// E(z) = H(z)/H₀ (dimensionless). Unchecked: z > −1 assumed.
    @inline(__always)
    public func E(_ z: Double) -> Double {
        let a1 = 1 + z
        let a2 = a1 * a1
        return (omegaMatter * a2 * a1 + omegaRadiation * a2 * a2 + omegaLambda).squareRoot()
    }

    /// Line-of-sight comoving distance χ(z) [Mpc, comoving].
    public func comovingDistance(_ z: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(z, "z")
        return comovingDistanceUnchecked(0, z)
    }

    /// Comoving distance between z1 and z2 [Mpc, comoving] (χ(z2) − χ(z1); negative if z2 < z1).
    public func comovingDistance(from z1: Double, to z2: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(z1, "z1")
        try requireRedshift(z2, "z2")
        return comovingDistanceUnchecked(z1, z2)
    }

    func comovingDistanceUnchecked(_ z1: Double, _ z2: Double) -> Double {
        if z1 == z2 { return 0 }
        return hubbleDistance * Quadrature.integrate({ 1 / E($0) }, from: z1, to: z2, relativeTolerance: 1e-12)
    }

    /// Angular-diameter distance D_A(z) = χ(z)/(1+z) [Mpc, physical].
    public func angularDiameterDistance(_ z: Double) throws(HaloProfileError) -> Double {
        try comovingDistance(z) / (1 + z)
    }

    /// Angular-diameter distance between z1 < z2 (flat): D_A(z1, z2) = (χ₂ − χ₁)/(1+z₂) [Mpc, physical].
    public func angularDiameterDistance(from z1: Double, to z2: Double) throws(HaloProfileError) -> Double {
        try comovingDistance(from: z1, to: z2) / (1 + z2)
    }

    /// Critical density ρ_c(z) = 3H(z)²/(8πG) [M☉ Mpc⁻³, physical].
    public func criticalDensity(_ z: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(z, "z")
        return criticalDensityUnchecked(z)
    }

    @inline(__always)
    func criticalDensityUnchecked(_ z: Double) -> Double {
        let e = E(z)
        return Constants.criticalDensityOverH2 * h * h * e * e
    }

    /// Mean matter density ρ_m(z) = Ω_m ρ_c,0 (1+z)³ [M☉ Mpc⁻³, physical].
    public func meanMatterDensity(_ z: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(z, "z")
        return meanMatterDensityUnchecked(z)
    }

    @inline(__always)
    func meanMatterDensityUnchecked(_ z: Double) -> Double {
        let a1 = 1 + z
        return omegaMatter * Constants.criticalDensityOverH2 * h * h * a1 * a1 * a1
    }

    /// Lensing efficiency β = D_ls / D_s for a source at zSource behind a lens at zLens (0 if zSource ≤ zLens).
    public func beta(zLens: Double, zSource: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(zLens, "zLens")
        try requireRedshift(zSource, "zSource")
        if zSource <= zLens { return 0 }
        let chiL = comovingDistanceUnchecked(0, zLens)
        let chiS = chiL + comovingDistanceUnchecked(zLens, zSource)
        return (chiS - chiL) / chiS
    }

    /// Critical surface density Σ_crit = c²/(4πG) · D_s / (D_l D_ls) [M☉ Mpc⁻², physical], as in CLMM.
    /// - Throws: `.sourceNotBehindLens` if zSource ≤ zLens; `.nonPositive`/`.notFinite`/`.outOfRange` for bad z.
    public func criticalSurfaceDensity(zLens: Double, zSource: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(zLens, "zLens")
        try requireRedshift(zSource, "zSource")
        guard zLens > 0 else { throw .nonPositive(parameter: "zLens", value: zLens) }
        guard zSource > zLens else { throw .sourceNotBehindLens(zLens: zLens, zSource: zSource) }
        let chiL = comovingDistanceUnchecked(0, zLens)
        let chiLS = comovingDistanceUnchecked(zLens, zSource)
        let dL = chiL / (1 + zLens)
        let dS = (chiL + chiLS) / (1 + zSource)
        let dLS = chiLS / (1 + zSource)
        return Constants.sigmaCritPrefactor * dS / (dL * dLS)
    }
}

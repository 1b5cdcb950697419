import RealModule

/// Parameters shared by every halo: (M_Δ, c_Δ, z, mass definition, cosmology) and the derived radii.
public struct HaloParameters: Sendable, Equatable {
    /// M_Δ [M☉] (not M☉/h).
    public let mass: Double
    /// Concentration c_Δ = r_Δ / r_s.
    public let concentration: Double
    /// Lens (halo) redshift.
    public let redshift: Double
    public let massDefinition: MassDefinition
    public let cosmology: Cosmology
    /// r_Δ [Mpc, physical].
    public let radiusDelta: Double
    /// Scale radius r_s = r_Δ / c_Δ [Mpc, physical].
    public let scaleRadius: Double

    public init(mass: Double, concentration: Double, redshift: Double, massDefinition: MassDefinition,
                cosmology: Cosmology) throws(HaloProfileError) {
        try requirePositiveFinite(mass, "mass")
        try requirePositiveFinite(concentration, "concentration")
        try requireRedshift(redshift, "redshift")
        self.mass = mass
        self.concentration = concentration
        self.redshift = redshift
        self.massDefinition = massDefinition
        self.cosmology = cosmology
        self.radiusDelta = massDefinition.radius(mass: mass, z: redshift, cosmology: cosmology)
        self.scaleRadius = radiusDelta / concentration
    }
}

/// A spherical halo density profile with its projected (weak-lensing) quantities.
///
/// Units: radii r (3-D) and R (projected) in Mpc (physical); ρ in M☉ Mpc⁻³; Σ, Σ̄, ΔΣ in M☉ Mpc⁻² (physical),
/// masses in M☉ — the conventions of CLMM. Radii must be finite and > 0 (else `HaloProfileError`).
public protocol HaloProfile: Sendable {
    var parameters: HaloParameters { get }
    /// 3-D density ρ(r) [M☉ Mpc⁻³].
    func density(at r: Double) throws(HaloProfileError) -> Double
    /// Mass inside the sphere of radius r [M☉].
    func enclosedMass(within r: Double) throws(HaloProfileError) -> Double
    /// Surface density Σ(R) [M☉ Mpc⁻²] (untruncated profile integrated along the whole line of sight).
    func surfaceDensity(at R: Double) throws(HaloProfileError) -> Double
    /// Mean surface density inside R, Σ̄(<R) = M_2D(<R)/(πR²) [M☉ Mpc⁻²].
    func meanSurfaceDensity(within R: Double) throws(HaloProfileError) -> Double
    /// Excess surface density ΔΣ(R) = Σ̄(<R) − Σ(R) [M☉ Mpc⁻²].
    func excessSurfaceDensity(at R: Double) throws(HaloProfileError) -> Double
}

/// A profile fully determined by its halo parameters (mass, concentration, redshift, mass
/// definition, cosmology), with no shape parameter of its own: NFW and Hernquist.
public protocol ParameterizedHaloProfile: HaloProfile {
    init(_ parameters: HaloParameters)
}

extension ParameterizedHaloProfile {
    /// - Parameters: mass M_Δ [M☉], concentration c_Δ, redshift z of the halo, mass definition, cosmology.
    public init(mass: Double, concentration: Double, redshift: Double,
                massDefinition: MassDefinition = .critical200, cosmology: Cosmology) throws(HaloProfileError) {
        self.init(try HaloParameters(mass: mass, concentration: concentration, redshift: redshift,
                                     massDefinition: massDefinition, cosmology: cosmology))
    }
}

extension HaloProfile {
    /// Projected (cylinder) mass inside R: πR² Σ̄(<R) [M☉].
    public func projectedMass(within R: Double) throws(HaloProfileError) -> Double {
        try Double.pi * R * R * meanSurfaceDensity(within: R)
    }

    /// Σ_crit for this lens and a single source plane [M☉ Mpc⁻²].
    public func criticalSurfaceDensity(sourceRedshift zs: Double) throws(HaloProfileError) -> Double {
        try parameters.cosmology.criticalSurfaceDensity(zLens: parameters.redshift, zSource: zs)
    }

    /// Convergence κ = Σ/Σ_crit (dimensionless) for sources at redshift zs.
    public func convergence(at R: Double, sourceRedshift zs: Double) throws(HaloProfileError) -> Double {
        try surfaceDensity(at: R) / criticalSurfaceDensity(sourceRedshift: zs)
    }

    /// Tangential shear γ_t = ΔΣ/Σ_crit for sources at redshift zs.
    public func tangentialShear(at R: Double, sourceRedshift zs: Double) throws(HaloProfileError) -> Double {
        try excessSurfaceDensity(at: R) / criticalSurfaceDensity(sourceRedshift: zs)
    }

    /// Reduced tangential shear g_t = γ_t/(1−κ) for sources at redshift zs.
    public func reducedTangentialShear(at R: Double, sourceRedshift zs: Double) throws(HaloProfileError) -> Double {
        let sc = try criticalSurfaceDensity(sourceRedshift: zs)
        return try reducedTangentialShear(at: R, criticalSurfaceDensity: sc)
    }

    /// Magnification μ = 1/((1−κ)² − γ_t²) for sources at redshift zs.
    public func magnification(at R: Double, sourceRedshift zs: Double) throws(HaloProfileError) -> Double {
        let sc = try criticalSurfaceDensity(sourceRedshift: zs)
        return try magnification(at: R, criticalSurfaceDensity: sc)
    }

    /// g_t = γ_t/(1−κ) with a precomputed Σ_crit [M☉ Mpc⁻²] (e.g. from `Cosmology.criticalSurfaceDensity`).
    public func reducedTangentialShear(at R: Double, criticalSurfaceDensity sc: Double) throws(HaloProfileError) -> Double {
        try requirePositiveFinite(sc, "criticalSurfaceDensity")
        let sigma = try surfaceDensity(at: R)
        let dsigma = try excessSurfaceDensity(at: R)
        return (dsigma / sc) / (1 - sigma / sc)
    }

    /// μ = 1/((1−κ)² − γ_t²) with a precomputed Σ_crit [M☉ Mpc⁻²].
    public func magnification(at R: Double, criticalSurfaceDensity sc: Double) throws(HaloProfileError) -> Double {
        try requirePositiveFinite(sc, "criticalSurfaceDensity")
        let kappa = try surfaceDensity(at: R) / sc
        let gamma = try excessSurfaceDensity(at: R) / sc
        return 1 / ((1 - kappa) * (1 - kappa) - gamma * gamma)
    }
}

@inline(__always)
func requireRadius(_ r: Double) throws(HaloProfileError) {
    guard !r.isNaN, r.isFinite else { throw .notFinite(parameter: "radius", value: r) }
    guard r > 0 else { throw .nonPositive(parameter: "radius", value: r) }
}

/// F(x) = arccosh(1/x)/√(1−x²) for x<1, arccos(1/x)/√(x²−1) for x>1, 1 at x=1 (Wright & Brainerd 2000).
@inline(__always)
func nfwF(_ x: Double) -> Double {
    if x < 1 {
        let s = (1 - x * x).squareRoot()
        return Double.acosh(1 / x) / s
    } else if x > 1 {
        let t = (x * x - 1).squareRoot()
        return Double.acos(1 / x) / t
    }
    return 1
}

/// q(x) = (F(x) − 1)/(1 − x²), evaluated stably: series Σ uᵏ/(2k+3) in u = 1−x² for |u| < 0.05.
@inline(__always)
func nfwQ(_ x: Double) -> Double {
    let u = 1 - x * x
    if abs(u) < 0.05 {
        var sum = 0.0
        var k = 13
        while k >= 0 { sum = sum * u + 1.0 / Double(2 * k + 3); k -= 1 }
        return sum
    }
    return (nfwF(x) - 1) / u
}

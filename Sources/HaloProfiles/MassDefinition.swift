/// Spherical-overdensity mass definition: M_Δ is the mass inside the physical radius r_Δ within which the
/// mean density is Δ × ρ_ref(z), with ρ_ref the critical density ("200c", "500c") or the mean matter
/// density ("200m"), as CLMM's `massdef='critical'|'mean'`, `delta_mdef=Δ`; or the virial
/// definition ("vir", CLMM's `massdef='virial'`), whose overdensity relative to the critical
/// density follows the spherical-collapse fit of Bryan & Norman (1998, ApJ 495, 80, eq. 6) for a
/// flat universe: Δ_vir(z) = 18π² + 82x − 39x², x = Ω_m(z) − 1, Ω_m(z) = Ω_m(1+z)³/E(z)².
public struct MassDefinition: Sendable, Hashable, CustomStringConvertible {
    public enum Reference: String, Sendable, Hashable { case critical, mean, virial }
    /// Overdensity Δ (> 0); NaN for the virial definition, whose Δ depends on z (`overdensity`).
    public let delta: Double
    /// Reference density.
    public let reference: Reference

    public init(delta: Double, reference: Reference) throws(HaloProfileError) {
        try requirePositiveFinite(delta, "delta")
        self.delta = delta
        self.reference = reference
    }

    private init(uncheckedDelta delta: Double, reference: Reference) {
        self.delta = delta
        self.reference = reference
    }

    public static let critical200 = MassDefinition(uncheckedDelta: 200, reference: .critical)
    public static let mean200 = MassDefinition(uncheckedDelta: 200, reference: .mean)
    public static let critical500 = MassDefinition(uncheckedDelta: 500, reference: .critical)
    /// Bryan & Norman (1998) virial overdensity with respect to the critical density.
    public static let virial = MassDefinition(uncheckedDelta: .nan, reference: .virial)

    public var description: String {
        if reference == .virial { return "vir" }
        let d = delta == delta.rounded() ? String(Int(delta)) : String(delta)
        return d + (reference == .critical ? "c" : "m")
    }

    /// Reference density ρ_ref(z) [M☉ Mpc⁻³, physical]: critical for "c" and "vir", mean matter for "m".
    public func referenceDensity(_ cosmology: Cosmology, z: Double) -> Double {
        reference == .mean ? cosmology.meanMatterDensityUnchecked(z) : cosmology.criticalDensityUnchecked(z)
    }

    /// Overdensity Δ(z) relative to `referenceDensity`: `delta`, or Bryan & Norman's Δ_vir(z).
    public func overdensity(_ cosmology: Cosmology, z: Double) -> Double {
        guard reference == .virial else { return delta }
        let a1 = 1 + z
        let e = cosmology.E(z)
        let x = cosmology.omegaMatter * a1 * a1 * a1 / (e * e) - 1
        return 18 * Double.pi * Double.pi + 82 * x - 39 * x * x
    }

    /// r_Δ = (3 M_Δ / (4π Δ ρ_ref(z)))^{1/3} [Mpc, physical] for M_Δ in M☉.
    public func radius(mass: Double, z: Double, cosmology: Cosmology) -> Double {
        let rho = overdensity(cosmology, z: z) * referenceDensity(cosmology, z: z)
        return Double.root(3 * mass / (4 * Double.pi * rho), 3)  // cube root: libm cbrt
    }
}

import RealModule

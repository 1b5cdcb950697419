/// Spherical-overdensity mass definition: M_Δ is the mass inside the physical radius r_Δ within which the
/// mean density is Δ × ρ_ref(z), with ρ_ref the critical density ("200c", "500c") or the mean matter
/// density ("200m"), as CLMM's `massdef='critical'|'mean'`, `delta_mdef=Δ`.
public struct MassDefinition: Sendable, Hashable, CustomStringConvertible {
    public enum Reference: String, Sendable, Hashable { case critical, mean }
    /// Overdensity Δ (> 0).
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

    public var description: String {
        let d = delta == delta.rounded() ? String(Int(delta)) : String(delta)
        return d + (reference == .critical ? "c" : "m")
    }

    /// Reference density ρ_ref(z) [M☉ Mpc⁻³, physical].
    public func referenceDensity(_ cosmology: Cosmology, z: Double) -> Double {
        reference == .critical ? cosmology.criticalDensityUnchecked(z) : cosmology.meanMatterDensityUnchecked(z)
    }

    /// r_Δ = (3 M_Δ / (4π Δ ρ_ref(z)))^{1/3} [Mpc, physical] for M_Δ in M☉.
    public func radius(mass: Double, z: Double, cosmology: Cosmology) -> Double {
        let rho = delta * referenceDensity(cosmology, z: z)
        return cbrt(3 * mass / (4 * Double.pi * rho))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import ClusterFitting
import HaloProfiles
import RealModule

/// A lens galaxy from physical parameters: Hernquist stars with M* = α_sps · M_sps, an NFW halo on a
/// mass–concentration relation, and an external shear, in flat ΛCDM; turned into the angular `LensModel`.
///
/// Units and conventions:
/// - masses in M☉ (no h); the halo mass is M₂₀₀c (mean density 200 ρ_c(z_l) inside r₂₀₀c, physical);
/// - the stars' effective radius R_e is the projected half-mass radius in physical kpc; the Hernquist scale
///   radius is r_s = R_e / 1.8153 (`AngularHernquist.effectiveRadiusOverScaleRadius`); M* is its total mass;
/// - distances are `HaloProfiles.Cosmology`'s angular-diameter distances [Mpc, physical], and
///   Σ_crit = c² D_s / (4πG D_l D_ls) [M☉ Mpc⁻²] with the CODATA 2018 / IAU 2015 constants of
///   `HaloProfiles.Constants` (lenstronomy's older G and M☉ give a Σ_crit 2.8e-4 away);
/// - an angle θ [arcsec] is the physical radius R = θ D_l (θ in radians) on the lens plane;
/// - time delays: Δt = D_Δt τ / c with D_Δt = (1 + z_l) D_l D_s / D_ls and τ the Fermat potential, in days.
public struct LensGalaxy: Sendable {
    public let lensRedshift: Double
    public let sourceRedshift: Double
    /// Stellar mass from the stellar-population (SPS) fit, M_sps [M☉].
    public let stellarMassSPS: Double
    /// IMF mismatch α_sps = M* / M_sps.
    public let alphaSPS: Double
    /// Projected half-mass radius of the stars [physical kpc].
    public let effectiveRadiusKpc: Double
    /// Halo mass M₂₀₀c [M☉].
    public let haloMass: Double
    /// Halo concentration c₂₀₀c (given, or from the relation).
    public let concentration: Double
    public let cosmology: Cosmology
    /// D_l, D_s, D_ls [Mpc, physical].
    public let lensDistance: Double, sourceDistance: Double, lensSourceDistance: Double
    /// Σ_crit [M☉ Mpc⁻², physical].
    public let criticalSurfaceDensity: Double
    /// Time-delay distance D_Δt = (1 + z_l) D_l D_s / D_ls [Mpc].
    public let timeDelayDistance: Double
    /// The angular model (arcsec) this galaxy lenses with.
    public let model: LensModel

    /// Arcsec per radian.
    public static let arcsecPerRadian = 648_000 / Double.pi

    /// Stellar mass M* = α_sps M_sps [M☉].
    public var stellarMass: Double { alphaSPS * stellarMassSPS }

    /// - Parameters:
    ///   - concentration: c₂₀₀c; nil takes it from `concentrationRelation` at (M₂₀₀c, z_l).
    ///   - shear1, shear2: external shear components (see `LensModel`).
    /// - Throws: `StrongLensingError.invalidParameter` naming the first bad parameter.
    public init(lensRedshift zl: Double, sourceRedshift zs: Double, stellarMassSPS: Double, alphaSPS: Double,
                effectiveRadiusKpc: Double, haloMass: Double, concentration: Double? = nil,
                concentrationRelation: ConcentrationRelation = .duffy2008,
                shear1: Double = 0, shear2: Double = 0, cosmology: Cosmology) throws(StrongLensingError) {
        try requirePositive(zl, "lensRedshift")
        try requireFinite(zs, "sourceRedshift")
        guard zs > zl else { throw .invalidParameter(name: "sourceRedshift", value: zs, allowed: "> lensRedshift (\(zl))") }
        try requirePositive(stellarMassSPS, "stellarMassSPS")
        try requirePositive(alphaSPS, "alphaSPS")
        try requirePositive(effectiveRadiusKpc, "effectiveRadiusKpc")
        try requirePositive(haloMass, "haloMass")
        let c = concentration ?? concentrationRelation.concentration(mass: haloMass, redshift: zl, cosmology: cosmology)
        try requirePositive(c, "concentration")
        self.lensRedshift = zl
        self.sourceRedshift = zs
        self.stellarMassSPS = stellarMassSPS
        self.alphaSPS = alphaSPS
        self.effectiveRadiusKpc = effectiveRadiusKpc
        self.haloMass = haloMass
        self.concentration = c
        self.cosmology = cosmology
        do {
            lensDistance = try cosmology.angularDiameterDistance(zl)
            sourceDistance = try cosmology.angularDiameterDistance(zs)
            lensSourceDistance = try cosmology.angularDiameterDistance(from: zl, to: zs)
            criticalSurfaceDensity = try cosmology.criticalSurfaceDensity(zLens: zl, zSource: zs)
            let nfw = try NFW(mass: haloMass, concentration: c, redshift: zl, massDefinition: .critical200,
                              cosmology: cosmology)
            let rs = nfw.parameters.scaleRadius
            let halo = try AngularNFW(scaleRadius: rs / lensDistance * Self.arcsecPerRadian,
                                      kappaS: nfw.characteristicDensity * rs / criticalSurfaceDensity)
            let rsStars = effectiveRadiusKpc * 1e-3 / AngularHernquist.effectiveRadiusOverScaleRadius
            let stars = try AngularHernquist(scaleRadius: rsStars / lensDistance * Self.arcsecPerRadian,
                                             kappa0: alphaSPS * stellarMassSPS / (2 * Double.pi * rsStars * rsStars)
                                                / criticalSurfaceDensity)
            model = try LensModel(halo: halo, stars: stars, shear1: shear1, shear2: shear2)
        } catch let e as HaloProfileError {
            throw .invalidParameter(name: e.parameter, value: .nan, allowed: e.description)
        } catch let e as StrongLensingError {
            throw e
        } catch {
            throw .invalidParameter(name: "lens", value: .nan, allowed: "\(error)")
        }
        timeDelayDistance = (1 + zl) * lensDistance * sourceDistance / lensSourceDistance
    }

    /// Days per unit Fermat potential [day arcsec⁻²]: D_Δt / c × (arcsec in rad)².
    public var daysPerArcsec2: Double {
        let seconds = timeDelayDistance * Constants.megaparsec / Constants.speedOfLight
            / (Self.arcsecPerRadian * Self.arcsecPerRadian)
        return seconds / 86_400
    }
}

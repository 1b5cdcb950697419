/// Physical constants, stated once, chosen to reproduce CLMM 1.16 (`clmm.utils.constants.Constants`) exactly.
///
/// CLMM's CCL backend rescales CCL's critical density and Σ_crit onto these values
/// (`clmm.utils._patch_rho_crit_to_cd2018`), so every density, Σ, ΔΣ and Σ_crit in this module uses them.
public enum Constants {
    /// Speed of light in vacuum [m s⁻¹] (exact; SI / CODATA 2018).
    public static let speedOfLight: Double = 299_792_458.0
    /// Speed of light [km s⁻¹].
    public static let speedOfLightKmPerS: Double = speedOfLight * 1.0e-3
    /// Newtonian gravitational constant G [m³ kg⁻¹ s⁻²] (CODATA 2018).
    public static let gravitationalConstant: Double = 6.67430e-11
    /// Nominal solar mass parameter (G M☉)ᴺ [m³ s⁻²] (IAU 2015 Resolution B3).
    public static let solarMassParameter: Double = 1.3271244e20
    /// Solar mass [kg] = (G M☉)ᴺ / G (IAU 2015 / CODATA 2018), as CLMM defines it.
    public static let solarMass: Double = solarMassParameter / gravitationalConstant
    /// Parsec [m] (IAU 2015 Resolution B2: 648000/π au, au = 149597870700 m), value as in CLMM.
    public static let parsec: Double = 3.085677581491367e16
    /// Megaparsec [m].
    public static let megaparsec: Double = parsec * 1.0e6
    /// Stefan–Boltzmann constant [W m⁻² K⁻⁴] (CODATA 2018, exact), as in CCL 3.
    public static let stefanBoltzmann: Double = 5.670374419e-8

    /// Critical density today divided by h² [M☉ Mpc⁻³] with the constants above:
    /// 3 (100 km s⁻¹ Mpc⁻¹)² / (8πG), as CLMM's `_patch_rho_crit_to_cd2018` computes it.
    public static let criticalDensityOverH2: Double = {
        let rhoMKS = 3.0 * 100.0 * 100.0 / (8.0 * Double.pi * gravitationalConstant)
        return rhoMKS * 1000.0 * 1000.0 * parsec * 1.0e6 / solarMass
    }()

    /// c² / (4πG) expressed in M☉ Mpc⁻¹ (so that Σ_crit = this × D_s / (D_l D_ls) with D in Mpc gives M☉ Mpc⁻²).
    public static let sigmaCritPrefactor: Double =
        speedOfLight * speedOfLight * megaparsec / (4.0 * Double.pi * gravitationalConstant * solarMass)

    /// CCL 3.3 internal constants, used ONLY to reproduce CCL's photon density Ω_γ(T_CMB) (`ccl_parameters.c`):
    /// Ω_γ = 4σ T⁴ / c³ / (ρ_crit,CCL h² M☉,CCL / Mpc³).
    public enum CCL {
        /// CCL's `RHO_CRITICAL` [h² M☉ Mpc⁻³] (a rounded literal in CCL).
        public static let rhoCritical: Double = 277_536_627_203.6856
        /// CCL's `SOLAR_MASS` [kg].
        public static let solarMass: Double = 1.988409871e30
    }
}

// HaloProfiles: weak-lensing halo profiles (science core; no MPI, no I/O).
//
// Conventions (those of CLMM, https://github.com/LSSTDESC/CLMM):
//   • masses in M☉ (not M☉/h); radii r (3-D) and R (projected) in physical Mpc;
//   • ρ in M☉ Mpc⁻³, Σ, Σ̄(<R), ΔΣ and Σ_crit in M☉ Mpc⁻² (physical);
//   • mass definitions Δc / Δm relative to ρ_c(z) / ρ_m(z) (physical), r_Δ physical.
//
// Validation (Tests/HaloProfilesTests, fixture from Fixtures/make_clmm_fixture.py, CLMM 1.16.10 + pyccl 3.3.6):
//   • D_A, Σ_crit, ρ_c, ρ_m agree with CLMM/CCL to < 1e-7 (CCL's spline-interpolated distances limit this;
//     this module's distances match a direct 1e-13 quadrature);
//   • NFW and Hernquist ρ, Σ, Σ̄, ΔΣ to ~1e-12; κ, γ_t, g_t to < 1e-7 (Σ_crit); μ to 1e-6 × its condition number;
//   • Einasto ρ to ~1e-12, Σ and Σ̄ to ~1e-12 of a 30-digit mpmath reference; CCL's own FFTLog mean Σ
//     (hence its ΔΣ, γ_t, g_t) is only good to ~1e-4, so those agree with CLMM only to ~1e-4.
//
// Entry points: `Cosmology`, `Constants`, `MassDefinition`, `HaloParameters`, `NFW`, `Hernquist`, `Einasto`
// (all conforming to `HaloProfile`), `HaloProfileError`, `Quadrature`.

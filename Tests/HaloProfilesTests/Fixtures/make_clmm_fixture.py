#!/usr/bin/env python3
"""Generate clmm_fixture.json: reference values from CLMM (CCL backend) for HaloProfilesTests.

Only used to (re)generate the fixture; never a runtime dependency of Tessera.

    python3 -m venv /tmp/clmm-venv && /tmp/clmm-venv/bin/pip install clmm pyccl mpmath
    /tmp/clmm-venv/bin/python make_clmm_fixture.py        # writes clmm_fixture.json next to this file

Cosmology (flat LCDM), built explicitly as a pyccl.Cosmology and handed to clmm.Cosmology(be_cosmo=...):
    h = 0.7, Omega_c = 0.25, Omega_b = 0.05, Omega_k = 0,
    T_CMB = 2.7255 K (photons included in H(z)),
    Neff = 3.046 with m_nu = 0 (all three neutrino species massless, i.e. pure radiation),
    w0 = -1, wa = 0; Omega_Lambda = 1 - Omega_m - Omega_g - Omega_nu_rel.
    (sigma8 = 0.8, n_s = 0.96 are required by CCL but do not enter any quantity recorded here.)
NOTE: CLMM's own clmm.Cosmology(H0=..., ...) uses m_nu=[0.06,0,0] (one massive neutrino); we deliberately
use massless neutrinos so that H(z) is analytic.

Einasto: the shape parameter is fixed explicitly with Modeling.set_einasto_alpha(0.25) (CCL's default would
derive alpha from sigma(M) via Gao et al. 2008, which needs the power spectrum).
Einasto Sigma(R) uses Modeling.set_projected_quad(True) (scipy quad_vec) instead of CCL's FFTLog; CCL has no
such option for mean Sigma(<R) (FFTLog, ~1e-4 accurate at R >> r_s), so 30-digit mpmath references of Sigma and
mean Sigma are recorded as well ("sigma_mpmath", "mean_sigma_mpmath").

Masses in Msun (no h), radii in physical Mpc, densities in Msun/Mpc^3, surface densities in Msun/Mpc^2.
"""
import json
import os
import sys

import mpmath as mp
import numpy as np
import clmm
import pyccl as ccl

H0, OMEGA_C, OMEGA_B = 70.0, 0.25, 0.05
T_CMB, NEFF = 2.7255, 3.046
EINASTO_ALPHA = 0.25

be = ccl.Cosmology(Omega_c=OMEGA_C, Omega_b=OMEGA_B, Omega_k=0.0, h=H0 / 100.0, sigma8=0.8, n_s=0.96,
                   T_CMB=T_CMB, Neff=NEFF, m_nu=0.0, transfer_function="eisenstein_hu",
                   matter_power_spectrum="linear")
cosmo = clmm.Cosmology(be_cosmo=be)

out = {
    "versions": {"clmm": clmm.__version__, "pyccl": ccl.__version__, "numpy": np.__version__, "mpmath": mp.__version__,
                 "python": sys.version.split()[0]},
    "cosmology": {
        "H0": H0, "Omega_c": OMEGA_C, "Omega_b": OMEGA_B, "Omega_k": 0.0, "T_CMB": T_CMB, "Neff": NEFF,
        "m_nu": 0.0, "Omega_g": be["Omega_g"], "Omega_nu_rel": be["Omega_nu_rel"], "Omega_l": be["Omega_l"],
        "Omega_m": cosmo["Omega_m0"],
    },
    "ccl_constants": {k: getattr(ccl.physical_constants, k) for k in
                      ("CLIGHT", "GNEWT", "SOLAR_MASS", "MPC_TO_METER", "RHO_CRITICAL", "STBOLTZ")},
    "clmm_constants": {k.name: k.value for k in clmm.utils.constants.Constants},
}

zs_grid = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0]
out["distances"] = [
    {"z": z, "da": float(cosmo.eval_da(z)), "rho_c": float(cosmo.get_rho_c(z)),
     "rho_m": float(cosmo.get_rho_m(z)), "E2": float(cosmo.get_E2(z))}
    for z in zs_grid
]
pairs = [(0.1, 0.5), (0.1, 3.0), (0.3, 0.8), (0.5, 1.0), (0.5, 2.0), (0.8, 1.2), (1.0, 1.5), (1.0, 3.0)]
out["sigma_crit"] = [
    {"z_lens": zl, "z_source": zs, "da_ls": float(cosmo.eval_da_z1z2(zl, zs)),
     "sigma_crit": float(cosmo.eval_sigma_crit(zl, zs))}
    for zl, zs in pairs
]

radii = np.array([0.1, 0.3, 1.0, 3.0, 10.0])
# (M [Msun], c, z_lens, z_source)
halos = [(1e13, 10.0, 0.1, 0.5), (3e14, 4.0, 0.3, 1.0), (1e15, 6.0, 0.5, 2.0), (1e16, 2.0, 1.0, 3.0)]
massdefs = [("critical", 200), ("mean", 200), ("critical", 500)]


def einasto_mpmath(moo, zl, radii):
    """Independent 30-digit reference for the Einasto Sigma(R) and mean Sigma(<R) (CCL's FFTLog cumul2d is
    only good to ~1e-4). rho(r) is CLMM's own 3-D density, so normalisation and r_Delta are CLMM's."""
    mp.mp.dps = 30
    alpha = mp.mpf(float(moo.get_einasto_alpha(zl)))
    # Recover rho_s and r_s from two CLMM density evaluations: ln rho = ln rho_s - 2/alpha ((r/r_s)^alpha - 1).
    r1, r2 = 0.05, 0.5
    l1, l2 = (mp.log(mp.mpf(float(moo.eval_3d_density(r, zl)))) for r in (r1, r2))
    # (l1 - l2) * alpha / 2 = (r2^alpha - r1^alpha) / r_s^alpha
    rs = ((mp.mpf(r2) ** alpha - mp.mpf(r1) ** alpha) / ((l1 - l2) * alpha / 2)) ** (1 / alpha)
    rhos = mp.exp(l1 + 2 / alpha * ((r1 / rs) ** alpha - 1))
    rho = lambda r: rhos * mp.exp(-2 / alpha * ((r / rs) ** alpha - 1))
    sig, msig = [], []
    for R in radii:
        R = mp.mpf(R)
        s = 2 * mp.quad(lambda z: rho(mp.sqrt(z * z + R * R)), [0, R, 10 * R, 100 * R, mp.inf])
        inner = mp.quad(lambda r: 4 * mp.pi * r * r * rho(r), [0, rs, R] if R > rs else [0, R])
        outer = mp.quad(lambda r: 4 * mp.pi * r * r * rho(r) * (1 - mp.sqrt(1 - (R / r) ** 2)),
                        [R, 2 * R, 10 * R, 100 * R, mp.inf])
        sig.append(float(s))
        msig.append(float((inner + outer) / (mp.pi * R * R)))
    return sig, msig


cases = []
for model in ("nfw", "hernquist", "einasto"):
    for massdef, delta in massdefs:
        moo = clmm.Modeling(massdef=massdef, delta_mdef=delta, halo_profile_model=model)
        moo.set_cosmo(cosmo)
        if model == "einasto":
            # Sigma(R) by scipy quad_vec (epsrel 1e-8) instead of CCL's default FFTLog projection.
            # (mean Sigma(<R), hence DeltaSigma, gamma_t, g_t, mu, still come from CCL's FFTLog cumul2d.)
            moo.set_projected_quad(True)
        for mass, conc, zl, zs in halos:
            moo.set_mass(mass)
            moo.set_concentration(conc)
            if model == "einasto":
                moo.set_einasto_alpha(EINASTO_ALPHA)
            row = {"model": model, "massdef": massdef, "delta": delta, "mass": mass, "concentration": conc,
                   "z_lens": zl, "z_source": zs, "radii": radii.tolist()}
            row["rho"] = moo.eval_3d_density(radii, zl).tolist()
            row["sigma"] = moo.eval_surface_density(radii, zl).tolist()
            row["mean_sigma"] = moo.eval_mean_surface_density(radii, zl).tolist()
            row["delta_sigma"] = moo.eval_excess_surface_density(radii, zl).tolist()
            row["kappa"] = moo.eval_convergence(radii, zl, zs).tolist()
            row["gamma_t"] = moo.eval_tangential_shear(radii, zl, zs).tolist()
            row["g_t"] = moo.eval_reduced_tangential_shear(radii, zl, zs).tolist()
            row["mu"] = moo.eval_magnification(radii, zl, zs).tolist()
            if model == "einasto":
                row["alpha"] = float(moo.get_einasto_alpha(zl))
                row["sigma_mpmath"], row["mean_sigma_mpmath"] = einasto_mpmath(moo, zl, radii)
            cases.append(row)
out["profiles"] = cases

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clmm_fixture.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path, len(cases), "profile cases")

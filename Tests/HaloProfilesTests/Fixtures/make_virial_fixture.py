"""Virial-mass-definition values from CLMM (CCL backend), recorded for HaloProfilesTests.

Same cosmology as make_clmm_fixture.py (flat LCDM, m_nu = 0). Run with a Python that has clmm and
pyccl installed:  python make_virial_fixture.py  (writes virial_fixture.json next to this file).
CCL's MassDefVir uses the Bryan & Norman (1998) overdensity Delta_vir(z) relative to rho_crit(z).
"""
import json, os, sys
import numpy as np
import clmm
import pyccl as ccl

H0, OMEGA_C, OMEGA_B = 70.0, 0.25, 0.05
T_CMB, NEFF = 2.7255, 3.046
be = ccl.Cosmology(Omega_c=OMEGA_C, Omega_b=OMEGA_B, Omega_k=0.0, h=H0 / 100.0, sigma8=0.8, n_s=0.96,
                   T_CMB=T_CMB, Neff=NEFF, m_nu=0.0, transfer_function="eisenstein_hu",
                   matter_power_spectrum="linear")
cosmo = clmm.Cosmology(be_cosmo=be)
radii = np.array([0.1, 0.3, 1.0, 3.0, 10.0])
halos = [(1e13, 10.0, 0.1, 0.5), (3e14, 4.0, 0.3, 1.0), (1e15, 6.0, 0.5, 2.0), (1e16, 2.0, 1.0, 3.0)]
out = {"versions": {"clmm": clmm.__version__, "pyccl": ccl.__version__, "python": sys.version.split()[0]}, "cases": []}
mdef = ccl.halos.MassDefVir
for model in ("nfw", "hernquist"):
    moo = clmm.Modeling(massdef="virial", delta_mdef=200, halo_profile_model=model)
    moo.set_cosmo(cosmo)
    for mass, conc, zl, zs in halos:
        moo.set_mass(mass)
        moo.set_concentration(conc)
        a = 1.0 / (1.0 + zl)
        out["cases"].append({
            "model": model, "mass": mass, "concentration": conc, "z_lens": zl, "z_source": zs, "radii": radii.tolist(),
            "delta_vir": float(mdef.get_Delta(be, a)),
            # CCL's get_radius returns the physical radius in Mpc.
            "r_vir_physical": float(mdef.get_radius(be, mass, a)),
            "sigma": moo.eval_surface_density(radii, zl).tolist(),
            "delta_sigma": moo.eval_excess_surface_density(radii, zl).tolist(),
        })
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "virial_fixture.json"), "w") as f:
    json.dump(out, f, indent=1)

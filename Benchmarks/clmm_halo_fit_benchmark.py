#!/usr/bin/env python3
"""Halos fitted per second per core: Tessera's optimiser beside CLMM + scipy.optimize, same halos, same run.

Both fit log10 M200c of each mock halo (ΔΣ profile, covariance from the halo file; NFW, concentration from
Duffy et al. 2008 full sample, c = 5.71 (M h / 2e12)^-0.084 (1+z)^-0.47; flat prior on [12, 16]) in one process
on one core. Tessera: `tessera-bench halofits HALO_DIR` (coarse grid + L-BFGS + Laplace error, analytic NFW ΔΣ).
CLMM: a clmm.Modeling object (CCL backend, the flat ΛCDM cosmology of the HaloProfiles fixtures) reused for every
halo, chi² minimised over log10 M with scipy.optimize.minimize_scalar (bounded), error from a finite-difference
curvature of chi². Reports both rates, their ratio and how well the fitted masses agree.

    swift build -c release --product tessera --product tessera-bench
    .build/release/tessera clusters mock --out /tmp/halobench              # 50 mock halos
    python3 Benchmarks/clmm_halo_fit_benchmark.py /tmp/halobench/halos

Creates /tmp/clmm-venv (pip install clmm pyccl scipy h5py) on first use and re-runs itself inside it.
"""
import os
import subprocess
import sys
import time

VENV = os.environ.get("CLMM_VENV", "/tmp/clmm-venv")


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    try:
        subprocess.check_call([py, "-c", "import clmm, pyccl, scipy, h5py"], stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        subprocess.check_call([py, "-m", "pip", "install", "-q", "clmm", "pyccl", "scipy", "h5py"])
    os.execv(py, [py] + sys.argv)


def main():
    ensure_venv()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import h5py
    import numpy as np
    import clmm
    import pyccl as ccl
    from scipy.optimize import minimize_scalar

    halo_dir = sys.argv[1]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bench = os.environ.get("TESSERA_BENCH", os.path.join(repo, ".build", "release", "tessera-bench"))
    names = sorted(n for n in os.listdir(halo_dir) if n.startswith("halo-") and n.endswith(".h5"))
    halos = []
    for n in names:
        with h5py.File(os.path.join(halo_dir, n), "r") as f:
            hid = f.attrs["id"]
            hid = hid.decode() if isinstance(hid, bytes) else str(hid)
            halos.append((hid, float(f.attrs["redshift"]), f["/delta_sigma/radii"][:], f["/delta_sigma/values"][:],
                          f["/delta_sigma/covariance"][:]))

    # Tessera, in the same run.
    tessera_csv = "/tmp/tessera-halofits-%d.csv" % os.getpid()
    repeats = os.environ.get("TESSERA_REPEATS", "5")  # Tessera is fast: repeat the set for a stable timing
    out = subprocess.run([bench, "halofits", halo_dir, repeats, tessera_csv], check=True, capture_output=True, text=True).stdout
    print(out.strip())
    tessera_rate = float(next(l for l in out.splitlines() if l.startswith("tessera_fits_per_second")).split()[1])
    tessera = {}
    for line in open(tessera_csv).read().splitlines()[1:]:
        i, m, e = line.split(",")
        tessera[i] = (float(m), float(e))
    os.remove(tessera_csv)

    # CLMM: the cosmology of Tests/HaloProfilesTests/Fixtures/make_clmm_fixture.py.
    h = 0.7
    be = ccl.Cosmology(Omega_c=0.25, Omega_b=0.05, Omega_k=0.0, h=h, sigma8=0.8, n_s=0.96, T_CMB=2.7255, Neff=3.046,
                       m_nu=0.0, transfer_function="eisenstein_hu", matter_power_spectrum="linear")
    cosmo = clmm.Cosmology(be_cosmo=be)
    moo = clmm.Modeling(massdef="critical", delta_mdef=200, halo_profile_model="nfw")
    moo.set_cosmo(cosmo)

    def chi2(log10m, z, r, y, icov):
        m = 10.0 ** log10m
        moo.set_mass(m)
        moo.set_concentration(5.71 * (m * h / 2e12) ** -0.084 * (1 + z) ** -0.47)
        d = y - moo.eval_excess_surface_density(r, z)
        return float(d @ icov @ d)

    clmm_fits = {}
    t0 = time.perf_counter()
    for hid, z, r, y, cov in halos:
        icov = np.linalg.inv(cov)
        res = minimize_scalar(chi2, bounds=(12.0, 16.0), args=(z, r, y, icov), method="bounded", options={"xatol": 1e-6})
        x, step = res.x, 1e-3
        curv = (chi2(x + step, z, r, y, icov) - 2 * res.fun + chi2(x - step, z, r, y, icov)) / step ** 2
        clmm_fits[hid] = (x, (2.0 / curv) ** 0.5 if curv > 0 else float("nan"))
    seconds = time.perf_counter() - t0
    clmm_rate = len(halos) / seconds
    print("clmm %s (pyccl %s) + scipy.optimize.minimize_scalar: %d halos in %.3f s on one core" % (
        clmm.__version__, ccl.__version__, len(halos), seconds))
    print("clmm_fits_per_second %.6g" % clmm_rate)
    dm = np.array([tessera[i][0] - clmm_fits[i][0] for i in clmm_fits])
    de = np.array([tessera[i][1] / clmm_fits[i][1] - 1 for i in clmm_fits])
    print("same %d halos: max |log10 M_tessera - log10 M_clmm| = %.2e dex, median %.2e; max |error ratio - 1| = %.2e" % (
        len(dm), np.max(np.abs(dm)), np.median(np.abs(dm)), np.nanmax(np.abs(de))))
    print("tessera / clmm speed ratio: %.1f" % (tessera_rate / clmm_rate))


if __name__ == "__main__":
    main()

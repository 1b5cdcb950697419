#!/usr/bin/env python3
"""Writes the lenstronomy reference fixtures of Tests/StrongLensingTests/Fixtures (run at fixture time only).

    python3 -m venv /tmp/lensvenv && /tmp/lensvenv/bin/pip install lenstronomy
    /tmp/lensvenv/bin/python scripts/make_lens_fixtures.py [N_CONFIGS] [--verify TESSERA_EXTRA.csv]

Files (CSV, every number exactly as given to / returned by lenstronomy):
  lens_physical.csv  physical lens galaxies (z_l, z_s, M_sps, alpha_sps, R_e [kpc], M200c, c) and lenstronomy's
                     angular parameters from LensCosmo (NFW Rs/alpha_Rs, Hernquist Rs/sigma0), Sigma_crit,
                     D_dt and days per arcsec^2 of Fermat potential. lenstronomy's constants are set to the
                     CODATA 2018 / IAU 2015 values Tessera's HaloProfiles uses (G, M_sun = (G M_sun)_N / G, Mpc,
                     and NFWParam.rhoc), and astropy's FlatLambdaCDM has the same Tcmb, Neff and massless
                     neutrinos, so the physical -> angular conversion is compared like for like.
  lens_configs.csv   N_CONFIGS random lenses (NFW + HERNQUIST + SHEAR, angular units, parameters rounded to 10
                     significant digits so that the CSV holds them exactly) and a source position each; the
                     comparisons of the lens model and the solver are made in these ANGULAR units (lenstronomy is
                     given the same Rs/alpha_Rs/sigma0 in arcsec that the file holds).
  lens_points.csv    alpha, kappa, gamma1, gamma2, mu and psi of lenstronomy's LensModel at 3 points per lens for
                     the first 300 lenses (one at a random radius, one at x = r/Rs_stars ~ 1, one at ~0.1 theta_E).
  lens_images.csv    the images lenstronomy's LensEquationSolver finds: a wide search (window 5 theta_E, min_distance theta_E/40)
                     and a central search (window 0.1 theta_E, min_distance theta_E/1500), merged; each with its
                     source-plane residual from lenstronomy's own ray shooting, magnification and Fermat potential.
                     `found_by` is a bit mask of the searches that found it: 1 the wide search, 2 the central
                     search (its default initial_guess_cut drops most demagnified candidates), 4 Newton's
                     method in numpy on lenstronomy's own ray shooting and hessian, started from a log-polar grid
                     around the centre (radii 1e-5..0.1 theta_E), which finds the central images lenstronomy's
                     solver misses. Every image's residual is lenstronomy's |beta - ray_shooting(theta)|.

  lens_extra.csv     (with --verify FILE: FILE holds `id,x,y,...` rows of images Tessera found that lens_images.csv
                     lacks, as printed by `tessera-bench lens-solver`) lenstronomy's source-plane residual and
                     magnification at those positions, so the tests can check them with lenstronomy's lens equation.

Every magnification is also given as `mu_alpha`, with lenstronomy's HERNQUIST hessian replaced by Richardson-
extrapolated central differences of its deflection with steps proportional to r (`mu_alpha`): HERNQUIST.hessian
differences with a fixed 1e-5 arcsec step, which is off by up to ~1e-4 relative at the central images
(r ~ 1e-3 arcsec).

lenstronomy's NFW potential clips r/Rs at 0.001 for scalar input and at 1e-6 for arrays; potentials and Fermat
potentials are therefore evaluated on 1-element arrays (the clip at 1e-6 Rs lies far inside every image here).
"""
import sys
import time
import numpy as np
from scipy.optimize import brentq

import lenstronomy
import lenstronomy.Util.constants as const
from lenstronomy.Cosmo.nfw_param import NFWParam

# Tessera's constants (Sources/HaloProfiles/Constants.swift).
G = 6.67430e-11
GM_SUN = 1.3271244e20
PARSEC = 3.085677581491367e16
const.G = G
const.M_sun = GM_SUN / G
const.Mpc = PARSEC * 1e6
NFWParam.rhoc = 3.0 * 100.0 * 100.0 / (8.0 * np.pi * G) * 1e6 * PARSEC * 1e6 / (GM_SUN / G)

from astropy.cosmology import FlatLambdaCDM
from lenstronomy.Cosmo.lens_cosmo import LensCosmo
from lenstronomy.LensModel.lens_model import LensModel
from lenstronomy.LensModel.Solver.lens_equation_solver import LensEquationSolver

OUT = "Tests/StrongLensingTests/Fixtures"
H0, OMEGA_C, OMEGA_B, TCMB, NEFF = 70.0, 0.25, 0.05, 2.7255, 3.046
COSMO = FlatLambdaCDM(H0=H0, Om0=OMEGA_C + OMEGA_B, Ob0=OMEGA_B, Tcmb0=TCMB, Neff=NEFF, m_nu=0.0)


def r10(v):
    """Round to 10 significant digits (so that '%.10g' writes it exactly)."""
    return float("%.10g" % v)


def hernquist_re_over_rs():
    def F(x):
        return np.arccosh(1 / x) / np.sqrt(1 - x * x) if x < 1 else np.arccos(1 / x) / np.sqrt(x * x - 1)
    return brentq(lambda x: x * x * (1 - F(x)) / (x * x - 1) - 0.5, 1.5, 2.5, xtol=1e-15, rtol=1e-15)


RE_OVER_RS = hernquist_re_over_rs()


def duffy(m200c, z):
    return 5.71 * (m200c * (H0 / 100) / 2e12) ** -0.084 * (1 + z) ** -0.47


def draw_physical(rng):
    zl = rng.uniform(0.2, 0.8)
    zs = rng.uniform(zl + 0.4, 3.0)
    return dict(z_l=r10(zl), z_s=r10(zs), m_sps=r10(10 ** rng.uniform(10.9, 11.7)), alpha_sps=r10(rng.uniform(0.9, 1.6)),
                re_kpc=r10(10 ** rng.uniform(np.log10(3.0), np.log10(10.0))), m200c=r10(10 ** rng.uniform(12.5, 13.7)))


def angular(p, conc):
    lc = LensCosmo(z_lens=p["z_l"], z_source=p["z_s"], cosmo=COSMO)
    rs_halo, alpha_rs = lc.nfw_physical2angle(M=p["m200c"], c=conc)
    sigma0, rs_stars = lc.hernquist_phys2angular(mass=p["alpha_sps"] * p["m_sps"], rs=p["re_kpc"] * 1e-3 / RE_OVER_RS)
    return lc, rs_halo, alpha_rs, rs_stars, sigma0


def kwargs_of(c):
    return [dict(Rs=c["rs_halo"], alpha_Rs=c["alpha_rs"]), dict(sigma0=c["sigma0"], Rs=c["rs_stars"]),
            dict(gamma1=c["gamma1"], gamma2=c["gamma2"], ra_0=0.0, dec_0=0.0)]


def einstein_radius(lm, kw):
    def mean_kappa_minus_one(r):
        ax, _ = lm.alpha(r, 0.0, kw, k=[0, 1])
        return ax / r - 1
    return brentq(mean_kappa_minus_one, 1e-4, 50.0, xtol=1e-14)


def mu_alpha(lm, kw, x, y):
    """Magnification with lenstronomy's analytic NFW and SHEAR hessians and the HERNQUIST hessian from
    Richardson-extrapolated central differences of lenstronomy's HERNQUIST deflection, steps 1e-3 r and 5e-4 r.
    (lenstronomy's NFW deflection cancels ln(x/2) against F(x) at x << 1, so differencing the total deflection with
    a small step would amplify that noise; the Hernquist deflection has no such cancellation.)"""
    fxx, fxy, fyx, fyy = lm.hessian(x, y, kw, k=[0, 2])

    def d(h):
        axp, ayp = lm.alpha(x + h, y, kw, k=[1])
        axm, aym = lm.alpha(x - h, y, kw, k=[1])
        bxp, byp = lm.alpha(x, y + h, kw, k=[1])
        bxm, bym = lm.alpha(x, y - h, kw, k=[1])
        return np.array([(axp - axm), (bxp - bxm), (ayp - aym), (byp - bym)]) / (2 * h)

    h = 1e-3 * np.hypot(x, y)
    hxx, hxy, hyx, hyy = (4 * d(h / 2) - d(h)) / 3
    fxx, fxy, fyx, fyy = fxx + hxx, fxy + hxy, fyx + hyx, fyy + hyy
    return 1 / ((1 - fxx) * (1 - fyy) - fxy * fyx)


def central_newton(lm, kw, bx, by, te):
    """Converged Newton iterates (|residual| < 1e-10) from 20 log-spaced radii x 24 angles around the centre.

    lenstronomy's HERNQUIST hessian is a finite difference (step 1e-5 arcsec), so Newton converges only linearly and
    stalls near 1e-12 in the source plane at the cusp; 1e-10 still fixes a central image to far better than 1e-6
    arcsec there (|A^-1| << 1)."""
    r = te * np.logspace(-5, -1, 20)
    a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    x = (r[:, None] * np.cos(a)[None, :]).ravel()
    y = (r[:, None] * np.sin(a)[None, :]).ravel()
    for _ in range(100):
        sx, sy = lm.ray_shooting(x, y, kw)
        fx, fy = sx - bx, sy - by
        fxx, fxy, fyx, fyy = lm.hessian(x, y, kw)
        a11, a12, a21, a22 = 1 - fxx, -fxy, -fyx, 1 - fyy
        det = a11 * a22 - a12 * a21
        dx = -(a22 * fx - a12 * fy) / det
        dy = -(-a21 * fx + a11 * fy) / det
        x, y = x + dx, y + dy
    sx, sy = lm.ray_shooting(x, y, kw)
    ok = np.isfinite(sx) & (np.hypot(sx - bx, sy - by) < 1e-10)
    return x[ok], y[ok]


def main():
    n_configs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1000
    rng = np.random.default_rng(20261217)
    lm = LensModel(["NFW", "HERNQUIST", "SHEAR"])
    solver = LensEquationSolver(lm)
    header = "# lenstronomy %s; scripts/make_lens_fixtures.py; seed 20261217\n" % lenstronomy.__version__

    # Physical -> angular.
    with open(f"{OUT}/lens_physical.csv", "w") as f:
        f.write(header + "# H0=%g Omega_c=%g Omega_b=%g Tcmb=%g Neff=%g; Re/rs(Hernquist)=%.17g\n"
                % (H0, OMEGA_C, OMEGA_B, TCMB, NEFF, RE_OVER_RS))
        f.write("z_l,z_s,m_sps,alpha_sps,re_kpc,m200c,c_duffy,rs_halo,alpha_rs,rs_stars,sigma0,sigma_crit,d_dt,days_per_arcsec2\n")
        for _ in range(40):
            p = draw_physical(rng)
            c = duffy(p["m200c"], p["z_l"])
            lc, rs_halo, alpha_rs, rs_stars, sigma0 = angular(p, c)
            vals = [p["z_l"], p["z_s"], p["m_sps"], p["alpha_sps"], p["re_kpc"], p["m200c"], c, rs_halo, alpha_rs,
                    rs_stars, sigma0, lc.sigma_crit, lc.ddt, lc.time_delay_units(1.0)]
            f.write(",".join("%.17g" % v for v in vals) + "\n")

    # Random lenses in angular units, and their images.
    configs = []
    for i in range(n_configs):
        p = draw_physical(rng)
        _, rs_halo, alpha_rs, rs_stars, sigma0 = angular(p, duffy(p["m200c"], p["z_l"]))
        g, phi = rng.uniform(0.0, 0.12), rng.uniform(0, np.pi)
        c = dict(rs_halo=r10(rs_halo), alpha_rs=r10(alpha_rs), rs_stars=r10(rs_stars), sigma0=r10(sigma0),
                 gamma1=r10(g * np.cos(2 * phi)), gamma2=r10(g * np.sin(2 * phi)))
        kw = kwargs_of(c)
        theta_e = einstein_radius(lm, kw)
        b, psi = theta_e * 0.3 * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        c.update(beta_x=r10(b * np.cos(psi)), beta_y=r10(b * np.sin(psi)), theta_e=theta_e)
        configs.append(c)

    with open(f"{OUT}/lens_points.csv", "w") as f:
        f.write(header + "id,x,y,alpha_x,alpha_y,kappa,gamma1,gamma2,mu,psi\n")
        for i, c in enumerate(configs[:300]):
            kw = kwargs_of(c)
            for r in [c["theta_e"] * rng.uniform(0.2, 3.0), c["rs_stars"] * rng.uniform(0.97, 1.03), 0.1 * c["theta_e"]]:
                a = rng.uniform(0, 2 * np.pi)
                x, y = r10(r * np.cos(a)), r10(r * np.sin(a))
                ax, ay = lm.alpha(x, y, kw)
                fxx, fxy, fyx, fyy = lm.hessian(x, y, kw)
                kappa, g1, g2 = 0.5 * (fxx + fyy), 0.5 * (fxx - fyy), 0.5 * (fxy + fyx)
                mu = lm.magnification(x, y, kw)
                psi = float(lm.potential(np.array([x]), np.array([y]), kw)[0])
                f.write(",".join(["%d" % i] + ["%.17g" % v for v in [x, y, ax, ay, kappa, g1, g2, mu, psi]]) + "\n")

    t0 = time.time()
    n_default = []
    with open(f"{OUT}/lens_images.csv", "w") as f:
        f.write(header + "id,x,y,mu,mu_alpha,fermat,residual,found_by\n")
        for i, c in enumerate(configs):
            kw = kwargs_of(c)
            te = c["theta_e"]
            wide = solver.image_position_from_source(c["beta_x"], c["beta_y"], kw, min_distance=te / 40,
                                                     search_window=5 * te, precision_limit=1e-12, num_iter_max=200)
            central = solver.image_position_from_source(c["beta_x"], c["beta_y"], kw, min_distance=te / 1500,
                                                        search_window=0.1 * te, precision_limit=1e-12, num_iter_max=200)
            found = []
            for by, (xs, ys) in [(1, wide), (2, central), (4, central_newton(lm, kw, c["beta_x"], c["beta_y"], te))]:
                for x, y in zip(xs, ys):
                    bx_, by_ = lm.ray_shooting(x, y, kw)
                    res = np.hypot(bx_ - c["beta_x"], by_ - c["beta_y"])
                    for k in found:
                        if np.hypot(k[0] - x, k[1] - y) < 1e-7:
                            k[6] |= by
                            break
                    else:
                        found.append([x, y, lm.magnification(x, y, kw), mu_alpha(lm, kw, x, y),
                                      float(lm.fermat_potential(np.array([x]), np.array([y]), kw, c["beta_x"], c["beta_y"])[0]),
                                      res, by])
            n_default.append(len(wide[0]))
            for k in found:
                f.write("%d,%.15g,%.15g,%.12g,%.12g,%.15g,%.3g,%d\n" % (i, *k))
    print("solver: %.1f s for %d lenses" % (time.time() - t0, n_configs))

    if "--verify" in sys.argv:
        with open(sys.argv[sys.argv.index("--verify") + 1]) as src, open(f"{OUT}/lens_extra.csv", "w") as f:
            f.write(header + "id,x,y,residual,mu_alpha\n")
            for line in src:
                fields = line.strip().split(",")
                if not fields[0].isdigit():
                    continue
                i, x, y = int(fields[0]), float(fields[1]), float(fields[2])
                c = configs[i]
                kw = kwargs_of(c)
                bx_, by_ = lm.ray_shooting(x, y, kw)
                res = np.hypot(bx_ - c["beta_x"], by_ - c["beta_y"])
                f.write("%d,%.17g,%.17g,%.3g,%.12g\n" % (i, x, y, res, mu_alpha(lm, kw, x, y)))

    with open(f"{OUT}/lens_configs.csv", "w") as f:
        f.write(header + "id,rs_halo,alpha_rs,rs_stars,sigma0,gamma1,gamma2,beta_x,beta_y,theta_e,n_wide\n")
        for i, c in enumerate(configs):
            f.write("%d,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.15g,%d\n" % (
                i, c["rs_halo"], c["alpha_rs"], c["rs_stars"], c["sigma0"], c["gamma1"], c["gamma2"],
                c["beta_x"], c["beta_y"], c["theta_e"], n_default[i]))


if __name__ == "__main__":
    main()

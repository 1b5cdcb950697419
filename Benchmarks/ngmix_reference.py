"""ngmix reference for issue 13's speed benchmark: single-object maximum-likelihood fits of every
object of a MEDS tile, timed per object on one core, and checked against the tile's truth.

MEASUREMENT ONLY. ngmix is not a dependency of Tessera: nothing in the project installs or
builds it, and no test needs it. Benchmarks/ngmix_reference.sh runs this script beside Tessera's
own fit of the same stamps (tessera-bench mof 1 1 N) so that the two speeds come from one run.

Packages used for the numbers reported on issue 13 (a scratch virtual environment under /tmp,
Python 3.11.7): ngmix 2.4.2 (not on PyPI: a source checkout of esheldon/ngmix at commit
9f0237fa673d of 2026-07-31, the unreleased 2.4.2 development head, whose LM fitter uses an
analytic Jacobian for the simple models; installed with pip from that checkout), numpy 2.4.6, scipy 1.17.1, numba 0.68.1,
llvmlite 0.50.0, fitsio 1.4.2 and galsim 2.8.5 (ngmix imports galsim when it is imported).

What is fitted, per object (cutout 0, the coadd, is skipped: like Tessera's max_likelihood
fitter with use_coadd false, only the single epochs are fitted):
  - each epoch's PSF image: a 3-Gaussian mixture, by default coelliptic and fitted by
    Levenberg-Marquardt (ngmix.fitting.CoellipFitter(3), CoellipPSFGuesser starts, four tries;
    the PSF image weighted with a nominal noise of max/1000, as ngmix.medsreaders does);
    --psf em fits a general 3-Gaussian mixture by EM instead (ngmix.em.EMFitter, its default
    tolerance 1e-5 and at most 500 iterations; GMixPSFGuesser starts), the algorithm Tessera uses
    for each epoch's PSF image. On this mock (a 2-component PSF whose wide wing is cut by the
    17x17 PSF image) ngmix's EM PSF leaves galaxy fluxes about 0.55% low even without noise
    (a tighter tolerance or 5 components do not change that), the coelliptic LM PSF about 0.1%,
    so the coelliptic fit is the default: the timing should be of a fit that gets the flux right;
  - the galaxy: ngmix.fitting.Fitter (Levenberg-Marquardt, DEFAULT_LM_PARS, no prior: a maximum
    likelihood fit) on all epochs at once, with each epoch's Jacobian from object_data
    (cutout_row/col, dudrow, dudcol, dvdrow, dvdcol) and weight map (bmask != 0 -> weight 0);
    started by TPSFFluxGuesser (T = 0.25 arcsec^2, PSF-flux start), two tries.
  Model difference: ngmix 'exp' has 6 parameters (v, u, g1, g2, T, flux) with the Sersic index
  fixed at n = 1; Tessera's fit has 7 (flux, position (2), q, pa, n, r_half): n is free. The
  mock galaxies ARE exponentials (Tessera's n = 1 Gaussian mixture), so 'exp' is the right model
  for ngmix and has one parameter fewer to find (and a smaller flux error, n being fixed).
  --model bdf fits ngmix's bulge+disk with free fracdev (7 parameters, closer in freedom to a
  free-n Sersic); ngmix needs a prior on fracdev there, and the ngmix example's one is used
  (fracdev ~ N(0.5, 0.1), flat T and flux, GPriorBA(0.1) on g, centre N(0, pixel scale)), so
  that fit is maximum a posteriori, not maximum likelihood.
  --finite-difference uses ngmix's finite-difference LM Jacobian (what the released ngmix
  v2.4.1 does) instead of the analytic one (bdf always uses finite differences).

Timed (time.perf_counter around each object, summed; one thread: NUMBA_NUM_THREADS=1 etc. are
set by the wrapper, which also pins the process to one core): building the ngmix Observations
and Jacobians from arrays already in memory, the PSF fits, the PSF-flux guess, the LM fit and its
covariance. Not timed: imports, reading the MEDS file and slicing its cutouts, and the numba JIT
compilation (WARMUP objects are fitted once, untimed, before the timed pass over all objects).

Check against the truth (truth.fits next to the MEDS file, matched by id): pull =
(flux - truth flux) / flux error; prints the median and the robust width (1.4826 x MAD) and the
count of |pull| > 5. The fit is only a usable reference if these are near 0 and 1.

Usage: python ngmix_reference.py MEDS_FILE [--truth TRUTH] [--model exp|bdf] [--psf coellip|em]
           [--warmup N] [--seed S] [--finite-difference] [--out CSV]
       python ngmix_reference.py MEDS_FILE --tessera-catalog CATALOG   (Tessera's pulls, same statistics)
Prints one summary line starting "ngmix objects/s/core:".
"""
import argparse
import os
import sys
import time

try:
    import numpy as np
    import fitsio
    import ngmix
except ImportError as exc:  # pragma: no cover - a measurement script
    sys.exit(
        "ngmix_reference.py: cannot import %s. This is a measurement-only reference: run it with "
        "a Python that has ngmix, numba, fitsio and galsim installed (see the header of this file; "
        "Benchmarks/ngmix_reference.sh takes that Python from NGMIX_PYTHON)." % exc.name
    )


def read_meds(path):
    """Every object's single-epoch cutouts (image, weight, Jacobian, PSF image) as numpy arrays."""
    with fitsio.FITS(path) as f:
        names = [h.get_extname() for h in f]
        for ext in ("object_data", "image_cutouts", "weight_cutouts", "psf"):
            if ext not in names:
                sys.exit("%s: no %s extension (a MEDS file with PSF cutouts is needed)" % (path, ext))
        od = f["object_data"].read()
        image = f["image_cutouts"].read()
        weight = f["weight_cutouts"].read()
        bmask = f["bmask_cutouts"].read() if "bmask_cutouts" in names else None
        psf = f["psf"].read()
    for col in ("cutout_row", "cutout_col", "dudrow", "dudcol", "dvdrow", "dvdcol",
                "psf_row_size", "psf_col_size", "psf_cutout_row", "psf_cutout_col", "psf_start_row"):
        if col not in od.dtype.names:
            sys.exit("%s: object_data has no column %s" % (path, col))
    objects = []
    for i in range(len(od)):
        o = od[i]
        bs = int(o["box_size"])
        epochs = []
        for c in range(1, int(o["ncutout"])):  # cutout 0 is the coadd
            s = int(o["start_row"][c])
            im = image[s:s + bs * bs].reshape(bs, bs).astype("f8")
            wt = weight[s:s + bs * bs].reshape(bs, bs).astype("f8")
            if bmask is not None:
                wt = np.where(bmask[s:s + bs * bs].reshape(bs, bs) != 0, 0.0, wt)
            pr, pc = int(o["psf_row_size"][c]), int(o["psf_col_size"][c])
            ps = int(o["psf_start_row"][c])
            pim = psf[ps:ps + pr * pc].reshape(pr, pc).astype("f8")
            jac = dict(dudrow=o["dudrow"][c], dudcol=o["dudcol"][c], dvdrow=o["dvdrow"][c], dvdcol=o["dvdcol"][c])
            epochs.append(dict(image=im, weight=wt, psf=pim, jac=jac,
                               row=o["cutout_row"][c], col=o["cutout_col"][c],
                               psf_row=o["psf_cutout_row"][c], psf_col=o["psf_cutout_col"][c]))
        objects.append(dict(id=int(o["id"]), epochs=epochs))
    return objects


def make_obslist(obj):
    """The object's epochs as an ngmix ObsList (PSF observations attached)."""
    obslist = ngmix.ObsList()
    for e in obj["epochs"]:
        jac = ngmix.Jacobian(row=e["row"], col=e["col"], **e["jac"])
        pjac = ngmix.Jacobian(row=e["psf_row"], col=e["psf_col"], **e["jac"])
        # As ngmix.medsreaders does for MEDS PSF images: a nominal noise of max/1000.
        pnoise = e["psf"].max() / 1000.0
        psf_obs = ngmix.Observation(e["psf"], weight=np.full_like(e["psf"], 1.0 / pnoise ** 2), jacobian=pjac)
        obslist.append(ngmix.Observation(e["image"], weight=e["weight"], jacobian=jac, psf=psf_obs))
    return obslist


def bdf_prior(rng, scale):
    """The prior of ngmix's examples/fitting/fitting_bd_empsf.py (fracdev needs one)."""
    P = ngmix.priors
    return ngmix.joint_prior.PriorBDFSep(
        cen_prior=P.CenPrior(cen1=0, cen2=0, sigma1=scale, sigma2=scale, rng=rng),
        g_prior=P.GPriorBA(sigma=0.1, rng=rng),
        T_prior=P.FlatPrior(minval=-1.0, maxval=1.0e3, rng=rng),
        fracdev_prior=P.Normal(mean=0.5, sigma=0.1, rng=rng),
        F_prior=P.FlatPrior(minval=-100.0, maxval=1.0e9, rng=rng),
    )


def make_bootstrapper(model, psf, rng, scale, finite_difference):
    if psf == "em":
        psf_fitter = ngmix.em.EMFitter()
        psf_guesser = ngmix.guessers.GMixPSFGuesser(rng=rng, ngauss=3)
    else:
        psf_fitter = ngmix.fitting.CoellipFitter(ngauss=3)
        psf_guesser = ngmix.guessers.CoellipPSFGuesser(rng=rng, ngauss=3)
    # Four tries: with two, 2 of the 600 coelliptic PSF fits of the 200-object tile failed
    # (singular LM matrix from an unlucky random start); a failed epoch would be dropped.
    psf_runner = ngmix.runners.PSFRunner(fitter=psf_fitter, guesser=psf_guesser, ntry=4)
    kw = {"analytic_jacobian": False} if finite_difference else {}
    if model == "exp":
        fitter = ngmix.fitting.Fitter(model="exp", **kw)
        guesser = ngmix.guessers.TPSFFluxGuesser(rng=rng, T=0.25)
    else:
        prior = bdf_prior(rng, scale)
        fitter = ngmix.fitting.Fitter(model="bdf", prior=prior, **kw)
        guesser = ngmix.guessers.TPSFFluxAndPriorGuesser(rng=rng, T=0.25, prior=prior)
    runner = ngmix.runners.Runner(fitter=fitter, guesser=guesser, ntry=2)
    return ngmix.bootstrap.Bootstrapper(runner=runner, psf_runner=psf_runner)


def fit(boot, obj):
    """The fit result and the number of epochs whose PSF fit failed (ngmix's Bootstrapper then
    fits the object without them)."""
    obslist = make_obslist(obj)
    res = boot.go(obslist)
    return res, sum(not obs.psf.has_gmix() for obs in obslist)


def analytic_model(model):
    """Whether ngmix has an analytic LM Jacobian for the model (gauss, exp, dev; bdf has not)."""
    return model in getattr(ngmix.fitting.results, "SIMPLE_ANALYTIC_MODELS", ())


def robust(x):
    x = np.asarray(x)
    med = float(np.median(x))
    return med, 1.4826 * float(np.median(np.abs(x - med)))


def pull_summary(rows):
    """rows: (truth flux, flux, flux error); the pull statistics printed for both codes."""
    ok = [r for r in rows if np.isfinite(r[1]) and np.isfinite(r[2]) and r[2] > 0]
    pulls = [(f - t) / e for t, f, e in ok]
    med, width = robust(pulls)
    frac = [f / t - 1 for t, f, _ in ok]
    return ("flux pull (flux - truth)/err: n=%d  median=%+.3f  robust width=%.3f  |pull|>5: %d  rms frac=%.4f  "
            "median frac=%+.4f  median err/flux=%.4f"
            % (len(ok), med, width, sum(abs(p) > 5 for p in pulls), float(np.sqrt(np.mean(np.square(frac)))),
               float(np.median(frac)), float(np.median([e / f for _, f, e in ok]))))


def print_tessera_pulls(path, tflux):
    c = fitsio.read(path)
    for col in ("id", "flux", "flux_err", "flags"):
        if col not in c.dtype.names:
            sys.exit("%s: no column %s" % (path, col))
    missing = [i for i in c["id"].tolist() if i not in tflux]
    if missing:
        sys.exit("%s: ids %s are not in the truth table" % (path, missing[:5]))
    good = c[c["flags"] == 0]
    print("  tessera %s (flags != 0: %d)" % (pull_summary([(tflux[int(r["id"])], float(r["flux"]), float(r["flux_err"]))
                                                           for r in good]), len(c) - len(good)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("meds")
    ap.add_argument("--truth", help="truth.fits (default: next to the MEDS file)")
    ap.add_argument("--model", choices=["exp", "bdf"], default="exp")
    ap.add_argument("--psf", choices=["coellip", "em"], default="coellip")
    ap.add_argument("--warmup", type=int, default=5, help="objects fitted untimed first (numba JIT)")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--finite-difference", action="store_true")
    ap.add_argument("--out", help="per-object CSV")
    ap.add_argument("--tessera-catalog", help="a Tessera batch catalog of the same tile (columns id, flux, "
                    "flux_err, flags): print its pulls with the same statistics, and nothing else")
    a = ap.parse_args()
    truth_path = a.truth or os.path.join(os.path.dirname(os.path.abspath(a.meds)), "truth.fits")

    truth = fitsio.read(truth_path)
    tflux = dict(zip(truth["id"].tolist(), truth["flux"].tolist()))
    if a.tessera_catalog:
        print_tessera_pulls(a.tessera_catalog, tflux)
        return
    objects = read_meds(a.meds)
    missing = [o["id"] for o in objects if o["id"] not in tflux]
    if missing:
        sys.exit("%s: ids %s of %s are not in the truth table" % (truth_path, missing[:5], a.meds))
    scale = float(np.sqrt(abs(objects[0]["epochs"][0]["jac"]["dudrow"] * objects[0]["epochs"][0]["jac"]["dvdcol"]
                              - objects[0]["epochs"][0]["jac"]["dudcol"] * objects[0]["epochs"][0]["jac"]["dvdrow"])))

    # Untimed warm-up: numba compiles every kernel the fits use on first call.
    warm = make_bootstrapper(a.model, a.psf, np.random.RandomState(a.seed + 1), scale, a.finite_difference)
    for obj in objects[:a.warmup]:
        fit(warm, obj)

    boot = make_bootstrapper(a.model, a.psf, np.random.RandomState(a.seed), scale, a.finite_difference)
    rows, seconds, cpu, psf_failed = [], 0.0, 0.0, 0
    for obj in objects:
        t0, c0 = time.perf_counter(), time.process_time()
        res, failed = fit(boot, obj)
        psf_failed += failed
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
        npar = len(res["pars"]) if res.get("pars") is not None else 0
        flux = float(res["pars"][npar - 1]) if res["flags"] == 0 else float("nan")
        err = float(res["pars_err"][npar - 1]) if res["flags"] == 0 else float("nan")
        rows.append((obj["id"], tflux[obj["id"]], flux, err, int(res["flags"]), res.get("nfev", -1)))

    ok = [r for r in rows if r[4] == 0]
    n = len(objects)
    print("ngmix %s, PSF %s3 (%s LM Jacobian), %d objects, %d epochs each, warm-up %d objects untimed"
          % (a.model, a.psf, "finite-difference" if a.finite_difference or not analytic_model(a.model) else "analytic", n,
             len(objects[0]["epochs"]), a.warmup))
    print("  ngmix   %s (failed fits: %d; epochs dropped for a failed PSF fit: %d; mean LM function evaluations: %.1f)"
          % (pull_summary([(r[1], r[2], r[3]) for r in ok]), n - len(ok), psf_failed,
             float(np.mean([r[5] for r in ok]))))
    print("ngmix objects/s/core: %.2f  (%.2f s wall, %.2f s CPU for %d objects)" % (n / seconds, seconds, cpu, n))
    if a.out:
        with open(a.out, "w") as fh:
            fh.write("id,truth_flux,flux,flux_err,flags,nfev\n")
            for r in rows:
                fh.write(",".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    main()

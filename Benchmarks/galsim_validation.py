#!/usr/bin/env python3
"""Pulls and coverage of `tessera` scene fits on independent GalSim scenes (issue 16).

For every scene (generated here by scripts/galsim_scenes.py with the given seeds, or given with
--scene DIR), runs the release binary as a user would:

    tessera fit-psf (per band, --components 4) -> tessera preprocess (JWST-style SCI/ERR/DQ)
    -> mpirun tessera optimize -> mpirun tessera sample -> tessera postprocess

then compares with the truth catalog and reports, per parameter (flux per band, ra, dec, q, pa,
sersic, rhalf; shape parameters for galaxies only):

- optimize: pull = (optimum − truth)/σ_Laplace (catalog `<col>_unc`);
- sample: pull = (posterior median − truth)/posterior sd, and whether the truth lies in the central
  68% and 95% intervals of the chain;

with the pull median, the robust width 1.4826·MAD, the coverages and their binomial errors
√(p(1−p)/N). It also measures one suspected bias cause: the fraction of each fitted galaxy's
model flux (exact Sérsic ⊗ PSF at the fitted parameters, drawn by GalSim) that falls outside its
region of interest (the circle of `roi` arcsec the fitted pixels are taken from), and the PSF
mixtures' missing wing flux as `fit-psf` reports it (store attribute `missing_flux_fraction`).

Conventions: the truth's `rhalf` is along the major axis and `pa` is east of north, as Tessera's
catalogs (see scripts/galsim_scenes.py); ra/dec pulls use arcsec offsets.

Needs: the release binary (swift build -c release --product tessera), mpirun, and the Python
packages galsim, astropy, h5py, numpy (benchmark time only). Example:

    python3 Benchmarks/galsim_validation.py --out runs/galsim-bench --kind crowded --seeds 21 \
        --sources 30 --size 200 --np 3 --draws 200
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))


def run(cmd, log):
    t = time.time()
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    with open(log, "a") as f:
        f.write(f"$ {cmd}\n{p.stdout}{p.stderr}\n")
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {cmd}\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return p.stdout, time.time() - t


def read_table(path):
    from astropy.io import fits
    with fits.open(path) as h:
        d = h[1].data
        return {n.lower(): np.array(d[n]) for n in d.columns.names}


def config_text(catalog, bands, args, mode):
    return f"""catalog: {catalog}
pixel_store: pixels.h5
psf_store: psf.h5
bands: [{", ".join(bands)}]
target_iterations: {args.draws}
draws_per_patch: {args.draws // args.sample_passes}
warmup: {args.warmup}
max_tree_depth: {args.max_tree_depth}
roi: {args.roi}
active_radius: {args.active_radius}
fixed_radius: {args.fixed_radius}
max_active: {args.max_active}
rhalf_range: [{args.rhalf_range[0]}, {args.rhalf_range[1]}]
sersic_range: [{args.sersic_range[0]}, {args.sersic_range[1]}]
seed: 1
""" + (f"sample_precision: {args.sample_precision}\n" if args.sample_precision else "") \
        + "".join(f"{kv.split('=', 1)[0]}: {kv.split('=', 1)[1]}\n" for kv in args.set)


def wrap_pa(d):
    return (d + math.pi / 2) % math.pi - math.pi / 2


def fit_scene(scene, args, log):
    """Runs the pipeline in `scene`; returns timings and the fit-psf missing flux per band."""
    tessera = args.tessera or os.path.join(ROOT, ".build", "release", "tessera")
    with open(os.path.join(scene, "scene.json")) as f:
        meta = json.load(f)
    bands = meta["bands"]
    times = {}
    missing = {}
    env = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1"
    cd = f"cd {scene} && "
    if not os.path.exists(os.path.join(scene, "psf.h5")):
        for b in bands:
            out, _ = run(cd + f"{tessera} fit-psf --image psf_{b}.fits --band {b} --components {args.psf_components} --store psf.h5", log)
            m = re.search(r"misses[^:]*: ([+-][0-9.eE+-]+)", out)
            missing[b] = float(m.group(1)) if m else float("nan")
    if not os.path.exists(os.path.join(scene, "pixels.h5")):
        run(cd + f"{tessera} preprocess images/*.fits --sci-hdu SCI --unc-hdu ERR --mask-hdu DQ --dq-bad-bits 1 --out pixels.h5", log)
    tag = args.tag
    with open(os.path.join(scene, f"optimize{tag}.yaml"), "w") as f:
        f.write(config_text(f"{args.start}.fits", bands, args, "optimize"))
    if args.reuse and os.path.exists(os.path.join(scene, f"run-optimize{tag}", "catalog.fits")):
        times["optimize"] = 0.0
    else:
        _, times["optimize"] = run(cd + f"{env} mpirun -np {args.np} {tessera} optimize --config optimize{tag}.yaml --out run-optimize{tag}", log)
    if not args.no_sample and args.reuse and os.path.exists(os.path.join(scene, f"run-sample{tag}", "catalog.fits")):
        times["sample"] = 0.0
    elif not args.no_sample:
        with open(os.path.join(scene, f"sample{tag}.yaml"), "w") as f:
            f.write(config_text(f"run-optimize{tag}/catalog.fits", bands, args, "sample"))
        _, times["sample"] = run(cd + f"{env} mpirun -np {args.np} {tessera} sample --config sample{tag}.yaml --out run-sample{tag}", log)
        _, times["postprocess"] = run(cd + f"{tessera} postprocess run-sample{tag}", log)
    return bands, times, missing


def offsets_arcsec(ra, dec, ra_t, dec_t):
    return (ra - ra_t) * 3600 * np.cos(np.radians(dec_t)), (dec - dec_t) * 3600


def collect(scene, bands, args, rows_opt, rows_smp, roi_fracs):
    import h5py
    tag = args.tag
    truth = read_table(os.path.join(scene, "truth.fits"))
    opt = read_table(os.path.join(scene, f"run-optimize{tag}", "catalog.fits"))
    tindex = {int(i): k for k, i in enumerate(truth["id"])}
    names = bands + ["ra", "dec", "q", "pa", "sersic", "rhalf"]
    for k, sid in enumerate(opt["id"]):
        t = tindex[int(sid)]
        point = bool(truth["is_point"][t])
        for n in names:
            if point and n in ("q", "pa", "sersic", "rhalf"):
                continue
            unc = opt[f"{n.lower()}_unc"][k]
            if n == "ra":
                d = offsets_arcsec(opt["ra"][k], opt["dec"][k], truth["ra"][t], truth["dec"][t])[0]
            elif n == "dec":
                d = (opt["dec"][k] - truth["dec"][t]) * 3600
            elif n == "pa":
                d = wrap_pa(opt["pa"][k] - truth["pa"][t])
            else:
                d = opt[n.lower()][k] - truth[n.lower()][t]
            flags = int(opt["flags"][k]) if "flags" in opt else -1
            rows_opt.append({"scene": scene, "id": int(sid), "param": n, "pull": d / unc if unc > 0 else float("nan"),
                             "unc": float(unc), "err": float(d), "flags": flags, "is_point": point,
                             "truth_sersic": float(truth["sersic"][t]), "truth_rhalf": float(truth["rhalf"][t]),
                             "truth_flux": [float(truth[b.lower()][t]) for b in bands]})
        # Model flux outside the region of interest at the fitted parameters.
        if not point and args.roi_check:
            roi_fracs.append(outside_roi_fraction(opt, k, bands, args.roi, scene))
    if args.no_sample:
        return
    with h5py.File(os.path.join(scene, f"run-sample{tag}", "results.h5"), "r") as h:
        niter = dict(zip(h["/state/id"][()], h["/state/n_iter"][()]))
        for sid in truth["id"]:
            sid = int(sid)
            t = tindex[sid]
            point = bool(truth["is_point"][t])
            key = f"/chains/{sid}"
            if key not in h:
                continue
            cols = h[key].attrs["parameters"]
            cols = (cols.decode() if isinstance(cols, bytes) else str(cols)).split(",")
            ch = h[key][: int(niter.get(sid, 0))]
            if len(ch) < 10:
                continue
            for j, n in enumerate(cols):
                v = ch[:, j]
                if n == "ra":
                    v = (v - truth["ra"][t]) * 3600 * math.cos(math.radians(truth["dec"][t]))
                elif n == "dec":
                    v = (v - truth["dec"][t]) * 3600
                elif n == "pa":
                    v = wrap_pa(v - truth["pa"][t])
                else:
                    v = v - truth[n.lower()][t]
                med, sd = np.median(v), np.std(v, ddof=1)
                lo68, hi68 = np.quantile(v, [0.16, 0.84])
                lo95, hi95 = np.quantile(v, [0.025, 0.975])
                rows_smp.append({"scene": scene, "id": sid, "param": n, "pull": med / sd if sd > 0 else float("nan"),
                                 "in68": bool(lo68 <= 0 <= hi68), "in95": bool(lo95 <= 0 <= hi95), "err": float(med), "sd": float(sd)})


def outside_roi_fraction(cat, k, bands, roi, scene):
    """Fraction of the fitted galaxy's model flux (exact Sérsic ⊗ the band's Moffat PSF, at the
    optimize catalog's q, pa, n, rhalf) outside a circle of `roi` arcsec about its centre."""
    import galsim
    from galsim_scenes import psf_profile
    with open(os.path.join(scene, "scene.json")) as f:
        meta = json.load(f)
    scale = 0.01
    q, pa, n, rh = (float(cat[x][k]) for x in ("q", "pa", "sersic", "rhalf"))
    n = min(max(n, 0.3), 6.2)
    gal = galsim.Sersic(n=n, half_light_radius=rh * math.sqrt(q), flux=1.0,
                        gsparams=galsim.GSParams(maximum_fft_size=16384, folding_threshold=1e-3))
    gal = gal.shear(q=q, beta=(math.pi / 2 - pa) * galsim.radians)
    out = {}
    for b in bands:
        obj = galsim.Convolve(gal, psf_profile(b))
        half = roi + 1.0
        npix = int(2 * half / scale) | 1
        img = obj.drawImage(nx=npix, ny=npix, scale=scale, method="no_pixel")
        y, x = np.mgrid[0:npix, 0:npix]
        c = (npix - 1) / 2
        r = np.hypot(x - c, y - c) * scale
        inside = img.array[r <= roi].sum()
        # Flux beyond the drawn stamp counts as outside too (total is 1).
        out[b] = float(1.0 - inside)
    return {"id": int(cat["id"][k]), "scene": scene, "n": n, "rhalf": rh, "outside": out}


def stats(rows, params, coverage):
    out = {}
    for p in params:
        r = [x for x in rows if x["param"] == p and np.isfinite(x["pull"])]
        if not r:
            continue
        pulls = np.array([x["pull"] for x in r])
        med = float(np.median(pulls))
        width = float(1.4826 * np.median(np.abs(pulls - med)))
        s = {"N": len(r), "pull_median": med, "pull_width": width,
             "median_abs_rel_err": float(np.median([abs(x["err"]) for x in r]))}
        n = len(r)
        if coverage:
            for c in ("in68", "in95"):
                p_ = float(np.mean([x[c] for x in r]))
                s[c] = p_
                s[c + "_err"] = math.sqrt(max(p_ * (1 - p_), 1e-12) / n)
        else:
            for level, z in (("in68", 1.0), ("in95", 1.96)):
                p_ = float(np.mean(np.abs(pulls) <= z))
                s[level] = p_
                s[level + "_err"] = math.sqrt(max(p_ * (1 - p_), 1e-12) / n)
        out[p] = s
    return out


def table(title, st):
    lines = [f"\n{title}", f"{'parameter':>9} {'N':>4} {'median':>7} {'width':>6} {'68% cov':>13} {'95% cov':>13}"]
    for p, s in st.items():
        lines.append(f"{p:>9} {s['N']:>4} {s['pull_median']:+7.2f} {s['pull_width']:6.2f} "
                     f"{s['in68']:.2f} ± {s['in68_err']:.2f}   {s['in95']:.2f} ± {s['in95_err']:.2f}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--scene", action="append", default=[], help="existing scene directories (else generated)")
    ap.add_argument("--kind", default="crowded", choices=["crowded", "isolated"])
    ap.add_argument("--seeds", type=int, nargs="*", default=[21])
    ap.add_argument("--sources", type=int, default=30)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--sample-passes", type=int, default=1,
                    help="sample's passes per source (draws_per_patch = draws / passes): each later pass resamples "
                         "a source with its neighbours at their latest draws, so blended sources' intervals are not "
                         "conditional on one neighbour state")
    ap.add_argument("--reuse", action="store_true",
                    help="keep existing run-optimize<tag> and run-sample<tag> directories (those with a catalog.fits) "
                         "instead of rerunning those steps (their timing reads 0)")
    ap.add_argument("--max-tree-depth", type=int, default=7)
    ap.add_argument("--roi", type=float, default=1.0)
    ap.add_argument("--active-radius", type=float, default=0.5)
    ap.add_argument("--fixed-radius", type=float, default=1.5)
    ap.add_argument("--max-active", type=int, default=4, help="most sources fitted together in one region")
    ap.add_argument("--rhalf-range", type=float, nargs=2, default=[0.02, 1.5])
    ap.add_argument("--sersic-range", type=float, nargs=2, default=[0.5, 6.0])
    ap.add_argument("--psf-components", type=int, default=4)
    ap.add_argument("--no-sample", action="store_true", help="optimize only")
    ap.add_argument("--no-roi-check", dest="roi_check", action="store_false")
    ap.add_argument("--tessera", help="the binary (default: this checkout's .build/release/tessera)")
    ap.add_argument("--sample-precision", choices=["single", "double"],
                    help="the scene kernel's arithmetic in sample (default: tessera's, single)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra scene configuration key for optimize and sample, e.g. --set roi_rhalf_multiple=3 (repeatable)")
    ap.add_argument("--tag", default="", help="suffix of the run directories and configs (variants on one scene)")
    ap.add_argument("--noise-free", action="store_true",
                    help="generate scenes without noise (ERR unchanged); with --start truth the pulls are model error alone")
    ap.add_argument("--start", default="initial", choices=["initial", "truth"], help="the catalog optimize starts from")
    args = ap.parse_args()
    if args.sample_passes < 1 or args.draws % args.sample_passes:
        ap.error("--draws must be a positive multiple of --sample-passes")
    os.makedirs(args.out, exist_ok=True)
    log = os.path.join(args.out, "commands.log")
    scenes = list(args.scene)
    if not scenes:
        from galsim_scenes import make_scene
        for seed in args.seeds:
            d = os.path.join(args.out, f"{args.kind}-{seed}" + ("-noise-free" if args.noise_free else ""))
            if not os.path.exists(os.path.join(d, "scene.json")):
                t = time.time()
                make_scene(d, args.kind, args.sources, args.size, seed, noise_free=args.noise_free)
                print(f"generated {d} in {time.time() - t:.0f} s", flush=True)
            scenes.append(d)
    rows_opt, rows_smp, roi_fracs, timing, psf_missing = [], [], [], {}, {}
    for s in scenes:
        bands, times, missing = fit_scene(s, args, log)
        timing[s] = times
        if missing:
            psf_missing[s] = missing
        print(f"{s}: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()), flush=True)
        collect(s, bands, args, rows_opt, rows_smp, roi_fracs)
    params = bands + ["ra", "dec", "q", "pa", "sersic", "rhalf"]
    report = {"scenes": scenes, "settings": vars(args), "timing_s": timing, "psf_missing_flux": psf_missing,
              "optimize": stats(rows_opt, params, coverage=False)}
    text = table("optimize (Laplace errors; coverage = |pull| ≤ 1, 1.96)", report["optimize"])
    flagged = [r for r in rows_opt if r["flags"] > 0]
    report["optimize_flagged_rows"] = len(flagged)
    if rows_smp:
        report["sample"] = stats(rows_smp, params, coverage=True)
        text += "\n" + table("sample (posterior median/sd; coverage of the central 68%/95% intervals)", report["sample"])
    if roi_fracs:
        for b in bands:
            v = np.array([r["outside"][b] for r in roi_fracs])
            report[f"outside_roi_{b}"] = {"median": float(np.median(v)), "p90": float(np.quantile(v, 0.9)),
                                          "max": float(v.max()), "n_over_1pct": int((v > 0.01).sum()), "N": len(v)}
            text += (f"\nmodel flux outside the {args.roi}″ ROI ({b}): median {np.median(v):.4f}, 90th pct "
                     f"{np.quantile(v, 0.9):.4f}, max {v.max():.4f}, {(v > 0.01).sum()}/{len(v)} galaxies above 1%")
    if psf_missing:
        text += f"\nfit-psf missing flux fraction: {psf_missing}"
    print(text)
    with open(os.path.join(args.out, f"report{args.tag}.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(args.out, f"rows{args.tag}.json"), "w") as f:
        json.dump({"optimize": rows_opt, "sample": rows_smp, "roi": roi_fracs}, f)


if __name__ == "__main__":
    main()

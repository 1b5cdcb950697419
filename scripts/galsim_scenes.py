#!/usr/bin/env python3
"""Independent validation scenes for `tessera` scene fitting, rendered by GalSim (issue 16).

GalSim draws exact Sérsic profiles and point sources convolved with a Moffat PSF and integrated
over the pixels (drawImage method 'auto'), into dithered, rotated exposures written as a JWST
``i2d`` would be: primary HDU with FILTER, ``SCI`` in MJy/sr with ``BUNIT``/``PIXAR_SR`` and a TAN
WCS with a CD matrix, ``ERR`` (1σ, same unit), ``DQ`` (int32; bit 0 = DO_NOT_USE). Nothing here is
Tessera's own model, so fitting these scenes measures model error as well as noise.

GalSim is needed only to *generate* scenes (``pip install galsim``), never to run Tessera; small
instances are committed under ``Tests/Fixtures/galsim`` so CI needs no GalSim.

Output directory layout::

    images/<band>-<k>.fits       exposures (2 bands x 3 exposures by default)
    psf_<band>.fits              the PSF image at the exposures' pixel scale (pixel-integrated),
                                 for `tessera fit-psf --image psf_<band>.fits --band <band>`
    truth.fits, truth.csv        the truth catalog (Tessera's columns, fluxes in nJy)
    initial.fits                 starting catalog: 20% flux and 10 mas position errors, shapes perturbed
    scene.json                   the generator's settings and conventions

Conventions (those Tessera expects, see README "Scene fitting" and SceneCatalog.swift):
- ``rhalf`` in truth/initial is the half-light radius ALONG THE MAJOR AXIS in arcsec (Tessera's
  default ``rhalf_convention: major``). GalSim's ``half_light_radius`` is that of the circular
  profile before the area-preserving shear, i.e. the circularized radius r_circ = r_major·√q; the
  column ``rhalf_circ`` holds it (read it with ``rhalf_convention: circularized``).
  The drawn r_circ is uniform in [0.05, 0.4]″ (the issue's range for r_half), so r_major = r_circ/√q.
- ``pa`` in radians, of the major axis, measured from north through east, in [-π/2, π/2).
  GalSim's shear angle β is measured from +u (east) toward +v (north), so β = π/2 − pa.
- ``q`` = b/a. Fluxes in nJy (total, per band); ``ra``/``dec`` in degrees.
- Positions: all exposures share one tangent point (CRVAL); each has its own dither (CRPIX) and
  rotation (CD matrix). The world coordinates GalSim draws in are (u, v) = (east, north) arcsec on
  that tangent plane, exactly the FITS TAN intermediate coordinates, so pixel (x, y) (1-based FITS)
  maps to (u, v) = 3600·CD·(x − CRPIX1, y − CRPIX2).
- The PSF is a circular Moffat (β = 3, FWHM per band), so it is the same in every rotated exposure.

Usage::

    python3 scripts/galsim_scenes.py --out DIR --kind crowded --sources 30 --size 200 --seed 11
    python3 scripts/galsim_scenes.py --fixtures      # regenerates Tests/Fixtures/galsim (small)
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np

try:
    import galsim
    from astropy.io import fits
except ImportError as e:  # pragma: no cover
    sys.exit(f"galsim_scenes.py needs galsim and astropy (pip install galsim astropy): {e}")

ARCSEC_PER_RAD = 206264.80624709636
BANDS = ["F150W", "F200W"]
PSF_FWHM = {"F150W": 0.075, "F200W": 0.10}  # arcsec
MOFFAT_BETA = 3.0


def pixar_sr(scale):
    return (scale / ARCSEC_PER_RAD) ** 2


def gnomonic_inverse(ra0, dec0, xi, eta):
    """(ξ, η) in arcsec on the tangent plane at (ra0, dec0) [deg] -> (ra, dec) [deg] (FITS TAN)."""
    x, y = xi / ARCSEC_PER_RAD, eta / ARCSEC_PER_RAD
    a0, d0 = math.radians(ra0), math.radians(dec0)
    denom = math.cos(d0) - y * math.sin(d0)
    ra = a0 + math.atan2(x, denom)
    dec = math.atan2(math.sin(d0) + y * math.cos(d0), math.hypot(x, denom))
    return math.degrees(ra) % 360, math.degrees(dec)


def random_sources(rng, count, field, min_sep, point_fraction, flux_range):
    """Sources uniform in a `field`-arcsec square centred on (0, 0), at least `min_sep` apart."""
    out = []
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > 200000:
            raise SystemExit(f"cannot place {count} sources {min_sep}″ apart in {field}″")
        u, v = rng.uniform(-field / 2, field / 2, 2)
        if any(math.hypot(u - s["u"], v - s["v"]) < min_sep for s in out):
            continue
        is_point = rng.uniform() < point_fraction
        lo, hi = np.log(flux_range[0]), np.log(flux_range[1])
        f0 = float(np.exp(rng.uniform(lo, hi)))
        colour = float(np.exp(rng.normal(0, 0.3)))
        s = {"u": float(u), "v": float(v), "flux": [f0, f0 * colour], "is_point": bool(is_point)}
        if is_point:
            # Tessera ignores shape columns of point sources; give neutral values.
            s.update(q=1.0, pa=0.0, sersic=1.0, rhalf_circ=0.05)
        else:
            s.update(q=float(rng.uniform(0.3, 0.95)), pa=float(rng.uniform(-math.pi / 2, math.pi / 2)),
                     sersic=float(rng.uniform(0.8, 5.0)), rhalf_circ=float(rng.uniform(0.05, 0.4)))
        out.append(s)
    return out


def galsim_profile(s, band_index):
    flux = s["flux"][band_index]
    if s["is_point"]:
        return galsim.DeltaFunction(flux=flux)
    g = galsim.Sersic(n=s["sersic"], half_light_radius=s["rhalf_circ"], flux=flux,
                      gsparams=galsim.GSParams(maximum_fft_size=16384, folding_threshold=1e-3))
    return g.shear(q=s["q"], beta=(math.pi / 2 - s["pa"]) * galsim.radians)


def psf_profile(band):
    return galsim.Moffat(beta=MOFFAT_BETA, fwhm=PSF_FWHM[band])


def exposure_wcs(scale, theta, crpix):
    """CD matrix (deg/pixel) of a north-up/east-left image rotated by `theta` (rad), and the GalSim
    affine WCS in (u, v) = (east, north) arcsec with the same mapping."""
    c, s = math.cos(theta), math.sin(theta)
    # Unrotated: u = -scale·dx, v = +scale·dy; rotate (u, v) by theta.
    m = np.array([[c, -s], [s, c]]) @ np.array([[-scale, 0.0], [0.0, scale]])
    cd = m / 3600.0
    wcs = galsim.AffineTransform(m[0, 0], m[0, 1], m[1, 0], m[1, 1], origin=galsim.PositionD(*crpix))
    return cd, wcs


def check_pa_convention():
    """Guard the pa ↔ β conversion: an elongated profile with pa = 30° must have its major axis
    30° east of north in (u, v) = (east, north)."""
    s = {"is_point": False, "flux": [1.0], "q": 0.3, "pa": math.radians(30), "sersic": 1.0, "rhalf_circ": 0.1}
    img = galsim_profile(s, 0).drawImage(nx=96, ny=96, scale=0.01, method="no_pixel")
    a = img.array
    y, x = np.mgrid[0:96, 0:96]
    w = a / a.sum()
    cx, cy = (w * x).sum(), (w * y).sum()
    uxx, vyy, uxy = (w * (x - cx) ** 2).sum(), (w * (y - cy) ** 2).sum(), (w * (x - cx) * (y - cy)).sum()
    beta = 0.5 * math.atan2(2 * uxy, uxx - vyy)  # image x = +u here (PixelScale), y = +v
    pa = math.atan2(math.cos(beta), math.sin(beta))  # direction (east, north) = (cos β, sin β)
    pa = (pa + math.pi / 2) % math.pi - math.pi / 2
    assert abs(pa - math.radians(30)) < 0.02, f"pa convention broken: measured {math.degrees(pa)}°"


def write_catalog(path, sources, ra0, dec0, bands, fluxes=None, positions=None, shapes=None):
    n = len(sources)
    ra, dec = [], []
    for i, s in enumerate(sources):
        u, v = positions[i] if positions else (s["u"], s["v"])
        r, d = gnomonic_inverse(ra0, dec0, u, v)
        ra.append(r)
        dec.append(d)
    sh = shapes or [(s["q"], s["pa"], s["sersic"], s["rhalf_circ"]) for s in sources]
    cols = [
        fits.Column("id", "K", array=np.arange(1, n + 1)),
        fits.Column("ra", "D", unit="deg", array=ra), fits.Column("dec", "D", unit="deg", array=dec),
        fits.Column("q", "D", array=[x[0] for x in sh]), fits.Column("pa", "D", unit="rad", array=[x[1] for x in sh]),
        fits.Column("sersic", "D", array=[x[2] for x in sh]),
        fits.Column("rhalf", "D", unit="arcsec", array=[x[3] / math.sqrt(x[0]) for x in sh]),
        fits.Column("rhalf_circ", "D", unit="arcsec", array=[x[3] for x in sh]),
        fits.Column("is_point", "L", array=[s["is_point"] for s in sources]),
    ]
    for b, band in enumerate(bands):
        cols.append(fits.Column(band, "D", unit="nJy", array=[(fluxes[i] if fluxes else s["flux"])[b] for i, s in enumerate(sources)]))
    hdu = fits.BinTableHDU.from_columns(cols, name="CATALOG")
    hdu.header["BANDS"] = ",".join(bands)
    hdu.header["RHALF"] = ("major", "rhalf along the major axis; rhalf_circ = rhalf*sqrt(q)")
    hdu.header["PACONV"] = ("N through E", "pa of the major axis, radians")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
    return ra, dec


def make_scene(out, kind, count, size, seed, scale=0.03, exposures=3, sky_sigma=0.5, mask_fraction=0.01,
               flux_range=(100.0, 2000.0), point_fraction=0.2, field=None, psf_size=51, noise_free=False):
    """Writes one scene into `out`; returns its settings (also written as scene.json).

    `noise_free`: the SCI images hold the rendered scene without noise (ERR still says `sky_sigma`),
    so a fit started at the truth moves only by model error; its pulls are model error in units of
    the noise σ the real scene would have. The random draws are the same as without it."""
    check_pa_convention()
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    ra0, dec0 = 53.16, -27.78
    extent = size * scale
    if field is None:
        field = min(4.4, extent - 1.2) if kind == "crowded" else extent - 1.2
    min_sep = 0.12 if kind == "crowded" else 1.0
    sources = random_sources(rng, count, field, min_sep, point_fraction, flux_range)

    # PSF images for fit-psf: pixel-integrated, centred on the central pixel.
    for band in BANDS:
        img = psf_profile(band).drawImage(nx=psf_size, ny=psf_size, scale=scale, method="auto")
        hdu = fits.PrimaryHDU(img.array.astype(np.float64))
        hdu.header["FILTER"] = band
        hdu.header["PIXSCALE"] = (scale, "arcsec per pixel")
        hdu.header["PSFMODEL"] = f"Moffat beta={MOFFAT_BETA} fwhm={PSF_FWHM[band]}"
        hdu.writeto(os.path.join(out, f"psf_{band}.fits"), overwrite=True)

    sky = sky_sigma  # nJy per pixel, 1σ
    conv = 1.0 / (pixar_sr(scale) * 1e15)  # nJy/pixel -> MJy/sr
    images = []
    for b, band in enumerate(BANDS):
        psf = psf_profile(band)
        for k in range(exposures):
            theta = math.radians(rng.uniform(0, 360))
            crpix = ((size + 1) / 2 + rng.uniform(-3, 3), (size + 1) / 2 + rng.uniform(-3, 3))
            cd, wcs = exposure_wcs(scale, theta, crpix)
            image = galsim.ImageD(size, size, wcs=wcs)  # bounds 1..size: FITS pixel numbers
            inv = np.linalg.inv(cd * 3600)
            for s in sources:
                p = inv @ np.array([s["u"], s["v"]]) + np.array(crpix)
                # Skip sources whose light cannot reach this exposure (> 3″ off the edge).
                if not (-100 < p[0] < size + 100 and -100 < p[1] < size + 100):
                    continue
                obj = galsim.Convolve(galsim_profile(s, b), psf)
                obj.drawImage(image=image, add_to_image=True, center=galsim.PositionD(p[0], p[1]), method="auto")
            noise = rng.normal(0, sky, image.array.shape)
            data = image.array + (0.0 if noise_free else noise)
            dq = np.zeros(data.shape, dtype=np.int32)
            bad = rng.uniform(size=data.shape) < mask_fraction
            dq[bad] = 1
            col = rng.integers(0, size)
            dq[:, col] |= 1  # a bad column
            data[bad] = np.where(rng.uniform(size=bad.sum()) < 0.5, np.nan, 1e4)  # garbage where masked
            data[:, col] = np.nan
            name = f"{band}-{k}"
            primary = fits.PrimaryHDU()
            primary.header["TELESCOP"] = "GALSIM"
            primary.header["INSTRUME"] = "NIRCAM"
            primary.header["FILTER"] = band
            primary.header["EXPNAME"] = name
            sci = fits.ImageHDU((data * conv).astype(np.float32), name="SCI")
            h = sci.header
            h["BUNIT"] = "MJy/sr"
            h["PIXAR_SR"] = pixar_sr(scale)
            h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
            h["CUNIT1"], h["CUNIT2"] = "deg", "deg"
            h["CRVAL1"], h["CRVAL2"] = ra0, dec0
            h["CRPIX1"], h["CRPIX2"] = crpix
            h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = cd[0, 0], cd[0, 1], cd[1, 0], cd[1, 1]
            h["EXPNAME"] = name
            err = fits.ImageHDU(np.full(data.shape, sky * conv, dtype=np.float32), name="ERR")
            err.header["BUNIT"] = "MJy/sr"
            dqh = fits.ImageHDU(dq, name="DQ")
            path = os.path.join(out, "images", f"{name}.fits")
            fits.HDUList([primary, sci, err, dqh]).writeto(path, overwrite=True)
            images.append(path)

    # Truth, and a starting catalog with 20% flux and 10 mas (per axis) position errors; shapes
    # perturbed (q ±0.1, pa ±0.2 rad, n ±0.5, r_half ±20%) and kept inside Tessera's default bounds.
    truth_ra, truth_dec = write_catalog(os.path.join(out, "truth.fits"), sources, ra0, dec0, BANDS)
    fluxes = [[f * (1 + 0.2 * rng.normal()) for f in s["flux"]] for s in sources]
    fluxes = [[max(f, 0.05 * t) for f, t in zip(fl, s["flux"])] for fl, s in zip(fluxes, sources)]
    positions = [(s["u"] + rng.normal(0, 0.010), s["v"] + rng.normal(0, 0.010)) for s in sources]
    shapes = []
    for s in sources:
        q = float(np.clip(s["q"] + rng.normal(0, 0.1), 0.25, 0.99))
        pa = (s["pa"] + rng.normal(0, 0.2) + math.pi / 2) % math.pi - math.pi / 2
        n = float(np.clip(s["sersic"] + rng.normal(0, 0.5), 0.85, 5.5))
        r = float(np.clip(s["rhalf_circ"] * (1 + 0.2 * rng.normal()), 0.03, 0.6))
        shapes.append((q, pa, n, r) if not s["is_point"] else (1.0, 0.0, 1.0, 0.05))
    write_catalog(os.path.join(out, "initial.fits"), sources, ra0, dec0, BANDS, fluxes=fluxes, positions=positions, shapes=shapes)
    with open(os.path.join(out, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "ra", "dec", "q", "pa", "sersic", "rhalf", "rhalf_circ", "is_point"] + BANDS)
        for i, s in enumerate(sources):
            w.writerow([i + 1, repr(truth_ra[i]), repr(truth_dec[i]), s["q"], s["pa"], s["sersic"],
                        s["rhalf_circ"] / math.sqrt(s["q"]), s["rhalf_circ"], int(s["is_point"])] + s["flux"])
    settings = {"kind": kind, "sources": count, "size": size, "seed": seed, "pixel_scale": scale,
                "exposures_per_band": exposures, "bands": BANDS, "psf": {b: {"model": "Moffat", "beta": MOFFAT_BETA, "fwhm_arcsec": PSF_FWHM[b]} for b in BANDS},
                "sky_sigma_njy_per_pixel": sky, "field_arcsec": field, "min_separation_arcsec": min_sep,
                "noise_free": bool(noise_free), "flux_range_njy": list(flux_range), "point_fraction": point_fraction, "mask_fraction": mask_fraction,
                "rhalf_convention": "major (rhalf = r_circ/sqrt(q)); rhalf_circ = GalSim half_light_radius",
                "pa_convention": "radians, major axis, from north through east; GalSim beta = pi/2 - pa",
                "galsim_version": galsim.__version__,
                "preprocess": "tessera preprocess images/*.fits --sci-hdu SCI --unc-hdu ERR --mask-hdu DQ --dq-bad-bits 1 --out pixels.h5"}
    with open(os.path.join(out, "scene.json"), "w") as f:
        json.dump(settings, f, indent=1)
    return settings


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out")
    ap.add_argument("--kind", choices=["crowded", "isolated"], default="crowded")
    ap.add_argument("--sources", type=int, default=30)
    ap.add_argument("--size", type=int, default=200, help="pixels per side (0.03″ pixels)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--exposures", type=int, default=3, help="per band")
    ap.add_argument("--noise-free", action="store_true", help="no noise in SCI (ERR unchanged): measures model error")
    ap.add_argument("--fixtures", action="store_true", help="regenerate the committed small fixtures")
    a = ap.parse_args()
    if a.fixtures:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "galsim")
        make_scene(os.path.join(root, "isolated"), "isolated", 4, 96, seed=1601)
        make_scene(os.path.join(root, "crowded"), "crowded", 8, 72, seed=1602, field=1.4)
        return
    if not a.out:
        ap.error("--out is required (or --fixtures)")
    make_scene(a.out, a.kind, a.sources, a.size, a.seed, exposures=a.exposures, noise_free=a.noise_free)


if __name__ == "__main__":
    main()

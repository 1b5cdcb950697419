#!/usr/bin/env python3
"""Generate wcs_fixture.json: pixel <-> sky pairs computed by astropy (wcslib) for TAN WCSs.

Why: TesseraFITS implements the gnomonic (TAN) projection in pure Swift. Its tests compare
against this independent implementation rather than against themselves.

Conventions recorded in the fixture (the same as TesseraFITS's public API):
  * pixel coordinates are 0-based (astropy origin = 0): x = column (FITS axis 1), y = row;
  * sky coordinates are degrees (RA, Dec); RA values are whatever astropy returns.
Floats are written with Python's repr (shortest round-trip form), so no digits are lost.

astropy is needed only to *generate* the fixture, never at Tessera's run time:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install astropy
    /tmp/venv/bin/python Tests/TesseraFITSTests/Fixtures/make_wcs_fixture.py
The output is deterministic (fixed random seed) and written next to this script.
"""
import json
import math
import os
import warnings

import astropy
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

ARCSEC = 1.0 / 3600.0


def rotation_cd(scale_arcsec, angle_deg, flip_east=True, shear=0.0):
    """CD matrix (deg/pix) for a pixel scale, rotation and handedness, with optional shear."""
    s = scale_arcsec * ARCSEC
    c, n = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    sign = -1.0 if flip_east else 1.0
    return [[sign * s * c, -s * n + shear * s], [sign * s * n, s * c]]


def cd_cards(cd):
    return [("CD1_1", cd[0][0]), ("CD1_2", cd[0][1]), ("CD2_1", cd[1][0]), ("CD2_2", cd[1][1])]


def tan_cards(crval, crpix):
    return [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"),
            ("CRVAL1", crval[0]), ("CRVAL2", crval[1]),
            ("CRPIX1", crpix[0]), ("CRPIX2", crpix[1])]


# Each case: name, header cards (ordered), image size (for choosing sample points).
CASES = [
    ("north_up_east_left", tan_cards((150.1, 2.2), (1024.5, 1024.5))
     + cd_cards(rotation_cd(0.2, 0.0)), (2048, 2048)),
    ("rotated_flipped_cd", tan_cards((83.63308, 22.0145), (512.0, 300.25))
     + cd_cards(rotation_cd(0.396, 31.7, flip_east=True, shear=0.01)), (1024, 600)),
    ("rotated_unflipped_cd", tan_cards((10.684708, 41.26875), (-20.5, 1500.0))
     + cd_cards(rotation_cd(1.5, -123.4, flip_east=False)), (2000, 1800)),
    ("cdelt_pc", tan_cards((266.41683, -29.00781), (401.0, 399.5))
     + [("CDELT1", -1.0e-4), ("CDELT2", 1.2e-4),
        ("PC1_1", 0.9), ("PC1_2", -0.42), ("PC2_1", 0.38), ("PC2_2", 0.93)], (800, 800)),
    ("cdelt_crota2", tan_cards((201.365063, -43.019113), (1200.0, 800.0))
     + [("CDELT1", -2.5e-4), ("CDELT2", 2.5e-4), ("CROTA2", 37.5)], (2400, 1600)),
    # Integer CRPIX values exercise integer-typed header cards read as reals.
    ("near_dec_plus80_wide", tan_cards((45.0, 80.0), (1000, 1000))
     + cd_cards(rotation_cd(30.0, 12.0)), (2000, 2000)),
    ("ra_wrap_0_360", tan_cards((359.98, 10.5), (500.5, 500.5))
     + cd_cards(rotation_cd(1.0, 5.0)), (1000, 1000)),
    ("negative_dec_rotated", tan_cards((210.5, -45.3), (1500.0, 1000.0))
     + cd_cards(rotation_cd(10.0, -70.0, shear=-0.02)), (3000, 2000)),
    ("very_wide_field", tan_cards((300.0, -20.0), (1500.5, 1500.5))
     + cd_cards(rotation_cd(60.0, 20.0)), (3000, 3000)),
]


def sample_pixels(rng, size, n_random=40):
    w, h = size
    pts = [(0.0, 0.0), (w - 1.0, 0.0), (0.0, h - 1.0), (w - 1.0, h - 1.0),
           ((w - 1) / 2.0, (h - 1) / 2.0), (-50.25, h + 30.75)]
    for _ in range(n_random):
        pts.append((float(rng.uniform(-0.1 * w, 1.1 * w)), float(rng.uniform(-0.1 * h, 1.1 * h))))
    return pts


def to_json(value, indent=0):
    """JSON with one line per header card or sample point, so that diffs stay readable.

    json.dumps writes floats with repr(), the shortest text that reads back to the same double.
    """
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad}  {json.dumps(k)}: {to_json(v, indent + 2).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}" + ("\n" if indent == 0 else "")
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        items = [to_json(v, indent + 2) for v in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(value)


def main():
    rng = np.random.RandomState(20240531)
    out_cases = []
    for name, cards, size in CASES:
        header = fits.Header()
        header["NAXIS"] = 2
        header["NAXIS1"] = size[0]
        header["NAXIS2"] = size[1]
        for key, value in cards:
            header[key] = value
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header)

        pixels = sample_pixels(rng, size)
        xs = np.array([p[0] for p in pixels])
        ys = np.array([p[1] for p in pixels])
        ras, decs = wcs.wcs_pix2world(xs, ys, 0)
        pixel_to_sky = [[float(x), float(y), float(r), float(d)] for x, y, r, d in zip(xs, ys, ras, decs)]

        # Sky points: the sampled sky positions moved by random offsets of up to ~5% of the
        # field, plus, for the wrap case, the same positions written with RA shifted by +-360.
        span = max(size) * math.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix)))
        sky = []
        for r, d in zip(ras, decs):
            dd = float(rng.uniform(-0.05, 0.05) * span)
            dr = float(rng.uniform(-0.05, 0.05) * span) / math.cos(math.radians(d))
            sky.append((float(r) + dr, float(d) + dd))
        if name == "ra_wrap_0_360":
            sky += [(r - 360.0 if r > 180 else r + 360.0, d) for r, d in sky[:6]]
            sky += [(359.999, 10.49), (0.001, 10.51), (-0.002, 10.5)]
        sky_ra = np.array([s[0] for s in sky])
        sky_dec = np.array([s[1] for s in sky])
        px, py = wcs.wcs_world2pix(sky_ra, sky_dec, 0)
        sky_to_pixel = [[float(r), float(d), float(x), float(y)] for r, d, x, y in zip(sky_ra, sky_dec, px, py)]

        out_cases.append({
            "name": name,
            "header": [[k, v] for k, v in cards],
            "pixel_to_sky": pixel_to_sky,
            "sky_to_pixel": sky_to_pixel,
        })

    document = {
        "description": "pixel<->sky pairs from astropy.wcs (wcslib); pixels 0-based (origin=0), sky in degrees. "
                       "pixel_to_sky rows: [x, y, ra, dec] (astropy wcs_pix2world(x, y, 0)); "
                       "sky_to_pixel rows: [ra, dec, x, y] (astropy wcs_world2pix(ra, dec, 0)).",
        "generator": "make_wcs_fixture.py",
        "astropy_version": astropy.__version__,
        "numpy_version": np.__version__,
        "cases": out_cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wcs_fixture.json")
    with open(path, "w") as f:
        f.write(to_json(document))
    print(f"wrote {path}: {len(out_cases)} cases")


if __name__ == "__main__":
    main()

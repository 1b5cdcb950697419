#!/usr/bin/env python3
"""Writes the small MEDS fixtures that Tessera's MEDS reader is checked against.

The files are written by the python `fitsio` package (pip install fitsio numpy; needed only to
regenerate, never at test or run time), following the layout of the MEDS reference implementation
(esheldon/meds: object_data / image_info / metadata tables, flat *_cutouts arrays, psf array with
psf_row_size, psf_col_size, psf_cutout_row, psf_cutout_col, psf_start_row). The dtypes are those
of meds.util.get_meds_output_dtype and get_image_info_dtype (i8 vectors, f8 Jacobians, i2 *_ext,
f4 magzp/scale), so the reader's width conversions are exercised.

Outputs (Tests/StampsTests/Fixtures):
  fitsio-meds.fits             plain HDUs
  fitsio-meds-compressed.fits  the same, cutout arrays tile-compressed (GZIP_2 lossless for
                               floats, RICE_1 for integers), as fpack'ed DES MEDS files are
  fitsio-meds.json             what the tests compare: object_data values, and per cutout the sum
                               of each array, one off-diagonal pixel (to catch transposes) and the
                               PSF sum and shape, all computed here with numpy from the arrays
                               read back through fitsio.

Run:  python3 scripts/make_meds_fixture.py
"""
import json
import os

import fitsio
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StampsTests", "Fixtures")
DEFVAL = -9999
rng = np.random.RandomState(31415)

nobj, nmax = 4, 3
box = np.array([8, 12, 6, 10])
ncut = np.array([1, 3, 2, 3])
psf_shape = (7, 5)  # rows, cols: not square, so a row/column swap would be caught

dt = [("id", "i8"), ("number", "i8"), ("box_size", "i8"), ("ra", "f8"), ("dec", "f8"), ("ncutout", "i8"),
      ("file_id", "i8", nmax), ("start_row", "i8", nmax), ("orig_row", "f8", nmax), ("orig_col", "f8", nmax),
      ("orig_start_row", "i8", nmax), ("orig_start_col", "i8", nmax), ("cutout_row", "f8", nmax),
      ("cutout_col", "f8", nmax), ("dudrow", "f8", nmax), ("dudcol", "f8", nmax), ("dvdrow", "f8", nmax),
      ("dvdcol", "f8", nmax), ("psf_row_size", "i4", nmax), ("psf_col_size", "i4", nmax),
      ("psf_cutout_row", "f8", nmax), ("psf_cutout_col", "f8", nmax), ("psf_start_row", "i8", nmax)]
obj = np.zeros(nobj, dtype=dt)
for name in obj.dtype.names:
    if name != "ncutout":
        obj[name] = DEFVAL
obj["id"] = [501, 502, 503, 504]
obj["number"] = [1, 2, 3, 4]
obj["box_size"] = box
obj["ra"] = 40.0 + rng.uniform(0, 0.01, nobj)
obj["dec"] = -30.0 + rng.uniform(0, 0.01, nobj)
obj["ncutout"] = ncut

images, weights, segs, bmasks, psfs = [], [], [], [], []
row, prow = 0, 0
for i in range(nobj):
    for c in range(ncut[i]):
        n = box[i] * box[i]
        obj["file_id"][i, c] = c
        obj["start_row"][i, c] = row
        obj["orig_row"][i, c] = 100.0 + 10 * i + rng.uniform()
        obj["orig_col"][i, c] = 200.0 + 10 * i + rng.uniform()
        obj["orig_start_row"][i, c] = int(obj["orig_row"][i, c]) - box[i] // 2
        obj["orig_start_col"][i, c] = int(obj["orig_col"][i, c]) - box[i] // 2
        obj["cutout_row"][i, c] = obj["orig_row"][i, c] - obj["orig_start_row"][i, c]
        obj["cutout_col"][i, c] = obj["orig_col"][i, c] - obj["orig_start_col"][i, c]
        theta = rng.uniform(0, 2 * np.pi)
        s = 0.263
        obj["dudrow"][i, c], obj["dudcol"][i, c] = -s * np.sin(theta), s * np.cos(theta)
        obj["dvdrow"][i, c], obj["dvdcol"][i, c] = s * np.cos(theta), s * np.sin(theta)
        obj["psf_row_size"][i, c], obj["psf_col_size"][i, c] = psf_shape
        obj["psf_cutout_row"][i, c], obj["psf_cutout_col"][i, c] = 3.0, 2.0
        obj["psf_start_row"][i, c] = prow
        images.append(rng.normal(10.0 * (i + 1), 1.0, n).astype("f4"))
        weights.append(rng.uniform(0.5, 2.0, n).astype("f4"))
        segs.append(rng.randint(0, 5, n).astype("i4"))
        bmasks.append((rng.uniform(size=n) < 0.05).astype("i4") * (2 ** 30))
        p = rng.uniform(size=psf_shape[0] * psf_shape[1]).astype("f4")
        psfs.append((p / p.sum()).astype("f4"))
        row += n
        prow += p.size

path_len = 40
info_dt = []
for t in ["image", "weight", "seg", "bmask", "bkg"]:
    info_dt += [("%s_path" % t, "S%d" % path_len), ("%s_ext" % t, "i2")]
info_dt += [("image_id", "i8"), ("image_flags", "i8"), ("magzp", "f4"), ("scale", "f4"), ("position_offset", "f8")]
info = np.zeros(nmax, dtype=info_dt)
info["scale"] = 1.0
for k in range(nmax):
    info["image_path"][k] = "coadd.fits" if k == 0 else "se-%d.fits" % k
    info["image_ext"][k] = 1
    info["image_id"][k] = k
    info["magzp"][k] = 30.0
    info["position_offset"][k] = 1.0
meta = np.zeros(1, dtype=[("magzp_ref", "f8"), ("meds_fmt_version", "S5")])
meta["magzp_ref"] = 30.0
meta["meds_fmt_version"] = "1.0.0"

arrays = {"image_cutouts": np.concatenate(images), "weight_cutouts": np.concatenate(weights),
          "seg_cutouts": np.concatenate(segs), "bmask_cutouts": np.concatenate(bmasks), "psf": np.concatenate(psfs)}


def write(path, compress):
    if os.path.exists(path):
        os.remove(path)
    with fitsio.FITS(path, "rw") as f:
        f.write(obj, extname="object_data")
        f.write(info, extname="image_info")
        f.write(meta, extname="metadata")
        for name, arr in arrays.items():
            if compress:
                ctype = "RICE_1" if arr.dtype.kind == "i" else "GZIP_2"
                f.write(arr, extname=name, compress=ctype, qlevel=None, tile_dims=[100])
            else:
                f.write(arr, extname=name)


os.makedirs(OUT, exist_ok=True)
plain = os.path.join(OUT, "fitsio-meds.fits")
packed = os.path.join(OUT, "fitsio-meds-compressed.fits")
write(plain, False)
write(packed, True)

# What the tests compare, computed from the arrays as fitsio reads them back.
record = {"objects": []}
with fitsio.FITS(plain) as f, fitsio.FITS(packed) as g:
    for name in arrays:
        assert np.array_equal(f[name].read(), g[name].read()), "compressed %s is not lossless" % name
    cat = f["object_data"].read()
    for i in range(nobj):
        o = {k: int(cat[k][i]) for k in ["id", "number", "box_size", "ncutout"]}
        o.update({k: float(cat[k][i]) for k in ["ra", "dec"]})
        o["cutouts"] = []
        b = int(cat["box_size"][i])
        for c in range(int(cat["ncutout"][i])):
            s0 = int(cat["start_row"][i, c])
            cut = {k: float(cat[k][i, c]) for k in ["orig_row", "orig_col", "cutout_row", "cutout_col",
                                                     "dudrow", "dudcol", "dvdrow", "dvdcol"]}
            cut.update({k: int(cat[k][i, c]) for k in ["file_id", "start_row", "orig_start_row", "orig_start_col"]})
            for name in ["image_cutouts", "weight_cutouts", "seg_cutouts", "bmask_cutouts"]:
                im = f[name][s0:s0 + b * b].reshape(b, b)
                key = name.replace("_cutouts", "")
                cut[key + "_sum"] = float(im.astype("f8").sum())
                cut[key + "_r1c2"] = float(im[1, 2])
            ps = int(cat["psf_start_row"][i, c])
            pr, pc = int(cat["psf_row_size"][i, c]), int(cat["psf_col_size"][i, c])
            pim = f["psf"][ps:ps + pr * pc].reshape(pr, pc)
            cut.update({"psf_rows": pr, "psf_cols": pc, "psf_sum": float(pim.astype("f8").sum()),
                        "psf_r1c2": float(pim[1, 2]), "psf_cutout_row": float(cat["psf_cutout_row"][i, c])})
            o["cutouts"].append(cut)
        record["objects"].append(o)
    record["image_paths"] = [str(p).strip() for p in f["image_info"]["image_path"].read()]
    record["fitsio_version"] = fitsio.__version__

with open(os.path.join(OUT, "fitsio-meds.json"), "w") as fh:
    json.dump(record, fh, indent=1, sort_keys=True)
print("wrote", plain, packed, "and fitsio-meds.json")

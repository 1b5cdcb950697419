#!/usr/bin/env python3
"""Compare two output folders of scripts/reference-outputs.sh value for value.

Every HDF5 dataset and attribute, every FITS header card and data byte, every JSON, JSONL and
CSV value must be identical, bit for bit, except the fields that record *how* a run went rather
than *what* it computed (wall-clock times, which rank did a piece of work, host names, the git
commit and the folder the run was written to). Those are listed in VOLATILE below, so a reader
sees exactly what is exempt.

Dev-time tool (needs h5py and astropy from pip; never used by Tessera itself):

    python3 scripts/compare_outputs.py /tmp/ref-before /tmp/ref-after

Exit 0 when identical, 1 with a list of differences otherwise.
"""
import csv
import io
import json
import os
import sys

import h5py
import numpy as np
from astropy.io import fits

# Names (dataset, attribute, column, JSON key or header keyword, case-insensitive) whose values
# describe the execution, not the result.
VOLATILE = {
    "seconds", "t_start", "t_end", "time", "rank", "elapsed", "wall_seconds",
    "date", "checksum", "datasum", "host", "hosts",
}
# Files that only describe the execution (start and end time, host names, git commit, argv; the
# HTML report shows those and timings).
SKIP_FILES = {"metadata.json", "report.html"}
SKIP_SUFFIXES = (".log",)


def volatile(name):
    return name.split("/")[-1].lower() in VOLATILE


def normalise_text(text, root):
    return text.replace(root, "<ROOT>")


def walk(root):
    files = set()
    for dirpath, _, names in os.walk(root):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            if n in SKIP_FILES or n.endswith(SKIP_SUFFIXES) or rel.split(os.sep)[-2:-1] == ["report"]:
                continue  # (report/: pictures of a report too large to embed)
            files.add(rel)
    return files


def attr_value(v, root):
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, str):
        return normalise_text(v, root)
    return np.asarray(v).tobytes() + str(np.asarray(v).dtype).encode()


def compare_hdf5(a, b, ra, rb, diffs, rel):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        objs_a, objs_b = {}, {}
        fa.visititems(lambda n, o: objs_a.__setitem__(n, o))
        fb.visititems(lambda n, o: objs_b.__setitem__(n, o))
        for name in sorted(set(objs_a) | set(objs_b)):
            if name not in objs_a or name not in objs_b:
                diffs.append(f"{rel}:/{name} only in {'B' if name not in objs_a else 'A'}")
                continue
            oa, ob = objs_a[name], objs_b[name]
            for key in sorted(set(oa.attrs) | set(ob.attrs)):
                if volatile(key):
                    continue
                if key not in oa.attrs or key not in ob.attrs:
                    diffs.append(f"{rel}:/{name} attribute {key} missing on one side")
                elif attr_value(oa.attrs[key], ra) != attr_value(ob.attrs[key], rb):
                    diffs.append(f"{rel}:/{name} attribute {key}: {oa.attrs[key]!r} != {ob.attrs[key]!r}")
            if isinstance(oa, h5py.Dataset):
                if volatile(name):
                    continue
                va, vb = oa[()], ob[()]
                if oa.dtype != ob.dtype or np.shape(va) != np.shape(vb):
                    diffs.append(f"{rel}:/{name} dtype/shape {oa.dtype}{np.shape(va)} != {ob.dtype}{np.shape(vb)}")
                elif oa.dtype.kind in "OSU":
                    if [attr_value(x, ra) for x in np.ravel(va)] != [attr_value(x, rb) for x in np.ravel(vb)]:
                        diffs.append(f"{rel}:/{name} strings differ")
                elif np.asarray(va).tobytes() != np.asarray(vb).tobytes():
                    n = int(np.sum(np.asarray(va) != np.asarray(vb)))
                    diffs.append(f"{rel}:/{name} {n} value(s) differ")


def compare_fits(a, b, ra, rb, diffs, rel):
    with fits.open(a) as fa, fits.open(b) as fb:
        if len(fa) != len(fb):
            diffs.append(f"{rel}: {len(fa)} HDUs != {len(fb)}")
            return
        for i, (ha, hb) in enumerate(zip(fa, fb)):
            cards_a = [(c.keyword, normalise_text(str(c.value), ra)) for c in ha.header.cards if not volatile(c.keyword)]
            cards_b = [(c.keyword, normalise_text(str(c.value), rb)) for c in hb.header.cards if not volatile(c.keyword)]
            if cards_a != cards_b:
                diffs.append(f"{rel}[{i}] header differs: {sorted(set(cards_a) ^ set(cards_b))[:6]}")
            if isinstance(ha, fits.BinTableHDU):
                for col in ha.columns.names:
                    if volatile(col):
                        continue
                    if np.asarray(ha.data[col]).tobytes() != np.asarray(hb.data[col]).tobytes():
                        diffs.append(f"{rel}[{i}] column {col} differs")
            elif ha.data is not None or hb.data is not None:
                if ha.data is None or hb.data is None or ha.data.tobytes() != hb.data.tobytes():
                    diffs.append(f"{rel}[{i}] image data differ")


def strip_json(v):
    if isinstance(v, dict):
        return {k: strip_json(x) for k, x in v.items() if not volatile(k)}
    if isinstance(v, list):
        return [strip_json(x) for x in v]
    return v


def compare_json(a, b, ra, rb, diffs, rel, lines=False):
    ta = normalise_text(open(a).read(), ra)
    tb = normalise_text(open(b).read(), rb)
    docs_a = [json.loads(l) for l in ta.splitlines() if l.strip()] if lines else [json.loads(ta)]
    docs_b = [json.loads(l) for l in tb.splitlines() if l.strip()] if lines else [json.loads(tb)]
    if strip_json(docs_a) != strip_json(docs_b):
        diffs.append(f"{rel}: JSON values differ")


def compare_csv(a, b, ra, rb, diffs, rel):
    rows_a = list(csv.reader(io.StringIO(normalise_text(open(a).read(), ra))))
    rows_b = list(csv.reader(io.StringIO(normalise_text(open(b).read(), rb))))
    if not rows_a or not rows_b or rows_a[0] != rows_b[0] or len(rows_a) != len(rows_b):
        diffs.append(f"{rel}: CSV header or row count differs")
        return
    keep = [i for i, name in enumerate(rows_a[0]) if not volatile(name)]
    for r, (x, y) in enumerate(zip(rows_a[1:], rows_b[1:])):
        if [x[i] for i in keep] != [y[i] for i in keep]:
            diffs.append(f"{rel}: row {r + 1} differs")
            return


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ra, rb = (os.path.realpath(p) for p in sys.argv[1:])
    fa, fb = walk(ra), walk(rb)
    diffs = [f"{f} only in {'A' if f in fa else 'B'}" for f in sorted(fa ^ fb)]
    compared = 0
    for rel in sorted(fa & fb):
        a, b = os.path.join(ra, rel), os.path.join(rb, rel)
        if rel.endswith(".h5"):
            compare_hdf5(a, b, ra, rb, diffs, rel)
        elif rel.endswith(".fits"):
            compare_fits(a, b, ra, rb, diffs, rel)
        elif rel.endswith(".jsonl"):
            compare_json(a, b, ra, rb, diffs, rel, lines=True)
        elif rel.endswith(".json"):
            compare_json(a, b, ra, rb, diffs, rel)
        elif rel.endswith(".csv"):
            compare_csv(a, b, ra, rb, diffs, rel)
        elif open(a, "rb").read() != open(b, "rb").read():
            diffs.append(f"{rel}: bytes differ")
        compared += 1
    for d in diffs:
        print("DIFF", d)
    print(f"compare_outputs: {compared} files compared, {len(diffs)} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

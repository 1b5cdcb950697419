#!/usr/bin/env python3
"""Independent check of a `tessera magmap` HDF5 map: re-shoot its own star field by direct
summation (no tree, no local expansions, a ray grid of its own) and compare the mean
magnification and the coarse-grained map with what Tessera wrote.

Why: a single map's mean can differ from 1/|(1-k)^2-g^2| by several per cent near the critical
line. This script tells a numerical error (the tree, the compensation, the ray grid) from the
star field's own sample variance: if direct summation over the *same* stars gives the same
mean, the deviation belongs to the star field, not to the code.

Lens equation (Einstein radii of 1 M_sun, x along the shear axis), as in Tessera's
`RayShooter`:
    y1 = (1 - k_s - g) x1 - a*_1(x) + c1 x1 + c2 x2
    y2 = (1 - k_s + g) x2 - a*_2(x) + c2 x1 - c1 x2
with a*(x) = sum_i m_i (x - x_i)/|x - x_i|^2, k_s = s k the smooth convergence and (c1, c2) the
stars' realised mean shear over the pre-image that the map file records as `cancelled_shear1/2`
(zero when the compensation was off). Rays fill the file's shooting rectangle on a square grid
of spacing --spacing; the map's mean is (rays landing in the map) * spacing^2 / size^2.

    pip install numpy numba h5py          (cross-check tools only; Tessera does not need them)
    tessera magmap --kappa 0.45 --gamma 0.45 --s 0.5 --pixels 250 --seed 7 --out runs/map
    python3 Benchmarks/map_mean_crosscheck.py runs/map/map.h5 [--spacing 0.05] [--blocks 10]
"""
import argparse
import sys
import time

import h5py
import numpy as np
from numba import njit, prange, get_num_threads


@njit(parallel=True, fastmath=True, cache=False)
def shoot(sx, sy, sm, x0, y0, d, nx, ny, a1, a2, c1, c2, half, npix):
    """Counts of rays per map pixel, summed over threads (direct summation over all stars)."""
    chunks = get_num_threads()
    counts = np.zeros((chunks, npix, npix), dtype=np.int64)
    scale = npix / (2.0 * half)
    for c in prange(chunks):
        for j in range(c, ny, chunks):
            x2 = y0 + (j + 0.5) * d
            for i in range(nx):
                x1 = x0 + (i + 0.5) * d
                ax = 0.0
                ay = 0.0
                for k in range(sx.shape[0]):
                    dx = x1 - sx[k]
                    dy = x2 - sy[k]
                    w = sm[k] / (dx * dx + dy * dy)
                    ax += w * dx
                    ay += w * dy
                u = a1 * x1 - ax + c1 * x1 + c2 * x2
                v = a2 * x2 - ay + c2 * x1 - c1 * x2
                pu = (u + half) * scale
                pv = (v + half) * scale
                if pu >= 0.0 and pu < npix and pv >= 0.0 and pv < npix:
                    counts[c, int(pv), int(pu)] += 1
    return counts.sum(axis=0)


def blocks(a, k):
    """Means of k x k blocks of a square array (side divisible by k)."""
    n = a.shape[0] // k
    return a[: n * k, : n * k].reshape(n, k, n, k).mean(axis=(1, 3))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("map", help="HDF5 map written by `tessera magmap` (with /stars)")
    p.add_argument("--spacing", type=float, default=0.05, help="ray grid spacing in Einstein radii")
    p.add_argument("--blocks", type=int, default=10, help="pixels per side of the coarse blocks compared")
    a = p.parse_args()

    try:
        f = h5py.File(a.map, "r")
    except OSError as e:
        sys.exit(f"{a.map}: cannot open as HDF5 ({e})")
    with f:
        if "stars" not in f:
            sys.exit(f"{a.map}: no /stars group (written by Tessera from this version on, and only for fields with stars)")
        at = dict(f["magnification"].attrs)
        mu_map = f["magnification"][...].astype(np.float64)
        sx, sy, sm = (f["stars"][n][...] for n in ("x", "y", "mass"))
    k, g, s, size = (float(at[n]) for n in ("kappa", "gamma", "s", "size_re"))
    c1 = float(at.get("cancelled_shear1", 0.0))
    c2 = float(at.get("cancelled_shear2", 0.0))
    wx, wy = float(at["shooting_half_width_x"]), float(at["shooting_half_width_y"])
    npix = mu_map.shape[0]
    ks = s * k
    a1, a2 = 1 - ks - g, 1 - ks + g
    theory = 1 / abs((1 - k) ** 2 - g ** 2)

    d = a.spacing
    nx, ny = int(np.ceil(2 * wx / d)), int(np.ceil(2 * wy / d))
    x0, y0 = -0.5 * nx * d, -0.5 * ny * d
    t = time.time()
    counts = shoot(sx, sy, sm, x0, y0, d, nx, ny, a1, a2, c1, c2, size / 2, npix)
    seconds = time.time() - t
    pixel_area = (size / npix) ** 2
    mu_direct = counts * (d * d / pixel_area)

    m_map, m_dir = mu_map.mean(), mu_direct.mean()
    landed = int(counts.sum())
    print(f"{a.map}: (kappa, gamma, s) = ({k}, {g}, {s}), {size} R_E, {npix}^2 pixels, {len(sx)} stars, seed {at.get('seed')}")
    print(f"  direct summation: {nx * ny} rays at spacing {d} R_E over {2 * wx:.1f} x {2 * wy:.1f} R_E, "
          f"{landed} landed, {seconds:.1f} s on {get_num_threads()} threads")
    print(f"  theory mu = {theory:.6g}")
    print(f"  Tessera map mean      = {m_map:.6g}  ({100 * (m_map / theory - 1):+.3f}% from theory)")
    print(f"  direct-summation mean = {m_dir:.6g}  ({100 * (m_dir / theory - 1):+.3f}% from theory; "
          f"ray-count noise ~{100 / np.sqrt(max(landed, 1)):.3f}%)")
    print(f"  Tessera - direct      = {100 * (m_map / m_dir - 1):+.3f}% of the mean")
    bt, bd = blocks(mu_map, a.blocks), blocks(mu_direct, a.blocks)
    rel = (bt - bd) / bd
    print(f"  {a.blocks}x{a.blocks}-pixel blocks ({bt.size}): rms relative difference {np.sqrt(np.mean(rel ** 2)):.4f}, "
          f"correlation {np.corrcoef(bt.ravel(), bd.ravel())[0, 1]:.5f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent cross-check of a Tessera Sersic mixture table (numpy + scipy, not Tessera code).

Reads the JSON table written by `tessera sersic-table`, builds the natural cubic spline of the
amplitudes in n (scipy CubicSpline, bc_type='natural'), and reports
max |L_mix(<R) - L(<R)| / L(<R) for n in [0.8, 6], R in [0.1, 5] r_half, with the exact
L(<R) = P(2n, b_n R^(1/n)) and b_n = gammaincinv(2n, 1/2).

    python3 scripts/check_sersic_table.py Sources/SceneModel/Resources/sersic_mixture.json [n_count] [r_count]
"""
import json
import sys

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import gammainc, gammaincinv

path = sys.argv[1]
n_count = int(sys.argv[2]) if len(sys.argv) > 2 else 5201
r_count = int(sys.argv[3]) if len(sys.argv) > 3 else 400
t = json.load(open(path))
radii = np.array(t["radii"])
spline = CubicSpline(np.array(t["nodes"]), np.array(t["amplitudes"]), bc_type="natural")
R = np.geomspace(0.1, 5, r_count)
basis = -np.expm1(-R[:, None] ** 2 / (2 * radii[None, :] ** 2))
worst = (0.0, None, None)
min_amp = 0.0
for n in np.linspace(0.8, 6, n_count):
    a = spline(n)
    min_amp = min(min_amp, a.min())
    exact = gammainc(2 * n, gammaincinv(2 * n, 0.5) * R ** (1 / n))
    err = np.abs(basis @ a - exact) / exact
    i = int(np.argmax(err))
    if err[i] > worst[0]:
        worst = (float(err[i]), float(n), float(R[i]))
print(f"{path}: max relative enclosed-flux error {worst[0]:.4e} at n = {worst[1]:.4f}, R = {worst[2]:.4f} r_half "
      f"({n_count} n x {r_count} R); most negative amplitude {min_amp:.3e}")
sys.exit(0 if worst[0] < 0.01 else 1)

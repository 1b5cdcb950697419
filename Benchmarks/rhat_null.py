#!/usr/bin/env python3
"""What max split R-hat a perfectly behaved sampler gives on the demo (issue 16's demo criterion).

The demo reports the largest split R-hat over every parameter of every source (30 sources, 232
parameters) from one chain of DRAWS draws per source, split in two halves. Even chains that mix
perfectly have R-hat above 1 by chance, and the maximum over 232 of them is larger still. This
simulates AR(1) chains with a given ESS per parameter and prints the distribution of that maximum.

    python3 Benchmarks/rhat_null.py [DRAWS [PARAMETERS [RUNS]]]      # numpy only
"""
import sys
import numpy as np

draws = int(sys.argv[1]) if len(sys.argv) > 1 else 250
params = int(sys.argv[2]) if len(sys.argv) > 2 else 232
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rng = np.random.default_rng(1)


def split_rhat(x):
    n = len(x) // 2
    c = np.stack([x[:n], x[n:2 * n]])
    w = c.var(axis=1, ddof=1).mean()
    b = n * c.mean(axis=1).var(ddof=1)
    return np.sqrt(((n - 1) / n * w + b / n) / w)


def ar1(n, rho):
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - rho * rho)
    for i in range(1, n):
        x[i] = rho * x[i - 1] + e[i]
    return x


print(f"{draws} draws per chain, max split R-hat over {params} parameters, {runs} simulated runs")
for ess in [draws, int(0.68 * draws), int(0.4 * draws)]:
    rho = (draws - ess) / (draws + ess)  # AR(1): ESS = n (1 - rho) / (1 + rho)
    mx = np.array([max(split_rhat(ar1(draws, rho)) for _ in range(params)) for _ in range(runs)])
    print(f"  ESS {ess:4d} per parameter: median {np.median(mx):.3f}, 95th percentile {np.percentile(mx, 95):.3f}, "
          f"P(max <= 1.05) = {np.mean(mx <= 1.05):.2f}")

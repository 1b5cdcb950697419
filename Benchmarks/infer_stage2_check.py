#!/usr/bin/env python3
"""Stage 2 of `tessera infer` recomputed in numpy from a run's saved stage-1 draws, at other kernel widths h.

An independent re-implementation of `ReweightedPopulation` (importance-reweighted lens samples with the
α kernel of width h, the halo relation and −N ln A(η) from the run's selection.json grid, a uniform box prior)
sampled by random-walk Metropolis: a cross-check of the Swift stage 2 and a way to see how much the η posterior
depends on h and on the stage-1 Monte Carlo noise without rerunning stage 1. Prints per run the median and
68% interval of each hyperparameter, and per h the 68% coverage over runs of a mock's true η.

    python3 Benchmarks/infer_stage2_check.py 0.05,0.1 "/tmp/infer-recovery.*/n25-seed*-mltrue/run"   # h5py, scipy

Truth: the infer configuration's defaults (α_sps 1.2, slope 1.5, normalisation 13.0, scatter 0.15), which
`Benchmarks/infer_recovery.sh` uses. Selection: runs built with a selection_axes grid (selection.json) only.
"""
import json, sys, glob, h5py, numpy as np
from scipy.interpolate import RegularGridInterpolator
truth = np.array([1.2, 1.5, 13.0, 0.15]); names = ['alpha', 'slope', 'norm', 'scatter']


def load(run):
    """A run's stage-1 draws [lens, draw, parameter], each lens's log M_sps, ln A(η) and the hyperprior box."""
    c = json.load(open(f'{run}/catalog.json')); f = h5py.File(f'{run}/chains.h5')
    S = f['stage1/draws'][:]; ids = [i.decode() if isinstance(i, bytes) else i for i in f['lenses/ids'][:]]
    lms = {l['id']: l['logMsps'] for l in c['lenses']}
    sel = json.load(open(f'{run}/selection.json')); axes = [np.array(a) for a in sel['axes']]
    logA = RegularGridInterpolator(axes, np.array(sel['logA']).reshape([len(a) for a in axes]), bounds_error=False, fill_value=None)
    x = np.array([lms[ids[i]] for i in range(len(ids))])
    return S, x, logA, np.array([a[0] for a in axes]), np.array([a[-1] for a in axes])


def logpost(eta, S, x, logA, lo, hi, h):
    """Σ_i ln (1/S) Σ_j w_ij(η) − N ln A(η) inside the box (see ReweightedPopulation)."""
    if np.any(eta < lo) or np.any(eta > hi): return -np.inf
    a_sps, slope, norm, sc = eta
    a = S[:, :, 6]; m = S[:, :, 0]
    mu = norm + slope * (x[:, None] + np.log10(a) - 11.5)
    lw = -0.5 * ((a - a_sps) / h) ** 2 - 0.5 * ((m - mu) / sc) ** 2 - np.log(sc)
    mx = lw.max(1, keepdims=True)
    return float(np.sum(mx[:, 0] + np.log(np.exp(lw - mx).mean(1)))) - S.shape[0] * logA([eta])[0]


def mcmc(S, x, logA, lo, hi, h, n=6000, seed=0):
    """Random-walk Metropolis from the truth; the last 3/4 of the draws."""
    rng = np.random.default_rng(seed); eta = truth.copy(); lp = logpost(eta, S, x, logA, lo, hi, h); out = []
    step = np.array([0.015, 0.12, 0.04, 0.025])
    for k in range(n):
        prop = eta + step * rng.normal(size=4); lq = logpost(prop, S, x, logA, lo, hi, h)
        if np.log(rng.uniform()) < lq - lp: eta, lp = prop, lq
        if k >= n // 4: out.append(eta.copy())
    return np.array(out)


hs = [float(v) for v in sys.argv[1].split(',')]
runs = sorted(glob.glob(sys.argv[2]))
for h in hs:
    cov = np.zeros(4); widths = np.zeros(4); k = 0
    for run in runs:
        try: S, x, logA, lo, hi = load(run)
        except Exception: continue
        o = mcmc(S, x, logA, lo, hi, h); p16, p50, p84 = np.percentile(o, [16, 50, 84], axis=0)
        cov += (truth >= p16) & (truth <= p84); widths += (p84 - p16) / 2; k += 1
        print(f'h={h} {run.split("/")[-2]}: ' + ' '.join(f'{n} {m:.3f}[{a:.3f},{b:.3f}]' for n, m, a, b in zip(names, p50, p16, p84)))
    print(f'h={h}: {k} mocks, 68% coverage ' + ' '.join(f'{n} {c/k:.2f}' for n, c in zip(names, cov)) + '; half-widths ' + ' '.join(f'{w/k:.3f}' for w in widths))

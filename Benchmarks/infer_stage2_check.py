#!/usr/bin/env python3
"""Stage 2 of `tessera infer` recomputed in numpy from a run's saved stage-1 draws, at other kernel widths h,
or with the α conditionals the run saved (`cond`, runs with alpha_marginal: conditional).

An independent re-implementation of `ReweightedPopulation` (importance-reweighted lens samples with the
α kernel of width h, the halo relation and −N ln A(η) from the run's selection.json grid, a uniform box prior)
sampled by random-walk Metropolis: a cross-check of the Swift stage 2 and a way to see how much the η posterior
depends on h and on the stage-1 Monte Carlo noise without rerunning stage 1. Prints per run the median and
68% interval of each hyperparameter, and per h the 68% coverage over runs of a mock's true η.

    python3 Benchmarks/infer_stage2_check.py 0.05,0.1 "/tmp/infer-recovery.*/n25-seed*-mltrue/run"   # h5py, scipy
    python3 Benchmarks/infer_stage2_check.py cond,0.05 "RUNGLOB"   # the conditional estimator against the kernel
    python3 Benchmarks/infer_stage2_check.py cond "RUNGLOB" 1,2,4  # also pools of 2 and 4 runs: widths against N

With `cond`, each run or pool also prints the Monte Carlo variance of ln p(η | data) at its median η (the sum over
lenses of var(w) / (ESS_w w̄²), as the run's own report; refinement rounds' slices in lenses-round-k/ are appended
to their lens's): above ~1 the pool's intervals are too narrow.

SELECTION=FILE takes ln A(η) from another selection.json (e.g. one built with more draws per node, same axes
recipe otherwise); NOSEL=1 leaves the selection term out.

Pools: the mocks of `infer_recovery.sh` are independent draws of the same population (same η, survey and
selection grid), so the lenses of k runs together are a mock of k·N lenses; stage 2 on each pool (consecutive runs
in sorted order) gives the posterior widths at k·N without a new stage 1.

`cond` reads each lens's `alphaConditional` from lenses/lens-NNNNN.json: per kept draw j, ln p(α | r_j) and the
slice's log M_h on the α grid, interpolated linearly at α_sps (Swift: Catmull-Rom; at a slice's end both taper
the density linearly to zero over the step, log M_h held here and extended linearly in Swift), and
w_ij = p_j(α_sps) N(m_j(α_sps); μ(α_sps), σ) (see AlphaConditional and ReweightedPopulation).

Truth: each run's catalog (catalog.json `hyperparameters`; `Benchmarks/infer_recovery.sh` uses α_sps 1.2, slope 1.5,
normalisation 13.0, scatter 0.15 unless TRUE_ALPHA is set); pools of runs must share it. Selection: runs built with a selection_axes grid (selection.json) only.
"""
import json, os, sys, glob, h5py, numpy as np
from scipy.interpolate import RegularGridInterpolator
truth = np.array([1.2, 1.5, 13.0, 0.15]); names = ['alpha', 'slope', 'norm', 'scatter']


def load(run):
    """A run's stage-1 draws [lens, draw, parameter], each lens's log M_sps, ln A(η), the hyperprior box and the
    lens ids (chains.h5 order). Sets `truth` to the catalog's hyperparameters."""
    c = json.load(open(f'{run}/catalog.json')); f = h5py.File(f'{run}/chains.h5')
    hp = c['hyperparameters']; truth[:] = [hp['alphaSPS'], hp['haloSlope'], hp['haloNormalisation'], hp['haloScatter']]
    S = f['stage1/draws'][:]; ids = [i.decode() if isinstance(i, bytes) else i for i in f['lenses/ids'][:]]
    lms = {l['id']: l['logMsps'] for l in c['lenses']}
    sel = json.load(open(os.environ.get('SELECTION') or f'{run}/selection.json')); axes = [np.array(a) for a in sel['axes']]
    logA = RegularGridInterpolator(axes, np.array(sel['logA']).reshape([len(a) for a in axes]), bounds_error=False, fill_value=None)
    if os.environ.get('NOSEL'): logA = lambda eta: [0.0]
    x = np.array([lms[ids[i]] for i in range(len(ids))])
    return S, x, logA, np.array([a[0] for a in axes]), np.array([a[-1] for a in axes]), ids


def conditionals(run, ids):
    """Per lens (catalog order of chains.h5): the α grid, ln p(α | r_j) [draw, grid] and log M_h [draw, grid]."""
    out = []
    for f in sorted(glob.glob(f'{run}/lenses/lens-*.json')):
        d = json.load(open(f)); c = d['alphaConditional']
        grid = c['alphaStart'] + c['alphaStep'] * np.arange(c['gridCount'])
        lp = np.array([[-np.inf if v is None else v for v in row] for row in c['logConditional']])
        m = np.array([[np.nan if v is None else v for v in row] for row in c['logHaloMass']])
        # Refinement rounds' chains of this lens (lenses-round-k/), appended as the run merges them.
        for extra in sorted(glob.glob(f'{run}/lenses-round-*/' + os.path.basename(f))):
            e = json.load(open(extra))['alphaConditional']
            lp = np.vstack([lp, [[-np.inf if v is None else v for v in row] for row in e['logConditional']]])
            m = np.vstack([m, [[np.nan if v is None else v for v in row] for row in e['logHaloMass']]])
        out.append((d['id'], grid, lp, m))
    order = {i: k for k, i in enumerate(ids)}
    return [o[1:] for o in sorted(out, key=lambda o: order[o[0]])]


def slices_at(grid, lp, m, a_sps):
    """Every kept draw's ln p(α_sps | r_j) and log M_h at α_sps, interpolated linearly on the α grid; None outside it."""
    k = np.searchsorted(grid, a_sps) - 1
    if k < 0 or k >= len(grid) - 1: return None
    f = (a_sps - grid[k]) / (grid[k + 1] - grid[k])
    with np.errstate(invalid='ignore', divide='ignore'):
        l = lp[:, k] + f * (lp[:, k + 1] - lp[:, k]); mm = m[:, k] + f * (m[:, k + 1] - m[:, k])
        # Ends of a slice's support: the density falls linearly to 0 over the step, log M_h held.
        a0, a1 = np.isfinite(lp[:, k]), np.isfinite(lp[:, k + 1])
        l = np.where(a0 & ~a1, lp[:, k] + np.log(1 - f), np.where(~a0 & a1, lp[:, k + 1] + np.log(f), l))
        mm = np.where(a0 & ~a1, m[:, k], np.where(~a0 & a1, m[:, k + 1], mm))
    return l, mm


def logpost(eta, S, x, logA, lo, hi, h):
    """Σ_i ln (1/S) Σ_j w_ij(η) − N ln A(η) inside the box (see ReweightedPopulation); h = the conditionals' list
    for the conditional estimator."""
    if np.any(eta < lo) or np.any(eta > hi): return -np.inf
    if isinstance(h, list):
        a_sps, slope, norm, sc = eta; total = 0.0
        for (grid, lp, m), xi in zip(h, x):
            at = slices_at(grid, lp, m, a_sps)
            if at is None: return -np.inf
            l, mm = at
            ok = np.isfinite(l) & np.isfinite(mm)
            if not ok.any(): return -np.inf
            mu = norm + slope * (xi + np.log10(a_sps) - 11.5)
            lw = l[ok] - 0.5 * ((mm[ok] - mu) / sc) ** 2 - np.log(sc)
            mx = lw.max(); total += mx + np.log(np.exp(lw - mx).sum() / len(l))
        return total - len(h) * logA([eta])[0]
    a_sps, slope, norm, sc = eta
    a = S[:, :, 6]; m = S[:, :, 0]
    mu = norm + slope * (x[:, None] + np.log10(a) - 11.5)
    lw = -0.5 * ((a - a_sps) / h) ** 2 - 0.5 * ((m - mu) / sc) ** 2 - np.log(sc)
    mx = lw.max(1, keepdims=True)
    return float(np.sum(mx[:, 0] + np.log(np.exp(lw - mx).mean(1)))) - S.shape[0] * logA([eta])[0]


def split_ess(x):
    """Split effective sample size of one series (Stan's: two halves, Geyer's initial positive sequence)."""
    n = len(x) // 2
    if n < 2: return np.nan
    chains = np.array([x[:n], x[n:2 * n]]); W = chains.var(1, ddof=1).mean()
    if W <= 0: return np.nan
    var_plus = (n - 1) / n * W + chains.mean(1).var(ddof=1)
    c = chains - chains.mean(1, keepdims=True); f = np.fft.rfft(c, 2 * n)
    acov = np.fft.irfft(f * np.conj(f))[:, :n] / n
    rho = 1 - (W - acov.mean(0)) / var_plus; rho[0] = 1; total = 0.0
    for t in range(0, n - 1, 2):
        pair = rho[t] + rho[t + 1]
        if pair < 0: break
        total += pair
    return 2 * n / max(2 * total - 1, 1e-12)


def mc_variance(eta, conds, x):
    """Σ_i Var[ln L̂_i(η)]: the Monte Carlo variance of the stage-2 log-likelihood at η (conditional estimator),
    each lens's var(w) / (ESS_w w̄²) from its kept draws' weights in chain order (as ReweightedPopulation's
    monteCarloVariances). Above ~1 the η posterior moves by more than its width between two stage-1 runs (Talbot &
    Golomb 2023), and its intervals are too narrow."""
    a_sps, slope, norm, sc = eta; total = 0.0; per = []
    for (grid, lp, m), xi in zip(conds, x):
        l, mm = slices_at(grid, lp, m, a_sps)
        mu = norm + slope * (xi + np.log10(a_sps) - 11.5)
        lw = np.where(np.isfinite(l) & np.isfinite(mm), l - 0.5 * ((mm - mu) / sc) ** 2, -np.inf)
        w = np.exp(lw - np.max(lw)); v = w.var(ddof=1)
        v = 0.0 if v <= 0 else v / (split_ess(w) * w.mean() ** 2)
        per.append(v); total += v
    return total, np.array(per)


def mcmc(S, x, logA, lo, hi, h, n=6000, seed=0):
    """Random-walk Metropolis from the truth (steps scaled as 1/√N); the last 3/4 of the draws."""
    rng = np.random.default_rng(seed); eta = truth.copy(); lp = logpost(eta, S, x, logA, lo, hi, h); out = []
    step = np.array([0.015, 0.12, 0.04, 0.025]) * (25 / len(x)) ** 0.5
    for k in range(n):
        prop = eta + step * rng.normal(size=4); lq = logpost(prop, S, x, logA, lo, hi, h)
        if np.log(rng.uniform()) < lq - lp: eta, lp = prop, lq
        if k >= n // 4: out.append(eta.copy())
    return np.array(out)


def loaded(run, h):
    """What `logpost` needs from one run: stage-1 draws, log M_sps, ln A, box, and the conditionals for `cond`."""
    S, x, logA, lo, hi, ids = load(run)
    return S, x, logA, lo, hi, conditionals(run, ids) if h == 'cond' else None


hs = [v if v == 'cond' else float(v) for v in sys.argv[1].split(',')]
# Finished runs only (a run's stage 2 writes chains.h5).
runs = [r for r in sorted(glob.glob(sys.argv[2]))
        if all(os.path.exists(f'{r}/{name}') for name in ('catalog.json', 'chains.h5', 'selection.json'))]
pools = [int(v) for v in sys.argv[3].split(',')] if len(sys.argv) > 3 else [1]
for h in hs:
    for pool in pools:
        cov = np.zeros(4); widths = np.zeros(4); k = 0
        for g in range(len(runs) // pool):
            parts = [loaded(r, h) for r in runs[g * pool:(g + 1) * pool]]
            S = np.concatenate([p[0] for p in parts]); x = np.concatenate([p[1] for p in parts])
            _, _, logA, lo, hi, _ = parts[0]
            o = mcmc(S, x, logA, lo, hi, sum((p[5] for p in parts), []) if h == 'cond' else h)
            p16, p50, p84 = np.percentile(o, [16, 50, 84], axis=0)
            cov += (truth >= p16) & (truth <= p84); widths += (p84 - p16) / 2; k += 1
            tag = '+'.join(r.split('/')[-2] for r in runs[g * pool:(g + 1) * pool])
            extra = ''
            if h == 'cond':
                var, per = mc_variance(p50, sum((p[5] for p in parts), []), x)
                extra = f'; MC var of ln L at the median {var:.2f} (largest lens {per.max():.2f}, median lens {np.median(per):.3f})'
            print(f'h={h} N={len(x)} {tag}: ' + ' '.join(f'{n} {m:.3f}[{a:.3f},{b:.3f}]' for n, m, a, b in zip(names, p50, p16, p84)) + extra)
        if k:
            print(f'h={h} pools of {pool}: {k} mocks, 68% coverage ' + ' '.join(f'{n} {c/k:.2f}' for n, c in zip(names, cov))
                  + '; half-widths ' + ' '.join(f'{w/k:.3f}' for w in widths))

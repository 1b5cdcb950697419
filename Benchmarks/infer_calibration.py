#!/usr/bin/env python3
"""Checks of a strong-lens recovery study's stage 1 and of the Monte Carlo noise of its stage 2 (issue 17), from the
runs of `Benchmarks/infer_recovery.sh` (alpha_marginal: conditional), without rerunning anything:

1. Slices against draws. Each kept stage-1 draw j carries its slice's exact conditional p(α | r_j) (AlphaConditional).
   If NUTS sampled the lens's posterior, the draw's own α is a draw from that conditional: its rank within the slice
   is uniform (mean 0.5) and the draws' mean α equals the mean of the slices' means (Rao-Blackwell), up to noise.
   A sampler held back by the walls where the image count changes would show as a shifted rank.
2. Monte Carlo noise of stage 2 against its statistical width. Each lens's kept draws are split into 4 consecutive
   batches; the spread of each batch's score (∂/∂η of the lens's ln p̂(η), by central differences at the truth)
   estimates the Monte Carlo covariance of the lens's score (batch means). H⁻¹ J_MC H⁻¹, with H the Hessian of the
   pooled Σ ln p̂_i at the truth (the selection term left out of H), is the Monte Carlo covariance of the η estimate; √diag(H⁻¹) its statistical width.
   The lens with the largest share of the α Monte Carlo variance is named.
3. The true log M_h against each lens's posterior at the true α (the slices at α = 1.2, weighted by p(α | r_j)):
   probability integral transform and pulls. Not a calibration test in the strict sense (the truths come from the
   selected population, the posterior from a flat interim prior), but a shift shows where lenses sit along their
   α–M_h ridge.

    python3 Benchmarks/infer_calibration.py "/tmp/infer-recovery.*/n25-seed*-mltrue/run"    # h5py, scipy

Stage 2 is `Benchmarks/infer_stage2_check.py`'s (linear interpolation on the α grid, taper at slice ends).
"""
import glob, json, sys
import numpy as np

sys.argv, pattern = sys.argv[:1] + ['cond', 'unused'], sys.argv[1]
exec(open(__file__.replace('infer_calibration.py', 'infer_stage2_check.py')).read().split("hs = [v if")[0])

runs = [r for r in sorted(glob.glob(pattern)) if all(os.path.exists(f'{r}/{n}') for n in ('catalog.json', 'chains.h5', 'selection.json'))]
if not runs: sys.exit(f'no finished runs match {pattern}')


def lens_files(run):
    """Lens checkpoints in chains.h5 order (the order of `conditionals`)."""
    files = {json.load(open(p))['id']: p for p in glob.glob(f'{run}/lenses/lens-*.json')}
    f = h5py.File(f'{run}/chains.h5'); ids = [i.decode() if isinstance(i, bytes) else i for i in f['lenses/ids'][:]]
    return [files[i] for i in ids]


# Stage 2's inputs (this also sets `truth` from the catalogs).
parts = [loaded(r, 'cond') for r in runs]
x = np.concatenate([p[1] for p in parts]); C = sum((p[5] for p in parts), [])
logA = parts[0][2]

# 1. Slices against draws, and 3. (below) the true log M_h at the true α: one pass over the lens files.
ranks, shifts, pits, pulls = [], [], [], []
for r in runs:
    cat = {l['id']: l for l in json.load(open(f'{r}/catalog.json'))['lenses']}
    for path in lens_files(r):
        dd = json.load(open(path)); c = dd['alphaConditional']
        grid = c['alphaStart'] + c['alphaStep'] * np.arange(c['gridCount'])
        lp = np.array([[-np.inf if v is None else v for v in row] for row in c['logConditional']])
        mass = np.array([[np.nan if v is None else v for v in row] for row in c['logHaloMass']])
        p = np.exp(lp); p /= p.sum(1, keepdims=True)
        a = np.array(c['draws'])[:, 6]
        cdf = np.cumsum(p, 1)
        ranks.append(np.mean([np.interp(a[j], grid, cdf[j]) for j in range(len(a))]))
        shifts.append(a.mean() - (p * grid).sum(1).mean())
        k = int(round((truth[0] - c['alphaStart']) / c['alphaStep']))
        ok = np.isfinite(lp[:, k]) & np.isfinite(mass[:, k])
        if not ok.any(): continue
        w = np.exp(lp[ok, k] - lp[ok, k].max()); w /= w.sum(); mm = mass[ok, k]
        t = cat[dd['id']]['truth']['parameters']['logHaloMass']
        mean = (w * mm).sum(); sd = np.sqrt((w * (mm - mean) ** 2).sum())
        pits.append((w * (mm < t)).sum())
        if sd > 0: pulls.append((t - mean) / sd)
ranks, shifts = np.array(ranks), np.array(shifts)
n = len(ranks)
print(f'1. {n} lenses in {len(runs)} runs: mean rank of each draw in its slice {ranks.mean():.4f} ± {ranks.std(ddof=1) / n ** 0.5:.4f} '
      f'(0.5 if the draws follow the slices); draws minus Rao-Blackwell mean α {shifts.mean():+.4f} ± {shifts.std(ddof=1) / n ** 0.5:.4f}')

# 2. Monte Carlo noise of stage 2 at the truth.


def lens_term(eta, h, xi):
    """One lens's ln p̂(η) (the summand of `logpost`)."""
    return logpost(eta, None, np.array([xi]), lambda e: [0.0], -np.inf * np.ones(4), np.inf * np.ones(4), [h])


d = np.array([0.005, 0.02, 0.01, 0.005])
batches = 4


def scores(hs):
    s = np.zeros((len(hs), 4))
    for k in range(4):
        up, down = truth.copy(), truth.copy(); up[k] += d[k]; down[k] -= d[k]
        s[:, k] = [(lens_term(up, h, xi) - lens_term(down, h, xi)) / (2 * d[k]) for h, xi in zip(hs, x)]
    return s


size = min(len(h[1]) for h in C) // batches
Sb = np.array([scores([(g, lp[b * size:(b + 1) * size], m[b * size:(b + 1) * size]) for g, lp, m in C]) for b in range(batches)])
usable = np.isfinite(Sb).all(axis=(0, 2))
dev = Sb[:, usable] - Sb[:, usable].mean(0)
V = np.einsum('bli,blj->lij', dev, dev) / (batches - 1) / batches


def total(eta):
    """Σ_i ln p̂_i(η) without −N ln A: the multilinear selection grid has nodes at the truth of infer_recovery.sh,
    where its second differences are kinks, and its curvature is small beside the lenses' (it shifts, not narrows)."""
    return sum(lens_term(eta, h, xi) for h, xi in zip(C, x))


H = np.zeros((4, 4)); step = 2 * d
for i in range(4):
    for j in range(i, 4):
        ei, ej = step[i] * (np.arange(4) == i), step[j] * (np.arange(4) == j)
        H[i, j] = H[j, i] = (total(truth + ei + ej) - total(truth + ei - ej) - total(truth - ei + ej) + total(truth - ei - ej)) / (4 * step[i] * step[j])
Hi = np.linalg.inv(-H)
stat, mc = np.sqrt(np.diag(Hi)), np.sqrt(np.diag(Hi @ V.sum(0) @ Hi))
share = np.einsum('i,lij,j->l', Hi[0], V, Hi[0]); share /= share.sum()
worst = np.argmax(share)
print(f'2. at the truth, {usable.sum()} lenses, {batches} batches of {size} kept draws: statistical sd ' + ' '.join(f'{nm} {v:.4f}' for nm, v in zip(names, stat))
      + '; Monte Carlo sd ' + ' '.join(f'{nm} {v:.4f}' for nm, v in zip(names, mc))
      + f'; lens {worst} holds {share[worst]:.0%} of the α Monte Carlo variance')

# 3. True log M_h against each lens's posterior at the true α (computed in the pass of part 1).
pulls = np.array(pulls)
print(f'3. true log M_h in each lens\'s posterior at α = {truth[0]}: PIT histogram (10 bins) {np.histogram(pits, bins=10, range=(0, 1))[0].tolist()}; '
      f'pulls median {np.median(pulls):+.3f}, robust width {1.4826 * np.median(np.abs(pulls - np.median(pulls))):.3f}, 68% coverage {np.mean(np.abs(pulls) < 1):.3f}')

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
3. The true log M_h against each lens's posterior at the true α (the slices at α_sps, weighted by p(α | r_j)):
   probability integral transform and pulls, (a) under the flat interim prior — not a calibration test (the truths
   come from the selected population), but a shift shows where lenses sit along their α–M_h ridge — and (b) under
   the population prior at the true η (weights × N(m_j; μ(α), σ)): p(θ_i | d_i, η_true) is calibrated over the
   selected lenses (the selection acts on the data, and the table cut on θ is in stage 1's density), so there the
   PIT is uniform and the pulls N(0, 1) if stage 1 and the likelihood are right, whatever the selection term does.
4. The selection term against the lenses (score identity): for a selected lens, E[∂ ln L_i(η)/∂η] = ∂ ln A(η)/∂η at
   the true η, with L_i the lens's marginal likelihood. The mean over lenses of each lens's score at the truth
   (central differences of ln p̂_i, all kept draws) against the gradient of the run's ln A (selection.json, central
   differences), with standard errors from the spread over lenses, and the joint (Rao score) statistic
   T = N (s̄ − ∇ln A)ᵀ Cov(s)⁻¹ (s̄ − ∇ln A), χ² with 4 degrees of freedom at the truth. A wrong A(η) or a lens term
   that leans shows here without any sampling of η. T linearises the lenses at the truth: a cut the posterior
   has away from it (a lens whose slices end inside the α range, as 9017's lens-23) does not show in T (pool
   6017–9017: T = 4.0, p = 0.40, with α_sps 3.4σ below the truth). At a node of the selection grid the central
   difference of ln A averages the two cells' slopes.

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
ranks, shifts, pits, pulls = [], [], {}, {}
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
        mm = mass[ok, k]; lens = cat[dd['id']]; t = lens['truth']['parameters']['logHaloMass']
        mu = truth[2] + truth[1] * (lens['logMsps'] + np.log10(truth[0]) - 11.5)
        for prior, extra in (('flat', 0 * mm), ('population', -0.5 * ((mm - mu) / truth[3]) ** 2)):
            lw = lp[ok, k] + extra; w = np.exp(lw - lw.max()); w /= w.sum()
            mean = (w * mm).sum(); sd = np.sqrt((w * (mm - mean) ** 2).sum())
            pits.setdefault(prior, []).append((w * (mm < t)).sum())
            if sd > 0: pulls.setdefault(prior, []).append((t - mean) / sd)
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
if not (np.isfinite(H).all() and np.all(np.linalg.eigvalsh(-H) > 0)):
    # A lens whose slices end within a step of the truth makes ln p̂ −∞ or kinked there (9017's lens-23 did).
    print(f'2. skipped: the Hessian of Σ ln p̂_i at the truth is not finite and negative definite (steps {step}); '
          'a lens\'s α slices probably end near the truth (see the run\'s "slices end inside" warning)')
else:
    Hi = np.linalg.inv(-H)
    stat, mc = np.sqrt(np.diag(Hi)), np.sqrt(np.diag(Hi @ V.sum(0) @ Hi))
    share = np.einsum('i,lij,j->l', Hi[0], V, Hi[0]); share /= share.sum()
    worst = np.argmax(share)
    print(f'2. at the truth, {usable.sum()} lenses, {batches} batches of {size} kept draws: statistical sd ' + ' '.join(f'{nm} {v:.4f}' for nm, v in zip(names, stat))
          + '; Monte Carlo sd ' + ' '.join(f'{nm} {v:.4f}' for nm, v in zip(names, mc))
          + f'; lens {worst} holds {share[worst]:.0%} of the α Monte Carlo variance')

# 3. True log M_h against each lens's posterior at the true α (computed in the pass of part 1).
for prior in ('flat', 'population'):
    pu, pt = np.array(pulls[prior]), np.array(pits[prior])
    print(f'3{"ab"[prior == "population"]}. true log M_h in each lens\'s posterior at α = {truth[0]}, {prior} prior: PIT histogram (10 bins) '
          f'{np.histogram(pt, bins=10, range=(0, 1))[0].tolist()}, mean {pt.mean():.3f} ± {pt.std(ddof=1) / len(pt) ** 0.5:.3f}; '
          f'pulls mean {pu.mean():+.3f} ± {pu.std(ddof=1) / len(pu) ** 0.5:.3f}, median {np.median(pu):+.3f}, '
          f'robust width {1.4826 * np.median(np.abs(pu - np.median(pu))):.3f}, 68% coverage {np.mean(np.abs(pu) < 1):.3f}')

# 4. Score identity: the lenses' mean score at the truth against ∇ ln A there.
from scipy.stats import chi2
Sall = scores(C); good = np.isfinite(Sall).all(1); Sall = Sall[good]; n4 = len(Sall)
gradA = np.zeros(4)
for k in range(4):
    up, down = truth.copy(), truth.copy(); up[k] += d[k]; down[k] -= d[k]
    gradA[k] = (logA([up])[0] - logA([down])[0]) / (2 * d[k])
dev = Sall.mean(0) - gradA; se = Sall.std(0, ddof=1) / n4 ** 0.5
T = dev @ np.linalg.solve(np.cov(Sall.T) / n4, dev)
print(f'4. score identity over {n4} lenses at the truth: mean score − ∂ln A ' + ', '.join(f'{nm} {v:+.3f} ({v / e:+.1f} SE)' for nm, v, e in zip(names, dev, se))
      + f'; joint T = {T:.2f} (χ², 4 dof, p = {chi2.sf(T, 4):.3f})')

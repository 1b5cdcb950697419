"""numpyro's NUTS on Tessera's NUTS benchmark target (see Benchmarks/nuts_vs_numpyro.sh).

Target, identical to Benchmarks/TesseraBench/NUTSBenchmark.swift: x ~ N(mu, Sigma), d = 100,
Sigma_ij = s_i s_j rho^|i-j|, rho = 0.9, s_i = 10^(-0.5 + i/(d-1)), mu_i = (i mod 5) - 2; the
potential is 0.5 (x-mu)^T P (x-mu) with P = Sigma^-1 (one dense mat-vec, as in the Swift target);
each chain starts at x = 0; dense mass matrix, target acceptance 0.8, max tree depth 10; float64.

ESS: split_ess() below is a line-by-line port of Tessera's Diagnostics.splitEffectiveSampleSize
(Stan's estimator: split chains, Geyer initial positive + monotone sequence, capped at
mn log10(mn)); numpyro.diagnostics.effective_sample_size on the same split chains is printed as
a cross-check. Gradient evaluations = sum of num_steps (leapfrog steps) over sampling draws.
Usage: python nuts_numpyro.py [WARMUP [DRAWS [CHAINS]]]
"""
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp
import numpyro
from numpyro.infer import MCMC, NUTS
from numpyro.diagnostics import effective_sample_size

numpyro.enable_x64()
numpyro.set_host_device_count(1)

D, RHO = 100, 0.9


def target(d=D, rho=RHO):
    s = np.array([10 ** (-0.5 + i / (d - 1)) for i in range(d)])
    idx = np.arange(d)
    sigma = np.outer(s, s) * rho ** np.abs(idx[:, None] - idx[None, :])
    mu = np.array([float(i % 5) - 2 for i in range(d)])
    return mu, sigma


def ess_stan(chains):
    """Port of Diagnostics.effectiveSampleSize (chains: list of 1-D arrays)."""
    n = min(len(c) for c in chains)
    m = len(chains)
    cs = [np.asarray(c[:n], dtype=float) for c in chains]
    if n < 4 or not all(np.all(np.isfinite(c)) for c in cs):
        return float("nan")
    means = [c.mean() for c in cs]
    centred = [c - mu for c, mu in zip(cs, means)]
    dn = float(n)

    def acov_at(c, t):
        d = centred[c]
        return float(np.dot(d[: n - t], d[t:])) / dn

    chain_var = [acov_at(c, 0) * dn / (dn - 1) for c in range(m)]
    mean_var = sum(chain_var) / m
    var_plus = mean_var * (dn - 1) / dn
    if m > 1:
        mm = sum(means) / m
        var_plus += sum((x - mm) ** 2 for x in means) / (m - 1)

    def acov_mean(s):
        return sum(acov_at(c, s) for c in range(m)) / m

    rho = np.zeros(n)
    rho_even = 1.0
    rho[0] = 1
    rho_odd = 1 - (mean_var - acov_mean(1)) / var_plus
    rho[1] = rho_odd
    s = 1
    while s < n - 4 and rho_even + rho_odd > 0:
        rho_even = 1 - (mean_var - acov_mean(s + 1)) / var_plus
        rho_odd = 1 - (mean_var - acov_mean(s + 2)) / var_plus
        if rho_even + rho_odd >= 0:
            rho[s + 1] = rho_even
            rho[s + 2] = rho_odd
        s += 2
    max_s = s
    if rho[max_s] > 0 and max_s + 1 < n:
        rho[max_s + 1] = rho[max_s]
    s = 1
    while s <= max_s - 3:
        if rho[s + 1] + rho[s + 2] > rho[s - 1] + rho[s]:
            rho[s + 1] = (rho[s - 1] + rho[s]) / 2
            rho[s + 2] = rho[s + 1]
        s += 2
    total = float(m * n)
    tau = -1 + 2 * rho[:max_s].sum() + rho[max_s]
    return min(total / tau, total * np.log10(total))


def split(chain):
    n = len(chain)
    half = n // 2
    return [chain[:half], chain[n - half:]]


def split_ess(chain):
    return ess_stan(split(chain))


def main():
    warmup = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    draws = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    chains = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    mu, sigma = target()
    precision = jnp.asarray(np.linalg.inv(sigma))
    mu_j = jnp.asarray(mu)

    def potential(x):
        d = x - mu_j
        return 0.5 * d @ (precision @ d)

    print(f"# numpyro {numpyro.__version__}, jax {jax.__version__}, backend {jax.default_backend()}, float64")
    print(f"# target: d={D} AR(1) rho={RHO} scales 10^(-0.5..0.5), dense mass, warmup={warmup} draws={draws}, "
          f"PRNGKey(2026) split per chain")
    print("# chain min_ess median_ess grad_evals warmup_grad_evals min_ess_per_grad median_ess_per_grad wall_s "
          "divergences step_size max_abs_z_mean numpyro_min_ess numpyro_median_ess")
    keys = jax.random.split(jax.random.PRNGKey(2026), chains)
    rows = []
    for c in range(chains):
        kernel = NUTS(potential_fn=potential, dense_mass=True, target_accept_prob=0.8, max_tree_depth=10)
        mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=1, progress_bar=False)
        t0 = time.perf_counter()
        mcmc.warmup(keys[c], init_params=jnp.zeros(D), extra_fields=("num_steps",), collect_warmup=True)
        warm_steps = float(np.asarray(mcmc.get_extra_fields()["num_steps"]).sum())
        mcmc.run(mcmc.post_warmup_state.rng_key, extra_fields=("num_steps", "diverging", "adapt_state.step_size"))
        x = np.asarray(mcmc.get_samples())
        wall = time.perf_counter() - t0
        extra = mcmc.get_extra_fields()
        grads = float(np.asarray(extra["num_steps"]).sum())
        div = float(np.asarray(extra["diverging"]).sum())
        step = float(np.asarray(extra["adapt_state.step_size"])[-1])
        ess = np.array([split_ess(x[:, i]) for i in range(D)])
        ess_np = np.array([float(effective_sample_size(np.stack(split(x[:, i])))) for i in range(D)])
        z = np.abs(x.mean(0) - mu) / (np.sqrt(np.diag(sigma)) / np.sqrt(ess))
        row = [ess.min(), np.median(ess), grads, warm_steps, ess.min() / grads, np.median(ess) / grads, wall, div,
               step, z.max(), ess_np.min(), np.median(ess_np)]
        rows.append(row)
        print("chain %d %.1f %.1f %.0f %.0f %.4f %.4f %.3f %.0f %.4f %.2f %.1f %.1f" % (c, *row))
    avg = np.mean(np.array(rows), axis=0)
    print("summary min_ess=%.1f median_ess=%.1f grad_evals=%.0f warmup_grad_evals=%.0f min_ess/grad=%.4f "
          "median_ess/grad=%.4f wall_s=%.3f divergences=%.1f" % tuple(avg[:8]))
    print("# wall_s includes jax tracing/compilation for every chain (each chain is its own MCMC object)")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Tessera's NUTS beside numpyro's NUTS on the same 100-dimensional correlated Gaussian, measured
# in the same run (same machine, same warm-up/draw counts, same ESS estimator).
#
#   bash Benchmarks/nuts_vs_numpyro.sh [WARMUP [DRAWS [CHAINS]]]
#
# The target (defined identically in Benchmarks/TesseraBench/NUTSBenchmark.swift and
# Benchmarks/nuts_numpyro.py): x ~ N(μ, Σ) in d = 100 dimensions with Σᵢⱼ = sᵢ sⱼ ρ^|i−j|,
# ρ = 0.9, sᵢ = 10^(−0.5 + i/(d−1)), μᵢ = (i mod 5) − 2, started at x = 0, dense metric,
# target acceptance 0.8, maximum tree depth 10, Stan's warm-up windows (75/25/50).
# ESS: Stan's split-chain estimator (Geyer initial monotone sequence), the same algorithm as
# Tessera's Diagnostics.splitEffectiveSampleSize, ported to numpy in nuts_numpyro.py (numpyro's
# own effective_sample_size on the split chains is printed as a cross-check).
# numpyro and jax (CPU) are installed with pip into a virtual environment in /tmp, not into the project.
set -euo pipefail
cd "$(dirname "$0")/.."
WARMUP=${1:-1000}
DRAWS=${2:-1000}
CHAINS=${3:-4}
VENV=${NUMPYRO_VENV:-/tmp/tessera-numpyro-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import numpyro, jax" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet "jax[cpu]" numpyro
fi
swift build -c release --product tessera-bench >/dev/null
# One thread each: OpenBLAS threads only add overhead for 100×100 mat-vecs, and XLA's CPU
# thread pool likewise; both sides then measure one core.
export OPENBLAS_NUM_THREADS=1
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
echo "== Tessera NUTS (release build) =="
.build/release/tessera-bench nuts "$WARMUP" "$DRAWS" "$CHAINS" | tee /tmp/tessera-nuts-bench.txt
echo
echo "== numpyro NUTS =="
"$VENV/bin/python" Benchmarks/nuts_numpyro.py "$WARMUP" "$DRAWS" "$CHAINS" | tee /tmp/numpyro-nuts-bench.txt
echo
echo "== side by side (per chain averages; ESS per gradient evaluation uses sampling-phase gradients) =="
printf "%-10s %s\n" "tessera" "$(grep '^summary' /tmp/tessera-nuts-bench.txt | cut -d' ' -f2-)"
printf "%-10s %s\n" "numpyro" "$(grep '^summary' /tmp/numpyro-nuts-bench.txt | cut -d' ' -f2-)"

#!/usr/bin/env bash
# Recovery of injected population hyperparameters by `tessera infer` (issue 17, "done when"): for each of SEEDS
# mock populations of each size in SIZES, `mpirun -np NP tessera infer` with the table's microlensing and, on the
# same mock (same mock_seed), with microlensing ignored in the likelihood. Prints per run the posterior medians
# and 68% intervals of α_sps, the M_h–M* slope, normalisation and scatter, and at the end: the 68% coverage of
# each (target 0.55–0.80), the mean 68% width per size (≈ 1/√N), and the mean bias of α_sps with and without
# microlensing.
#
#   swift build -c release --product tessera
#   Benchmarks/infer_recovery.sh                        # SEEDS=20 SIZES="25 50 100" NP=4
#   SEEDS=2 SIZES=5 LENS_WARMUP=50 LENS_DRAWS=80 LENS_DEPTH=4 SEL_DRAWS=200 \
#     SEL_AXES="[[0.9, 1.5], [1.0, 2.0], [12.7, 13.3], [0.05, 0.3]]" Benchmarks/infer_recovery.sh   # reduced
#
# Stage 2 uses each lens's α conditionals (ALPHA_MARGINAL=kernel for the α kernel); for widths at larger N without a
# new stage 1, pool runs: Benchmarks/infer_stage2_check.py cond "$WORK/n25-seed*-mltrue/run" 1,2,4.
#
# Cost: stage 1 is ~2 ms per lens-likelihood value and gradient, so LENS_WARMUP + LENS_DRAWS iterations of up to
# 2^LENS_DEPTH gradients per lens: 10-20 s per double and ~2 min per quad at 300 + 400 and depth 8 (one core); the
# full study (20 × (25 + 50 + 100) lenses × 2 likelihoods) is about a day on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-20}
# FIRST_SEED: start the seed loop there (a new work dir continuing a study on fresh mocks)
FIRST_SEED=${FIRST_SEED:-1}
SIZES=${SIZES:-"25 50 100"}
NP=${NP:-4}
LENS_WARMUP=${LENS_WARMUP:-100}
LENS_DRAWS=${LENS_DRAWS:-200}
LENS_DEPTH=${LENS_DEPTH:-6}
LENS_COORDS=${LENS_COORDS:-enclosed_mass}
ALPHA_MARGINAL=${ALPHA_MARGINAL:-conditional}
# SEL_FILE: a selection.h5 from `tessera selection build` for this population (smooth, refined A(η)); empty: the
# multilinear grid of SEL_AXES (at N = 100 both gave α_sps 1.234 for truth 1.2: README, Benchmarks).
SEL_FILE=${SEL_FILE:-}
# TRUE_ALPHA: the mocks' α_sps (default the configuration's 1.2): is an offset additive, or a pull towards a value?
TRUE_ALPHA=${TRUE_ALPHA:-}
MICRO=${MICRO:-"true false"}
# Stage-1 refinement (refine_rounds, monte_carlo_target): a run's target is for its own N lenses; to pool k runs
# (infer_stage2_check.py) at a variance below ~1, give each about 1/k of it.
REFINE_ROUNDS=${REFINE_ROUNDS:-2}
MC_TARGET=${MC_TARGET:-0.5}
SEL_AXES=${SEL_AXES:-"[[0.9, 1.2, 1.5], [1.0, 1.5, 2.0], [12.7, 13.0, 13.3], [0.05, 0.15, 0.3]]"}
SEL_DRAWS=${SEL_DRAWS:-300}
TABLE=${TABLE:-Tests/LensInferenceTests/Fixtures/microlensing-table.h5}
BIN=${TESSERA_BIN:-$(swift build -c release --show-bin-path)/tessera}
[ -x "$BIN" ] || { echo "no tessera binary at $BIN (swift build -c release --product tessera)" >&2; exit 1; }
# shellcheck source=/dev/null
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=${WORK:-$(mktemp -d /tmp/infer-recovery.XXXXXX)}
echo "infer recovery: sizes $SIZES x $SEEDS seeds, microlensing $MICRO, mpirun -np $NP; work dir $work"
start=$(date +%s)
for n in $SIZES; do
  for seed in $(seq "$FIRST_SEED" "$SEEDS"); do
    for micro in $MICRO; do
      d="$work/n$n-seed$seed-ml$micro"
      [ -f "$d/run/summary.json" ] && continue
      mkdir -p "$d"
      cat >"$d/infer.yaml" <<YAML
sim_id: recovery
table: $TABLE
mock_lenses: $n
mock_seed: $((seed * 1000 + 17))
microlensing: $micro
selection_axes: $SEL_AXES
selection_draws: $SEL_DRAWS
interim_alpha: [0.7, 1.7]
lens_warmup: $LENS_WARMUP
lens_draws: $LENS_DRAWS
lens_max_tree_depth: $LENS_DEPTH
lens_coordinates: $LENS_COORDS
alpha_marginal: $ALPHA_MARGINAL
chains: 4
warmup: 500
draws: 1000
seed: $seed
refine_rounds: $REFINE_ROUNDS
monte_carlo_target: $MC_TARGET
YAML
      [ -n "$SEL_FILE" ] && echo "selection_file: $SEL_FILE" >>"$d/infer.yaml"
      [ -n "$TRUE_ALPHA" ] && echo "true_alpha_sps: $TRUE_ALPHA" >>"$d/infer.yaml"
      rm -rf "$d/run"
      mpirun -np "$NP" --oversubscribe "$BIN" infer --config "$d/infer.yaml" --out "$d/run" >"$d/infer.log" 2>&1 \
        || { echo "run $d failed: see $d/infer.log" >&2; continue; }
      python3 - "$d/run/summary.json" "$n" "$seed" "$micro" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"N={sys.argv[2]} seed={sys.argv[3]} microlensing={sys.argv[4]}: " + "; ".join(
    f"{p['name']} {p['median']:.3f} [{p['lower68']:.3f}, {p['upper68']:.3f}] truth {p['truth']:.3f} R̂ {p['rHat']:.3f}"
    for p in s["parameters"]))
PY
    done
  done
done
python3 - "$work" <<'PY'
import glob, json, math, os, sys, collections
rows = []
for f in glob.glob(os.path.join(sys.argv[1], "n*-seed*-ml*/run/summary.json")):
    tag = f.split(os.sep)[-3]
    n, seed, micro = tag[1:].split("-seed")[0], tag.split("-seed")[1].split("-ml")[0], tag.split("-ml")[1]
    rows.append((int(n), int(seed), micro == "true", json.load(open(f))))
names = ["alpha_sps", "halo_slope", "halo_normalisation", "halo_scatter"]
print("\n68% coverage (microlensing on; target 0.55-0.80):")
for n in sorted({r[0] for r in rows}):
    sel = [r for r in rows if r[0] == n and r[2]]
    if not sel: continue
    cov = {k: sum(p["covered"] for r in sel for p in r[3]["parameters"] if p["name"] == k) / len(sel) for k in names}
    width = {k: sum(p["upper68"] - p["lower68"] for r in sel for p in r[3]["parameters"] if p["name"] == k) / len(sel) for k in names}
    print(f"  N={n} ({len(sel)} mocks): " + ", ".join(f"{k} {cov[k]:.2f}" for k in names))
    print(f"  N={n} mean 68% width: " + ", ".join(f"{k} {width[k]:.4f}" for k in names) + f"; x sqrt(N): alpha {width['alpha_sps'] * math.sqrt(n):.3f}")
print("\nalpha_sps bias (median - truth), mean over mocks:")
for n in sorted({r[0] for r in rows}):
    for micro in (True, False):
        sel = [r for r in rows if r[0] == n and r[2] == micro]
        if not sel: continue
        b = [p["median"] - p["truth"] for r in sel for p in r[3]["parameters"] if p["name"] == "alpha_sps"]
        m = sum(b) / len(b); sd = (sum((x - m) ** 2 for x in b) / max(len(b) - 1, 1)) ** 0.5
        print(f"  N={n} microlensing {'on ' if micro else 'off'}: {m:+.4f} ± {sd / math.sqrt(len(b)):.4f} ({len(b)} mocks)")
PY
echo "total $(( $(date +%s) - start )) s"

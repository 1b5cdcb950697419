#!/usr/bin/env bash
# Cost of building the selection normalisation A(η) as a function of its tolerance (issue 17, "done when"):
# `mpirun -np NP tessera selection build` over the bundled magnification-table fixture, once per tolerance in
# TOLERANCES (the factor of the binomial σ(ln A) every node's leave-one-out error must fall within), with DRAWS
# Monte Carlo draws per η point, INITIAL Halton points, PER_ROUND points per refinement round and a MAX_POINTS
# budget. Prints per tolerance: points, rounds, draws per point, wall seconds, the tolerance achieved, and
# whether it converged or hit the budget.
#
#   swift build -c release --product tessera
#   Benchmarks/selection_build.sh                       # TOLERANCES="4 3 2" DRAWS=400 NP=3
#   DRAWS=1000 TOLERANCES="3 2 1.5" MAX_POINTS=300 Benchmarks/selection_build.sh
#
# Measured 2026-12-06 (release build, mpirun -np 3 oversubscribed on 2 cores shared with other builds: load
# average 15-19, so the seconds are upper bounds), DRAWS=400 TOLERANCES="2 1 0.7 0.5" MAX_POINTS=150, default box:
#   tolerance  points  rounds  draws   seconds  achieved stop
#   2              40       1    400      37.8      1.34 converged
#   1              50       2    400      48.8     0.839 converged
#   0.7            97       7    400      89.1     0.611 converged
#   0.5           150      12    400     148.1     0.884 budget
# About 1 s per point of 400 draws here (2.5 ms per draw on a loaded core; the draws share random streams across
# η, so neighbouring ln A differ by less than their binomial σ and leave-one-out errors near 1 σ are reached
# with few points). Below ~0.6 σ the Monte Carlo noise itself sets the leave-one-out error, and adding points
# stops helping (0.5: budget reached at 0.88 σ); raise DRAWS to go lower.
set -euo pipefail
cd "$(dirname "$0")/.."
NP=${NP:-3}
DRAWS=${DRAWS:-400}
INITIAL=${INITIAL:-40}
PER_ROUND=${PER_ROUND:-10}
MAX_POINTS=${MAX_POINTS:-150}
TOLERANCES=${TOLERANCES:-"4 3 2"}
BIN=${TESSERA_BIN:-$(swift build -c release --show-bin-path)/tessera}
[ -x "$BIN" ] || { echo "no tessera binary at $BIN (swift build -c release --product tessera)" >&2; exit 1; }
# shellcheck source=/dev/null
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work=${WORK:-$(mktemp -d /tmp/selection-bench.XXXXXX)}
table=$PWD/Tests/LensInferenceTests/Fixtures/microlensing-table.h5
echo "selection build: mpirun -np $NP, $DRAWS draws/point, $INITIAL initial + $PER_ROUND per round, budget $MAX_POINTS; work dir $work"
printf '%-9s %7s %7s %6s %9s %9s %s\n' tolerance points rounds draws seconds achieved stop
for tol in $TOLERANCES; do
  d="$work/tol-$tol"
  mkdir -p "$d"
  cat >"$d/population.yaml" <<YAML
sim_id: bench
table: $table
draws: $DRAWS
initial_points: $INITIAL
points_per_round: $PER_ROUND
max_points: $MAX_POINTS
tolerance: $tol
YAML
  start=$(date +%s.%N)
  mpirun -np "$NP" --oversubscribe "$BIN" selection build --config "$d/population.yaml" --out "$d/run" >"$d/log" 2>&1
  end=$(date +%s.%N)
  line=$(grep 'wrote .*selection.h5' "$d/log")
  points=$(sed -E 's/.*\(([0-9]+) points, ([0-9]+) round.*/\1/' <<<"$line")
  rounds=$(sed -E 's/.*\(([0-9]+) points, ([0-9]+) round.*/\2/' <<<"$line")
  achieved=$(grep 'worst leave-one-out error' "$d/log" | tail -1 | sed -E 's/.*error ([^ ]+) σ.*/\1/')
  stop=$(grep -q 'NOT converged' <<<"$line" && echo budget || echo converged)
  printf '%-9s %7s %7s %6s %9.1f %9s %s\n' "$tol" "$points" "$rounds" "$DRAWS" "$(echo "$end - $start" | bc)" "$achieved" "$stop"
done

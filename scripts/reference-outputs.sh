#!/usr/bin/env bash
# Deterministic reference runs whose outputs must not change under a refactoring: the scene demo
# (one worker rank, so regions are fitted in a fixed order), a seeded `tabulate` of the small
# example grid, and a seeded mock + NUTS `clusters fit`. Compare two output folders with
# scripts/compare_outputs.py.
#
#   scripts/reference-outputs.sh BIN OUTDIR      # e.g. .build/release/tessera /tmp/ref-before
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1"); out=$2
[ -x "$bin" ] || { echo "reference-outputs: no executable at $1" >&2; exit 2; }
[ -e "$out" ] && { echo "reference-outputs: $out exists; choose a new folder" >&2; exit 2; }
mkdir -p "$out"
# shellcheck source=/dev/null
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe -np)
"${mpi[@]}" 2 "$bin" demo --out "$out/demo" > "$out/demo.log" 2>&1
"${mpi[@]}" 3 "$bin" tabulate --grid examples/grid-small.yaml --out "$out/table" > "$out/table.log" 2>&1
"$bin" clusters mock --config scripts/reference/clusters-mock.yaml --out "$out/mock" > "$out/mock.log" 2>&1
( cd "$out/mock" && "${mpi[@]}" 3 "$bin" clusters fit --config "$OLDPWD/scripts/reference/clusters-fit.yaml" --out "$out/fit" ) > "$out/fit.log" 2>&1
echo "reference-outputs: wrote $out"

#!/usr/bin/env bash
# MOF benchmark of issue 13 (see Benchmarks/TesseraBench/MOFTileBenchmark.swift): a mock MEDS-like
# tile (MockStampTile, ~40% of objects in blended groups of 2-3), MOF vs isolated max-likelihood
# fluxes against the truth (rms error, pull median and robust width, blended and isolated apart),
# the fraction of groups converged within 15 passes, and objects/s/core for isolated ML on 48²
# stamps and for MOF on the tile. Fits run serially on one core.
#   Benchmarks/mof_tile.sh [OBJECTS [SEED [SPEED_OBJECTS [OUT.csv]]]]
# Comparisons: MOF_JOINT_MAX=0 (no joint starting fit), MOF_MARGINAL=0 (conditional errors).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tessera-bench
.build/release/tessera-bench mof "${1:-2000}" "${2:-1}" "${3:-200}" ${4:+"$4"}

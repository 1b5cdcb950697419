#!/usr/bin/env bash
# Remakes Tests/LensInferenceTests/Fixtures/microlensing-table.h5, the small real magnification table the
# LensInference tests use (about 45 s on 2 cores), from the grid committed next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=Tests/LensInferenceTests/Fixtures
out=$(mktemp -d)/table
source mpi_configs/workstation.env
mpirun -np 2 .build/release/tessera tabulate --grid "$fixtures/microlensing-table-grid.yaml" --out "$out"
cp "$out/table.h5" "$fixtures/microlensing-table.h5"
echo "wrote $fixtures/microlensing-table.h5"

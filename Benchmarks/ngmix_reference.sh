#!/usr/bin/env bash
# Issue 13's speed benchmark with an ngmix reference: single-object maximum-likelihood fits of the
# same 48² stamps by Tessera and by ngmix, in one run, one core each, and their ratio.
#
#   NGMIX_PYTHON=/path/to/venv/bin/python bash Benchmarks/ngmix_reference.sh [OBJECTS [CORE [REPEATS]]]
#
# MEASUREMENT ONLY: ngmix (with numba, fitsio, galsim) is not installed by this project; point
# NGMIX_PYTHON at a Python that has it (the versions used are in Benchmarks/ngmix_reference.py).
# TESSERA_BIN_DIR: a directory holding release builds of tessera and tessera-bench (default: build
# both here with `swift build -c release`).
#
# 1. `tessera meds mock --objects N --blended-fraction 0 --box-size 48 --seed 2` writes the tile:
#    isolated exponential galaxies, a coadd and 3 single epochs with their PSF images, Jacobians
#    and weights. This is the tile that `tessera-bench mof 1 1 N` times in memory (its speed tile
#    is MockStampTile with seed 1+1 = 2, N objects, 48² boxes, blended fraction 0, the other
#    settings at their defaults, as `meds mock` uses them: see MOFTileBenchmark.swift).
# 2. Accuracy, untimed: Tessera's max_likelihood batch fit of the MEDS file (one chunk, one rank)
#    and ngmix's fit, both compared with truth.fits (flux pull median and robust width).
# 3. Speed, pinned to one core (taskset -c CORE, default 0), one thread each (OMP, OpenBLAS,
#    numba): Tessera = the "isolated ML on 48² stamps" line of tessera-bench (PSF fits from the PSF
#    images + 7-parameter Sérsic L-BFGS fit + Laplace errors, stamps in memory, no file reading);
#    ngmix = ngmix_reference.py (3-Gaussian PSF fits + 6-parameter 'exp' LM fit + covariance,
#    Observations built from arrays in memory; imports, file reading and numba JIT not timed).
#    Also printed, not in the ratio: ngmix with an EM PSF fit (the algorithm of Tessera's PSF
#    step), with finite-difference LM derivatives (as in the released ngmix 2.4.1), and the
#    7-parameter bulge+disk model bdf (with the fracdev prior ngmix needs there: see the .py).
#    The two timed fits alternate REPEATS times (default 2); the ratio uses each code's best
#    (fastest) pass, the usual choice on a shared machine where other work only ever slows a pass.
# Run it on an idle machine (it prints the load average before and after).
# Measured 2026-12-06 (commit 917a81e's Tessera, 2-vCPU Xeon VM, load ~1 = this run alone, 200
# objects, best of 2, two runs): Tessera 9.7 / 10.8 objects/s/core, ngmix exp 40.9 / 48.3;
# Tessera/ngmix = 0.24 / 0.22. Flux pulls: Tessera median -0.22, width 1.17; ngmix -0.23, 1.13.
set -euo pipefail
cd "$(dirname "$0")/.."
OBJECTS=${1:-200}
CORE=${2:-0}
REPEATS=${3:-2}
PY=${NGMIX_PYTHON:-python3}
if ! "$PY" -c "import ngmix, numba, fitsio" 2>/dev/null; then
    echo "ngmix_reference.sh: $PY cannot import ngmix, numba and fitsio; set NGMIX_PYTHON to a Python" \
         "that has them (a measurement-only install, see Benchmarks/ngmix_reference.py)" >&2
    exit 1
fi
if [ -n "${TESSERA_BIN_DIR:-}" ]; then
    BIN=$TESSERA_BIN_DIR
else
    swift build -c release --product tessera >/dev/null
    swift build -c release --product tessera-bench >/dev/null
    BIN=.build/release
fi
for exe in tessera tessera-bench; do
    [ -x "$BIN/$exe" ] || { echo "ngmix_reference.sh: no $BIN/$exe" >&2; exit 1; }
done
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
PIN=(taskset -c "$CORE")
WORK=$(mktemp -d /tmp/tessera-ngmix-ref.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$BIN/tessera" meds mock --out "$WORK/tile" --objects "$OBJECTS" --blended-fraction 0 --box-size 48 --seed 2
MEDS=$WORK/tile/tile-meds.fits

echo "== accuracy (untimed): Tessera max_likelihood batch fit of the MEDS file =="
printf 'fitter: max_likelihood\nchunk_size: %d\nranks_per_chunk: 1\nseed: 2\n' "$OBJECTS" > "$WORK/ml.yaml"
"$BIN/tessera" batch setup "$WORK/ml.yaml" "$MEDS" --out "$WORK/run" >/dev/null
"${PIN[@]}" "$BIN/tessera" batch chunk "$WORK/run/tile/chunk-0000" | tail -2
"$BIN/tessera" batch collate "$WORK/run" >/dev/null
"$PY" Benchmarks/ngmix_reference.py "$MEDS" --tessera-catalog "$WORK/run/tile/tile-catalog.fits"

echo "== speed, core $CORE; load before: $(cut -d' ' -f1-3 /proc/loadavg) =="
for pass in $(seq 1 "$REPEATS"); do
    echo "-- pass $pass --"
    "${PIN[@]}" "$BIN/tessera-bench" mof 1 1 "$OBJECTS" | grep "isolated ML on 48" | tee -a "$WORK/tessera.txt"
    "${PIN[@]}" "$PY" Benchmarks/ngmix_reference.py "$MEDS" --psf coellip | tee -a "$WORK/ngmix.txt"
done
echo "-- not in the ratio --"
"${PIN[@]}" "$PY" Benchmarks/ngmix_reference.py "$MEDS" --psf em
"${PIN[@]}" "$PY" Benchmarks/ngmix_reference.py "$MEDS" --psf coellip --finite-difference
"${PIN[@]}" "$PY" Benchmarks/ngmix_reference.py "$MEDS" --psf coellip --model bdf
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg) =="

T=$(sed -n 's/.*isolated ML on 48² stamps.*= \([0-9.]*\) objects\/s\/core.*/\1/p' "$WORK/tessera.txt" | sort -g | tail -1)
N=$(sed -n 's/^ngmix objects\/s\/core: \([0-9.]*\).*/\1/p' "$WORK/ngmix.txt" | sort -g | tail -1)
[ -n "$T" ] && [ -n "$N" ] || { echo "ngmix_reference.sh: could not read both speeds" >&2; exit 1; }
awk -v t="$T" -v n="$N" -v r="$REPEATS" 'BEGIN { printf "objects/s/core (best of %d): Tessera %.2f, ngmix exp %.2f; Tessera/ngmix = %.3f (ngmix %.1fx faster)\n", r, t, n, t / n, n / t }'

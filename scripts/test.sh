#!/usr/bin/env bash
# Run Tessera's tests: the unit and multi-rank suite (`swift test`, whose MultiRankTests launch
# the built binary under `mpirun -np 2` and `-np 4`), then the release binary's own multi-rank
# smoke runs, checked with h5dump, a real SLURM job array (scripts/test-slurm.sh) and
# scripts/test-multihost.sh (two namespace hosts; as root).
# Needs scripts/setup.sh first.
#
#   scripts/test.sh           # everything (what CI runs)
#   scripts/test.sh --quick   # the everyday tier: unit tests only, no mpirun (about 1.5 minutes
#                             # after the build)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--quick" ]; then
  echo "== swift test (quick tier: every test target but MultiRankTests)"
  swift test --skip MultiRankTests
  exit
fi

# The documented workstation settings (oversubscribe, yield when idle, one BLAS thread per rank);
# CI runs as root, which mpirun refuses unless told.
# shellcheck source=/dev/null
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "== swift test"
mkdir -p .build
# MultiRankTests launch this binary under mpirun: the release build users run (and 10-100x
# faster than the debug build for the ray shooting).
TESSERA_BIN="$(swift build -c release --show-bin-path)/tessera"
[ -x "$TESSERA_BIN" ] || { echo "no release binary at $TESSERA_BIN: run scripts/setup.sh" >&2; exit 1; }
export TESSERA_BIN
set +e
swift test 2>&1 | tee .build/test-output.txt
unit_status=${PIPESTATUS[0]}
set -e
# The last XCTest summary line counts every test of the bundle.
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" .build/test-output.txt | tail -n 1 || true)
unit_total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
unit_failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -z "$summary" ]; then unit_total=0; unit_failed=1; fi
# Swift Testing (@Test) cases are reported on their own line: "Test run with N tests … passed/failed".
st_line=$(grep -E "Test run with [0-9]+ tests?" .build/test-output.txt | tail -n 1 || true)
if [ -n "$st_line" ]; then
  st_total=$(echo "$st_line" | sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/')
  if echo "$st_line" | grep -q "failed"; then
    st_failed=$(grep -cE "^✘ Test .*failed after" .build/test-output.txt || true)
    [ "$st_failed" -gt 0 ] || st_failed=1
  else st_failed=0; fi
  unit_total=$((unit_total + st_total)); unit_failed=$((unit_failed + st_failed))
fi
if [ "$unit_status" -ne 0 ] && [ "$unit_failed" -eq 0 ]; then unit_failed=1; fi

echo "== release binary under mpirun"
bin="$TESSERA_BIN"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
for np in 2 4; do
  for transfer in collective independent; do
    run="$work/selftest-np$np-$transfer"
    if mpirun -np "$np" --oversubscribe "$bin" selftest --out "$run" --transfer "$transfer" --values-per-rank 2000 >"$run.log" 2>&1 \
       && h5dump -d /ring/source_rank "$run/selftest.h5" >/dev/null \
       && python3 - "$run" "$np" <<'PY'
import json, sys
run, np = sys.argv[1], int(sys.argv[2])
meta = json.load(open(f"{run}/metadata.json"))
report = json.load(open(f"{run}/report.json"))
assert meta["status"] == "finished" and meta["mpi_size"] == np and len(meta["hosts"]) == np, meta
assert report["ok"] and report["mpi_size"] == np, report
PY
    then passed=$((passed + 1)); echo "ok   mpirun -np $np selftest ($transfer)"
    else failed=$((failed + 1)); echo "FAIL mpirun -np $np selftest ($transfer)"; cat "$run.log"; fi
  done
done
# The SLURM template, outside SLURM, launching with mpirun and the workstation settings.
slurm_run="$work/slurm-run"
if SLURM_NTASKS=2 SLURM_JOB_ID=test LAUNCHER=mpirun MPI_ENV=mpi_configs/workstation.env TESSERA="$bin" OUT="$slurm_run" \
     bash slurm/tessera.sbatch selftest --values-per-rank 50 >"$work/slurm.log" 2>&1 \
   && grep -q '"mpi_size" : 2' "$slurm_run/metadata.json"; then
  passed=$((passed + 1)); echo "ok   slurm/tessera.sbatch with LAUNCHER=mpirun"
else
  failed=$((failed + 1)); echo "FAIL slurm/tessera.sbatch with LAUNCHER=mpirun"; cat "$work/slurm.log"
fi

# The several-node template, outside SLURM on this one node, through its TCP settings.
if SLURM_NTASKS=2 LAUNCHER=mpirun MPI_ENV=mpi_configs/workstation.env TRANSPORT=tcp NETWORK=127.0.0.0/8 TESSERA="$bin" \
     OUT="$work/slurm-multinode" bash slurm/tessera-multinode.sbatch selftest --values-per-rank 50 >"$work/slurm-multinode.log" 2>&1 \
   && grep -q '"mpi_size" : 2' "$work/slurm-multinode/metadata.json"; then
  passed=$((passed + 1)); echo "ok   slurm/tessera-multinode.sbatch with LAUNCHER=mpirun TRANSPORT=tcp"
else
  failed=$((failed + 1)); echo "FAIL slurm/tessera-multinode.sbatch"; cat "$work/slurm-multinode.log"
fi
# A check script that needs a service of this machine (a mount namespace, a SLURM daemon) and
# exits 77 when it cannot start one here: counted when it passes or fails, shown as skipped (with
# its last line, the reason) otherwise. Arguments: label, log name, command...
service_check() {
  local label=$1 log="$work/$2.log" rc
  shift 2
  set +e
  "$@" >"$log" 2>&1
  rc=$?
  set -e
  case $rc in
    0)  passed=$((passed + 1)); echo "ok   $label: $(tail -n 1 "$log")" ;;
    77) echo "skip $label: $(tail -n 1 "$log")" ;;
    *)  failed=$((failed + 1)); echo "FAIL $label"; cat "$log" ;;
  esac
}

# A run directory that rank 1 cannot see (its own mount namespace): one clear error within 5 s.
service_check "invisible run directory refused (scripts/test-invisible-rundir.sh)" invisible scripts/test-invisible-rundir.sh "$bin"

# A real SLURM (slurm-wlm + munge, one node, started and stopped by the script): an sbatch job
# array whose tasks run mpirun inside their allocation.
service_check "real SLURM job array (scripts/test-slurm.sh)" slurm scripts/test-slurm.sh "$bin"

# Survey batches (issue 13): a mock MEDS tile in chunks through a real SLURM job array, verify,
# collate, chunked = unchunked bit for bit, a deleted chunk, a SIGKILLed chunk resumed.
set +e
scripts/test-batch.sh "$bin" >"$work/batch.log" 2>&1
batch=$?
set -e
batch_passed=$(grep -c '^ok ' "$work/batch.log" || true)
batch_failed=$(grep -c '^FAIL' "$work/batch.log" || true)
passed=$((passed + batch_passed)); failed=$((failed + batch_failed))
if [ $batch -ne 0 ] && [ "$batch_failed" -eq 0 ]; then failed=$((failed + 1)); fi
if [ $batch -ne 0 ]; then cat "$work/batch.log"; else grep -E '^(ok|note)' "$work/batch.log" | sed 's/^/  batch: /'; fi

# The scene pipeline as users start it: the demo under mpirun -np 4, its results file read with
# h5dump, then `sample` again through the SLURM template from the demo's own configuration.
demo="$work/demo"
if mpirun -np 4 --oversubscribe "$bin" demo --out "$demo" >"$work/demo.log" 2>&1 \
   && h5dump -H "$demo/sample/results.h5" >/dev/null \
   && t=$(jq .target_iterations "$demo/sample/params.json") \
   && h5dump -d /state/n_iter "$demo/sample/results.h5" | grep -q "$t, $t" \
   && [ -s "$demo/sample/postprocess/summary.fits" ] && [ -s "$demo/sample/catalog.fits" ] \
   && conv=$(grep -oE 'max split R-hat [0-9.]+, min ESS [0-9]+' "$work/demo.log") \
   && echo "$conv" | awk '{ exit !($4 + 0 <= 1.05 && $7 + 0 >= 100) }'; then
  # Issue 16's demo criterion: max split R-hat <= 1.05 and min ESS >= 100 for every parameter (its
  # 30 s on 2 cores is a benchmark figure, printed here, not asserted).
  passed=$((passed + 1)); echo "ok   mpirun -np 4 tessera demo ($conv; $(grep -oE 'demo \[ *[0-9.]+ s\]: done' "$work/demo.log" | grep -oE '[0-9.]+ s'))"
else
  failed=$((failed + 1)); echo "FAIL mpirun -np 4 tessera demo"; cat "$work/demo.log"
fi
if SLURM_NTASKS=3 SLURM_JOB_ID=scene LAUNCHER=mpirun MPI_ENV=mpi_configs/workstation.env TESSERA="$bin" OUT="$work/slurm-sample" \
     bash slurm/tessera.sbatch sample --config "$demo/sample/params.json" >"$work/slurm-sample.log" 2>&1 \
   && grep -q '"status" : "finished"' "$work/slurm-sample/metadata.json"; then
  passed=$((passed + 1)); echo "ok   slurm/tessera.sbatch sample (3 ranks)"
else
  failed=$((failed + 1)); echo "FAIL slurm/tessera.sbatch sample"; cat "$work/slurm-sample.log"
fi

# The bundled strong-lens inference example (issue 17) as users start it: it must finish (a changed mock once
# left two lenses with no common α and stage 2 could not start), and its chains file must read back.
infer_start=$(date +%s)
if mpirun -np 4 --oversubscribe "$bin" infer --config examples/infer-small.yaml --out "$work/infer-small" >"$work/infer-small.log" 2>&1 \
   && h5dump -H "$work/infer-small/chains.h5" >/dev/null && [ -s "$work/infer-small/summary.json" ] && [ -s "$work/infer-small/report.html" ]; then
  passed=$((passed + 1)); echo "ok   mpirun -np 4 tessera infer --config examples/infer-small.yaml ($(( $(date +%s) - infer_start )) s)"
else
  failed=$((failed + 1)); echo "FAIL mpirun -np 4 tessera infer --config examples/infer-small.yaml"; cat "$work/infer-small.log"
fi

# The demo's HTML report in headless Chromium: every image decodes, no console error, built
# within 5 s, screenshot kept in .build/test-artifacts (scripts/test-report-browser.sh).
if scripts/test-report-browser.sh "$bin" "$demo" >"$work/report-browser.log" 2>&1; then
  passed=$((passed + 1)); echo "ok   demo report in headless Chromium ($(grep -h "^ok   demo report built in" "$work/report-browser.log" | sed 's/^ok *//'))"
else
  failed=$((failed + 1)); echo "FAIL demo report in headless Chromium"; cat "$work/report-browser.log"
fi

echo "mpirun smoke runs: $passed passed, $failed failed"

# Across nodes: the same runs over two network-namespace hosts and the TCP transport, a host
# killed mid-run and resumed on the other, and the 1-host/2-host timing table (needs root).
echo "== multi-host runs (scripts/test-multihost.sh)"
set +e
scripts/test-multihost.sh "$bin" 2>&1 | tee .build/multihost-output.txt
mh_status=${PIPESTATUS[0]}
set -e
mh=$(grep -E "^multi-host: [0-9]+ passed, [0-9]+ failed" .build/multihost-output.txt | tail -n 1 || true)
if [ -n "$mh" ]; then
  mh_passed=$(echo "$mh" | sed -E 's/.* ([0-9]+) passed.*/\1/')
  mh_failed=$(echo "$mh" | sed -E 's/.* ([0-9]+) failed.*/\1/')
else
  mh_passed=0; mh_failed=1; echo "FAIL scripts/test-multihost.sh ended without its summary line"
fi
if [ "$mh_status" -ne 0 ] && [ "$mh_failed" -eq 0 ]; then mh_failed=1; fi

total_passed=$((unit_total - unit_failed + passed + mh_passed))
total_failed=$((unit_failed + failed + mh_failed))
echo "tests: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]

#!/usr/bin/env bash
# The survey batch layer end to end (issue 13): a mock MEDS tile cut into 4 chunks of whole
# friends-of-friends groups, run as a real SLURM job array (scripts/testslurm.sh; local mpirun
# when not root), verified and collated; the same tile as one chunk gives the same catalog bit
# for bit; a deleted chunk output is named by `verify` and refused by `collate`; a chunk killed
# with SIGKILL mid-run resumes with nothing lost or fitted twice; a tile list naming a missing
# file is refused with nothing written; a pixel-store tile (PSFs from a PSF store) is fitted
# through the same commands.
#
#   scripts/test-batch.sh [TESSERA_BIN]
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.build/release/tessera}")
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 MPIRUN_ARGS="--oversubscribe"
work=$(mktemp -d /tmp/tessera-batch-test.XXXXXX)
slurm=no
cleanup() { [ $slurm = yes ] && scripts/testslurm.sh down; rm -rf "$work"; }
trap cleanup EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

"$bin" meds mock --out "$work/tile" --objects 48 --seed 11 >/dev/null || { echo "FAIL meds mock"; exit 1; }
tile="$work/tile/tile-meds.fits"
printf 'fitter: mof\nchunk_size: 14\nranks_per_chunk: 2\nseed: 5\n' > "$work/run.yaml"
printf 'fitter: mof\nchunk_size: 100000\nranks_per_chunk: 2\nseed: 5\n' > "$work/one.yaml"

# Bad input: nothing is written.
if ! "$bin" batch setup "$work/run.yaml" "$tile" "$work/absent-meds.fits" --out "$work/BAD" 2>"$work/bad.err" \
   && grep -q "absent-meds.fits: tile MEDS file does not exist" "$work/bad.err" && [ ! -e "$work/BAD" ]; then
  ok "a tile list naming a missing file is refused, nothing written"
else bad "missing tile: $(cat "$work/bad.err")"; fi

size=$(stat -c %s "$tile")
head -c $((size - 40000)) "$tile" > "$work/cut-meds.fits"
if ! "$bin" batch setup "$work/run.yaml" "$work/cut-meds.fits" --out "$work/BAD2" 2>"$work/bad2.err" \
   && grep -q "cut-meds.fits" "$work/bad2.err" && grep -qi "truncated" "$work/bad2.err" && [ ! -e "$work/BAD2" ]; then
  ok "a truncated MEDS file is refused, naming the file and HDU, nothing written"
else bad "truncated tile: $(cat "$work/bad2.err")"; fi

"$bin" batch setup "$work/run.yaml" "$tile" --out "$work/RUN" >/dev/null || { echo "FAIL batch setup"; exit 1; }
chunks=$(wc -l < "$work/RUN/chunks.txt")
[ "$chunks" -ge 4 ] && ok "setup: $chunks chunks of whole groups" || bad "setup made $chunks chunks, expected >= 4"

# Run: a real SLURM job array when we can start one, else locally.
if [ "$(id -u)" = 0 ] && scripts/testslurm.sh up >"$work/slurm-up.log" 2>&1; then
  slurm=yes
  start=$(date +%s)
  if timeout 600 "$bin" batch run "$work/RUN" --wait >"$work/run.log" 2>&1; then
    ok "batch run through sbatch --array ($chunks tasks) in $(( $(date +%s) - start )) s"
  else bad "batch run through sbatch: $(tail -5 "$work/run.log")"; fi
else
  echo "note: no SLURM here ($(tail -n 1 "$work/slurm-up.log" 2>/dev/null)); running the chunks locally"
  "$bin" batch run "$work/RUN" --local >"$work/run.log" 2>&1 || bad "batch run --local: $(tail -5 "$work/run.log")"
fi
"$bin" batch verify "$work/RUN" >"$work/verify.log" 2>&1 && ok "verify: all chunks complete" || bad "verify: $(cat "$work/verify.log")"
"$bin" batch collate "$work/RUN" >/dev/null 2>&1 || bad "collate"
"$bin" batch link "$work/RUN" >/dev/null 2>&1 && [ -L "$work/RUN/output/tile-catalog.fits" ] || bad "link"
# (the listing goes to a file: grep -q closing a pipe early would fail tar under pipefail)
"$bin" batch archive "$work/RUN" >/dev/null 2>&1 && tar -tzf "$work/RUN/logs.tar.gz" >"$work/tar.list" && grep -q "logs/" "$work/tar.list" \
  && ok "link and archive" || bad "archive"

# Chunking changes nothing: the same tile as one chunk, run locally.
"$bin" batch setup "$work/one.yaml" "$tile" --out "$work/ONE" >/dev/null && "$bin" batch run "$work/ONE" --local >/dev/null 2>&1 \
  && "$bin" batch collate "$work/ONE" >/dev/null 2>&1 || bad "unchunked run"
if python3 scripts/fits_table_bytes.py "$work/RUN/tile/tile-catalog.fits" "$work/ONE/tile/tile-catalog.fits"; then
  ok "$chunks chunks give the unchunked catalog bit for bit"
else bad "chunked and unchunked catalogs differ"; fi

# A deleted chunk output: verify names it, collate refuses (and writes nothing new).
rm -rf "$work/RUN/tile/chunk-0002/fit"
cp "$work/RUN/tile/tile-catalog.fits" "$work/before.fits"
if ! "$bin" batch verify "$work/RUN" >"$work/verify2.log" 2>&1 && grep -q "missing     tile/chunk-0002" "$work/verify2.log" \
   && grep -qx "2" "$work/RUN/resubmit.txt"; then ok "verify names the deleted chunk and lists it for resubmission"
else bad "verify after deletion: $(cat "$work/verify2.log")"; fi
if ! "$bin" batch collate "$work/RUN" 2>"$work/collate.err" && grep -q "tile/chunk-0002 (missing)" "$work/collate.err" \
   && cmp -s "$work/before.fits" "$work/RUN/tile/tile-catalog.fits"; then ok "collate refuses the incomplete tile"
else bad "collate of an incomplete tile: $(cat "$work/collate.err")"; fi
"$bin" batch run "$work/RUN" --local --resubmit >/dev/null 2>&1 && "$bin" batch verify "$work/RUN" >/dev/null 2>&1 \
  && ok "resubmitting the listed chunk completes the run" || bad "resubmit"

# SIGKILL mid-chunk, then resume: nothing lost or fitted twice.
dir="$work/RUN/tile/chunk-0001"
rm -rf "$dir/fit"
( cd "$dir" && RANKS=2 bash run.sh >"$work/kill.log" 2>&1 ) &
runner=$!
for _ in $(seq 600); do
  n=$(ls "$dir/fit/groups" 2>/dev/null | grep -c '\.json$' || true)
  [ "${n:-0}" -ge 2 ] && break; sleep 0.05
done
# SIGKILL the chunk's whole process tree (mpirun and its ranks), nothing else on the machine.
killtree() { local c; for c in $(pgrep -P "$1"); do killtree "$c"; done; kill -KILL "$1" 2>/dev/null; }
killtree "$runner"; wait "$runner" 2>/dev/null
before=$(ls "$dir/fit/groups" | grep -c '\.json$')
if ( cd "$dir" && RANKS=2 bash run.sh >"$work/resume.log" 2>&1 ); then
  total=$(python3 -c "import json;print(len(json.load(open('$dir/chunk.json'))['groups']))")
  after=$(ls "$dir/fit/groups" | grep -c '\.json$')
  done_now=$(grep -o "[0-9]* already done" "$work/resume.log" | head -1 | cut -d' ' -f1)
  if [ "$after" = "$total" ] && [ "$done_now" = "$before" ] && [ "$before" -lt "$total" ]; then
    ok "SIGKILL after $before of $total groups; the resume fitted the other $((total - before))"
  else bad "resume: $before before, $after after, $total groups, log says $done_now done"; fi
else bad "resume after SIGKILL: $(tail -5 "$work/resume.log")"; fi
"$bin" batch collate "$work/RUN" >/dev/null 2>&1 && python3 scripts/fits_table_bytes.py "$work/RUN/tile/tile-catalog.fits" "$work/ONE/tile/tile-catalog.fits" \
  && ok "after the kill and resume the catalog is still the unchunked one" || bad "catalog after resume differs"

# A pixel-store tile (one protocol for image inputs): a mock scene rendered by the scene code,
# preprocessed, its truth catalogue's sources cut as stamps and fitted by MOF with PSFs from the
# PSF store; fluxes come back in catalogue units (nJy, calibration 2.5 counts/nJy) within 4σ.
printf 'count: 8\nseed: 3\nbands: [F200W]\nexposures_per_band: 2\nimage_size: 80\npsf_sigma: [1.2]\ncalibration: 2.5\nflux_range: [150, 400]\nsersic_range: [1, 1]\npoint_fraction: 0\nmin_separation: 1.0\n' > "$work/scene.yaml"
"$bin" mock-scene --config "$work/scene.yaml" --out "$work/scene" >/dev/null && "$bin" preprocess "$work"/scene/images/*.fits --out "$work/pixels.h5" >/dev/null \
  || bad "mock scene and preprocess for the pixel-store tile"
printf 'fitter: mof\nchunk_size: 4\nranks_per_chunk: 2\nseed: 5\ninput:\n  psf_store: %s\n  band: F200W\n  catalog: %s\n  box_size: 24\n' \
  "$work/scene/psf.h5" "$work/scene/truth.fits" > "$work/store.yaml"
if "$bin" batch setup "$work/store.yaml" "$work/pixels.h5" --out "$work/STORE" >"$work/store.log" 2>&1 \
   && "$bin" batch run "$work/STORE" --local >>"$work/store.log" 2>&1 && "$bin" batch collate "$work/STORE" >>"$work/store.log" 2>&1; then
  if python3 - "$work/STORE/pixels/pixels-catalog.fits" "$work/scene/truth.fits" <<'PY'
import subprocess, sys
cols = lambda f, *c: [l.split("\t") for l in subprocess.run([sys.executable, "scripts/fits_columns.py", f, *c], capture_output=True, text=True, check=True).stdout.split("\n") if l]
fit = cols(sys.argv[1], "id", "flux", "flux_err", "flags")
truth = {int(r[0]): float(r[1]) for r in cols(sys.argv[2], "id", "F200W")}
pulls = [(float(f) - truth[int(i)]) / float(e) for i, f, e, flag in fit]
print("pixel-store tile: flux pulls", " ".join(f"{p:+.2f}" for p in pulls))
sys.exit(0 if len(fit) == len(truth) == 8 and all(int(r[3]) == 0 for r in fit) and max(map(abs, pulls)) < 4 else 1)
PY
  then ok "a pixel-store tile through batch setup/run/collate recovers the injected fluxes (nJy)"
  else bad "pixel-store tile fluxes"; fi
else bad "pixel-store tile batch: $(tail -5 "$work/store.log")"; fi

echo "batch: $passed passed, $failed failed"
[ $failed = 0 ]

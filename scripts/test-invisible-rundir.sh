#!/usr/bin/env bash
# The run-directory visibility check, proved on one machine without network namespaces.
#
#   scripts/test-invisible-rundir.sh .build/release/tessera
#
# mpirun's MPMD form starts rank 0 as usual and rank 1 inside its own mount namespace
# (`unshare --mount`), where the run directory's parent folder is bind-mounted over by another,
# empty folder: rank 1 sees a different file system there, as a node with node-local disk would.
# Both ranks report the same host name, so the error names rank 1. Checked:
#   1. a new `selftest` run stops with one error naming the run directory and rank 1, within
#      5 seconds, and leaves no run directory behind; also when rank 1 sees another folder there;
#   2. `tabulate --resume DIR` of an existing run (its params.json is then only readable by rank 0)
#      stops the same way and leaves the run untouched;
#   3. the same two launches without the bind mount succeed (the check passes, no token is left).
# Needs root (or the right to make mount namespaces). Exits 0 if every check passes, 1 if one
# fails, 77 if this machine cannot make a mount namespace (the reason is printed).
set -uo pipefail
bin=$(readlink -f "${1:?usage: $0 PATH/TO/tessera}")
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1

work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-invisible.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/shared" "$work/other"
failed=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failed=1; }

# Can this machine make a mount namespace with a bind mount at all?
if ! probe=$(unshare --mount sh -c "mount --bind '$work/other' '$work/shared' && echo ok" 2>&1) || [ "$probe" != ok ]; then
  echo "SKIP: cannot bind-mount inside a new mount namespace here: $probe"
  exit 77
fi

# run LABEL BIND ARGS...: rank 0 plain, rank 1 in its own mount namespace (with the bind mount
# over $work/shared when BIND=1). Sets $status, $seconds; output in $work/LABEL.log.
run() {
  local label=$1 bind=$2; shift 2
  local quoted; quoted=$(printf "'%s' " "$bin" "$@")
  local mount=""
  [ "$bind" = 1 ] && mount="mount --bind '$work/other' '$work/shared' && "
  local t0; t0=$(date +%s.%N)
  timeout 60 mpirun -np 1 "$bin" "$@" : -np 1 unshare --mount sh -c "${mount}exec $quoted" >"$work/$label.log" 2>&1
  status=$?
  seconds=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

expect_refusal() {   # LABEL RUN_DIR [WHY]: launch LABEL failed fast with the one clear message
  local label=$1 dir=$2 why=${3:-no such directory there} log="$work/$1.log"
  if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] \
     && grep -q "run directory $dir is not visible from host .* (rank 1): $why" "$log" \
     && grep -q "put run directories and inputs on a file system every node mounts" "$log" \
     && awk -v s="$seconds" 'BEGIN { exit !(s < 5) }'; then
    pass "$label: refused in ${seconds}s: $(grep -m1 'not visible' "$log")"
  else
    fail "$label (exit $status after ${seconds}s)"; cat "$log"
  fi
}

# 1. A new run whose directory rank 1 cannot see.
new="$work/shared/new-run"
run new-run 1 selftest --out "$new" --values-per-rank 10
expect_refusal new-run "$new"
[ ! -e "$new" ] && pass "new run: the refused run directory was removed" || fail "new run: $new was left behind"

# 1b. Rank 1 sees a different folder of the same name (a node-local directory made beforehand).
local_dir="$work/shared/local-run"
mkdir -p "$work/other/local-run"
run local-run 1 selftest --out "$local_dir" --values-per-rank 10
expect_refusal local-run "$local_dir" "a different folder of that name is there"

# 2. --resume of an existing run whose directory rank 1 cannot see.
grid="$work/grid.yaml"
printf '%s\n' 'sim_id: invisible' 'table_version: "t"' 'kappa: [0.3]' 'gamma: [0.2]' 's: [0.0]' 'size_re: 4' \
  'pixels: 16' 'rays_per_pixel: 4' 'source_sizes: [0.0]' 'source_profile: gaussian' 'log_mu_range: [-1.5, 1.5]' \
  'bins: 8' 'seed: 1' >"$grid"
table="$work/shared/table"
if "$bin" tabulate --grid "$grid" --out "$table" >"$work/table.log" 2>&1; then
  before=$(cd "$table" && find . -type f -exec sha256sum {} + | sort)
  run resume 1 tabulate --resume "$table"
  expect_refusal resume "$table"
  after=$(cd "$table" && find . -type f -exec sha256sum {} + | sort)
  [ "$before" = "$after" ] && pass "resume: the run directory is untouched" || fail "resume: the run directory changed"
else
  fail "could not make the table to resume"; cat "$work/table.log"
fi

# 3. The same launches with rank 1 in a mount namespace that sees the same folders: they pass.
same="$work/shared/same-run"
run same-run 0 selftest --out "$same" --values-per-rank 10
if [ "$status" -eq 0 ] && ! ls -A "$same" | grep -q '^\.tessera-visibility'; then
  pass "same view: selftest ran in ${seconds}s and left no token"
else
  fail "same view: selftest (exit $status)"; cat "$work/same-run.log"
fi
run resume-same 0 tabulate --resume "$table"
[ "$status" -eq 0 ] && pass "same view: tabulate --resume ran" || { fail "same view: tabulate --resume (exit $status)"; cat "$work/resume-same.log"; }

exit $failed

#!/usr/bin/env bash
# Multi-host tests (issue 15): Tessera under mpirun across two test hosts (network namespaces
# made by scripts/testhosts.sh, linked by OpenMPI's TCP transport, sharing the file system).
#
#   scripts/test-multihost.sh BIN        # as root; scripts/test.sh runs it with the release binary
#
# 1. selftest, demo, tabulate and clusters fit on 2 hosts × 2 ranks give the outputs of the
#    one-host runs where those are deterministic (seeded tables and cluster fits, the 1-worker
#    scene pipeline), compared with h5dump, cmp and jq, leaving out timings, ranks and dates.
# 2. A host killed mid-run (every process in its namespace), then --resume on the other host:
#    sample, tabulate and clusters fit end complete, nothing lost, nothing done twice.
# 3. Timings of demo, tabulate and clusters fit, 1 host × 4 ranks (shared memory) against
#    2 hosts × 2 ranks (TCP), printed and written to .build/multihost-timing.md.
#
# Prints one "ok"/"FAIL" line per check, then "multi-host: N passed, M failed". Outputs stay in
# .build/multihost/ for inspection; the hosts are always torn down.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: scripts/test-multihost.sh BIN (an executable tessera)" >&2; exit 2; }
bin=$(realpath "$1")
root=$PWD
work=$root/.build/multihost
timing=$root/.build/multihost-timing.md

passed=0; failed=0
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  # Namespaces, a bridge and /etc/hosts need root; CI runs as root, so this is a local run.
  echo "FAIL multi-host tests need root and iproute2 (ip): run as root, or skip this script"
  echo "multi-host: 0 passed, 1 failed"; exit 1
fi
command -v jq >/dev/null && command -v h5dump >/dev/null || { echo "FAIL multi-host tests need jq and h5dump (scripts/setup.sh)"; echo "multi-host: 0 passed, 1 failed"; exit 1; }

# shellcheck source=/dev/null
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

# One multi-host run at a time on a machine: the hosts have fixed names, and `up` clears what
# it finds, which would pull the hosts from under a concurrent run (another checkout's test.sh).
mkdir -p /run/lock; exec 9>/run/lock/tessera-testhosts.lock
flock -w 900 9 || { echo "FAIL another multi-host run held /run/lock/tessera-testhosts.lock for 15 minutes"; echo "multi-host: 0 passed, 1 failed"; exit 1; }

rm -rf "$work"; mkdir -p "$work"
bg_pid=
cleanup() {
  # Runs still going (a failed check's background run, or all of them when interrupted: each
  # is this script's `timeout` child, which passes the signal on to mpirun), then the hosts.
  [ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null || true
  pkill -TERM -P $$ timeout 2>/dev/null || true
  scripts/testhosts.sh down || echo "multi-host: teardown failed; run scripts/testhosts.sh down" >&2
}
trap cleanup EXIT

# ---- helpers ----------------------------------------------------------------------------------
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -z "${2:-}" ] || sed 's/^/       /' "$2" | tail -n 25; }
# check NAME 'FUNCTION [ARGS]': the function's status decides; its output is shown only when it fails.
# (set -e does not act inside a function called as a condition: the checks chain with && and
# `|| return 1`.)
check() { if $2 >"$work/check.log" 2>&1; then ok "$1"; else fail "$1" "$work/check.log"; fi; }   # $2 unquoted: FUNCTION ARGS

hostargs() { read -ra hostopts <<< "$(scripts/testhosts.sh args "$1")"; }   # hostopts for HOST:SLOTS,…
# on HOSTS NP LOG ARGS…: `tessera ARGS` under mpirun on the test hosts HOSTS (HOST:SLOTS,…), or
# with HOSTS=local on this machine with OpenMPI's default transports. Sets $seconds (wall time).
on() {
  local hosts=$1 np=$2 log=$3; shift 3
  local opts=() status=0 t0
  if [ "$hosts" != local ]; then hostargs "$hosts"; opts=("${hostopts[@]}"); fi
  t0=$(date +%s.%N)
  timeout 240 mpirun -np "$np" "${opts[@]}" "$bin" "$@" >"$log" 2>&1 || status=$?
  seconds=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  [ "$status" -eq 0 ] || { echo "tessera $* on $hosts: exit status $status; last lines of $log:"; tail -n 15 "$log"; }
  return "$status"
}

# h5values FILE NAME…: h5dump of FILE without the file-name line and without any attribute or
# dataset called NAME (timings, ranks, dates: what may differ between two correct runs). Floats
# with 17 digits, so equal means bit-identical (h5dump's default shows 6).
h5values() {
  local file=$1; shift
  h5dump -m '%.17g' "$file" | tail -n +2 | awk -v names=" $* " '
    skip { if ($0 == indent "}") skip = 0; next }
    /^ *(ATTRIBUTE|DATASET) "[^"]*" \{$/ {
      name = $0; sub(/^ *(ATTRIBUTE|DATASET) "/, "", name); sub(/" \{$/, "", name)
      if (index(names, " " name " ")) { indent = $0; sub(/[^ ].*/, "", indent); skip = 1; next }
    }
    { print }'
}
same_h5() {   # A B NAME…: equal values apart from the named attributes and datasets
  local a=$1 b=$2; shift 2
  h5dump -H "$a" >/dev/null && h5dump -H "$b" >/dev/null || { echo "h5dump cannot read $a or $b"; return 1; }
  diff <(h5values "$a" "$@") <(h5values "$b" "$@") > "$work/h5.diff" && return 0
  echo "$a and $b differ:"; head -n 20 "$work/h5.diff"; return 1
}
# csv_without FILE COLUMN…: the CSV without the named columns (found by the header).
csv_without() {
  awk -F, -v drop=" ${*:2} " 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = !index(drop, " " $i " ") }
    { line = ""; for (i = 1; i <= NF; i++) if (keep[i]) line = line (line == "" ? "" : ",") $i; print line }' "$1"
}
# finished_on RUN HOSTS-JSON: the run finished, its ranks ran on exactly these hosts.
finished_on() { jq -e --argjson want "$2" '.status == "finished" and ((.hosts | unique) == $want)' "$1/metadata.json" >/dev/null \
                  || { echo "$1/metadata.json: not finished on $2:"; jq -c '{status, hosts}' "$1/metadata.json"; return 1; }; }
count_files() { find "$1" -maxdepth 1 -name "$2" 2>/dev/null | wc -l; }
both='["tnode1","tnode2"]'

# ---- the hosts --------------------------------------------------------------------------------
if ! scripts/testhosts.sh up 2 >"$work/hosts.log" 2>&1; then
  fail "test hosts: scripts/testhosts.sh up 2" "$work/hosts.log"
  echo "multi-host: $passed passed, $failed failed"; exit 1
fi
two='tnode1:2,tnode2:2'   # by slot: ranks 0, 1 on tnode1 (rank 0 is the master), 2, 3 on tnode2
declare -A t1 t2          # seconds of the timed runs: 1 host × 4 ranks, 2 hosts × 2 ranks

# ---- 1. the same outputs on one host and on two -----------------------------------------------
selftest() {
  on "$two" 4 "$work/selftest.log" selftest --out "$work/selftest" --values-per-rank 500 &&
  h5dump -d /ring/source_rank "$work/selftest/selftest.h5" >/dev/null &&
  jq -e '.ok and .mpi_size == 4' "$work/selftest/report.json" && finished_on "$work/selftest" "$both"
}
check "selftest on 2 hosts x 2 ranks (ranks on tnode1 and tnode2)" selftest

# The scene pipeline with one worker is deterministic: master on tnode1, worker on tnode2.
demo_one_worker() {
  local a=$work/demo-1w-local b=$work/demo-1w-hosts f
  on local 2 "$a.log" demo --out "$a" && on tnode1:1,tnode2:1 2 "$b.log" demo --out "$b" &&
  finished_on "$b/sample" "$both" || return 1
  for f in optimize/catalog.fits sample/catalog.fits sample/postprocess/summary.fits; do cmp "$a/$f" "$b/$f" || return 1; done
  same_h5 "$a/optimize/results.h5" "$b/optimize/results.h5" seconds t_start t_end &&
  same_h5 "$a/sample/results.h5" "$b/sample/results.h5" seconds t_start t_end &&
  diff <(jq -S .sources "$a/sample/state.json") <(jq -S .sources "$b/sample/state.json") >/dev/null
}
check "demo, 1 worker: 2 hosts give the 1-host catalogs, chains and final state" demo_one_worker

demo_timed() {
  on local 4 "$work/demo-local.log" demo --out "$work/demo-local" && t1[demo]=$seconds &&
  on "$two" 4 "$work/demo-hosts.log" demo --out "$work/demo-hosts" && t2[demo]=$seconds &&
  finished_on "$work/demo-hosts/sample" "$both" || return 1
  for d in demo-local demo-hosts; do
    jq -e --argjson t "$(jq .target_iterations "$work/$d/sample/params.json")" '[.iterations[] == $t] | all' "$work/$d/sample/state.json" || return 1
  done
}
check "demo, 3 workers (timed): 1 host x 4 ranks and 2 hosts x 2 ranks fit every source" demo_timed

grid=scripts/multihost-grid.yaml   # 6 cells, none near the critical line
tabulate_compare() {
  on local 4 "$work/table-local.log" tabulate --grid "$grid" --out "$work/table-local" && t1[tabulate]=$seconds &&
  on "$two" 4 "$work/table-hosts.log" tabulate --grid "$grid" --out "$work/table-hosts" && t2[tabulate]=$seconds &&
  finished_on "$work/table-hosts" "$both" &&
  h5dump -d /cells/status "$work/table-local/table.h5" | grep -q "(0): 1, 1, 1, 1, 1, 1" &&
  same_h5 "$work/table-local/table.h5" "$work/table-hosts/table.h5" seconds rank created
}
check "tabulate (timed): the 2-host table equals the 1-host table" tabulate_compare

# The seeded reference mock (12 halos) and NUTS fit of scripts/reference/, halos by absolute path.
sed "s|^halos:.*|halos: \"$work/mock/halos\"|" scripts/reference/clusters-fit.yaml > "$work/fit.yaml"
same_fit() {   # A B: summary.csv and every halo's result equal, apart from rank and seconds
  local n f
  diff <(csv_without "$1/summary.csv" rank seconds) <(csv_without "$2/summary.csv" rank seconds) || return 1
  n=$(count_files "$2/results" 'halo-*.h5'); [ "$n" -eq 12 ] || { echo "$2: $n halo results, want 12"; return 1; }
  for f in "$1"/results/halo-*.h5; do same_h5 "$f" "$2/results/${f##*/}" rank seconds || return 1; done
}
clusters_compare() {
  "$bin" clusters mock --config scripts/reference/clusters-mock.yaml --out "$work/mock" >"$work/mock.log" 2>&1 &&
  on local 4 "$work/fit-local.log" clusters fit --config "$work/fit.yaml" --out "$work/fit-local" && t1[clusters_fit]=$seconds &&
  on "$two" 4 "$work/fit-hosts.log" clusters fit --config "$work/fit.yaml" --out "$work/fit-hosts" && t2[clusters_fit]=$seconds &&
  finished_on "$work/fit-hosts" "$both" && same_fit "$work/fit-local" "$work/fit-hosts"
}
check "clusters mock + fit (timed): the 2-host fit equals the 1-host fit" clusters_compare

# ---- 2. a host lost mid-run, then --resume on the other ---------------------------------------
# killed_run NAME LOST KEPT PROGRESS WANT ARGS…: start `tessera ARGS` on 2 hosts × 2 ranks with
# each work item stretched (TESSERA_TEST_WORK_DELAY), wait until the function PROGRESS prints at
# least WANT, kill every process of host LOST, and check that mpirun ends with an error and that
# nothing of the job is left running on KEPT.
killed_run() {
  local name=$1 lost=$2 kept=$3 progress=$4 want=$5 status=0 deadline=$((SECONDS + 120)); shift 5
  hostargs "$two"
  TESSERA_TEST_WORK_DELAY=0.3 timeout 240 mpirun -np 4 "${hostopts[@]}" -x TESSERA_TEST_WORK_DELAY \
    "$bin" "$@" >"$work/$name-killed.log" 2>&1 &
  bg_pid=$!
  until [ "$($progress)" -ge "$want" ] || ! kill -0 "$bg_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
  kill -0 "$bg_pid" 2>/dev/null || { echo "the run ended before $lost was killed (progress $($progress))"; tail "$work/$name-killed.log"; return 1; }
  scripts/testhosts.sh kill "$lost"
  wait "$bg_pid" || status=$?; bg_pid=
  [ "$status" -ne 0 ] || { echo "mpirun exited 0 after $lost was killed"; return 1; }
  echo "mpirun exited $status after $lost was killed; progress then: $($progress)"
  for _ in $(seq 50); do [ -z "$(ip netns pids "$kept")" ] && return 0; sleep 0.1; done
  echo "processes left on $kept: $(ip netns pids "$kept" | xargs)"; return 1
}

# sample: the 2-host demo's scene; tnode2 (workers only) is lost.
run=$work/sample-run
checked_in() { jq '.checkedIn | length' "$run/state.json" 2>/dev/null || echo 0; }
sample_lost_host() {
  local before target
  target=$(jq .target_iterations "$work/demo-hosts/sample/params.json")
  killed_run sample tnode2 tnode1 checked_in 3 sample --config "$work/demo-hosts/sample/params.json" --out "$run" &&
  before=$(jq -c .checkedIn "$run/state.json") &&
  jq -e --argjson t "$target" '[.iterations[] == $t] | all | not' "$run/state.json" >/dev/null &&
  on tnode1:2 2 "$work/sample-resume.log" sample --resume "$run" && grep -q resuming "$work/sample-resume.log" &&
  # state.json: no check-in twice, none from before the kill lost, every source at its target.
  jq -e --argjson before "$before" --argjson t "$target" '(.checkedIn | length) == (.checkedIn | unique | length)
      and ($before - .checkedIn == []) and ([.iterations[] == $t] | all)' "$run/state.json" &&
  # patches.jsonl: each patch checked in once, the same patches as state.json, and each source's
  # draws over its check-ins add up to the target exactly (none counted twice, none dropped).
  jq -se --slurpfile st "$run/state.json" --argjson t "$target" '[.[] | select(.event == "checkin")] as $in
      | ($in | map(.patch) | length == (unique | length))
        and (($in | map(.patch) | sort) == ($st[0].checkedIn | sort))
        and ([$in[] | .draws as $d | .active[] | {id: ., d: $d}] | group_by(.id)
             | length == ($st[0].iterations | length) and (map(map(.d) | add == $t) | all))' "$run/patches.jsonl" &&
  finished_on "$run" '["tnode1"]'
}
check "sample: tnode2 killed mid-run, resumed on tnode1: every source at target, no check-in lost or doubled" sample_lost_host

# tabulate: tnode1 — the master's host — is lost; resumed on tnode2. Cells saved before the kill
# stay untouched, and the table equals the undisturbed one.
table=$work/table-run
cells_saved() { count_files "$table/checkpoint" '*.json'; }
tabulate_lost_host() {
  local saved f
  killed_run tabulate tnode1 tnode2 cells_saved 1 tabulate --grid "$grid" --out "$table" &&
  saved=$(cells_saved) && [ "$saved" -lt 6 ] && [ ! -e "$table/table.h5" ] &&
  mkdir "$work/table-saved" && cp -p "$table"/checkpoint/*.json "$work/table-saved/" &&
  on tnode2:2 2 "$work/table-resume.log" tabulate --resume "$table" &&
  grep -q "$saved already done, $((6 - saved)) to compute" "$work/table-resume.log" || return 1
  for f in "$work"/table-saved/*.json; do cmp "$f" "$table/checkpoint/${f##*/}" || return 1; done
  [ "$(cells_saved)" -eq 6 ] && same_h5 "$work/table-local/table.h5" "$table/table.h5" seconds rank created
}
check "tabulate: tnode1 (master) killed mid-run, resumed on tnode2: the table equals the undisturbed one" tabulate_lost_host

# clusters fit: tnode2 is lost; exactly one result per halo, equal to the undisturbed fit.
fit=$work/fit-run
halos_done() { count_files "$fit/results" 'halo-*.h5'; }
clusters_lost_host() {
  local saved f
  killed_run fit tnode2 tnode1 halos_done 3 clusters fit --config "$work/fit.yaml" --out "$fit" &&
  saved=$(halos_done) && [ "$saved" -lt 12 ] &&
  mkdir "$work/fit-saved" && cp -p "$fit"/results/halo-*.h5 "$work/fit-saved/" &&
  on tnode1:2 2 "$work/fit-resume.log" clusters fit --resume "$fit" &&
  grep -q "12 halos, $saved already done, $((12 - saved)) to fit" "$work/fit-resume.log" || return 1
  for f in "$work"/fit-saved/*.h5; do cmp "$f" "$fit/results/${f##*/}" || return 1; done
  [ "$(count_files "$fit/results" '*.partial')" -eq 0 ] && [ "$(($(wc -l < "$fit/summary.csv") - 1))" -eq 12 ] &&
  same_fit "$work/fit-local" "$fit"
}
check "clusters fit: tnode2 killed mid-run, resumed on tnode1: one result per halo, equal to the undisturbed fit" clusters_lost_host

# ---- 3. the timing table ----------------------------------------------------------------------
# The runs of part 1 are the first round; each further round runs every pair again, 2 hosts
# first, and the table keeps the fastest, so that a busy moment of the machine weighs less.
rounds=${MULTIHOST_TIMING_ROUNDS:-2}
faster() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
timed_again() {
  local round=$1 r out
  for r in demo tabulate clusters_fit; do
    out=$work/timing-$r-$round
    case $r in
      demo)         set -- demo --out ;;
      tabulate)     set -- tabulate --grid "$grid" --out ;;
      clusters_fit) set -- clusters fit --config "$work/fit.yaml" --out ;;
    esac
    on "$two" 4 "$out-hosts.log" "$@" "$out-hosts" && t2[$r]=$(faster "${t2[$r]:-}" "$seconds") &&
    on local 4 "$out-local.log" "$@" "$out-local" && t1[$r]=$(faster "${t1[$r]:-}" "$seconds") || return 1
  done
}
for round in $(seq 2 "$rounds"); do check "timing round $round of $rounds: every timed run completes" "timed_again $round"; done
{
  echo "| run (wall seconds, fastest of $rounds, $(getconf _NPROCESSORS_ONLN) cores) | 1 host × 4 ranks (shared memory) | 2 hosts × 2 ranks (TCP) |"
  echo "|---|---|---|"
  for r in demo tabulate clusters_fit; do
    printf '| %s | %s | %s |\n' "${r/_/ }" "$(printf '%.1f' "${t1[$r]:-nan}")" "$(printf '%.1f' "${t2[$r]:-nan}")"
  done
} > "$timing"
echo "timings ($timing; tabulate: $grid; clusters fit: scripts/reference/clusters-fit.yaml):"
cat "$timing"
echo "multi-host: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

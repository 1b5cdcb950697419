#!/usr/bin/env bash
# A real SLURM job array on a one-node test cluster (scripts/testslurm.sh): two array tasks, each
# running `mpirun -np 2 tessera selftest` inside its allocation, submitted with `sbatch --wait`.
# Checks that both tasks wrote a complete run directory whose metadata.json names the array task. Needs root; exit 77 = skipped (no root).
#
#   scripts/test-slurm.sh [TESSERA_BIN]
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.build/release/tessera}")
[ "$(id -u)" = 0 ] || { echo "skip: needs root to start slurmctld/slurmd"; exit 77; }
work=$(mktemp -d /tmp/tessera-slurm-test.XXXXXX)
trap 'scripts/testslurm.sh down; rm -rf "$work"' EXIT
scripts/testslurm.sh up || exit 1

cat > "$work/job.sbatch" <<JOB
#!/usr/bin/env bash
#SBATCH --job-name=tessera-test
#SBATCH --ntasks=2
#SBATCH --array=0-1
#SBATCH --output=$work/task-%a.log
set -euo pipefail
source $PWD/mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np \$SLURM_NTASKS $bin selftest --values-per-rank 100 --out $work/run-\$SLURM_ARRAY_TASK_ID
JOB
start=$(date +%s)
timeout 300 sbatch --wait "$work/job.sbatch" || { echo "FAIL: sbatch --wait"; cat "$work"/task-*.log; exit 1; }
ok=0
for t in 0 1; do
  if [ -f "$work/run-$t/metadata.json" ] && grep -q "\"mpi_size\" *: *2" "$work/run-$t/metadata.json" && grep -q "\"status\" *: *\"finished\"" "$work/run-$t/metadata.json" \
     && grep -q "\"array_task_id\" *: *$t" "$work/run-$t/metadata.json"; then
    ok=$((ok + 1))
  else
    echo "FAIL: array task $t left no complete run directory"; cat "$work/task-$t.log"
  fi
done
echo "slurm job array: $ok of 2 tasks complete in $(( $(date +%s) - start )) s"
[ $ok = 2 ]

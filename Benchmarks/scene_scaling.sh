#!/usr/bin/env bash
# Strong scaling of `tessera sample`: the same mock scene sampled with 1, 2, 4, … worker ranks
# (plus the rank-0 scene master), reporting wall time, speed-up and parallel efficiency against
# the 1-worker run measured in the same invocation, and the master's CPU use.
#
#   bash Benchmarks/scene_scaling.sh [WORKERS...]        (default: 1 2 4)
#
# Environment: SOURCES (default 60), TARGET (kept draws per source, default 100), TESSERA (binary).
# Parallel efficiency = T(1 worker) / (N · T(N workers)). On a machine with C cores, only up to
# C − 1 workers have a core each (the master sleeps between messages but still needs a little);
# beyond that the ranks share cores and the efficiency measures oversubscription, not the code.
set -euo pipefail
cd "$(dirname "$0")/.."
source mpi_configs/workstation.env
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TESSERA=${TESSERA:-$(swift build -c release --show-bin-path)/tessera}
SOURCES=${SOURCES:-60}
TARGET=${TARGET:-100}
workers=("${@:-1 2 4}")
[ $# -eq 0 ] && workers=(1 2 4)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/mock.yaml" <<YAML
count: $SOURCES
seed: 7
image_size: 96
exposures_per_band: 2
YAML
"$TESSERA" mock-scene --config "$work/mock.yaml" --out "$work/mock" >/dev/null
"$TESSERA" preprocess "$work"/mock/images/*.fits --out "$work/pixels.h5" >/dev/null
for name in optimize sample; do
  catalog=$work/mock/initial.fits; [ $name = sample ] && catalog=$work/optimize/catalog.fits
  cat > "$work/$name.yaml" <<YAML
catalog: $catalog
pixel_store: $work/pixels.h5
psf_store: $work/mock/psf.h5
bands: [F150W, F200W]
target_iterations: $TARGET
draws_per_patch: $TARGET
warmup: 100
max_tree_depth: 6
roi: 1.0
active_radius: 0.5
fixed_radius: 1.5
max_active: 4
rhalf_range: [0.03, 0.6]
sersic_range: [0.8, 5]
YAML
done
"$TESSERA" optimize --config "$work/optimize.yaml" --out "$work/optimize" >/dev/null

echo "scene: $SOURCES sources, 2 bands x 2 exposures, $TARGET draws per source; $(getconf _NPROCESSORS_ONLN) cores; $(date -u +%FT%TZ)"
printf "%8s %10s %9s %11s %12s\n" workers wall_s speedup efficiency master_cpu
t1=""
for n in "${workers[@]}"; do
  out="$work/sample-$n"
  log=$(mpirun -np $((n + 1)) --oversubscribe "$TESSERA" sample --config "$work/sample.yaml" --out "$out")
  wall=$(echo "$log" | sed -nE 's/.*done in ([0-9.]+) s.*/\1/p')
  master=$(echo "$log" | sed -nE 's/.*rank 0 used ([0-9.]+) s CPU over ([0-9.]+) s wall \(([0-9.]+)%\).*/\3%/p')
  [ -z "$t1" ] && t1=$wall
  python3 -c "
t1, t, n = $t1, $wall, $n
print('%8d %10.2f %9.2f %10.0f%% %12s' % (n, t, t1 / t, 100 * t1 / (n * t), '$master'))"
done

#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for tests: Debian's slurm-wlm and munge, daemons
# started as root with their state in a scratch folder (see shared/platform-notes.md, "A real
# one-node SLURM here"). The node declares more CPUs than the machine has (config_overrides), so
# 3–4 rank jobs and job arrays are not left pending on a 2-core machine.
#
#   scripts/testslurm.sh up        # install (apt) if needed, write the configuration, start munged,
#                                  # slurmctld and slurmd, wait until the node is idle
#   scripts/testslurm.sh status    # sinfo and squeue
#   scripts/testslurm.sh down      # stop the daemons started by `up` (safe to repeat)
#
# TESTSLURM_DIR (default /tmp/tessera-testslurm) holds the configuration, state, spool, logs and
# pid files; TESTSLURM_CPUS (default 8) is the CPU count the node declares.
set -euo pipefail

dir=${TESTSLURM_DIR:-/tmp/tessera-testslurm}
cpus=${TESTSLURM_CPUS:-8}
die() { echo "testslurm: $*" >&2; exit 1; }

stop_pid() {  # PIDFILE: stop that daemon and wait for it to go
  local f=$1 p
  [ -f "$f" ] || return 0
  p=$(cat "$f" 2>/dev/null || true)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  stop_pid "$dir/munged.pid"
}

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || die "installing slurm-wlm and munge needs root"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root (daemons, /etc/munge, /etc/slurm)"
  install
  down
  mkdir -p "$dir"/{state,spool,log} /etc/slurm /etc/munge /run/munge /var/lib/munge /var/log/munge
  # munge: a random key readable only by the munge user, and its daemon.
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge /etc/munge
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- munged --force --pid-file="$dir/munged.pid.tmp" >/dev/null 2>&1 \
    || runuser -u munge -- munged --force >/dev/null 2>&1 || die "munged did not start"
  sleep 0.5
  pgrep -u munge -x munged | head -n 1 > "$dir/munged.pid"
  munge -n | unmunge >/dev/null 2>&1 || die "munge credentials do not round-trip"

  local host mem
  host=$(hostname)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  cat > /etc/slurm/slurm.conf <<CONF
# Written by Tessera's scripts/testslurm.sh: a one-node test cluster (not for production).
ClusterName=tessera-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerParameters=defer
MaxArraySize=1001
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  slurmctld || die "slurmctld did not start (see $dir/log/slurmctld.log)"
  slurmd || die "slurmd did not start (see $dir/log/slurmd.log)"
  local state=""
  for _ in $(seq 100); do
    state=$(sinfo -h -o %t 2>/dev/null | head -n 1 || true)
    case "$state" in idle|mix|alloc) echo "testslurm: node $host $state ($cpus CPUs declared), logs in $dir/log"; return 0 ;; esac
    sleep 0.2
  done
  die "node not idle after 20 s (state '$state'); see $dir/log"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) sinfo; squeue ;;
  *) die "usage: scripts/testslurm.sh up|status|down" ;;
esac

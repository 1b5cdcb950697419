#!/usr/bin/env bash
# Test hosts on one machine: network namespaces that OpenMPI treats as separate nodes, reached
# through its TCP transport, sharing this machine's file system as cluster nodes share a
# parallel file system (see shared/platform-notes.md, "Several MPI hosts on one machine").
# Needs root (ip netns, a bridge, /etc/hosts).
#
#   scripts/testhosts.sh up N            # make hosts tnode1..tnodeN (N = 1..3); prints the mpirun arguments
#   scripts/testhosts.sh args [HOSTS]    # the mpirun arguments, e.g. args tnode1:2,tnode2:2
#   scripts/testhosts.sh run HOST CMD…   # run CMD on HOST (its namespace, its host name)
#   scripts/testhosts.sh kill HOST       # SIGKILL every process on HOST (a node lost)
#   scripts/testhosts.sh down            # remove hosts, bridge, veths and /etc/hosts lines (safe to repeat)
#
# Example, as root:
#   scripts/testhosts.sh up 2
#   source mpi_configs/workstation.env; export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
#   mpirun $(scripts/testhosts.sh args tnode1:2,tnode2:2) .build/release/tessera selftest --out /tmp/st
#   scripts/testhosts.sh down
#
# Layout: a bridge br-tnode with the address .1 in the root namespace (where mpirun runs, so its
# daemons can call back), host i at .(10+i), all in TESTHOSTS_NET.0/24, a /24 used for nothing
# else. TESTHOSTS_PREFIX (default tnode) and TESTHOSTS_NET (default 10.147.15) change the names
# and the subnet, e.g. when two sets of hosts must coexist.
set -euo pipefail

prefix=${TESTHOSTS_PREFIX:-tnode}
net=${TESTHOSTS_NET:-10.147.15}
bridge="br-$prefix"
tag="# testhosts:$prefix"          # marks our /etc/hosts lines so that `down` removes only those
agent="$(cd "$(dirname "$0")" && pwd)/testhosts-rsh.sh"

die() { echo "testhosts: $*" >&2; exit 1; }
hosts() { ip netns list | awk '{print $1}' | grep -E "^$prefix[0-9]+$" | sort || true; }

down() {
  local h
  for h in $(hosts); do
    # A namespace stays alive while a process is in it: kill them first (a crashed run's orted).
    ip netns pids "$h" | xargs -r kill -9 2>/dev/null || true
    ip netns del "$h"
  done
  # Deleting a namespace deletes its veth pair; these catch pairs left by an interrupted `up`.
  for l in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^v$prefix[0-9]+$" || true); do
    ip link del "$l" 2>/dev/null || true
  done
  if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; fi
  # Rewrite /etc/hosts in place (no rename: in containers it is often a bind-mounted file).
  if grep -qF "$tag" /etc/hosts; then
    local kept; kept=$(grep -vF "$tag" /etc/hosts)
    printf '%s\n' "$kept" > /etc/hosts
  fi
}

args() {  # [HOSTS]: mpirun's options for these hosts; without HOSTS, all hosts with 2 slots each
  local spec=${1:-}
  [ -n "$spec" ] || spec=$(hosts | sed 's/$/:2/' | paste -sd, -)
  [ -n "$spec" ] || die "no test hosts: run scripts/testhosts.sh up N"
  # tcp,self: no shared-memory shortcut between ranks; both if_include: only our /24 is used
  # (not eth0, lo or docker bridges); no tree spawn: every daemon is started from mpirun's side.
  echo "--mca plm_rsh_agent $agent --mca plm_rsh_no_tree_spawn 1 --host $spec" \
       "--mca btl tcp,self --mca btl_tcp_if_include $net.0/24 --mca oob_tcp_if_include $net.0/24"
}

up() {
  local n=$1 i h reply
  [[ "$n" =~ ^[1-3]$ ]] || die "up: N must be 1, 2 or 3 (got '$n')"
  [ "$(id -u)" -eq 0 ] || die "must run as root (ip netns, bridge, /etc/hosts)"
  command -v ip >/dev/null || die "no 'ip' command (apt-get install iproute2)"
  down                                   # leftovers of a crashed run would collide
  trap 'echo "testhosts: up failed; cleaning up" >&2; down' ERR
  ip link add "$bridge" type bridge
  ip addr add "$net.1/24" dev "$bridge"
  ip link set "$bridge" up
  for i in $(seq 1 "$n"); do
    h="$prefix$i"
    ip netns add "$h"
    ip link add "v$h" type veth peer name eth0 netns "$h"
    ip link set "v$h" master "$bridge"
    ip link set "v$h" up
    ip -n "$h" addr add "$net.$((10 + i))/24" dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" link set lo up
    echo "$net.$((10 + i)) $h $tag" >> /etc/hosts
  done
  # Every host must reach the bridge (mpirun's side) before mpirun is pointed at it. No ping in
  # slim images: a TCP connect to a closed port answers "refused" when the path works.
  for i in $(seq 1 "$n"); do
    reply=$(ip netns exec "$prefix$i" timeout 3 bash -c "exec 3<>/dev/tcp/$net.1/9" 2>&1 || true)
    [[ "$reply" == *refused* ]] || { echo "testhosts: $prefix$i cannot reach $net.1 over $bridge: $reply" >&2; false; }
  done
  trap - ERR
  echo "testhosts: up: $(hosts | paste -sd' ' -) on $net.0/24; mpirun arguments:"
  args
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
  up)   [ $# -eq 1 ] || die "usage: testhosts.sh up N"; up "$1" ;;
  down) down ;;
  args) args "${1:-}" ;;
  run)  [ $# -ge 2 ] || die "usage: testhosts.sh run HOST CMD..."
        hosts | grep -qx "$1" || die "run: no test host '$1'"
        # Like the agent, but CMD keeps its words as given (the agent joins them for a shell).
        exec ip netns exec "$1" unshare --uts /bin/sh -c 'hostname "$0" && exec "$@"' "$@" ;;
  kill) [ $# -eq 1 ] || die "usage: testhosts.sh kill HOST"
        hosts | grep -qx "$1" || die "kill: no test host '$1'"
        ip netns pids "$1" | xargs -r kill -9 ;;
  *)    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

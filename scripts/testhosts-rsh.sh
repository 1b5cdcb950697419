#!/bin/sh
# The rsh agent that mpirun uses to start its daemons on scripts/testhosts.sh hosts, in place of
# ssh: `testhosts-rsh.sh HOST COMMAND…` runs COMMAND in HOST's network namespace, in a UTS
# namespace of its own whose host name is HOST, as ssh would run it on a cluster node (so the
# ranks report HOST as their host). mpirun passes the remote command as one or more words to be
# run by a shell, as with ssh.
set -eu
# Options an ssh-style caller may put before the host name (ssh's -x and the like) mean nothing here.
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
[ $# -ge 2 ] || { echo "testhosts-rsh: usage: testhosts-rsh.sh HOST COMMAND..." >&2; exit 2; }
host=$1; shift
ip netns list | grep -qw "^$host" || { echo "testhosts-rsh: no test host '$host' (run scripts/testhosts.sh up N)" >&2; exit 255; }
exec ip netns exec "$host" unshare --uts /bin/sh -c "hostname $host; $*"

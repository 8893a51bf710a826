#!/bin/sh
# sip2rtmp benchmark; see bench/RESULTS.md.  Example:
#   bench/run.sh --calls 50,100,200,300 --rate 50 --repeat 3
#   bench/run.sh --admission [--rate 50] [--window 20]
#   bench/run.sh --soak [--cycles 3000] [--held 20 --hold 3600]
#   bench/run.sh --cluster [--calls 40 --rate 20 --repeat 3]
#   bench/run.sh --incoming [--held 100 --rate 25 --calls 200 --repeat 3]
# Builds first (ninja), then runs bench/bench.py with Debian's python3.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
if [ ! -d "$root/build" ]; then meson setup "$root/build" "$root" >/dev/null; fi
ninja -C "$root/build" >/dev/null
# --admission: push calls until the daemon refuses them (bench/admission.py)
if [ "${1:-}" = "--admission" ]; then
  shift
  exec /usr/bin/python3 "$here/admission.py" "$@"
fi
# --cluster: three nodes + Redis + HAProxy beside one node (bench/cluster_bench.py)
if [ "${1:-}" = "--cluster" ]; then
  exec /usr/bin/python3 "$here/cluster_bench.py" "$@"
fi
# --incoming: incoming set-up, INVITE -> 200 (bench/incoming.py)
if [ "${1:-}" = "--incoming" ]; then
  shift
  exec /usr/bin/python3 "$here/incoming.py" "$@"
fi
exec /usr/bin/python3 "$here/bench.py" "$@"

#!/usr/bin/env bash
# The Debian package tested for real (tests/package/test_package.py): built
# in a fresh Debian 12 root, installed into another one booted with systemd,
# a call placed through the service to a SIPp callee and nginx-rtmp on the
# host, the tone checked on the stream, reload, stop, purge. As root; about
# 5 minutes on 2 cores, most of it apt and the build. Not a meson test: it
# fetches some 500 MB from the mirror per run, mounts file systems and boots
# a container, which CI's run of the suite should not depend on.
#
#   tests/package/run.sh [--deb FILE] [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash .ci/install-deps.sh
# the roots, the container and lintian
missing=()
for p in mmdebstrap systemd-container lintian; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
exec python3 tests/package/test_package.py "$@"

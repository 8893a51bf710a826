#!/usr/bin/env bash
# The one list of Debian 12 packages sip2rtmp needs: to build, to run the demo
# and to run every test.  Used by examples/demo.sh, tests/run-all.sh and
# .ci/run.
#
#   .ci/install-deps.sh            as root: installs whatever is missing
#                                  (apt-get update + apt-get install -y);
#                                  nothing to do when all are installed.
#                                  not root: only checks and warns about what is missing.
#   .ci/install-deps.sh --list     prints the list
#
# SIP2RTMP_SKIP_DEPS=1 skips it altogether.
set -euo pipefail

packages=(
  # build: meson.build's gstreamer-1.0 (-net, -check) and -base, -app, -rtp,
  # -video, -sdp; nothing of plugins-bad is linked (its -dev pulled OpenCV,
  # VTK and PocketSphinx)
  meson ninja-build pkg-config gcc libc6-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libre-dev libsoup-3.0-dev libjson-glib-dev
  libssl-dev                      # sipsrc's TLS checks (OpenSSL, under libre); the cluster's sealed secrets
  libhiredis-dev                  # the cluster's Redis client
  # run time of the pipelines
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-plugins-base-apps  # gst-play-1.0 (README: sip: URIs)
  # real peers, analysis and tools of the demo and the tests (tests/peers/peers.py)
  sip-tester baresip nginx libnginx-mod-rtmp ffmpeg sox
  libnginx-mod-stream openssl     # the RTMPS front end of the TLS tests
  kamailio                        # the record-routing proxy of the route-set tests (its
                                  # service is never started: the policy below)
  ca-certificates                 # the CAs rtmppubsink trusts for rtmps://
  kamailio kamailio-tls-modules   # the TLS SIP peer of the secure-call tests
  libsrtp2-dev                    # tests' and bench's SRTP (tests/integration/srtp-tool.c)
  python3 curl util-linux procps
  redis-server haproxy            # the cluster's tests (their services are never
                                  # started: each test runs its own)
  # the 'valgrind' test suite
  valgrind
  # promtool checks GET /metrics (test_daemon_metrics.py)
  prometheus
  # a real browser for the console's tests (test_daemon_console.py): headless
  # Chromium driven over WebDriver from Python's standard library (no npm)
  chromium chromium-driver
  # the 'fuzz' suite: clang, libFuzzer and the sanitizer runtimes
  # (libclang-rt-14-dev), llvm-symbolizer for readable reports (llvm-14)
  clang-14 libclang-rt-14-dev llvm-14
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
if [ "${SIP2RTMP_SKIP_DEPS:-}" = "1" ]; then
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: WARNING: not root, not installing: ${missing[*]}" >&2
  exit 0
fi

# The tests and the demo start their own nginx: the system service must not be
# needed (nor fail the install where port 80 is taken), so service starts are
# forbidden while installing, unless a policy is already in place.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update
# Everything used is listed: Recommends would add baresip's GTK and X11
# front ends, valgrind's gdb and the like (tests/package/measure-deps.sh)
apt-get install -y --no-install-recommends "${packages[@]}"

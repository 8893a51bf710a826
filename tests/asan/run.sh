#!/usr/bin/env bash
# Runs one meson suite of this project under AddressSanitizer and
# UndefinedBehaviorSanitizer (the `asan` suite runs several): configures a
# gcc build with -Db_sanitize=address,undefined if there is none, builds it,
# and runs SUITE there with GLib CRITICALs fatal. Any sanitizer report, in
# any process of the suite (the daemon, gst-launch-1.0, the gst-check
# binaries), fails it even when the test itself passed; the reports are
# printed.
#
#   tests/asan/run.sh SUITE [meson test options...]
#   ASAN_BUILD_DIR  the sanitized build (default: build-asan at the top)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
suite=${1:?usage: run.sh SUITE [meson test options]}
shift
build=${ASAN_BUILD_DIR:-$src/build-asan}

if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  meson setup "$build" "$src" -Db_sanitize=address,undefined \
    > "$build/setup.log" 2>&1 || { cat "$build/setup.log"; exit 1; }
fi
ninja -C "$build" > "$build/ninja-$suite.log" 2>&1 \
  || { cat "$build/ninja-$suite.log"; exit 1; }

# gst-launch-1.0 and gst-inspect-1.0 load the sanitized plugin: the
# sanitizer runtimes must come first in them (LD_PRELOAD, through wrappers
# first in PATH); the other peers (sipp, nginx, ffmpeg) run as they are.
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
wrappers=$build/asan-bin
mkdir -p "$wrappers"
for tool in gst-launch-1.0 gst-inspect-1.0; do
  printf '#!/bin/sh\nLD_PRELOAD="%s${LD_PRELOAD:+ $LD_PRELOAD}" exec %s "$@"\n' \
    "$preload" "$(command -v $tool)" > "$wrappers/$tool"
  chmod +x "$wrappers/$tool"
done
export PATH=$wrappers:$PATH

# Each sanitizer report goes to a file of its own: a process whose death a
# test does not check (a peer's pipeline) still fails the suite.
reports=$build/asan-reports/$suite
rm -rf "$reports"
mkdir -p "$reports"
# Leaks are the valgrind suite's (GLib's and GStreamer's one-time
# allocations would be reported at every exit).
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:log_path=$reports/asan
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan
# The plugin scanner (not sanitized) cannot load the sanitized plugin:
# scan in-process, into a registry of this build's own.
export GST_REGISTRY_FORK=no
export GST_REGISTRY=$build/registry-asan.bin
export G_DEBUG=fatal-criticals
# Tests that time audio to a packet may allow for the sanitizers' slowness
# (only where they say so; the ordinary suites keep the exact checks).
export SIP2RTMP_SANITIZED=1

set +e
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
  --suite "$suite" "$@"
rc=$?
set -e

# The sanitizers' verdict is in the reports. A test that failed otherwise
# gets one more try: some integration tests time audio to 10-30 ms, and
# fail now and then on a loaded machine, with or without sanitizers (seen:
# a_move_to_another_port..., 3 in 12 runs on unchanged code while a fuzzer
# ran on the other core).
if [ "$rc" -ne 0 ] && [ -z "$(ls -A "$reports")" ]; then
  mapfile -t failed < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
        print(t["name"].split(" / ", 1)[1])
' "$build/meson-logs/testlog.json")
  if [ ${#failed[@]} -gt 0 ]; then
    echo "asan: trying again once: ${failed[*]}"
    set +e
    meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 \
      "${failed[@]}"
    rc=$?
    set -e
  fi
fi

if [ -n "$(ls -A "$reports")" ]; then
  for f in "$reports"/*; do
    echo "=== sanitizer report $f"
    cat "$f"
  done
  exit 1
fi
exit $rc

#!/usr/bin/env bash
# The project's test command: install the Debian packages (as root, see
# .ci/install-deps.sh), configure (or reconfigure) build-ci, build, run every
# meson test, and close with a plain "N passed, N failed" line.
#   tests/run-all.sh [meson test args, e.g. --suite scenarios]
# BUILD_DIR overrides the build directory (default: build-ci).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-ci}

bash .ci/install-deps.sh

if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build"
else
  meson setup "$build"
fi
if ! ninja -C "$build"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

log="$build/meson-test-summary.txt"
set +e
meson test -C "$build" --print-errorlogs "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# meson's summary: "Ok: N", "Expected Fail: N", "Fail: N", "Unexpected Pass: N",
# "Skipped: N", "Timeout: N"
count() { awk -v k="$1" -F: '$1 == k { gsub(/ /, "", $2); n = $2 } END { print n + 0 }' "$log"; }
ok=$(count "Ok")
xfail=$(count "Expected Fail")
fail=$(count "Fail")
xpass=$(count "Unexpected Pass")
skipped=$(count "Skipped")
timeout=$(count "Timeout")

passed=$((ok + xfail))
failed=$((fail + xpass + timeout))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1        # meson itself failed (no summary): never report success
fi
if [ $((passed + failed)) -eq 0 ]; then
  echo "no test ran"
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

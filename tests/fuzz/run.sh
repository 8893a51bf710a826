#!/usr/bin/env bash
# Runs one libFuzzer target of tests/fuzz for a bounded time (the `fuzz`
# suite runs each): configures a clang build with -Dfuzz=true if there is
# none, builds the target, replays its corpus (corpus/<target>/: seeds, the
# inputs of past findings, and in found/ what the long runs of
# docs/fuzzing.md reached), then fuzzes until the time is up. Any crash,
# sanitizer report, timeout, leak or failed assertion fails it; the input is
# kept in $FUZZ_BUILD_DIR/artifacts/<target>/ and its path printed.
#
#   tests/fuzz/run.sh TARGET [libFuzzer options...]
#   FUZZ_SECONDS   how long to fuzz (default 60)
#   FUZZ_BUILD_DIR the clang build (default: build-fuzz at the top)
#   FUZZ_CORPUS_OUT where new inputs go (default: a temporary folder, dropped)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: run.sh TARGET [libFuzzer options]}
shift
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
corpus=$src/tests/fuzz/corpus/$target
dict=$src/tests/fuzz/$target.dict

if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  CC=${FUZZ_CC:-$(command -v clang-14 || echo clang)} meson setup "$build" "$src" -Dfuzz=true \
    > "$build/setup.log" 2>&1 || { cat "$build/setup.log"; exit 1; }
fi
ninja -C "$build" "tests/fuzz/fuzz-$target" > "$build/ninja-$target.log" 2>&1 \
  || { cat "$build/ninja-$target.log"; exit 1; }

artifacts=$build/artifacts/$target
mkdir -p "$artifacts"
if [ -n "${FUZZ_CORPUS_OUT:-}" ]; then
  out=$FUZZ_CORPUS_OUT
  mkdir -p "$out"
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
  trap 'rm -rf "$out"' EXIT
fi

args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
  -print_final_stats=1 -artifact_prefix="$artifacts/")
[ -f "$dict" ] && args+=(-dict="$dict")

# detect_leaks: libFuzzer's own leak check (GLib's one-time allocations are
# reachable, so they do not count)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

echo "fuzz-$target: $seconds s, corpus $corpus"
"$build/tests/fuzz/fuzz-$target" "${args[@]}" "$@" "$out" "$corpus"

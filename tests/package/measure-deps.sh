#!/usr/bin/env bash
# What .ci/install-deps.sh costs on a fresh Debian 12 root: the packages it
# installs and the time it takes (apt-get update + install, downloads from
# the configured mirror included, nothing cached).
#
#   tests/package/measure-deps.sh [--check] [GIT-REV]    as root
#
# GIT-REV: measure that revision's list (default: the work tree's).
# --check: then, in that root, build the work tree and run one test of each
#          kind of dependency and the demo: what the list must cover.
# Prints a line: packages before, after, newly installed, seconds, fetched.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/tests/package/fresh-root.sh"
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
rev=${1:-}

root=$(mktemp -d /var/tmp/sip2rtmp-deps.XXXXXX)
trap 'fresh_root_remove "$root"' EXIT
fresh_root "$root"
mkdir -p "$root/src/.ci"
if [ -n "$rev" ]; then
  git -C "$here" show "$rev:.ci/install-deps.sh" >"$root/src/.ci/install-deps.sh"
else
  cp "$here/.ci/install-deps.sh" "$root/src/.ci/install-deps.sh"
fi
before=$(installed_count "$root")
start=$(date +%s.%N)
chroot "$root" bash /src/.ci/install-deps.sh >"$root/install.log" 2>&1 || {
  tail -20 "$root/install.log" >&2
  exit 1
}
end=$(date +%s.%N)
after=$(installed_count "$root")
fetched=$(sed -n 's/^Fetched \([0-9.,]* [kMG]B\) in .*/\1/p' "$root/install.log" | tail -1)
newly=$(sed -n 's/.* \([0-9]*\) newly installed.*/\1/p' "$root/install.log" | tail -1)
printf '%s: %s packages before, %s after (%s newly installed), %.0f s, fetched %s\n' \
  "${rev:-work tree}" "$before" "$after" "$newly" \
  "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$fetched"
[ "$check" = 1 ] || exit 0

# One test per kind of dependency: SIPp, baresip (G.722: libav), nginx-rtmp
# and ffmpeg, the TLS front end (nginx stream, openssl), pcapparse
# (plugins-bad), x264enc (ugly), gst-check, valgrind, the daemon (libsoup,
# json-glib, the recorder's muxers), promtool; a fuzz target (clang,
# libFuzzer) for 5 s, the daemon's unit tests under ASan+UBSan (gcc); then
# the demo.
rm -rf "$root/src"
mkdir -p "$root/src"
git -C "$here" ls-files -z --cached --others --exclude-standard |
  (cd "$here" && tar --null -T - -cf -) | tar -C "$root/src" -xf -
chroot "$root" bash -c 'cd /src && meson setup build >/dev/null && ninja -C build >/dev/null &&
  meson test -C build --no-rebuild --print-errorlogs \
    "scenario answer_pcmu_bye" \
    "sipsrc tone_through_nginx_rtmp_pulled_back_with_ffmpeg" \
    "sipsrc g722_from_baresip_decodes_to_the_tone" \
    "rtmppubsink rtmps_through_a_tls_front_end_carries_the_tone" \
    "sipsrc a_pause_in_rtp_is_filled_with_silence_in_wall_clock_time" \
    "sipsrc h264_and_the_tone_reach_rtmp_and_the_video_decodes_from_its_first_frame" \
    "rtmppubsink unit" "rtmppubsink valgrind" \
    "sip2rtmpd generate_video_gives_an_audio_only_call_a_640x360_h264_track" \
    "sip2rtmpd mkv_recording_holds_the_tone_for_the_answered_time" \
    "sip2rtmpd metrics_pass_promtool_and_move_with_a_call" 2>&1 | tail -25 &&
  meson test -C build --no-rebuild --suite controller-unit 2>&1 | grep -E "^(Ok|Fail):" &&
  FUZZ_SECONDS=5 bash tests/fuzz/run.sh config 2>&1 | tail -3 &&
  bash tests/asan/run.sh controller-unit 2>&1 | grep -E "^(Ok|Fail):" &&
  bash examples/demo.sh 2>&1 | tail -12'

#!/usr/bin/env bash
# The whole gateway on one machine, end to end, through the REST API:
#
#   1. installs the Debian packages (as root; .ci/install-deps.sh) and builds
#      with meson (BUILD_DIR, default: build)
#   2. starts a SIPp callee on 127.0.0.1 that answers and plays a 440 Hz tone,
#      and an nginx-rtmp server on 127.0.0.1, each on a free port
#   3. starts sip2rtmpd and places the call with the Flashphoner WCS 4 request
#      (POST /RESTCall/call), following it on GET /api/v1/events (SSE)
#   4. pulls the RTMP stream back with ffmpeg into a WAV and prints what came
#      out: call states, stream duration, detected tone, the WAV's path
#   5. hangs up (DELETE /api/v1/calls/{id}) and stops everything
#
#   bash examples/demo.sh
#
# DEMO_OUT: where the WAV and the logs stay (default /tmp/sip2rtmp-demo).
# DEMO_SECONDS: how much of the stream to pull back (default 5).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${BUILD_DIR:-build}
out=${DEMO_OUT:-/tmp/sip2rtmp-demo}
seconds=${DEMO_SECONDS:-5}
tone_hz=440

step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

step "packages"
bash .ci/install-deps.sh

step "build ($build)"
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" >/dev/null
fi
ninja -C "$build"
export GST_PLUGIN_PATH="$here/$build/plugins"

rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d /tmp/sip2rtmp-demo-run.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A port that is free on 127.0.0.1 for both UDP and TCP (even, for RTP).
free_port() {
  python3 - "$@" <<'PY'
import socket
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1] & ~1
    s.close()
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            for q in (p, p + 1):
                t = socket.socket(socket.AF_INET, kind)
                t.bind(("127.0.0.1", q))
                t.close()
    except OSError:
        continue
    print(p)
    break
PY
}
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local t=$1 what=$2
  shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "$what not ready after $t s"
    sleep 0.2
  done
}

step "SIP callee: SIPp on 127.0.0.1, answering with PCMU and playing $tone_hz Hz"
sip_port=$(free_port)
media_port=$(free_port)
sox -n -r 8000 -c 1 -e u-law -b 8 "$work/tone-pcmu.wav" synth 1 sine $tone_hz vol 0.5
(cd "$work" && exec sipp -sf "$here/tests/scenarios/answer_pcmu_wait_bye.xml" \
  -i 127.0.0.1 -p "$sip_port" -mi 127.0.0.1 -mp "$media_port" -m 1 -nostdin \
  -timeout 60s -timeout_error -trace_msg -message_file "$out/sipp-messages.log" \
  >"$out/sipp.log" 2>&1) &
sipp_pid=$!
pids+=("$sipp_pid")
echo "sip:demo@127.0.0.1:$sip_port"

step "RTMP server: nginx-rtmp on 127.0.0.1"
rtmp_port=$(free_port)
stat_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $out/nginx-error.log info;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:$rtmp_port; application live { live on; } } }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$stat_port; location /stat { rtmp_stat all; } }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$out/nginx-error.log" \
  >"$out/nginx.log" 2>&1 &
pids+=($!)
wait_for 10 "nginx-rtmp" curl -sf "http://127.0.0.1:$stat_port/stat"
echo "rtmp://127.0.0.1:$rtmp_port/live"

step "sip2rtmpd"
api_port=$(free_port)
api="http://127.0.0.1:$api_port"
: >"$work/sip2rtmpd.conf"
"$build/controller/sip2rtmpd" --listen "127.0.0.1:$api_port" \
  --config "$work/sip2rtmpd.conf" 2>"$out/sip2rtmpd.log" &
pids+=($!)
wait_for 10 "sip2rtmpd" curl -sf "$api/api/v1/calls"
echo "$api"
curl -sN "$api/api/v1/events" >"$out/events.log" 2>/dev/null &
pids+=($!)
sleep 0.3

step "call: POST $api/RESTCall/call (the WCS 4 request)"
call_id=demo-$$
body=$(cat <<EOF
{"callId":"$call_id","callee":"127.0.0.1","rtmpUrl":"rtmp://127.0.0.1:$rtmp_port/live",
 "rtmpStream":"demo","hasAudio":"true","hasVideo":"false",
 "connection":{"sipLogin":"demo","sipPassword":"demo","sipAuthenticationName":"demo",
 "sipDomain":"127.0.0.1","sipPort":"$sip_port","sipRegisterRequired":"false","appKey":"callApp"}}
EOF
)
# shown as sent, but for the password (never printed, like the daemon does)
echo "$body" | sed 's/"sipPassword":"[^"]*"/"sipPassword":"***"/'
curl -sS -f -X POST -H 'Content-Type: application/json' -d "$body" "$api/RESTCall/call"
echo

# The call as the API reports it, one field
call_field() {
  curl -sf "$api/api/v1/calls/$call_id" |
    python3 -c "import json,sys; print(json.load(sys.stdin).get('$1'))"
}
publishing() {
  [ "$(call_field status)" = ESTABLISHED ] && [ "$(call_field rtmpStreamStatus)" = PUBLISHING ]
}
wait_for 20 "the call (ESTABLISHED and PUBLISHING)" publishing
echo "status $(call_field status), rtmpStreamStatus $(call_field rtmpStreamStatus)"

step "pull rtmp://127.0.0.1:$rtmp_port/live/demo back for $seconds s (ffmpeg)"
wav="$out/demo.wav"
ffmpeg -nostdin -hide_banner -loglevel error -y -rw_timeout 8000000 \
  -i "rtmp://127.0.0.1:$rtmp_port/live/demo" -t "$seconds" -vn -ac 1 -ar 8000 \
  -c:a pcm_s16le "$wav"
ffprobe -v error -show_entries stream=codec_name,sample_rate,channels -of compact=p=0 \
  "rtmp://127.0.0.1:$rtmp_port/live/demo" >"$out/ffprobe.txt" 2>&1 || true

step "hang up: DELETE $api/api/v1/calls/$call_id"
curl -sS -X DELETE "$api/api/v1/calls/$call_id"
echo
finished() { [ "$(call_field status)" = FINISH ]; }
wait_for 15 "the call to finish" finished
sipp_rc=0
wait "$sipp_pid" || sipp_rc=$?

step "what came out"
python3 - "$out/events.log" <<'PY'
import json, sys
print("call events (GET /api/v1/events):")
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("data:"):
        ev = json.loads(line[5:])
        print("  %-17s stream %-12s sip %s %s" % (
            ev.get("status"), ev.get("rtmpStreamStatus"), ev.get("sipStatus"),
            ev.get("reason") or ""))
PY
echo "RTMP stream as ffprobe saw it: $(cat "$out/ffprobe.txt")"
python3 - "$wav" "$tone_hz" <<PY
import sys
sys.path.insert(0, "$here/tests/peers")
from peers import dominant_frequency, wav_duration
wav, want = sys.argv[1], int(sys.argv[2])
got = dominant_frequency(wav)
print("pulled stream: %.2f s" % wav_duration(wav))
print("detected tone: %s (the callee played %d Hz)" %
      ("silence" if got is None else "%.0f Hz" % got, want))
print("WAV: %s" % wav)
sys.exit(0 if got is not None and abs(got - want) < want * 0.03 else 1)
PY
if [ "$sipp_rc" -eq 0 ]; then
  echo "the callee saw our BYE (SIPp scenario passed)"
else
  die "SIPp scenario failed (exit $sipp_rc): see $out/sipp.log"
fi
echo "logs: $out"

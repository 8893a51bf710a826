#!/bin/sh
# Native API: place a call and publish it.
#   examples/call.sh CALLEE RTMP_URL STREAM [SIP_LOGIN SIP_PASSWORD]
#   examples/call.sh sip:1000@pbx.example.com rtmp://127.0.0.1:1935/live room-1
# Prints the call (201) with its callId; follow it with events.sh.
#   SIP2RTMPD, SIP2RTMPD_TOKEN as in wcs4-article.sh
set -eu
[ $# -ge 3 ] || { echo "usage: $0 CALLEE RTMP_URL STREAM [SIP_LOGIN SIP_PASSWORD]" >&2; exit 2; }
api=${SIP2RTMPD:-http://127.0.0.1:9091}
body=$(python3 -c 'import json, sys
a = sys.argv[1:]
b = {"callee": a[0], "rtmpUrl": a[1], "rtmpStream": a[2], "hasAudio": True, "hasVideo": False}
if len(a) >= 5:
    b.update(sipLogin=a[3], sipPassword=a[4])
print(json.dumps(b))' "$@")
set -- -H 'Content-Type: application/json'
[ -n "${SIP2RTMPD_TOKEN:-}" ] && set -- "$@" -H "Authorization: Bearer $SIP2RTMPD_TOKEN"
curl -sS "$@" -w '\nHTTP %{http_code}\n' "$api/api/v1/calls" -d "$body"

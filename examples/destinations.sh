#!/bin/sh
# Native API: one call published to several RTMP servers at once, and its
# destinations changed while it runs.
#   examples/destinations.sh CALLEE RTMP_URL_WITH_STREAM...
#     places a call publishing to every URL (rtmp://host[:port]/app/stream)
#   examples/destinations.sh --add CALL_ID RTMP_URL_WITH_STREAM
#   examples/destinations.sh --remove CALL_ID DEST_ID
#   examples/destinations.sh sip:1000@pbx.example.com \
#     rtmp://a.example.com/live/room-1 rtmp://b.example.com/live/room-1
# Each destination fails and recovers on its own (RECONNECTING within
# [rtmp] retry-budget); see the call's "destinations" array.
#   SIP2RTMPD, SIP2RTMPD_TOKEN as in wcs4-article.sh
set -eu
api=${SIP2RTMPD:-http://127.0.0.1:9091}
usage() { echo "usage: $0 CALLEE URL... | --add CALL_ID URL | --remove CALL_ID DEST_ID" >&2; exit 2; }
[ $# -ge 2 ] || usage
auth=
[ -n "${SIP2RTMPD_TOKEN:-}" ] && auth="Authorization: Bearer $SIP2RTMPD_TOKEN"
case "$1" in
--add)
  [ $# -eq 3 ] || usage
  body=$(python3 -c 'import json, sys; print(json.dumps({"url": sys.argv[1]}))' "$3")
  curl -sS -H 'Content-Type: application/json' ${auth:+-H "$auth"} \
    -w '\nHTTP %{http_code}\n' "$api/api/v1/calls/$2/destinations" -d "$body" ;;
--remove)
  [ $# -eq 3 ] || usage
  curl -sS -X DELETE ${auth:+-H "$auth"} -w '\nHTTP %{http_code}\n' \
    "$api/api/v1/calls/$2/destinations/$3" ;;
*)
  body=$(python3 -c 'import json, sys
print(json.dumps({"callee": sys.argv[1], "rtmpUrls": sys.argv[2:]}))' "$@")
  curl -sS -H 'Content-Type: application/json' ${auth:+-H "$auth"} \
    -w '\nHTTP %{http_code}\n' "$api/api/v1/calls" -d "$body" ;;
esac

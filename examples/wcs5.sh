#!/bin/sh
# WCS 5 REST API: startup, find, find_all, terminate.
#   examples/wcs5.sh startup CALLEE RTMP_URL STREAM [CALL_ID]
#   examples/wcs5.sh find '{"status":"ESTABLISHED"}'
#   examples/wcs5.sh find_all
#   examples/wcs5.sh terminate CALL_ID
#   SIP2RTMPD, SIP2RTMPD_TOKEN as in wcs4-article.sh
set -eu
api=${SIP2RTMPD:-http://127.0.0.1:9091}
action=${1:?startup, find, find_all or terminate}
shift
case $action in
  startup)
    body=$(python3 -c 'import json, sys
a = sys.argv[1:]
b = {"callee": a[0], "rtmpUrl": a[1], "rtmpStream": a[2],
     "hasAudio": "true", "hasVideo": "false"}
if len(a) > 3:
    b["callId"] = a[3]
print(json.dumps(b))' "$@") ;;
  find) body=${1:-'{}'} ;;
  find_all) body='{}' ;;
  terminate) body=$(python3 -c 'import json, sys; print(json.dumps({"callId": sys.argv[1]}))' "$1") ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
set -- -H 'Content-Type: application/json'
[ -n "${SIP2RTMPD_TOKEN:-}" ] && set -- "$@" -H "Authorization: Bearer $SIP2RTMPD_TOKEN"
curl -sS "$@" -w '\nHTTP %{http_code}\n' "$api/rest-api/call/$action" -d "$body"

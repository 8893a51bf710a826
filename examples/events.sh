#!/bin/sh
# Follow every state change of every call (Server-Sent Events), until ^C.
#   SIP2RTMPD, SIP2RTMPD_TOKEN as in wcs4-article.sh
set -eu
api=${SIP2RTMPD:-http://127.0.0.1:9091}
set --
[ -n "${SIP2RTMPD_TOKEN:-}" ] && set -- -H "Authorization: Bearer $SIP2RTMPD_TOKEN"
exec curl -sS -N "$@" "$api/api/v1/events"

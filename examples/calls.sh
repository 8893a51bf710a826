#!/bin/sh
# Native API: list every call, show one, or hang one up.
#   examples/calls.sh               GET /api/v1/calls
#   examples/calls.sh CALL_ID       GET /api/v1/calls/CALL_ID
#   examples/calls.sh -d CALL_ID    DELETE /api/v1/calls/CALL_ID (BYE, stream EOS)
#   SIP2RTMPD, SIP2RTMPD_TOKEN as in wcs4-article.sh
set -eu
api=${SIP2RTMPD:-http://127.0.0.1:9091}
method=GET
if [ "${1:-}" = "-d" ]; then method=DELETE; shift; fi
path=/api/v1/calls${1:+/$1}
set --
[ -n "${SIP2RTMPD_TOKEN:-}" ] && set -- -H "Authorization: Bearer $SIP2RTMPD_TOKEN"
curl -sS "$@" -X "$method" -w '\nHTTP %{http_code}\n' "$api$path"

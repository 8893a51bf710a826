#!/bin/sh
# The WCS 4 article's request, byte for byte: call the Twilio SIP domain and
# publish the call to rtmp://my_wowza_server.com:1935/live/streamName.
#   SIP2RTMPD   base URL of the daemon (default http://127.0.0.1:9091)
#   SIP2RTMPD_TOKEN  API token, if the daemon has one
set -eu
api=${SIP2RTMPD:-http://127.0.0.1:9091}
set -- -H 'Content-Type: application/json'
[ -n "${SIP2RTMPD_TOKEN:-}" ] && set -- "$@" -H "Authorization: Bearer $SIP2RTMPD_TOKEN"
curl -sS "$@" "$api/RESTCall/call" -d '{"callId":"R2fhkll5Sw3lK","callee":"mytwiliodomain.sip.twilio.com","rtmpUrl":"rtmp://my_wowza_server.com:1935/live","rtmpStream":"streamName","hasAudio":"true","hasVideo":"true","connection":{"sipLogin":"myusername","sipPassword":"MyPasswordPassword1","sipAuthenticationName":"myusername","sipDomain":"mytwiliodomain.sip.twilio.com","sipPort":"5060","sipRegisterRequired":"false","appKey":"callApp"}}'
echo

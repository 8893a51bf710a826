#!/bin/sh
# Calls a SIP URI and publishes the call's audio to an RTMP server, with
# nothing but gst-launch-1.0 and the sipsrc element.
#
#   examples/sipsrc-to-rtmp.sh SIP_URI RTMP_URL [USER PASSWORD]
#   examples/sipsrc-to-rtmp.sh sip:1000@pbx.example.com \
#       rtmp://cdn.example.com/live/room1 alice secret
#
# Ctrl-C hangs up (BYE) and closes the RTMP stream cleanly (-e sends EOS).
# GST_PLUGIN_PATH must reach the build's plugins/ folder unless installed.
set -eu

if [ $# -lt 2 ]; then
  sed -n '2,10p' "$0"
  exit 2
fi
uri=$1
rtmp=$2
user=${3:-}
password=${4:-}

here=$(cd "$(dirname "$0")/.." && pwd)
: "${GST_PLUGIN_PATH:=$here/build/plugins}"
export GST_PLUGIN_PATH

# The password goes in as a property value on the command line of this
# process only; sipsrc never logs it and never reads it back.
# codecs=PCMU: the chain below depayloads and decodes PCMU only
set -- sipsrc "uri=$uri" audio=recvonly codecs=PCMU
if [ -n "$user" ]; then
  set -- "$@" "user-id=$user" "user-pw=$password"
fi

exec gst-launch-1.0 -e "$@" \
  ! rtppcmudepay ! mulawdec ! audioconvert ! audioresample \
  ! audio/x-raw,rate=48000,channels=1 ! avenc_aac bitrate=64000 ! aacparse \
  ! flvmux streamable=true ! rtmp2sink "location=$rtmp"

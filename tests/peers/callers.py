"""SIPp as the caller of an incoming call (issue 14), for the tests of
sipsrc mode=answer and of sip2rtmpd's SIP listener alike.

    with caller(port, "room42", key="abc-1", duration_ms=8000) as uac:
        ...                                  # the call runs
    rc, answers, report = call_in(port, "room42")   # one call to its end
"""

from peers import LOOPBACK, LOOPBACK6, Sipp

# plays the tone for duration_ms, then hangs up (tests/scenarios/uac/)
CALLER = "uac/uac_in_tone_bye.xml"


def caller(port, user, scenario=CALLER, from_user="alice", key="k1", extra=(),
           host=LOOPBACK, **kw):
    """A SIPp UAC calling sip:<user>@127.0.0.1:<port> from <from_user>, with
    `key` as its X-Stream-Key header (the scenario's -inf fields); `extra`:
    more sipp arguments (-au/-ap credentials); `host` the caller's own
    address: another loopback address (127.0.0.2), or LOOPBACK6 to call
    sip:<user>@[::1]:<port> over IPv6; `kw` go to Sipp."""
    csv = "SEQUENTIAL\n%s;%s;\n" % (from_user, key)
    # the called side is on 127.0.0.1, or ::1 for an IPv6 caller
    target = ("[%s]:%d" % (LOOPBACK6, port) if ":" in host else
              "%s:%d" % (LOOPBACK, port))
    return Sipp(scenario, host=host,
                extra_args=["-s", user, "-inf", "callers.csv", target] + list(extra),
                files={"callers.csv": lambda p: p.write_text(csv)}, **kw)


def invite_answers(uac):
    """The statuses the caller got to its INVITEs, in order."""
    return [m.status for m in uac.parsed_messages()
            if m.direction == "received" and m.status and
            "INVITE" in (m.header("CSeq") or "")]


def call_in(port, user, **kw):
    """One caller (caller()'s arguments) run to its end, 40 s at most:
    (sipp's exit code, invite_answers, its report for a failure message)."""
    with caller(port, user, **kw) as uac:
        rc = uac.wait(40)
        return rc, invite_answers(uac), uac.report()

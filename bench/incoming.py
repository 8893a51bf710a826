#!/usr/bin/python3
"""sip2rtmp incoming set-up bench (issue 14): INVITE -> 200, p50/p99.

A command, not a test (bench/RESULTS.md).  Everything on 127.0.0.1: one
sip2rtmpd listening for SIP (`[sip] listen`), nginx-rtmp, SIPp UACs as
callers (bench/scenarios/uac_in_hold.xml, each call its own request-URI user,
so its own route and stream).  Each repeat, in one daemon run:
  1. --calls calls at --rate per second routed by a `[route:bench]` rule of
     the config, as many routed by API routes (`POST /api/v1/routes`, one
     per user, made beforehand) and as many by the routing webhook (a
     receiver on 127.0.0.1 that answers at once; the three in turn, which
     first rotated every repeat), with no other call up;
  2. --held calls set up (config rule) and held;
  3. the same two phases again with those calls up.
A measured call holds 1 s, so about --rate more calls are up meanwhile.
The figure is INVITE sent -> 200 received at the caller (SIPp's message
log timestamps, on loopback), i.e. the gateway's INVITE received -> 200 sent
plus two loopback hops and SIPp's own scheduling.  What to read: the ratios
within a repeat (held / idle, API / config), not the bare times.
"""

import argparse
import json
import re
from datetime import datetime
import sys
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import bench  # noqa: E402
from bench import peers, log, pct, system_busy, CpuMeter, LOOPBACK, SIPP_MANY  # noqa: E402
from daemon import Daemon, WebhookReceiver  # noqa: E402

SCENARIO = BENCH_DIR / "scenarios" / "uac_in_hold.xml"
MEASURED_HOLD_MS = 1000


class Caller(peers.Sipp):
    """A SIPp UAC placing `calls` calls to <service>-<n> at `rate` per second."""

    def __init__(self, sip_port, service, calls, rate, hold_ms):
        super().__init__(SCENARIO, duration_ms=hold_ms, calls=calls,
                         timeout=int(calls / rate + hold_ms / 1000 + 60),
                         extra_args=["-s", service, "-r", "%g" % rate,
                                     "-l", str(calls),
                                     "%s:%d" % (LOOPBACK, sip_port)] + SIPP_MANY)

    def setup_ms(self):
        """INVITE sent -> its 200 received, per call, from SIPp's message log
        (microsecond timestamps; -trace_rtt counts in SIPp's 4 ms ticks)."""
        sent, answered = {}, {}
        for m in re.finditer(r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n"
                             r"UDP message (sent|received)[^\n]*\n\n?([^\n]*)\n(.*?)(?=^-{10,} |\Z)",
                             self.messages(), re.M | re.S):
            stamp, direction, first, rest = m.groups()
            call_id = re.search(r"^Call-ID:\s*(\S+)", rest, re.M | re.I)
            cseq = re.search(r"^CSeq:\s*\d+\s+(\w+)", rest, re.M | re.I)
            if not call_id or not cseq or cseq.group(1) != "INVITE":
                continue
            t = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
            if direction == "sent" and first.startswith("INVITE "):
                sent.setdefault(call_id.group(1), t)
            elif direction == "received" and first.startswith("SIP/2.0 200"):
                answered.setdefault(call_id.group(1), t)
        return [(answered[c] - t) * 1000 for c, t in sent.items() if c in answered]


def calls_established(port):
    with urllib.request.urlopen("http://%s:%d/api/v1/calls" % (LOOPBACK, port),
                                timeout=10) as r:
        return sum(1 for c in json.loads(r.read()) if c.get("status") == "ESTABLISHED")


def measure(args, d, sip_port, service, daemon_pid):
    busy0 = system_busy()
    cpu = CpuMeter([daemon_pid])
    cpu.start()
    with Caller(sip_port, service, args.calls, args.rate, MEASURED_HOLD_MS) as uac:
        rc = uac.wait()
        got = uac.setup_ms()
        report = uac.report() if rc else ""
    daemon_cores = cpu.stop()
    busy1 = system_busy()
    if rc or len(got) != args.calls:
        raise SystemExit("%s: sipp exit %s, %d of %d calls timed%s" %
                         (service, rc, len(got), args.calls, report))
    return {"p50": pct(got, 50), "p99": pct(got, 99), "max": max(got), "n": len(got),
            "daemon_cores": daemon_cores,
            "machine_busy": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])}


def one_repeat(args, nginx, rep):
    sip_port = peers.free_port()
    rtmp = "rtmp://%s:%d/live" % (LOOPBACK, nginx.port)
    rows = {}
    # the routing webhook: users no rule or API route takes (hook-*)
    with WebhookReceiver(answer=lambda b: (200, {
            "rtmpUrl": rtmp, "rtmpStream": "r%d-%s" % (rep, b["requestUser"])})) as hook:
        config = ("[server]\nmax-calls=%d\n[sip]\nlisten=udp:%s:%d\nrouting-webhook=%s\n"
                  "[route:bench]\nuser=cfg-*\nrtmpUrl=%s\nrtmpStream=r%d-{user}\n" %
                  (args.held + 6 * args.calls, LOOPBACK, sip_port, hook.url, rtmp, rep))
        return sources_measured(args, config, sip_port, rtmp, rep, rows)


def sources_measured(args, config, sip_port, rtmp, rep, rows):
    with Daemon(config) as d:
        for phase in ("idle", "held"):
            for i in range(1, args.calls + 1):
                user = "api-%s-%d" % (phase, i)
                r = d.post("/api/v1/routes", {"user": user, "rtmpUrl": rtmp,
                                              "rtmpStream": "r%d-%s" % (rep, user)})
                assert r.status == 201, r
        pid = d.proc.pid
        # the sources in turn, a different one first every repeat: a phase
        # leaves ~rate calls ending behind it
        sources = ("config", "api", "webhook")
        order = sources[rep % 3:] + sources[:rep % 3]
        service = {"config": "cfg-%s", "api": "api-%s", "webhook": "hook-%s"}
        for src in order:
            rows[src, 0] = measure(args, d, sip_port, service[src] % "idle", pid)
        with Caller(sip_port, "cfg-up", args.held, args.rate, 3600 * 1000):
            deadline = time.monotonic() + args.held / args.rate + 60
            while calls_established(d.port) < args.held:
                if time.monotonic() > deadline:
                    raise SystemExit("held calls: %d of %d up" %
                                     (calls_established(d.port), args.held))
                time.sleep(0.5)
            time.sleep(args.settle)
            for src in order:
                rows[src, args.held] = measure(args, d, sip_port,
                                               service[src] % "held", pid)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--held", type=int, default=100, help="calls up while measuring")
    ap.add_argument("--rate", type=float, default=20, help="new calls per second")
    ap.add_argument("--calls", type=int, default=200, help="calls timed per phase")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--settle", type=float, default=3, help="s after the held calls are up")
    ap.add_argument("--build", type=Path, default=bench.REPO / "build")
    args = ap.parse_args()
    import os
    os.environ["SIP2RTMP_BUILD_DIR"] = str(args.build.resolve())

    results = []
    with bench.Nginx() as nginx:
        for rep in range(args.repeat):
            log("repeat %d: %d calls at %g/s, %d held" % (rep + 1, args.calls,
                                                           args.rate, args.held))
            rows = one_repeat(args, nginx, rep)
            results.append({"%s@%d" % k: v for k, v in rows.items()})
            for (src, up), v in sorted(rows.items()):
                log("  %-6s %3d up: p50 %.2f ms p99 %.2f ms max %.2f (daemon %.2f cores, "
                    "machine %.0f%% busy)" % (src, up, v["p50"], v["p99"], v["max"],
                                              v["daemon_cores"], 100 * v["machine_busy"]))
    report(results, args)


def median(xs):
    return pct(xs, 50)


def report(results, args):
    h = args.held
    keys = ["config@0", "api@0", "webhook@0", "config@%d" % h, "api@%d" % h,
            "webhook@%d" % h]
    print("\n| routing, calls up | p50 ms | p99 ms | max ms | daemon cores | machine busy |")
    print("|---|---|---|---|---|---|")
    for k in keys:
        rs = [r[k] for r in results]
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.0f%% |" % (
            k.replace("@", ", "), median([r["p50"] for r in rs]),
            median([r["p99"] for r in rs]), max(r["max"] for r in rs),
            median([r["daemon_cores"] for r in rs]),
            100 * median([r["machine_busy"] for r in rs])))

    def ratio(a, b, q):
        vs = [r[a][q] / r[b][q] for r in results]
        return "%.2f (%.2f-%.2f)" % (median(vs), min(vs), max(vs))
    print("\n| ratio within a repeat | p50, median (min-max) | p99 |")
    print("|---|---|---|")
    for a, b, what in (("config@%d" % h, "config@0", "config: %d up / none up" % h),
                       ("api@%d" % h, "api@0", "API: %d up / none up" % h),
                       ("api@0", "config@0", "none up: API / config"),
                       ("api@%d" % h, "config@%d" % h, "%d up: API / config" % h),
                       ("webhook@0", "config@0", "none up: webhook / config"),
                       ("webhook@%d" % h, "config@%d" % h, "%d up: webhook / config" % h)):
        print("| %s | %s | %s |" % (what, ratio(a, b, "p50"), ratio(a, b, "p99")))
    # the webhook's own time: what routing by it adds to routing by the
    # config, within a repeat (the receiver answers at once: this is the
    # HTTP round trip from the daemon's main loop and its JSON)
    print("\n| webhook time (webhook - config), calls up | p50 ms, median (min-max) | p99 ms |")
    print("|---|---|---|")
    for up in (0, h):
        def diff(q, up=up):
            vs = [r["webhook@%d" % up][q] - r["config@%d" % up][q] for r in results]
            return "%.2f (%.2f-%.2f)" % (median(vs), min(vs), max(vs))
        print("| %d | %s | %s |" % (up, diff("p50"), diff("p99")))
    print("\n%d repeats, %d calls per phase at %g/s, %d held; %s" %
          (len(results), args.calls, args.rate, h, bench.machine()))


if __name__ == "__main__":
    main()

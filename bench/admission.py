#!/usr/bin/python3
"""sip2rtmp admission bench: push calls until the daemon refuses them.

A command, not a test (bench/RESULTS.md).  Everything on 127.0.0.1: SIPp UAS
callees playing a PCMU tone, sip2rtmpd with its admission control as
configured (defaults unless --cpu-limit/--media-busy-limit say otherwise),
nginx-rtmp.  Calls are POSTed at --rate until --refusals of them in a row are
refused (503 "at capacity: ..."), then the admitted calls are held for
--window seconds while every stream's RTMP timestamp on nginx is compared with
the wall clock each second: a stream that fell more than 200 ms behind in any
second, or stopped, counts.  Prints calls admitted, the first refusal's
reason, the daemon's CPU, the machine's busy share and the streams behind.
"""

import argparse
import json
import math
import sys
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import bench  # noqa: E402
from bench import peers, log, LOOPBACK, STALL_MS  # noqa: E402


def status(port):
    with urllib.request.urlopen("http://%s:%d/api/v1/status" % (LOOPBACK, port),
                                timeout=10) as r:
        return json.loads(r.read())


class StatusTimeline:
    """/api/v1/status's admission figures every second, in a thread: how
    the measured load follows the calls admitted (printed as a table)."""

    def __init__(self, port):
        import threading
        self.port, self.rows, self._stop = port, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.time()

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(1.0):
            try:
                st = status(self.port)
            except OSError:
                continue
            a = st.get("admission", {})
            self.rows.append((round(time.time() - self._t0, 1), st["activeCalls"],
                              round(a.get("cpuBusyPercent", 0)),
                              round(a.get("mediaBusyPercent", 0)),
                              round(a.get("mediaLateMs", 0), 1), a.get("refused", 0)))


def behind(samples, names):
    """Streams that stopped, or fell > STALL_MS behind the wall clock in a second."""
    out = set()
    for (ta, sa), (tb, sb) in zip(samples, samples[1:]):
        if tb - ta < 0.5:
            continue
        for k in names:
            if sa.get(k) is None or sb.get(k) is None or \
                    sb[k] - sa[k] < (tb - ta) * 1000 - STALL_MS:
                out.add(k)
    return out


def run(args, workdir):
    conf = workdir / "sip2rtmpd.conf"
    extra = "".join("%s=%s\n" % (k, v) for k, v in (("cpu-limit", args.cpu_limit),
                                                     ("media-busy-limit", args.media_busy_limit))
                    if v is not None)
    conf.write_text("[server]\nmax-calls=%d\nkeep-finished=60\n[admission]\n%s" %
                    (args.max_calls, extra))
    with bench.Nginx() as ng:
        sipps = []
        procs = []
        poller = bench.StatPoller(ng, 1.0)
        try:
            for _ in range(math.ceil(args.max_calls / args.calls_per_sipp)):
                s = bench.BenchSipp(str(BENCH_DIR / "scenarios" / "uas_pcmu.xml"), timeout=3600)
                s.__enter__()
                sipps.append(s)
            port = peers.free_port()
            logf = open(workdir / "sip2rtmpd.log", "wb")
            import subprocess
            proc = subprocess.Popen(
                [str(args.build / "controller" / "sip2rtmpd"), "--listen",
                 "%s:%d" % (LOOPBACK, port), "--config", str(conf)],
                env=peers.gst_env({"GST_PLUGIN_PATH": str(args.build / "plugins")}),
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
            procs.append(proc)
            peers.wait_until(lambda: port in peers._bound_ports("tcp"), 10, "sip2rtmpd", proc)
            poller.start()
            timeline = StatusTimeline(port)
            timeline.start()

            admitted, refused_in_a_row, refused, reason = [], 0, 0, None
            t0 = time.time()
            for i in range(args.max_calls):
                due = t0 + i / args.rate
                if due > time.time():
                    time.sleep(due - time.time())
                s = sipps[i // args.calls_per_sipp]
                code, body = bench.post_json(port, "/api/v1/calls", {"callee": "sip:c%d@%s" % (i, s.host_port),
                                         "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, ng.port),
                                         "rtmpStream": "c%d" % i,
                                         "hasAudio": False, "hasVideo": False})
                if code == 201:
                    admitted.append("c%d" % i)
                    refused_in_a_row = 0
                    continue
                if code != 503:
                    raise peers.PeerError("call %d: %s %s" % (i, code, body))
                refused += 1
                refused_in_a_row += 1
                reason = reason or body.get("message")
                if refused_in_a_row >= args.refusals:
                    break
            ramp_s = time.time() - t0
            log("admitted %d, refused %d in %.1f s: %s" % (len(admitted), refused, ramp_s,
                                                          reason))
            # every admitted stream publishing
            deadline = time.time() + 30
            while time.time() < deadline and \
                    not all(k in poller.first_media for k in admitted):
                time.sleep(0.2)
            up = sum(1 for k in admitted if k in poller.first_media)
            time.sleep(2)
            poller.keep_samples = True
            meter = bench.CpuMeter([proc.pid])
            meter.start()
            sys0 = bench.system_busy()
            w0 = time.time()
            time.sleep(args.window)
            cores = meter.stop()
            sys1 = bench.system_busy()
            w1 = time.time()
            poller.keep_samples = False
            st = status(port)
            timeline.stop()
            samples = [x for x in poller.samples if w0 <= x[0] <= w1]
            late = behind(samples, admitted)
            return {
                "admitted": len(admitted), "refused": refused, "first_refusal": reason,
                "ramp_s": ramp_s, "streams_up": up, "streams_behind": len(late),
                "daemon_cores": cores,
                "cpu_pct_per_call": 100.0 * cores / max(1, len(admitted)),
                "machine_busy_pct": 100.0 * (sys1[0] - sys0[0]) / (sys1[1] - sys0[1]),
                "status": st,
                "timeline": timeline.rows,
            }
        finally:
            poller.stop()
            for p in procs:
                bench._kill(p)
            for s in sipps:
                s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=50, help="new calls per second")
    ap.add_argument("--max-calls", type=int, default=1000, help="stop pushing here anyway")
    ap.add_argument("--refusals", type=int, default=5, help="refusals in a row that end the push")
    ap.add_argument("--window", type=float, default=20, help="held window, s")
    ap.add_argument("--calls-per-sipp", type=int, default=100)
    ap.add_argument("--cpu-limit", type=int, help="[admission] cpu-limit for the daemon")
    ap.add_argument("--media-busy-limit", type=int, help="[admission] media-busy-limit")
    ap.add_argument("--build", type=Path, default=bench.REPO / "build")
    args = ap.parse_args()
    import tempfile
    with tempfile.TemporaryDirectory(prefix="sip2rtmp-admission-") as d:
        res = run(args, Path(d))
    timeline = res.pop("timeline")
    print(json.dumps(res, indent=2))
    print("| s | calls | CPU busy % | busiest media thread % | media late ms | refused |")
    print("|---|---|---|---|---|---|")
    for row in timeline:
        print("| %s | %d | %d | %d | %s | %d |" % row)
    print("admitted %d calls (refused %d: %s); %d of them behind the wall clock by more "
          "than %d ms in a %.0f s window; daemon %.2f cores (%.3f %% per call), machine "
          "%.0f %% busy" % (res["admitted"], res["refused"], res["first_refusal"],
                            res["streams_behind"], STALL_MS, args.window, res["daemon_cores"],
                            res["cpu_pct_per_call"], res["machine_busy_pct"]))
    return 0 if res["streams_behind"] == 0 and res["streams_up"] == res["admitted"] else 1


if __name__ == "__main__":
    sys.exit(main())

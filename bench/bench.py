#!/usr/bin/python3
"""sip2rtmp benchmark: N concurrent calls, SIPp UAS -> gateway -> nginx-rtmp.

A command, not a test (see bench/README section in bench/RESULTS.md).  Python 3
standard library only (matplotlib, if installed, draws the plot).  Everything
runs on 127.0.0.1; every process started here is stopped on exit.

For each N in --calls and each repeat:
  gateway   sip2rtmpd started on a free port; calls POSTed to /api/v1/calls at
            --rate per second, each to a SIPp UAS (bench/scenarios/uas_pcmu.xml,
            a looped 1 kHz PCMU tone) and published to nginx-rtmp.  Measured on
            the daemon's PID over a steady window: CPU, RSS, threads, context
            switches; set-up REST -> INVITE (SIPp's message trace) and REST ->
            first media on nginx-rtmp (its rtmp_stat: audio codec known);
            media health: kernel UDP drops on the daemon's sockets, every stream
            advancing on nginx, a sample of streams pulled back with ffmpeg
            and checked for gaps > 200 ms.
            (--gateway gst: one gst-launch-1.0 with N `sipsrc ! <template>`
            chains instead: what sipsrc + the chain cost without the daemon.)
  ffmpeg    one ffmpeg per call (RTP via an SDP file -> aac, same rate, channels
            and bitrate as the gateway's template -> FLV -> same nginx-rtmp), fed
            the same tone by a Python RTP sender; min(N, --ffmpeg-max) calls.
  --srtp    each gateway run twice: the callees replay one long PCMU capture
            (play_pcap_audio), plain (uas_pcmu_pcap.xml), then protected ahead
            by libsrtp with the key their answers give (uas_srtp_pcap.xml:
            RTP/SAVP, AES_CM_128_HMAC_SHA1_80) to calls with "srtp":
            "mandatory"; the same sender both times, so the runs differ in
            SRTP only. Reported side by side, with their ratio.
  floor     the gateway template's own decode + resample + encode chain on a
            file of the same audio, as fast as it goes: CPU s / audio s.

--soak instead (nothing of the above):
  cycles    --cycles calls one after another, --at-once at a time, of every
            kind of tests/peers/daemon.py's CallCycles (answered and hung
            up, the callee's BYE, 486, CANCEL while ringing, RTMP refused, SIP
            port unreachable), after a warm-up: the daemon's RSS, open fds and
            threads every --sample-every cycles, and once every call has ended
            and been forgotten.
  held      --held calls up for --hold s: every stream's RTMP timestamps
            against the wall clock from its start (nginx's rtmp_stat every
            second), a few streams pulled back for gaps, any status change of
            a held call counted as a drop, the daemon's RSS, fds and threads
            every --held-sample s (memory slope after --held-warm s).
"""

import argparse
import configparser
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests" / "peers"))
import peers  # noqa: E402
import daemon as s2rd  # noqa: E402  (the daemon's test driver: Daemon, CallCycles)
import srtp  # noqa: E402
from rtp_pcap import RtpStream, write_pcap  # noqa: E402

LOOPBACK = peers.LOOPBACK
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
STALL_MS = 200


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# /proc

def proc_cpu_s(pid):
    """utime + stime of a process (all its threads), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def proc_rss_mb(pid):
    return int(proc_status(pid)["VmRSS"].split()[0]) / 1024.0


def proc_pss_mb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def proc_threads(pid):
    return int(proc_status(pid)["Threads"])


def proc_ctxt(pid):
    """Voluntary + involuntary context switches summed over the threads."""
    vol = invol = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        invol += int(line.split()[1])
        except OSError:
            pass
    return vol, invol


def thread_names(pid):
    names = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                n = re.sub(r"\d+", "#", f.read().strip())
            names[n] = names.get(n, 0) + 1
        except OSError:
            pass
    return names


def udp_drops(pid):
    """Datagrams the kernel dropped on the process's UDP sockets (full buffers)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            inodes.add(t[8:-1])
    drops = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fl = line.split()
            if fl[9] in inodes:
                drops += int(fl[-1])
    return drops


def system_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


class CpuMeter:
    """CPU, context switches of a set of PIDs between start() and stop()."""

    def __init__(self, pids):
        self.pids = list(pids)

    def start(self):
        self.t0 = time.monotonic()
        self.c0 = sum(proc_cpu_s(p) for p in self.pids)
        self.x0 = [sum(v) for v in zip(*(proc_ctxt(p) for p in self.pids))]

    def stop(self):
        self.wall = time.monotonic() - self.t0
        self.cpu = sum(proc_cpu_s(p) for p in self.pids) - self.c0
        x1 = [sum(v) for v in zip(*(proc_ctxt(p) for p in self.pids))]
        self.vol = x1[0] - self.x0[0]
        self.invol = x1[1] - self.x0[1]
        return self.cpu / self.wall   # cores


# --------------------------------------------------------------------------
# gateway template: the encoder settings the references must share

def read_template(pipelines_dir, name="default"):
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read(pipelines_dir / ("%s.pipeline" % name))
    audio = cp["template"]["audio"]
    # the floor is decode + resample + encode: no queues
    audio_noq = " ! ".join(e.strip() for e in audio.split("!")
                           if not e.strip().startswith("queue"))
    rate = int(re.search(r"rate=(\d+)", audio).group(1))
    ch = int(re.search(r"channels=(\d+)", audio).group(1))
    br = int(re.search(r"bitrate=(\d+)", audio).group(1))
    enc = [e.split()[0] for e in (x.strip() for x in audio.split("!"))
           if "enc" in e.split()[0]][0]
    return {"audio": audio, "audio_noq": audio_noq, "sink": cp["template"]["sink"],
            "depay": cp["depayloaders"]["PCMU"], "rate": rate, "channels": ch,
            "bitrate": br, "encoder": enc}


# --------------------------------------------------------------------------
# peers

SIPP_MANY = ["-rtp_threadtasks", "32", "-max_recv_loops", "10000"]


class BenchSipp(peers.Sipp):
    """One SIPp UAS carrying many calls: any number (no -m), or `calls`."""

    def __init__(self, scenario, calls=None, **kw):
        super().__init__(scenario, calls=calls or 1, **kw)
        self.any_number = calls is None

    def command(self):
        cmd = super().command()
        if self.any_number:
            i = cmd.index("-m")
            del cmd[i:i + 2]
        return cmd + SIPP_MANY


class Nginx(peers.NginxRtmp):
    """nginx-rtmp with room for hundreds of publishers and pullers."""

    def start(self):
        real_write = Path.write_text

        def write_text(p, text, *a, **k):
            text = text.replace("worker_connections 64;", "worker_connections 4096;")
            return real_write(p, text, *a, **k)
        Path.write_text = write_text
        try:
            super().start()
        finally:
            Path.write_text = real_write


def streams_stat(ng):
    """{stream name: dict(publishing, audio, bytes_in, ts)} from rtmp_stat."""
    try:
        xml = ng.stat()
    except OSError:
        return {}
    out = {}
    for s in re.findall(r"<stream>(.*?)</stream>", xml, re.DOTALL):
        name = re.search(r"<name>(.*?)</name>", s).group(1)
        ts = re.search(r"<client>(?:(?!</client>).)*<timestamp>(\d+)</timestamp>"
                       r"(?:(?!</client>).)*<publishing/>", s, re.DOTALL)
        out[name] = {"publishing": "<publishing/>" in s,
                     "audio": "<codec>AAC</codec>" in s,
                     "bytes_in": int(re.search(r"<bytes_in>(\d+)", s).group(1)),
                     "ts": int(ts.group(1)) if ts else None}
    return out


class StatPoller(threading.Thread):
    """Polls rtmp_stat: first time each stream shows AAC; timestamps for liveness."""

    def __init__(self, ng, interval):
        super().__init__(daemon=True)
        self.ng, self.interval = ng, interval
        self.first_media = {}
        self.samples = []          # (wall, {name: ts})
        self.keep_samples = False
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            t = time.time()
            st = streams_stat(self.ng)
            for name, s in st.items():
                if s["audio"] and name not in self.first_media:
                    self.first_media[name] = t
            if self.keep_samples:
                self.samples.append((t, {n: s["ts"] for n, s in st.items()}))
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join(5)


class Puller(threading.Thread):
    """ffmpeg pulls one stream as FLV to a pipe; arrival time of every audio tag."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.arrivals = []     # (wall, flv timestamp ms)
        self.proc = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
             "-fflags", "nobuffer", "-analyzeduration", "100000", "-rw_timeout", "5000000", "-i", url,
             "-c", "copy", "-flush_packets", "1", "-f", "flv", "pipe:1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True)

    def run(self):
        f = self.proc.stdout
        try:
            if len(f.read(13)) < 13:
                return
            while True:
                h = f.read(11)
                if len(h) < 11:
                    return
                size = int.from_bytes(h[1:4], "big")
                ts = int.from_bytes(h[4:7], "big") | (h[7] << 24)
                now = time.time()
                if len(f.read(size + 4)) < size + 4:
                    return
                if h[0] == 8:
                    self.arrivals.append((now, ts))
        except (OSError, ValueError):
            return

    def stop(self):
        _kill(self.proc)
        self.join(5)

    def gaps(self, t_from, t_to):
        """Largest wall-clock gap between audio tags and largest timestamp gap (ms)."""
        a = [x for x in self.arrivals if t_from <= x[0] <= t_to]
        if len(a) < 2:
            return None
        wall = max(b[0] - x[0] for x, b in zip(a, a[1:])) * 1000
        tsg = max(b[1] - x[1] for x, b in zip(a, a[1:]))
        return wall, tsg, len(a)


def _kill(proc, sig=signal.SIGTERM, grace=5):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        proc.send_signal(sig)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.wait()


SRTP_SYMBOLS = re.compile(r"srtp|hmac|\baes_|sha1|SHA1|ctr128|aesni")


def srtp_share(perf_data):
    """The share (%) of the gateway's samples in SRTP's code: libre's srtp,
    aes and hmac, our wrapper, and OpenSSL's libcrypto under them (which
    nothing else of the bench's calls uses: no TLS, no rtmps)."""
    r = subprocess.run(["perf", "report", "-i", str(perf_data), "--stdio", "--no-children",
                        "--sort", "dso,sym", "--percent-limit", "0"],
                       capture_output=True, text=True, timeout=120)
    share = 0.0
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(\S+)", line)
        if m and ("libcrypto" in m.group(2) or SRTP_SYMBOLS.search(m.group(3))):
            share += float(m.group(1))
    return share


def post_json(api_port, path, body, timeout=10):
    """POST body as JSON to the daemon's API: (status, parsed answer). An
    HTTP error status is an answer, not an exception; a connection that
    fails raises OSError."""
    rq = urllib.request.Request("http://%s:%d%s" % (LOOPBACK, api_port, path),
                                data=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(rq, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def rtp_stats(api_port, call_ids):
    """What a sample of the calls received, by the daemon's rtpStats: the
    media really flowed (and, with SRTP, was decrypted: none refused)."""
    got = {"sample_calls": 0, "sample_packets_received": 0, "sample_srtp_dropped": 0,
           "sample_srtp": []}
    for cid in call_ids:
        try:
            with urllib.request.urlopen("http://%s:%d/api/v1/calls/%s" % (
                    LOOPBACK, api_port, cid), timeout=10) as r:
                st = json.loads(r.read()).get("rtpStats") or {}
        except (OSError, ValueError):
            continue
        got["sample_calls"] += 1
        got["sample_packets_received"] += st.get("packetsReceived") or 0
        got["sample_srtp_dropped"] += st.get("srtpDropped") or 0
        got["sample_srtp"].append(st.get("srtp"))
    got["sample_srtp"] = sorted(set(str(x) for x in got["sample_srtp"]))
    return got


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def parse_sipp_invites(text):
    """{request-URI user: wall time} of every INVITE SIPp received."""
    out = {}
    for stamp, body in re.findall(
            r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(UDP message received[^\n]*\n\n?INVITE sip:[^@\s]+)",
            text, re.MULTILINE):
        user = re.search(r"INVITE sip:([^@\s]+)", body).group(1)
        t = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        out.setdefault(user, t)
    return out


# --------------------------------------------------------------------------
# one gateway run

def make_captures(args, workdir):
    """--srtp: one long PCMU tone capture, plain and protected by libsrtp
    with a key of the bench's (what its callees' answers give), long enough
    for the largest run: {"rtp": path, "srtp": path}, the key in args."""
    seconds = max(args.calls) / args.rate + args.settle_timeout + args.settle + \
        args.window + 30
    stream = RtpStream()
    stream.tone(seconds, peers.TONE_HZ)
    args.srtp_key = srtp.new_key()
    plain = [p for _, p in stream.packets]
    protected = srtp.protect(srtp.SUITE_80, args.srtp_key, plain)
    times = [t for t, _ in stream.packets]
    out = {"rtp": workdir / "bench-rtp.pcap", "srtp": workdir / "bench-srtp.pcap"}
    write_pcap(out["rtp"], list(zip(times, plain)))
    write_pcap(out["srtp"], list(zip(times, protected)))
    log("captures: %.0f s of PCMU, plain and SRTP" % seconds)
    return out


class GatewayRun:
    def __init__(self, args, n, tmpl, workdir, variant=None):
        """variant: None (uas_pcmu.xml, rtp_stream), "rtp" or "srtp" (--srtp:
        the same capture replayed, plain or SRTP)"""
        self.args, self.n, self.tmpl, self.dir = args, n, tmpl, workdir
        self.variant = variant
        self.procs = []

    def callee(self):
        if self.variant is None:
            return BenchSipp(str(BENCH_DIR / "scenarios" / "uas_pcmu.xml"), timeout=3600)
        capture = self.args.captures[self.variant]
        files = {"bench.pcap": lambda p: shutil.copy(capture, p)}
        if self.variant == "rtp":
            return BenchSipp(str(BENCH_DIR / "scenarios" / "uas_pcmu_pcap.xml"),
                             timeout=3600, files=files)
        return BenchSipp(str(BENCH_DIR / "scenarios" / "uas_srtp_pcap.xml"), timeout=3600,
                         files=files, crypto=srtp.crypto_attr(1, srtp.SUITE_80,
                                                              self.args.srtp_key))

    def run(self):
        a, n = self.args, self.n
        res = {"n": n, "variant": self.variant}
        with Nginx() as ng:
            sipps = []
            try:
                for i in range(math.ceil(n / a.calls_per_sipp)):
                    s = self.callee()
                    s.__enter__()
                    sipps.append(s)
                res.update(self._run(ng, sipps))
            finally:
                for s in sipps:
                    s.close()
        return res

    def _start_daemon(self):
        port = peers.free_port()
        conf = self.dir / "sip2rtmpd.conf"
        # the template snapshot taken at start: the same chain for the whole run
        # admission control off: N calls are measured, even when the (shared)
        # machine is busy with other work; bench/admission.py measures it
        conf.write_text("[server]\nmax-calls=%d\nkeep-finished=60\n[pipeline]\ndir=%s\n"
                        "[admission]\nenabled=false\n" % (self.n + 10, self.args.pipelines))
        logf = open(self.dir / "sip2rtmpd.log", "wb")
        p = subprocess.Popen([str(self.args.build / "controller" / "sip2rtmpd"),
                              "--listen", "%s:%d" % (LOOPBACK, port), "--config", str(conf)],
                             env=peers.gst_env({"GST_PLUGIN_PATH": str(self.args.build / "plugins")}),
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                             start_new_session=True)
        self.procs.append(p)
        peers.wait_until(lambda: port in peers._bound_ports("tcp"), 10, "sip2rtmpd", p,
                         self.dir / "sip2rtmpd.log")
        return p, port

    def _start_gst(self, ng, sipps):
        chains = []
        t = self.tmpl
        for i in range(self.n):
            s = sipps[i // self.args.calls_per_sipp]
            chains.append("sipsrc name=sip%d uri=sip:c%d@%s audio=recvonly video=off%s ! "
                          "%s ! %s ! %s location=%s" % (
                              i, i, s.host_port,
                              " srtp=mandatory" if self.variant == "srtp" else "",
                              t["depay"], t["audio"],
                              t["sink"].replace("name=mux", "").replace("name=rtmp", ""),
                              ng.url(stream="c%d" % i)))
        logf = open(self.dir / "gst-launch.log", "wb")
        p = subprocess.Popen(["gst-launch-1.0", "-e"] + " ".join(chains).split(),
                             env=peers.gst_env({"GST_PLUGIN_PATH": str(self.args.build / "plugins")}),
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def _run(self, ng, sipps):
        a, n = self.args, self.n
        res = {}
        poller = StatPoller(ng, a.poll_interval)
        poller.start()
        req_t = {}
        errors = 0
        call_ids = []
        try:
            if a.gateway == "daemon":
                proc, api_port = self._start_daemon()
                time.sleep(1.0)
                rss0, thr0 = proc_rss_mb(proc.pid), proc_threads(proc.pid)
                t_start = time.time()
                for i in range(n):
                    due = t_start + i / a.rate
                    d = due - time.time()
                    if d > 0:
                        time.sleep(d)
                    s = sipps[i // a.calls_per_sipp]
                    call = {"callee": "sip:c%d@%s" % (i, s.host_port),
                            "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, ng.port),
                            "rtmpStream": "c%d" % i, "hasAudio": False, "hasVideo": False}
                    if self.variant == "srtp":
                        call["srtp"] = "mandatory"
                    req_t["c%d" % i] = time.time()
                    try:
                        code, answer = post_json(api_port, "/api/v1/calls", call)
                    except OSError as e:
                        code, answer = None, str(e)
                    if code == 201:
                        call_ids.append(answer["callId"])
                    else:
                        errors += 1
                        log("POST call %d: %s %s" % (i, code, answer))
                res["ramp_s"] = time.time() - t_start
            else:
                # baseline: an idle gst-launch with the plugins loaded
                idle = subprocess.Popen(["gst-launch-1.0", "fakesrc", "num-buffers=-1", "!",
                                         "fakesink"], env=peers.gst_env(),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
                time.sleep(1.5)
                rss0, thr0 = proc_rss_mb(idle.pid), proc_threads(idle.pid) - 1
                _kill(idle)
                t_start = time.time()
                for i in range(n):
                    req_t["c%d" % i] = t_start
                proc = self._start_gst(ng, sipps)
            pid = proc.pid
            # wait until every stream carries audio on nginx
            deadline = time.time() + a.settle_timeout + n / a.rate
            while time.time() < deadline and len(poller.first_media) < n:
                if proc.poll() is not None:
                    raise peers.PeerError("gateway exited with %s" % proc.returncode)
                time.sleep(0.2)
            res["streams_up"] = len(poller.first_media)
            res["post_errors"] = errors
            # steady window; pullers start first (ffmpeg probes, then dumps)
            pull_names = ["c%d" % i for i in
                          sorted(set(int(k * (n - 1) / max(1, a.pulls - 1))
                                     for k in range(min(a.pulls, n))))]
            pullers = [Puller(ng.url(stream=s)) for s in pull_names]
            for p in pullers:
                p.start()
            poller.interval = 1.0
            time.sleep(max(a.settle, 2.0))
            poller.keep_samples = True
            drops0 = udp_drops(pid)
            meter = CpuMeter([pid])
            peers_meter = CpuMeter([s.proc.pid for s in sipps] + [ng.proc.pid])
            self_meter = CpuMeter([os.getpid()] + [p.proc.pid for p in pullers])
            for m in (meter, peers_meter, self_meter):
                m.start()
            sys0 = system_busy()
            w0 = time.time()
            prof = None
            if a.profile and n == max(a.calls):
                prof = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499",
                                         "-g", "-o", str(self.dir / "perf.data"), "-p",
                                         str(pid), "--", "sleep", str(a.window)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            elif self.variant and shutil.which("perf"):
                # --srtp: where the process's own time goes, both variants alike
                prof = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499",
                                         "-o", str(self.dir / "perf-share.data"), "-p",
                                         str(pid), "--", "sleep", str(a.window)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            time.sleep(a.window)
            cores = meter.stop()
            res["peers_cores"] = peers_meter.stop()
            res["bench_cores"] = self_meter.stop()
            sys1 = system_busy()
            res["machine_busy_cores"] = (sys1[0] - sys0[0]) / (sys1[1] - sys0[1]) * os.cpu_count()
            w1 = time.time()
            if prof:
                prof.wait()
                if (self.dir / "perf-share.data").exists():
                    res["srtp_share_pct"] = srtp_share(self.dir / "perf-share.data")
            if proc.poll() is not None:
                raise peers.PeerError("gateway exited with %s during the window%s" % (
                    proc.returncode, peers._tail(next(self.dir.glob("*.log"), None))))
            rss, thr = proc_rss_mb(pid), proc_threads(pid)
            res["thread_names"] = thread_names(pid)
            res["udp_drops"] = udp_drops(pid) - drops0
            for p in pullers:
                p.stop()
            poller.keep_samples = False
            if call_ids:
                res.update(rtp_stats(api_port, call_ids[::max(1, len(call_ids) // 10)]))
            res.update({
                "cores": cores, "cpu_pct_per_call": 100.0 * cores / n,
                "rss_mb": rss, "rss0_mb": rss0, "rss_mb_per_call": (rss - rss0) / n,
                "threads": thr, "threads0": thr0, "threads_per_call": (thr - thr0) / n,
                "ctxt_per_call_s": (meter.vol + meter.invol) / meter.wall / n,
                "invol_per_call_s": meter.invol / meter.wall / n,
            })
            # set-up times
            invites = {}
            for s in sipps:
                invites.update(parse_sipp_invites(s.messages()))
            to_inv = [(invites[k] - req_t[k]) * 1000 for k in req_t if k in invites]
            # raw, in the order the requests were sent (the first pays warm-up)
            res["setup_invite_ms"] = [round(x, 2) for x in to_inv]
            to_media = [(poller.first_media[k] - req_t[k]) * 1000 for k in req_t
                        if k in poller.first_media]
            res["invites_seen"] = len(to_inv)
            if a.gateway == "daemon":
                res["setup_invite_p50"] = pct(to_inv, 50)
                res["setup_invite_p99"] = pct(to_inv, 99)
                res["setup_media_p50"] = pct(to_media, 50)
                res["setup_media_p99"] = pct(to_media, 99)
            # media health: every stream's RTMP timestamp keeps up with the wall
            # clock between 1 s samples (a stall longer than 200 ms that did not
            # catch up shows as a shortfall)
            smp = [x for x in poller.samples if w0 <= x[0] <= w1]
            not_live = set()
            lagging = set()
            for k in req_t:
                if not smp or smp[-1][1].get(k) is None:
                    not_live.add(k)
            for (ta, sa), (tb, sb) in zip(smp, smp[1:]):
                if tb - ta < 0.5:
                    continue
                for k in req_t:
                    if sa.get(k) is None or sb.get(k) is None:
                        continue
                    if sb[k] - sa[k] < (tb - ta) * 1000 - STALL_MS:
                        lagging.add(k)
            not_live, lagging = len(not_live), len(lagging - not_live)
            res["streams_not_live"] = not_live
            res["streams_lagging"] = lagging
            gaps = [p.gaps(w0, w1) for p in pullers]
            gaps = [g for g in gaps if g]
            res["pulled"] = len(gaps)
            res["pull_max_gap_ms"] = max((g[0] for g in gaps), default=float("nan"))
            res["pull_max_ts_gap_ms"] = max((g[1] for g in gaps), default=float("nan"))
            res["pull_stalls"] = sum(1 for g in gaps if g[0] > STALL_MS or g[1] > STALL_MS)
            res["stalls"] = res["pull_stalls"] + not_live + lagging
            # stop: SIGTERM hangs up every call (daemon) / EOS (gst-launch -e)
            t_stop = time.time()
            _kill(proc, signal.SIGTERM if a.gateway == "daemon" else signal.SIGINT, 30)
            res["shutdown_s"] = time.time() - t_stop
            for f in self.dir.glob("*.log"):
                shutil.copy(f, self.args.out_dir / ("%s-%s" % (self.dir.name, f.name)))
            return res
        finally:
            poller.stop()
            for p in self.procs:
                _kill(p, signal.SIGKILL)


# --------------------------------------------------------------------------
# ffmpeg reference

class RtpSender(threading.Thread):
    """Sends the same looped PCMU tone to many ports, 20 ms packets, one thread."""

    def __init__(self, payload, ports):
        super().__init__(daemon=True)
        self.payload = payload
        self.ports = ports
        self.socks = []
        self.sinks = []
        for _ in ports:
            while True:
                base = peers.free_port(2)
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.bind((LOOPBACK, base))
                    r.bind((LOOPBACK, base + 1))   # ffmpeg sends RTCP to port+1
                    break
                except OSError:
                    s.close()
                    r.close()
            self.socks.append(s)
            self.sinks.append(r)
        self.stop_ev = threading.Event()

    def run(self):
        seq, ts = 0, 0
        n = 0
        t0 = time.monotonic()
        chunks = [self.payload[i:i + 160] for i in range(0, len(self.payload) - 159, 160)]
        while not self.stop_ev.is_set():
            c = chunks[n % len(chunks)]
            for i, (s, port) in enumerate(zip(self.socks, self.ports)):
                hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x1000 + i)
                try:
                    s.sendto(hdr + c, (LOOPBACK, port))
                except OSError:
                    pass
            n += 1
            seq += 1
            ts += 160
            d = t0 + n * 0.02 - time.monotonic()
            if d > 0:
                time.sleep(d)
        for s in self.socks + self.sinks:
            s.close()

    def stop(self):
        self.stop_ev.set()
        self.join(5)


def read_ulaw(wav):
    """Raw u-law bytes of a WAV made by sox (fmt tag 7: wave module can't read it)."""
    data = Path(wav).read_bytes()
    i = data.index(b"data")
    size = struct.unpack("<I", data[i + 4:i + 8])[0]
    return data[i + 8:i + 8 + size]


def ffmpeg_run(args, n, tmpl, workdir, tone):
    res = {"n": n}
    procs = []
    payload = read_ulaw(tone)
    with Nginx() as ng:
        ports = [peers.free_port(2) for _ in range(n)]
        poller = StatPoller(ng, 0.2)
        poller.start()
        try:
            for i, port in enumerate(ports):
                sdp = workdir / ("ff%d.sdp" % i)
                sdp.write_text("v=0\no=- 0 0 IN IP4 127.0.0.1\ns=bench\nc=IN IP4 127.0.0.1\n"
                               "t=0 0\nm=audio %d RTP/AVP 0\na=rtpmap:0 PCMU/8000\n" % port)
                cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                       "-protocol_whitelist", "file,udp,rtp", "-i", str(sdp),
                       "-c:a", "aac", "-b:a", str(tmpl["bitrate"]), "-ar", str(tmpl["rate"]),
                       "-ac", str(tmpl["channels"]), "-f", "flv", ng.url(stream="f%d" % i)]
                procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL,
                                              stderr=open(workdir / "ff.log", "ab"),
                                              start_new_session=True))
            time.sleep(1.0)
            sender = RtpSender(payload, ports)
            sender.start()
            deadline = time.time() + args.settle_timeout + n * 0.05
            while time.time() < deadline and len(poller.first_media) < n:
                time.sleep(0.2)
            res["streams_up"] = len(poller.first_media)
            time.sleep(args.settle)
            pids = [p.pid for p in procs if p.poll() is None]
            res["alive"] = len(pids)
            meter = CpuMeter(pids)
            meter.start()
            time.sleep(args.window)
            cores = meter.stop()
            res.update({
                "cores": cores, "cpu_pct_per_call": 100.0 * cores / len(pids),
                "rss_mb_per_call": statistics.mean(proc_rss_mb(p) for p in pids),
                "pss_mb_per_call": statistics.mean(proc_pss_mb(p) for p in pids),
                "threads_per_call": statistics.mean(proc_threads(p) for p in pids),
                "ctxt_per_call_s": (meter.vol + meter.invol) / meter.wall / len(pids),
            })
            sender.stop()
        finally:
            poller.stop()
            for p in procs:
                _kill(p, signal.SIGKILL)
    return res


# --------------------------------------------------------------------------
# floor

def floor_run(args, tmpl, workdir, seconds=120):
    wav = workdir / "floor.wav"
    if not wav.exists():
        peers.make_tone_wav(wav, peers.TONE_HZ, seconds, "ulaw")
    desc = "filesrc location=%s ! wavparse ! mulawdec ! %s ! fakesink" % (wav, tmpl["audio_noq"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(["gst-launch-1.0", "-q"] + desc.split(), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=peers.gst_env())
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # a gst-launch that only starts and stops, to subtract start-up (plugin load)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["gst-launch-1.0", "-q", "fakesrc", "num-buffers=1", "!", "fakesink"],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   env=peers.gst_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    startup = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_pct_per_call": 100.0 * max(cpu - startup, 0.0) / seconds,
            "wall_s": wall, "pipeline": desc.replace(str(wav), "tone.wav")}


# --------------------------------------------------------------------------
# soak (--soak): thousands of call cycles, then calls held for long

def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def daemon_sample(pid, t0, **extra):
    """RSS, open fds, threads and CPU time of the daemon, `s` seconds after t0."""
    row = {"s": round(time.monotonic() - t0, 1), "rss_mb": round(proc_rss_mb(pid), 2),
           "fds": proc_fds(pid), "threads": proc_threads(pid),
           "cpu_s": round(proc_cpu_s(pid), 2)}
    row.update(extra)
    return row


def slope(rows, xkey, ykey):
    """Least-squares slope of ykey over xkey."""
    xs, ys = [r[xkey] for r in rows], [r[ykey] for r in rows]
    if len(xs) < 2 or len(set(xs)) < 2:
        return float("nan")
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def soak_daemon(args, max_calls, extra=""):
    """sip2rtmpd of this build on this template snapshot, driven by the tests'
    daemon.Daemon (its stderr kept in memory, saved at the end)."""
    os.environ["SIP2RTMPD"] = str(args.build / "controller" / "sip2rtmpd")
    os.environ["GST_PLUGIN_PATH"] = str(args.build / "plugins")
    os.environ.setdefault("GST_DEBUG_NO_COLOR", "1")
    # every call is placed whatever the headroom: admission control (where the
    # daemon has it) would refuse some on a busy machine
    return s2rd.Daemon("[server]\nmax-calls=%d\nkeep-finished=1\n[pipeline]\ndir=%s\n"
                       "[admission]\nenabled=false\n%s" % (max_calls, args.pipelines, extra))


def soak_cycles(args):
    """--cycles calls one after another, --at-once at a time, of every kind of
    daemon.CallCycles (answered and hung up, callee's BYE, 486, CANCEL, RTMP
    refused, SIP port unreachable): the daemon sampled every --sample-every
    cycles, and once all have ended and been forgotten."""
    rng = random.Random(args.seed)
    warm = s2rd.CallCycles.plan(args.warm_up, rng)
    kinds = s2rd.CallCycles.plan(args.cycles, rng)
    res = {"cycles": args.cycles, "warm_up": args.warm_up, "at_once": args.at_once,
           "kinds": {k: kinds.count(k) for k in s2rd.CallCycles.KINDS}, "rows": []}
    rows = res["rows"]
    with Nginx() as ng, \
            soak_daemon(args, args.at_once + 20, "[sip]\nanswer-timeout=3\n") as d, \
            d.events() as ev, \
            s2rd.CallCycles(d, ev, ng, warm + kinds, at_once=args.at_once,
                            sipp_timeout=3600 + args.cycles, sipp_args=SIPP_MANY) as cc:
        pid = d.proc.pid
        t0 = time.monotonic()
        res["idle"] = daemon_sample(pid, t0)
        cc.run(warm)
        cc.wait_all_forgotten()
        rows.append(daemon_sample(pid, t0, cycles=0, settled=True))
        log("soak: warm-up of %d cycles done: %.1f MB, %d fds, %d threads" % (
            len(warm), rows[0]["rss_mb"], rows[0]["fds"], rows[0]["threads"]))

        def progress(done):
            n = done - len(warm)
            if n % args.sample_every == 0 and n < len(kinds):
                row = daemon_sample(pid, t0, cycles=n, settled=False)
                rows.append(row)
                log("soak: %d cycles, %.1f MB, %d fds, %d threads" % (
                    n, row["rss_mb"], row["fds"], row["threads"]))
        try:
            cc.run(kinds, first=len(warm), progress=progress)
        except AssertionError as e:
            res["failure"] = str(e)[:2000]
            log("soak: a cycle failed, stopping: %s" % res["failure"])
        res["took_s"] = round(time.monotonic() - t0 - rows[0]["s"], 1)
        cc.wait_all_forgotten(120)
        rows.append(daemon_sample(pid, t0, cycles=cc.done - len(warm), settled=True))
        rows.sort(key=lambda r: (r["cycles"], r["s"]))
        if "failure" not in res:
            res["callees"] = cc.wait_callees(60)
        (args.out_dir / "soak-cycles-sip2rtmpd.log").write_text(d.log() + "\n")
    return res


def stream_lags(samples, t_from, t_to):
    """From rtmp_stat samples [(wall, {stream: publisher timestamp ms})]: per
    stream, how far its timestamps fell behind (+) or ran ahead of (-) the
    wall clock since its first sample: {stream: [(wall, lag ms)]}."""
    first, lags = {}, {}
    for t, st in samples:
        if not t_from <= t <= t_to:
            continue
        for name, ts in st.items():
            if ts is None:
                continue
            if name not in first:
                first[name] = (t, ts)
            t0, ts0 = first[name]
            lags.setdefault(name, []).append((t, (t - t0) * 1000.0 - (ts - ts0)))
    return lags


def soak_held(args):
    """--held calls up for --hold seconds: the daemon sampled every
    --held-sample s, every stream's RTMP timestamps against the wall clock
    (nginx's rtmp_stat, every second), --pulls streams pulled back for gaps,
    any change of a held call's status counted as a drop."""
    n = args.held
    res = {"calls": n, "hold_s": args.hold, "warm_s": args.held_warm, "rows": []}
    rows = res["rows"]
    ids = ["held-%d" % i for i in range(n)]
    with Nginx() as ng, \
            BenchSipp(str(BENCH_DIR / "scenarios" / "uas_pcmu.xml"), calls=n,
                      timeout=int(args.hold) + 900) as sipp, \
            soak_daemon(args, n + 10) as d, d.events() as ev:
        pid = d.proc.pid
        poller = StatPoller(ng, 1.0)
        poller.start()
        pullers = []
        try:
            for i, cid in enumerate(ids):
                r = d.post("/api/v1/calls", {
                    "callId": cid, "callee": sipp.uri("h%d" % i), "rtmpStream": cid,
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, ng.port)})
                if r.status != 201:
                    raise peers.PeerError("POST %s: %r" % (cid, r))
                time.sleep(1.0 / args.rate)
            for cid in ids:
                ev.wait_call_event(cid, lambda e: e.get("status") == "ESTABLISHED" and
                                   e.get("rtmpStreamStatus") == "PUBLISHING", 60, "publishing")
            t0 = time.monotonic()
            w0 = time.time()
            held_events = {cid: len(ev.by_call[cid]) for cid in ids}
            pull_ids = ids[::max(1, n // max(1, args.pulls))][:args.pulls]
            pullers = [Puller(ng.url(stream=cid)) for cid in pull_ids]
            for p in pullers:
                p.start()
            poller.keep_samples = True
            rows.append(daemon_sample(pid, t0))
            log("soak: %d calls up, holding them %.0f s" % (n, args.hold))
            while time.monotonic() - t0 < args.hold:
                time.sleep(min(args.held_sample, max(0.0, args.hold - (time.monotonic() - t0))))
                if d.proc.poll() is not None:
                    raise peers.PeerError("sip2rtmpd exited with %s" % d.proc.returncode)
                rows.append(daemon_sample(pid, t0))
                if len(rows) % max(1, int(300 / args.held_sample)) == 0:
                    log("soak: %.0f s held, %.1f MB, %d fds, %d threads" % (
                        rows[-1]["s"], rows[-1]["rss_mb"], rows[-1]["fds"], rows[-1]["threads"]))
            w1 = time.time()
            poller.keep_samples = False
            for p in pullers:
                p.stop()
            # a drop: any event of a held call during the hold
            with ev._cond:
                res["drops"] = {cid: [(e.get("status"), e.get("rtmpStreamStatus"), e.get("reason"))
                                      for e in ev.by_call[cid][held_events[cid]:]]
                                for cid in ids if len(ev.by_call[cid]) > held_events[cid]}
            listed = d.get("/api/v1/calls").json
            res["up_at_end"] = sum(1 for c in listed if c["status"] == "ESTABLISHED" and
                                   c["rtmpStreamStatus"] == "PUBLISHING")
            for cid in ids:
                d.delete("/api/v1/calls/%s" % cid)
            for cid in ids:
                ev.wait_call_event(cid, lambda e: e.get("ended"), 60, "end")
            res["sipp"] = sipp.wait(60)
        finally:
            poller.stop()
            for p in pullers:
                p.stop()
            (args.out_dir / "soak-held-sip2rtmpd.log").write_text(d.log() + "\n")
    lags = stream_lags(poller.samples, w0, w1)
    res["streams_sampled"] = len([k for k in lags if k in ids])
    res["max_lag_ms"] = max((abs(l) for k in ids for _, l in lags.get(k, [])), default=None)
    res["streams_over_200ms"] = sum(1 for k in ids if any(abs(l) > STALL_MS
                                                          for _, l in lags.get(k, [])))
    # the worst stream of each row's interval, for the curve
    for a, b in zip(rows, rows[1:]):
        ta, tb = w0 + a["s"], w0 + b["s"]
        b["worst_lag_ms"] = round(max((abs(l) for k in ids for t, l in lags.get(k, [])
                                       if ta < t <= tb), default=0.0), 1)
    # from 5 s after the pulls started: nginx first sends what it buffered
    gaps = [g for g in (p.gaps(w0 + 5, w1) for p in pullers) if g]
    res["pulled"] = len(gaps)
    res["pull_max_gap_ms"] = max((g[0] for g in gaps), default=None)
    res["pull_max_ts_gap_ms"] = max((g[1] for g in gaps), default=None)
    after = [r for r in rows if r["s"] >= args.held_warm]
    if after:
        res["rss_warm_mb"] = after[0]["rss_mb"]
        res["rss_end_mb"] = rows[-1]["rss_mb"]
        res["rss_max_after_warm_mb"] = max(r["rss_mb"] for r in after)
        res["rss_slope_mb_per_h"] = slope(after, "s", "rss_mb") * 3600
        res["cores"] = (rows[-1]["cpu_s"] - rows[0]["cpu_s"]) / max(1.0, rows[-1]["s"])
    return res


def soak_report(results, outdir):
    lines = ["Machine: %s" % results["machine"], ""]
    c = results.get("cycles")
    if c:
        r0, r1 = c["rows"][0], c["rows"][-1]
        lines.append("Call cycles: %d after a warm-up of %d, %d at once (%s), in %.0f s "
                     "(%.1f cycles/s)%s" % (
                         c["cycles"], c["warm_up"], c["at_once"],
                         ", ".join("%s %d" % kv for kv in c["kinds"].items()), c["took_s"],
                         c["cycles"] / max(1.0, c["took_s"]),
                         "; FAILED: %s" % c["failure"] if c.get("failure") else ""))
        lines.append("Idle daemon before the first call: %.1f MB, %d fds, %d threads" % (
            c["idle"]["rss_mb"], c["idle"]["fds"], c["idle"]["threads"]))
        lines.append("After the warm-up -> after the last cycle (every call ended and "
                     "forgotten): RSS %.1f -> %.1f MB (%+.1f kB per cycle), fds %d -> %d, "
                     "threads %d -> %d" % (
                         r0["rss_mb"], r1["rss_mb"],
                         (r1["rss_mb"] - r0["rss_mb"]) * 1024 / max(1, r1["cycles"]),
                         r0["fds"], r1["fds"], r0["threads"], r1["threads"]))
        mid = [r for r in c["rows"] if not r["settled"]]
        if len(mid) >= 2:
            lines.append("RSS slope over the run (samples with %d calls in flight): "
                         "%+.2f kB per cycle" % (c["at_once"],
                                                 slope(mid, "cycles", "rss_mb") * 1024))
        if c.get("callees") is not None:
            lines.append("SIPp callees' exit codes (0: every call ended as its scenario "
                         "says): %s" % c.get("callees"))
        lines += ["", "| cycles | s | RSS MB | fds | threads | |", "|---|---|---|---|---|---|"]
        for r in c["rows"]:
            lines.append("| %d | %.0f | %.2f | %d | %d | %s |" % (
                r["cycles"], r["s"], r["rss_mb"], r["fds"], r["threads"],
                "settled" if r["settled"] else "%d in flight" % c["at_once"]))
        lines.append("")
    h = results.get("held")
    if h:
        lines.append("Held calls: %d for %.0f s (%.1f min)" % (h["calls"], h["hold_s"],
                                                              h["hold_s"] / 60))
        lines.append("- drops: %d calls changed status during the hold %s; %d of %d still "
                     "ESTABLISHED and PUBLISHING at the end; SIPp exit %s (0: each call "
                     "ended by our BYE)" % (len(h.get("drops", {})), h.get("drops") or "",
                                            h.get("up_at_end", -1), h["calls"], h.get("sipp")))
        lines.append("- RTMP timestamps against the wall clock (rtmp_stat every 1 s, %d "
                     "streams): worst |lag| %s ms, streams over %d ms: %s" % (
                         h.get("streams_sampled", 0), fmt(h.get("max_lag_ms"), "%.0f"),
                         STALL_MS, h.get("streams_over_200ms")))
        lines.append("- pulled back with ffmpeg: %d streams, largest arrival gap %s ms, "
                     "timestamp gap %s ms" % (h.get("pulled", 0),
                                              fmt(h.get("pull_max_gap_ms"), "%.0f"),
                                              fmt(h.get("pull_max_ts_gap_ms"), "%.0f")))
        if "rss_warm_mb" in h:
            lines.append("- memory after a %.0f s warm-up: RSS %.2f MB, at the end %.2f MB, "
                         "at most %.2f MB; slope %+.2f MB/h; daemon CPU %.3f cores" % (
                             h["warm_s"], h["rss_warm_mb"], h["rss_end_mb"],
                             h["rss_max_after_warm_mb"], h["rss_slope_mb_per_h"], h["cores"]))
        lines += ["", "| min | RSS MB | fds | threads | worst lag ms in the interval |",
                  "|---|---|---|---|---|"]
        rows = h["rows"]
        step = max(1, len(rows) // 24)
        for r in rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else []):
            lines.append("| %.1f | %.2f | %d | %d | %s |" % (
                r["s"] / 60, r["rss_mb"], r["fds"], r["threads"],
                fmt(r.get("worst_lag_ms"), "%.0f")))
    text = "\n".join(lines)
    print(text)
    (outdir / "soak.md").write_text(text + "\n")
    soak_plot(results, outdir)
    log("results in %s" % outdir)


def soak_plot(results, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing (apt-get install python3-matplotlib): no plot, the tables only")
        return
    c, h = results.get("cycles"), results.get("held")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    if c:
        xs = [r["cycles"] for r in c["rows"]]
        a = axes[0]
        a.plot(xs, [r["rss_mb"] for r in c["rows"]], "o-", label="RSS MB")
        a.set_xlabel("call cycles")
        a.set_ylabel("RSS, MB")
        b = a.twinx()
        b.plot(xs, [r["fds"] for r in c["rows"]], "s--", color="C1", label="open fds")
        b.plot(xs, [r["threads"] for r in c["rows"]], "^:", color="C2", label="threads")
        b.set_ylabel("fds, threads")
        a.legend(loc="upper left", fontsize=8)
        b.legend(loc="lower right", fontsize=8)
        a.set_title("%d call cycles, %d at once" % (c["cycles"], c["at_once"]))
    if h:
        xs = [r["s"] / 60 for r in h["rows"]]
        a = axes[1]
        a.plot(xs, [r["rss_mb"] for r in h["rows"]], "-", label="RSS MB")
        a.set_xlabel("minutes held")
        a.set_ylabel("RSS, MB")
        b = a.twinx()
        b.plot(xs[1:], [r.get("worst_lag_ms", 0) for r in h["rows"][1:]], ":", color="C3",
               label="worst |RTMP ts - wall| ms")
        b.axhline(STALL_MS, color="grey", lw=0.8)
        b.set_ylabel("ms")
        a.legend(loc="upper left", fontsize=8)
        b.legend(loc="lower right", fontsize=8)
        a.set_title("%d calls held %.0f min" % (h["calls"], h["hold_s"] / 60))
    fig.tight_layout()
    fig.savefig(outdir / "soak.png", dpi=100)
    log("plot: %s" % (outdir / "soak.png"))


def soak_main(args, results, save):
    if args.cycles > 0:
        log("soak: %d call cycles, %d at once" % (args.cycles, args.at_once))
        results["cycles"] = soak_cycles(args)
        save()
    if args.held > 0 and args.hold > 0:
        log("soak: %d calls held %.0f s" % (args.held, args.hold))
        results["held"] = soak_held(args)
        save()


# --------------------------------------------------------------------------

def med(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None and not
         (isinstance(r[key], float) and math.isnan(r[key]))]
    return statistics.median(v) if v else float("nan")


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
    kern = os.uname().release
    try:
        gst = subprocess.run(["gst-launch-1.0", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[1]
    except (OSError, IndexError):
        gst = "?"
    try:
        ff = subprocess.run(["ffmpeg", "-version"], capture_output=True,
                            text=True).stdout.split("\n")[0]
    except OSError:
        ff = "?"
    return "%d x %s, %d GB RAM, Linux %s; %s; %s" % (os.cpu_count(), cpu, mem, kern, gst,
                                                     " ".join(ff.split()[:3]))


def fmt(v, f="%.2f"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", default="50,100,200,300",
                    help="comma-separated numbers of concurrent calls")
    ap.add_argument("--rate", type=float, default=50, help="new calls per second")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--window", type=float, default=20, help="steady window, s")
    ap.add_argument("--settle", type=float, default=3, help="wait after ramp, s")
    ap.add_argument("--settle-timeout", type=float, default=30)
    ap.add_argument("--gateway", choices=("daemon", "gst"), default="daemon")
    ap.add_argument("--calls-per-sipp", type=int, default=100)
    ap.add_argument("--ffmpeg-max", type=int, default=100,
                    help="ffmpeg reference with min(N, this) processes (0: skip)")
    ap.add_argument("--pulls", type=int, default=4, help="streams pulled back per run")
    ap.add_argument("--poll-interval", type=float, default=0.05,
                    help="rtmp_stat poll during the ramp, s")
    ap.add_argument("--srtp", action="store_true",
                    help="each gateway run twice, the callees' capture plain then as "
                    "SRTP: the cost of SRTP beside the plain figure")
    ap.add_argument("--profile", action="store_true",
                    help="perf record the gateway at the largest N (first repeat)")
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    ap.add_argument("--report", type=Path, metavar="DIR",
                    help="only print the table and plot again from DIR/results.json")
    soak = ap.add_argument_group(
        "soak", "--soak: instead of the N-call benchmark, --cycles call cycles of every "
        "kind (answered and hung up, callee's BYE, 486, CANCEL, RTMP refused, SIP port "
        "unreachable), then --held calls held for --hold s (0 skips either)")
    soak.add_argument("--soak", action="store_true")
    soak.add_argument("--cycles", type=int, default=3000)
    soak.add_argument("--warm-up", type=int, default=50, help="cycles before the baseline")
    soak.add_argument("--at-once", type=int, default=8, help="cycles running at a time")
    soak.add_argument("--sample-every", type=int, default=100, help="cycles between samples")
    soak.add_argument("--seed", type=int, default=10, help="of the cycles' shuffled order")
    soak.add_argument("--held", type=int, default=20, help="calls held")
    soak.add_argument("--hold", type=float, default=3600, help="for this long, s")
    soak.add_argument("--held-sample", type=float, default=10,
                      help="s between samples of the daemon")
    soak.add_argument("--held-warm", type=float, default=300,
                      help="s of the hold not counted in the memory slope")
    args = ap.parse_args()
    args.calls = [int(x) for x in args.calls.split(",")]
    if args.report and (args.report / "soak.json").exists():
        soak_report(json.loads((args.report / "soak.json").read_text()), args.report)
        return
    if args.report:
        results = json.loads((args.report / "results.json").read_text())
        for k in ("repeat", "window", "rate", "gateway"):
            v = results["args"][k]
            setattr(args, k, v if k == "gateway" else int(float(v)))
        args.calls = sorted({r["n"] for r in results["gateway"]})
        report(results, args.report, args)
        return
    args.build = args.build.resolve()

    stamp = time.strftime("%Y%m%d-%H%M%S")
    outdir = (args.out / stamp).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    args.out_dir = outdir
    work = Path(tempfile.mkdtemp(prefix="sip2rtmp-bench-"))
    # others edit pipelines/ while we run: measure one snapshot of it
    args.pipelines = work / "pipelines"
    shutil.copytree(REPO / "pipelines", args.pipelines)
    shutil.copytree(REPO / "pipelines", outdir / "pipelines")
    if args.soak:
        results = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}

        def save_soak():
            (outdir / "soak.json").write_text(json.dumps(results, indent=1))
        signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(1))
        try:
            soak_main(args, results, save_soak)
        finally:
            save_soak()
            if os.environ.get("SIP2RTMP_KEEP_TEMP") != "1":
                shutil.rmtree(work, ignore_errors=True)
        soak_report(results, outdir)
        return
    tmpl = read_template(args.pipelines)
    tone = peers.make_tone_wav(work / "tone.wav", peers.TONE_HZ, 1.0, "ulaw")
    if args.srtp:
        os.environ["SIP2RTMP_BUILD_DIR"] = str(args.build)   # its srtp-tool
        args.captures = make_captures(args, work)
    results = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
               "template_audio": tmpl["audio"], "gateway": [], "ffmpeg": [], "floor": []}
    log("machine:", results["machine"])
    log("gateway audio chain:", tmpl["audio"])

    def save():
        (outdir / "results.json").write_text(json.dumps(results, indent=1))

    # every child is in its own session; make sure SIGTERM/SIGINT still clean up
    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for rep in range(args.repeat):
            f = floor_run(args, tmpl, work)
            f["repeat"] = rep
            results["floor"].append(f)
            log("floor: %.3f%% of a core per real-time call" % f["cpu_pct_per_call"])
            for n, variant in [(n, v) for n in args.calls
                               for v in (("rtp", "srtp") if args.srtp else (None,))]:
                d = work / ("gw-%d-%d%s" % (n, rep, "-" + variant if variant else ""))
                d.mkdir()
                log("gateway (%s), N=%d, repeat %d%s" % (args.gateway, n, rep + 1,
                                                          ", " + variant if variant else ""))
                g = GatewayRun(args, n, tmpl, d, variant)
                if rep > 0:
                    g.args = argparse.Namespace(**dict(vars(args), profile=False))
                try:
                    r = g.run()
                except (peers.PeerError, OSError, subprocess.SubprocessError) as e:
                    log("  run failed, skipped: %s" % e)
                    continue
                r["repeat"] = rep
                results["gateway"].append(r)
                log("  %.2f cores (machine %.2f busy, sipp+nginx %.2f, bench %.2f)" % (
                    r["cores"], r["machine_busy_cores"], r["peers_cores"], r["bench_cores"]))
                if "sample_srtp" in r:
                    log("  a sample of %d calls: %d packets received, SRTP %s, %d refused" % (
                        r["sample_calls"], r["sample_packets_received"],
                        "/".join(r["sample_srtp"]), r["sample_srtp_dropped"]))
                log("  %.3f%%/call, %.2f MB/call, %.2f threads/call, up %d/%d, "
                    "setup INVITE p50/p99 %s/%s ms, media p50/p99 %s/%s ms, stalls %s" % (
                        r["cpu_pct_per_call"], r["rss_mb_per_call"], r["threads_per_call"],
                        r["streams_up"], n, fmt(r.get("setup_invite_p50"), "%.1f"),
                        fmt(r.get("setup_invite_p99"), "%.1f"),
                        fmt(r.get("setup_media_p50"), "%.0f"),
                        fmt(r.get("setup_media_p99"), "%.0f"), r["stalls"]))
                if (d / "perf.data").exists():
                    shutil.copy(d / "perf.data", outdir / "perf.data")
                save()
                if args.ffmpeg_max > 0:
                    nf = min(n, args.ffmpeg_max)
                    if not any(x["n"] == nf and x["repeat"] == rep for x in results["ffmpeg"]):
                        d = work / ("ff-%d-%d" % (nf, rep))
                        d.mkdir()
                        log("ffmpeg reference, %d processes, repeat %d" % (nf, rep + 1))
                        try:
                            r = ffmpeg_run(args, nf, tmpl, d, tone)
                        except (peers.PeerError, OSError, subprocess.SubprocessError) as e:
                            log("  run failed, skipped: %s" % e)
                            continue
                        r["repeat"] = rep
                        results["ffmpeg"].append(r)
                        log("  %.3f%%/call, RSS %.1f MB, PSS %.1f MB/call, up %d/%d" % (
                            r["cpu_pct_per_call"], r["rss_mb_per_call"],
                            r["pss_mb_per_call"], r["streams_up"], nf))
                        save()
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
    finally:
        save()
        if os.environ.get("SIP2RTMP_KEEP_TEMP") != "1":
            shutil.rmtree(work, ignore_errors=True)
    report(results, outdir, args)


def report(results, outdir, args):
    floor = med(results["floor"], "cpu_pct_per_call")
    ff_rows = results["ffmpeg"]
    ff_cpu = med(ff_rows, "cpu_pct_per_call")
    lines = []
    lines.append("Machine: %s" % results["machine"])
    lines.append("Gateway: %s; audio chain: %s" % (args.gateway, results["template_audio"]))
    lines.append("Medians of %d repeats; steady window %.0f s; calls arriving at %.0f/s." % (
        args.repeat, args.window, args.rate))
    lines.append("Floor (decode+resample+encode from a file): %.3f%% of a core per call" % floor)
    if ff_rows:
        lines.append("ffmpeg per call (%s processes): %.3f%% CPU, RSS %.1f MB, PSS %.1f MB, "
                     "%.1f threads, %.0f context switches/s per call" % (
                         ",".join(sorted({str(r["n"]) for r in ff_rows}, key=int)), ff_cpu,
                         med(ff_rows, "rss_mb_per_call"), med(ff_rows, "pss_mb_per_call"),
                         med(ff_rows, "threads_per_call"), med(ff_rows, "ctxt_per_call_s")))
    lines.append("")
    hdr = ("| N | up | cores | machine busy | CPU %/call | x ffmpeg | x floor | RSS MB/call | threads/call "
           "| ctx sw/s/call | setup INVITE p50/p99 ms | setup media p50/p99 ms "
           "| UDP drops | max gap ms (pulled) | stalls med (max) |")
    lines.append(hdr)
    lines.append("|" + "|".join("---" for _ in range(hdr.count("|") - 1)) + "|")
    table = []
    for n in args.calls:
        rows = [r for r in results["gateway"] if r["n"] == n and r.get("variant") != "srtp"]
        if not rows:
            continue
        c = med(rows, "cpu_pct_per_call")
        row = {"n": n, "cpu": c, "rss": med(rows, "rss_mb_per_call"),
               "cores": med(rows, "cores")}
        table.append(row)
        lines.append("| %d | %s | %.2f | %.2f | %.3f | %s | %s | %.2f | %.2f | %.0f | %s / %s | %s / %s "
                     "| %s | %s | %s |" % (
                         n, fmt(med(rows, "streams_up"), "%.0f"), row["cores"],
                         med(rows, "machine_busy_cores"), c,
                         fmt(c / ff_cpu if ff_rows else None), fmt(c / floor),
                         row["rss"], med(rows, "threads_per_call"),
                         med(rows, "ctxt_per_call_s"),
                         fmt(med(rows, "setup_invite_p50"), "%.1f"),
                         fmt(med(rows, "setup_invite_p99"), "%.1f"),
                         fmt(med(rows, "setup_media_p50"), "%.0f"),
                         fmt(med(rows, "setup_media_p99"), "%.0f"),
                         fmt(med(rows, "udp_drops"), "%.0f"),
                         fmt(med(rows, "pull_max_gap_ms"), "%.0f"),
                         "%s (%s)" % (fmt(med(rows, "stalls"), "%.0f"),
                                      fmt(max((r["stalls"] for r in rows), default=None),
                                          "%d"))))
    if len(table) >= 2:
        xs = [r["n"] for r in table]
        mx = statistics.mean(xs)
        for key, label in (("rss", "RSS"), ("cores", "CPU")):
            ys = [r[key] * (r["n"] if key == "rss" else 1) for r in table]
            my = statistics.mean(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / \
                sum((x - mx) ** 2 for x in xs)
            lines.append("")
            lines.append("Marginal %s per call (slope over N): %s" % (
                label, "%.3f MB" % slope if key == "rss" else "%.3f%% of a core" % (100 * slope)))
    lines += srtp_table(results, args)
    last = [r for r in results["gateway"] if r["n"] == max(args.calls)]
    if last and last[0].get("thread_names"):
        tn = sorted(last[0]["thread_names"].items(), key=lambda x: -x[1])
        lines.append("")
        lines.append("Threads at N=%d by name: %s" % (max(args.calls), ", ".join(
            "%s x%d" % kv for kv in tn[:12])))
    text = "\n".join(lines)
    print(text)
    (outdir / "table.md").write_text(text + "\n")
    plot(table, floor, ff_cpu if ff_rows else None, ff_rows, outdir)
    log("results in %s" % outdir)


def srtp_table(results, args):
    """--srtp: plain and SRTP side by side (the same capture replayed), the
    ratio of the medians and the median of each repeat's own ratio."""
    rows = [r for r in results["gateway"] if r.get("variant")]
    if not rows:
        return []
    lines = ["", "SRTP (--srtp): the callees replay one PCMU capture, plain then protected "
             "(AES_CM_128_HMAC_SHA1_80, calls with \"srtp\": \"mandatory\"); "
             "CPU per call of the gateway:", "",
             "| N | plain %/call | SRTP %/call | SRTP / plain | per-repeat ratio med (min-max) "
             "| SRTP's share of the SRTP run (perf) | the same symbols in the plain run "
             "| SRTP up | SRTP stalls med (max) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n in args.calls:
        plain = [r for r in rows if r["n"] == n and r["variant"] == "rtp"]
        sec = [r for r in rows if r["n"] == n and r["variant"] == "srtp"]
        if not plain or not sec:
            continue
        pairs = [(p, q) for p in plain for q in sec if p["repeat"] == q["repeat"]]
        ratios = [q["cpu_pct_per_call"] / p["cpu_pct_per_call"] for p, q in pairs]
        cp, cs = med(plain, "cpu_pct_per_call"), med(sec, "cpu_pct_per_call")
        lines.append("| %d | %.3f | %.3f | %.3f | %s (%s-%s) | %s %% | %s %% | %s | %s (%s) |" % (
            n, cp, cs, cs / cp,
            fmt(statistics.median(ratios) if ratios else None, "%.3f"),
            fmt(min(ratios) if ratios else None, "%.3f"),
            fmt(max(ratios) if ratios else None, "%.3f"),
            fmt(med(sec, "srtp_share_pct"), "%.2f"), fmt(med(plain, "srtp_share_pct"), "%.2f"),
            fmt(med(sec, "streams_up"), "%.0f"), fmt(med(sec, "stalls"), "%.0f"),
            fmt(max((r["stalls"] for r in sec), default=None), "%d")))
    return lines


def plot(table, floor, ff_cpu, ff_rows, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing (apt-get install python3-matplotlib): no plot")
        return
    if not table:
        return
    xs = [r["n"] for r in table]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    a1.plot(xs, [r["cores"] for r in table], "o-", label="gateway (whole process)")
    a1.plot(xs, [n * floor / 100 for n in xs], "--", label="floor x N")
    if ff_cpu:
        a1.plot(xs, [n * ff_cpu / 100 for n in xs], ":", label="ffmpeg per call x N")
    a1.axhline(1.6, color="grey", lw=0.8, label="target 1.6 cores")
    a1.set_xlabel("concurrent calls")
    a1.set_ylabel("CPU, cores")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    a2.plot(xs, [r["rss"] for r in table], "o-", label="gateway marginal RSS")
    if ff_rows:
        a2.axhline(statistics.median(r["pss_mb_per_call"] for r in ff_rows), ls=":",
                   label="ffmpeg PSS per process")
    a2.axhline(1.0, color="grey", lw=0.8, label="target 1 MB")
    a2.set_xlabel("concurrent calls")
    a2.set_ylabel("MB per call")
    a2.set_yscale("log")
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3)
    fig.suptitle("sip2rtmp: CPU and memory against concurrent calls")
    fig.tight_layout()
    fig.savefig(outdir / "bench.png", dpi=100)
    log("plot: %s" % (outdir / "bench.png"))


if __name__ == "__main__":
    main()

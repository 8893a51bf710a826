"""Real SIP/RTMP peers on loopback for sip2rtmp's integration tests.

Python 3 standard library only.  Every peer is a context manager that starts
a real program (sipp, nginx-rtmp, baresip) on free 127.0.0.1 ports, returns
once the program is ready (its socket is bound), and kills it and removes its
temporary directory on exit, whatever happened in between.

Only 127.0.0.1 is ever used: these helpers never address another host.
"""

import json
import os
import re
import shutil
import signal
import sys
import socket
import subprocess
import tempfile
import threading
import time
import wave
import math
from pathlib import Path

LOOPBACK = "127.0.0.1"
TCP = ("-t", "t1")          # Sipp(extra_args=TCP): a scenario over TCP
REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = REPO_ROOT / "tests" / "scenarios"
NGINX_RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
BARESIP_MODULES = "/usr/lib/baresip/modules"

# Frequencies of the tones the SIPp scenarios play (see tests/README.md).
TONE_HZ = 1000
EARLY_TONE_HZ = 600


class PeerError(RuntimeError):
    """A peer could not be started or did not become ready."""


# --------------------------------------------------------------------------
# ports and readiness

def _port_free(port, kind):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((LOOPBACK, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_port_lock = threading.Lock()
_handed_out = set()


def free_port(count=1):
    """A loopback port P such that P..P+count-1 are free for both UDP and TCP.

    Ports handed out by this process are not handed out again, so two peers
    started back to back cannot be given the same port before binding it.
    """
    with _port_lock:
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((LOOPBACK, 0))
            base = s.getsockname()[1]
            s.close()
            # keep the base even: RTP convention, and sipp uses port+2 for video
            base -= base % 2
            ports = range(base, base + count)
            if base < 1024 or base + count > 65535:
                continue
            if any(p in _handed_out for p in ports):
                continue
            if all(_port_free(p, socket.SOCK_DGRAM) and
                   _port_free(p, socket.SOCK_STREAM) for p in ports):
                _handed_out.update(ports)
                return base
    raise PeerError("no free loopback port found")


LOOPBACK6 = "::1"
# how /proc/net/{udp,tcp}6 write ::1 and :: (in host order words)
_LOOPBACK6_HEX = ("00000000000000000000000001000000", "0" * 32)


def _bound_ports(proto, ipv6=False):
    """Local ports bound on loopback (127.0.0.0/8) or 0.0.0.0 (ipv6: on ::1
    or ::) for 'udp' or 'tcp' (listening)."""
    ports = set()
    try:
        with open("/proc/net/" + proto + ("6" if ipv6 else "")) as f:
            next(f)
            for line in f:
                fields = line.split()
                addr, port = fields[1].split(":")
                if proto == "tcp" and fields[3] != "0A":   # LISTEN
                    continue
                # little-endian hex: 127.x.y.z ends in 7F
                if (addr in _LOOPBACK6_HEX) if ipv6 else \
                        (addr.endswith("7F") or addr == "00000000"):
                    ports.add(int(port, 16))
    except OSError:
        pass
    return ports


def wait_until(predicate, timeout, what, proc=None, log=None, interval=0.02):
    """Poll `predicate` until true; fail early if `proc` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise PeerError("%s: process exited with %s before being ready%s" %
                            (what, proc.returncode, _tail(log)))
        time.sleep(interval)
    raise PeerError("%s: not ready after %.1f s%s" % (what, timeout, _tail(log)))


def wait_for_item(cond, items, match, timeout):
    """The first of `items` (a list other threads append to while holding the
    Condition `cond`, then notify it) for which match(item) is true, waiting
    up to `timeout` s for one; None if none came."""
    deadline = time.monotonic() + timeout
    with cond:
        while True:
            for item in items:
                if match(item):
                    return item
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            cond.wait(left)


def _tail(path, n=2000):
    if not path:
        return ""
    try:
        return "\n--- %s ---\n%s" % (path, Path(path).read_text(errors="replace")[-n:])
    except OSError:
        return ""


def _terminate(proc, grace=3.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Peer:
    """Base of every peer: a temporary directory and a child process, both
    cleaned up on exit, whatever happened in between.

    A subclass sets `name` (the temp dir's prefix), starts `self.proc` in
    `start()`, and may override `end_process()` (how close() ends it).
    """

    name = "peer"
    # True: the process leads a group whose other members (what a sipp
    # scenario's <exec command> started, kamailio's timer processes) end
    # with it
    process_group = False

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="sip2rtmp-%s-" % self.name))
        self.proc = None
        self.keep = os.environ.get("SIP2RTMP_KEEP_TEMP") == "1"

    def start(self):
        raise NotImplementedError

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def end_process(self):
        """SIGTERM, SIGKILL after a grace period."""
        _terminate(self.proc)

    def close(self):
        self.end_process()
        if self.process_group and self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# the former private name, for code written against it
_TempDirPeer = Peer


class UdpListener:
    """A UDP socket on 127.0.0.1 keeping every datagram it gets, read by a
    thread of its own: the address a peer's SDP names, when a test must see
    what sipsrc sends there (SIPp lets a scenario read neither RTP nor RTCP).

        with UdpListener(port) as rtp:
            ...
            data = rtp.wait_for(lambda d: d[1] == 0, 10)   # first PCMU packet
    """

    def __init__(self, port, host=LOOPBACK):
        self.port = port
        self.host = host                # another 127.x.y.z: a host of its own
        self.received = []              # (time.monotonic() of arrival, datagram)
        self._cond = threading.Condition()
        self._sock = None

    @property
    def packets(self):
        """The datagrams so far, in arrival order."""
        with self._cond:
            return [d for _, d in self.received]

    def __enter__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.host, self.port))
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        while True:
            try:
                data = self._sock.recv(2048)
            except OSError:
                return
            with self._cond:
                self.received.append((time.monotonic(), data))
                self._cond.notify_all()

    def __exit__(self, *exc):
        # wakes the reader up: recv fails once the socket is shut down
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        return False

    def send(self, data, host, port):
        """A datagram from this socket (it answers from where it listens)."""
        self._sock.sendto(data, (host, port))

    def wait_for(self, match, timeout):
        """The first datagram (received so far or within `timeout` s) for
        which match(datagram) is true, or None."""
        got = self.wait_for_arrival(lambda _, d: match(d), timeout)
        return got[1] if got else None

    def wait_for_arrival(self, match, timeout):
        """The first (arrival time, datagram) for which match(time, datagram)
        is true, waiting up to `timeout` s; None if none came."""
        return wait_for_item(self._cond, self.received, lambda r: match(*r), timeout)


# --------------------------------------------------------------------------
# audio

_SOX_ENCODING = {
    "ulaw": ["-e", "u-law", "-b", "8"],
    "alaw": ["-e", "a-law", "-b", "8"],
    "s16": ["-e", "signed-integer", "-b", "16"],
}


def make_tone_wav(path, freq, seconds, fmt="ulaw", rate=8000, volume=0.5, channels=1):
    """A mono sine WAV made by sox.

    fmt: 'ulaw' / 'alaw' (8-bit G.711, what SIPp's rtp_stream plays as PT 0 / 8)
    or 's16' (16-bit PCM, what baresip's aufile plays).
    """
    if fmt not in _SOX_ENCODING:
        raise ValueError("fmt must be one of %s" % ", ".join(_SOX_ENCODING))
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels)] + _SOX_ENCODING[fmt] +
                   [str(path), "synth", str(seconds), "sine", str(freq),
                    "vol", str(volume)],
                   check=True, stdin=subprocess.DEVNULL, timeout=30)
    return Path(path)


def _read_pcm16_mono_8k(wav_path):
    """Samples of a WAV as 16-bit mono 8 kHz ints (converted by sox if needed)."""
    data = None
    try:
        with wave.open(str(wav_path), "rb") as w:
            if (w.getsampwidth() == 2 and w.getnchannels() == 1 and
                    w.getframerate() == 8000 and w.getcomptype() == "NONE"):
                data = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        pass                        # G.711 or another format wave cannot read
    if data is None:
        with tempfile.TemporaryDirectory(prefix="sip2rtmp-conv-") as d:
            conv = os.path.join(d, "conv.wav")
            subprocess.run(["sox", str(wav_path), "-r", "8000", "-c", "1",
                            "-e", "signed-integer", "-b", "16", conv],
                           check=True, stdin=subprocess.DEVNULL, timeout=60,
                           capture_output=True)
            with wave.open(conv, "rb") as w:
                data = w.readframes(w.getnframes())
    import array
    a = array.array("h")
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a, 8000


def wav_duration(wav_path):
    """Length in seconds of any WAV sox reads (G.711 included)."""
    samples, rate = _read_pcm16_mono_8k(wav_path)
    return len(samples) / float(rate)


def rms(samples):
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def _goertzel_power(x, rate, freq):
    k = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for v in x:
        s0 = v + k * s1 - s2
        s2 = s1
        s1 = s0
    return s1 * s1 + s2 * s2 - k * s1 * s2


def dominant_frequency(wav_path, start=0.0, duration=None, fmin=250, fmax=3400,
                       min_rms=100.0):
    """Frequency (Hz) of the strongest tone in a WAV segment, or None if silent.

    The segment [start, start+duration) is analysed (whole file by default);
    its loudest 0.5 s window is scanned with Goertzel filters, coarse then
    fine, after a Hann window: accurate to a few Hz for 300-3000 Hz tones.
    A segment whose RMS is below min_rms (16-bit scale) counts as silence.
    """
    samples, rate = _read_pcm16_mono_8k(wav_path)
    first = int(start * rate)
    last = len(samples) if duration is None else min(len(samples),
                                                     first + int(duration * rate))
    seg = samples[first:last]
    win = int(0.5 * rate)
    if len(seg) < win // 4:
        return None
    if len(seg) > win:
        best, best_e = 0, -1.0
        for off in range(0, len(seg) - win + 1, win // 4):
            e = sum(v * v for v in seg[off:off + win:4])
            if e > best_e:
                best, best_e = off, e
        seg = seg[best:best + win]
    if rms(seg) < min_rms:
        return None
    n = len(seg)
    mean = sum(seg) / n
    x = [(v - mean) * (0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1)))
         for i, v in enumerate(seg)]
    coarse = max(range(int(fmin), int(fmax) + 1, 10),
                 key=lambda f: _goertzel_power(x, rate, f))
    fine = max((coarse + d * 0.5 for d in range(-24, 25)),
               key=lambda f: _goertzel_power(x, rate, f))
    return fine


def audio_rms(wav_path, start=0.0, duration=None):
    samples, rate = _read_pcm16_mono_8k(wav_path)
    first = int(start * rate)
    last = len(samples) if duration is None else first + int(duration * rate)
    return rms(samples[first:last])


def loud_spans(wav_path, window=0.01, min_rms=100.0):
    """[(start, end)] in seconds of the runs of `window`-long slices whose
    RMS reaches min_rms: where something sounds, and every gap between."""
    samples, rate = _read_pcm16_mono_8k(wav_path)
    n = int(window * rate)
    runs = []                           # [first slice, last slice + 1]
    for k in range(len(samples) // n):
        if rms(samples[k * n:(k + 1) * n]) < min_rms:
            continue
        if runs and runs[-1][1] == k:
            runs[-1][1] = k + 1
        else:
            runs.append([k, k + 1])
    return [(a * n / float(rate), b * n / float(rate)) for a, b in runs]


# A hole this short in a tone, with every packet of the tone there, is its
# sender's: a SIPp process paused on a busy machine (CI runs two suites at
# once; one 80 ms hole in CI12, all 250 packets received), and the timeline
# filled it as it must. A packet sipsrc held up leaves no hole but comes
# late; one it dropped shortens the tone: tests check the sounding time in
# all, or the packet counts, beside merge_spans(spans, SENDER_PAUSE_S).
SENDER_PAUSE_S = 0.25


def merge_spans(spans, max_hole):
    """loud_spans' spans with the holes of at most max_hole seconds closed."""
    merged = []
    for start, end in spans:
        if merged and start - merged[-1][1] <= max_hole:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged

def assert_frequency(testcase, wav_path, expected, start=0.0, duration=None,
                     tolerance=0.03):
    got = dominant_frequency(wav_path, start, duration)
    testcase.assertIsNotNone(got, "no tone (silence) in %s from %.1f s" % (wav_path, start))
    testcase.assertAlmostEqual(got, expected, delta=expected * tolerance,
                               msg="tone %.1f Hz, expected %d Hz" % (got, expected))


# --------------------------------------------------------------------------
# SIPp

class SipMessage:
    def __init__(self, direction, text):
        self.direction = direction          # 'received' or 'sent'
        self.text = text
        self.first_line = text.split("\n", 1)[0].strip()
        m = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        self.status = int(m.group(1)) if m else None
        self.method = None if m else self.first_line.split(" ", 1)[0]

    def header(self, name):
        m = re.search(r"^%s\s*:\s*(.*)$" % re.escape(name), self.text,
                      re.MULTILINE | re.IGNORECASE)
        return m.group(1).strip() if m else None

    def __repr__(self):
        return "<%s %s>" % (self.direction, self.first_line)


class Sipp(Peer):
    """A SIPp UAS on 127.0.0.1 running one call of a scenario (`-m 1`), or
    `calls` of them.

    Sipp('answer_pcmu_bye.xml', duration_ms=3000, auth_user='alice')
    - scenario: file name under tests/scenarios/ or a path.
    - keyword arguments become `-key name value` (usable as [name] in the XML).
    - duration_ms: sipp's -d, the length of a scenario's bare <pause/>.
    - tones: {'file.wav': hz} overrides the default tone frequencies; any
      rtp_stream file the scenario names is generated in the working dir:
      names containing 'pcma' are A-law, others u-law; names starting with
      'early' get EARLY_TONE_HZ, others TONE_HZ.
    - files: {'name': make(path)} more files for the working dir, e.g. the
      pcap of a `play_pcap_audio` (see rtp_pcap.py).
    - timeout: sipp's global -timeout; reaching it fails the scenario.
    - calls: how many calls it answers before it exits (-m); wait() is 0 only
      if each one followed the scenario to its end.
    - host: its SIP and media address: another loopback address (127.0.0.2)
      for a second source, or LOOPBACK6 (::1) to call over IPv6.
    """

    name = "sipp"
    process_group = True    # a scenario's <exec command> runs in sipp's group

    def __init__(self, scenario, duration_ms=None, tones=None, timeout=60,
                 extra_args=(), files=None, calls=1, host=LOOPBACK, **keys):
        """host: its SIP and media address (another 127.0.0.0/8 address, or
        LOOPBACK6: over IPv6)."""
        super().__init__()
        self.calls = calls
        self.host = host
        p = Path(scenario)
        self.scenario = p.resolve() if p.is_absolute() or p.exists() else SCENARIOS_DIR / p
        self.duration_ms = duration_ms
        self.tones = dict(tones or {})
        self.files = dict(files or {})
        self.timeout = timeout
        self.extra_args = list(extra_args)
        self.keys = keys
        self.port = None
        self.media_port = None
        self.msg_file = self.dir / "messages.log"
        self.err_file = self.dir / "errors.log"
        self.out_file = self.dir / "screen.log"
        self.returncode = None

    def _make_tones(self):
        text = self.scenario.read_text()
        for fname in set(re.findall(r'rtp_stream="([^",\[]+\.wav)', text)):
            if "pcma" in fname:
                fmt = "alaw"
            else:
                fmt = "ulaw"
            hz = self.tones.get(fname, EARLY_TONE_HZ if fname.startswith("early")
                                else TONE_HZ)
            make_tone_wav(self.dir / fname, hz, 1.0, fmt)
        for fname, make in self.files.items():
            make(self.dir / fname)

    def command(self):
        cmd = ["sipp", "-sf", str(self.scenario),
               "-i", self.host, "-p", str(self.port),
               "-mi", self.host, "-mp", str(self.media_port),
               "-m", str(self.calls), "-nostdin",
               "-timeout", "%ds" % self.timeout, "-timeout_error",
               "-trace_msg", "-message_file", str(self.msg_file),
               "-trace_err", "-error_file", str(self.err_file)]
        if self.duration_ms is not None:
            cmd += ["-d", str(int(self.duration_ms))]
        for k, v in self.keys.items():
            cmd += ["-key", k, str(v)]
        return cmd + self.extra_args

    def start(self):
        self._make_tones()
        self.port = free_port()
        self.media_port = free_port(4)
        with open(self.out_file, "wb") as out:
            # no TTY, no stdin: sipp's screen goes to a file
            self.proc = subprocess.Popen(self.command(), cwd=str(self.dir),
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT,
                                         start_new_session=True)
        wait_until(lambda: self.port in _bound_ports("tcp" if self.tcp else "udp",
                                                     ipv6=":" in self.host), 10,
                   "sipp %s" % self.scenario.name, self.proc, self.out_file)

    @property
    def tcp(self):
        """SIP over TCP: Sipp(..., extra_args=TCP) (sipp's -t t1)."""
        return any(a in ("t1", "tn") for a in self.extra_args)

    @property
    def host_port(self):
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    def uri(self, user="service"):
        return "sip:%s@%s" % (user, self.host_port)

    def wait(self, timeout=None):
        """sipp's exit code: 0 = the call followed the scenario to its end."""
        if timeout is None:
            timeout = self.timeout + 10
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _terminate(self.proc)
            self.returncode = self.proc.returncode
            raise PeerError("sipp did not exit within %s s%s" %
                            (timeout, self.report()))
        return self.returncode

    def messages(self):
        """The SIP trace text (every message sent and received)."""
        try:
            return self.msg_file.read_text(errors="replace")
        except OSError:
            return ""

    def parsed_messages(self):
        out = []
        for block in re.split(r"^-{10,} .*$", self.messages(), flags=re.MULTILINE):
            m = re.match(r"\s*\w+ message (received|sent)[^\n]*:\n\n?(.*)", block,
                         re.DOTALL)
            if m:
                out.append(SipMessage(m.group(1), m.group(2).strip("\n")))
        return out

    def received(self, method_or_status):
        """Messages SIPp received with that method ('BYE') or status (200)."""
        return [m for m in self.parsed_messages() if m.direction == "received" and
                (m.method == method_or_status or m.status == method_or_status)]

    def sent(self, method_or_status):
        return [m for m in self.parsed_messages() if m.direction == "sent" and
                (m.method == method_or_status or m.status == method_or_status)]

    def errors(self):
        try:
            return self.err_file.read_text(errors="replace")
        except OSError:
            return ""

    def report(self):
        """Text to append to an assertion message."""
        return ("\n--- sipp %s exit %s ---\n%s\n--- errors ---\n%s\n--- messages ---\n%s" %
                (self.scenario.name, self.returncode,
                 _tail(self.out_file, 1500), self.errors()[-2000:],
                 self.messages()[-6000:]))


# --------------------------------------------------------------------------
# nginx-rtmp

class NginxRtmp(Peer):
    """nginx with the rtmp module, its own config, logs and pid in a temp dir.

    rtmp://127.0.0.1:<port>/live/<stream>, stats at http://127.0.0.1:<http_port>/stat.
    Runs in the foreground without a master process, so it never changes user
    and works as root or not.
    """

    name = "nginx"

    def __init__(self, tls=False, cert_name=None):
        """tls: also terminate RTMPS (TLS with a self-signed certificate made
        by openssl) on `tls_port` and pass it on to the RTMP port, as CDNs'
        TLS front ends do (nginx's stream module). cert_name: the DNS name
        the certificate is made for, instead of the IP address 127.0.0.1."""
        super().__init__()
        self.port = None
        self.http_port = None
        self.tls = tls
        self.cert_name = cert_name
        self.tls_port = None
        self.error_log = self.dir / "error.log"

    def start(self):
        if not os.path.exists(NGINX_RTMP_MODULE):
            raise PeerError("%s missing (apt-get install libnginx-mod-rtmp)" %
                            NGINX_RTMP_MODULE)
        self.port = free_port()
        self.http_port = free_port()
        d = self.dir
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir()
        stream = ""
        if self.tls:
            stream = self._tls_front_end()
        conf = d / "nginx.conf"
        conf.write_text("""
load_module {module};
{stream_module}
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen {ip}:{port};
        application live {{
            live on;
        }}
    }}
}}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen {ip}:{http_port};
        location /stat {{ rtmp_stat all; }}
    }}
}}
""".format(module=NGINX_RTMP_MODULE, d=d, ip=LOOPBACK, port=self.port,
           http_port=self.http_port,
           stream_module="load_module %s;" % NGINX_STREAM_MODULE if self.tls else "")
            + stream)
        self._spawn()

    def _spawn(self):
        conf = self.dir / "nginx.conf"
        with open(self.dir / "stdout.log", "ab") as out:
            self.proc = subprocess.Popen(
                ["nginx", "-p", str(self.dir), "-c", str(conf), "-e", str(self.error_log)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_until(lambda: set(self._ports()) <= _bound_ports("tcp"), 10,
                   "nginx-rtmp", self.proc, self.error_log)

    def _ports(self):
        return [p for p in (self.port, self.http_port, self.tls_port) if p]

    def _tls_front_end(self):
        """The stream module's part of the config: TLS on tls_port, proxied
        to the RTMP port; the certificate (for 127.0.0.1, or cert_name) is
        made here."""
        if not os.path.exists(NGINX_STREAM_MODULE):
            raise PeerError("%s missing (apt-get install libnginx-mod-stream)" %
                            NGINX_STREAM_MODULE)
        self.tls_port = free_port()
        self.cert = self.dir / "cert.pem"
        key = self.dir / "key.pem"
        name = self.cert_name or LOOPBACK
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-days", "1", "-subj", "/CN=%s" % name,
                        "-addext", "subjectAltName=%s:%s" %
                        ("DNS" if self.cert_name else "IP", name),
                        "-keyout", str(key), "-out", str(self.cert)],
                       check=True, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
        return """
stream {{
    server {{
        listen {ip}:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        proxy_pass {ip}:{port};
    }}
}}
""".format(ip=LOOPBACK, tls_port=self.tls_port,
           cert=self.cert, key=key, port=self.port)

    def stop(self):
        """Stop the server (SIGTERM: its clients see their connections close);
        returns once its ports are no longer listening."""
        _terminate(self.proc)
        wait_until(lambda: not (set(self._ports()) & _bound_ports("tcp")), 10,
                   "nginx-rtmp stopped")

    def restart(self):
        """Start the server again, on the same ports, after stop()."""
        if self.proc is not None and self.proc.poll() is None:
            raise PeerError("nginx-rtmp is still running: stop() it first")
        self._spawn()

    def url(self, app="live", stream="test"):
        return "rtmp://%s:%d/%s/%s" % (LOOPBACK, self.port, app, stream)

    def rtmps_url(self, app="live", stream="test"):
        """The same stream through the TLS front end (NginxRtmp(tls=True))."""
        return "rtmps://%s:%d/%s/%s" % (LOOPBACK, self.tls_port, app, stream)

    def stat(self):
        import urllib.request
        with urllib.request.urlopen("http://%s:%d/stat" % (LOOPBACK, self.http_port),
                                    timeout=5) as r:
            return r.read().decode("utf-8", "replace")

    def is_publishing(self, stream, app="live"):
        xml = self.stat()
        m = re.search(r"<application>\s*<name>%s</name>(.*?)</application>" %
                      re.escape(app), xml, re.DOTALL)
        if not m:
            return False
        for s in re.findall(r"<stream>(.*?)</stream>", m.group(1), re.DOTALL):
            if re.search(r"<name>%s</name>" % re.escape(stream), s) and "<publishing/>" in s:
                return True
        return False

    def wait_publishing(self, stream, timeout=15, app="live", proc=None):
        wait_until(lambda: self.is_publishing(stream, app), timeout,
                   "publisher on %s/%s" % (app, stream), proc, self.error_log,
                   interval=0.1)


def pull_rtmp(url, seconds, out_wav, rate=8000, rw_timeout_s=8):
    """Pull `seconds` of an RTMP stream into a mono WAV with ffmpeg; returns the result."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-rw_timeout", str(int(rw_timeout_s * 1000000)),
           "-i", url, "-t", str(seconds), "-vn", "-ac", "1", "-ar", str(rate),
           "-c:a", "pcm_s16le", str(out_wav)]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=seconds + rw_timeout_s + 20)


# --------------------------------------------------------------------------
# baresip

class Baresip(Peer):
    """baresip as an auto-answering callee that plays `wav` (16-bit mono 8 kHz).

    Its own config dir; SIP on a free 127.0.0.1 port; stdin is /dev/null (the
    stdio module is not loaded, so no terminal is needed).
    """

    name = "baresip"

    def __init__(self, wav, user="callee", codecs=("PCMU/8000/1", "PCMA/8000/1"),
                 modules=("g711.so",), srate=8000, channels=1, mediaenc=None, dial=None,
                 tls_ca=None, tls_cert=None, trace=False, password=None,
                 control=False):
        """codecs: baresip's audio_codecs of the account, e.g. ("G722/16000/1",);
        modules: the codec modules to load (g711.so, g722.so, opus.so);
        srate, channels: those of `wav` (baresip's opus wants 48000 Hz, 2);
        mediaenc: the account's media encryption (its srtp module): "srtp"
        (RTP/AVP with keys, SRTP if the other side has keys too), "srtp-mand"
        (RTP/SAVP only: a call without keys is refused);
        dial: a SIP URI baresip calls once started (its menu's /dial), playing
        `wav` as the caller;
        tls_ca: the account is over TLS (its calls go out over TLS; baresip
        1.0 trusts this CA file but checks no certificate);
        tls_cert: (certificate, key) baresip shows when it is called over
        TLS (the in-dialog requests to its Contact: our BYE);
        trace: baresip prints every SIP message with its transport (-s);
        password: the account's digest password (auth_pass; the user is `user`),
        what baresip answers a 401/407 with;
        control: load its ctrl_tcp module, to be driven while it runs
        (command(): dial, hangup...) and followed by its events (wait_event())."""
        super().__init__()
        self.mediaenc = mediaenc
        if mediaenc:
            modules = tuple(modules) + ("srtp.so",)
        self.wav = Path(wav).resolve()
        self.user = user
        self.codecs = codecs
        self.modules = modules
        self.srate = srate
        self.channels = channels
        self.dial = dial
        self.tls_ca = tls_ca
        self.tls_cert = tls_cert
        self.trace = trace
        self.password = password
        self.control = control
        self.ctrl_port = None
        self._ctrl = None
        self._ctrl_lock = threading.Lock()
        self._cond = threading.Condition()
        self.events = []          # ctrl_tcp's events, as they came
        self._responses = []
        self.port = None
        self.log = self.dir / "baresip.log"

    def start(self):
        self.port = free_port()
        rtp = free_port(10)
        conf = self.dir / "config"
        conf.write_text("""\
poll_method		poll
sip_listen		{ip}:{port}
sip_trans_def		udp
audio_player		aufile,{d}/received.wav
audio_source		aufile,{wav}
audio_alert		aufile,{wav}
audio_srate		{srate}
audio_channels		{channels}
ausrc_format		s16
auplay_format		s16
rtp_ports		{rtp}-{rtp_end}
net_interface		{ip}
dns_server		127.0.0.1:53
module_path		{modules}
{cafile}
{certificate}
{codec_modules}
module			aufile.so
module_app		account.so
module_app		menu.so
""".format(ip=LOOPBACK, port=self.port, d=self.dir, wav=self.wav, rtp=rtp,
           rtp_end=rtp + 9, modules=BARESIP_MODULES, srate=self.srate, channels=self.channels,
           cafile="sip_cafile\t\t%s" % self.tls_ca if self.tls_ca else "",
           certificate="sip_certificate\t%s" % self._cert_and_key() if self.tls_cert else "",
           codec_modules="\n".join("module\t\t\t%s" % m for m in self.modules)))
        if self.control:
            self.ctrl_port = free_port()
            with open(conf, "a") as f:
                f.write("module_app\t\tctrl_tcp.so\nctrl_tcp_listen\t\t%s:%d\n" %
                        (LOOPBACK, self.ctrl_port))
        (self.dir / "accounts").write_text(
            "<sip:{u}@{ip}:{port}{tp}>;regint=0;answermode=auto;audio_codecs={c}{enc}{pw}\n".format(
                u=self.user, ip=LOOPBACK, port=self.port, c=",".join(self.codecs),
                tp=";transport=tls" if self.tls_ca else "",
                enc=";mediaenc=%s" % self.mediaenc if self.mediaenc else "",
                pw=";auth_pass=%s" % self.password if self.password else ""))
        (self.dir / "contacts").write_text("")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(["baresip", "-f", str(self.dir)] +
                                         (["-s"] if self.trace else []) +
                                         (["-e", "/dial %s" % self.dial] if self.dial else []),
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT,
                                         start_new_session=True)
        wait_until(lambda: self.port in _bound_ports("udp"), 10, "baresip",
                   self.proc, self.log)
        if self.control:
            wait_until(lambda: self.ctrl_port in _bound_ports("tcp"), 10,
                       "baresip's ctrl_tcp", self.proc, self.log)
            self._ctrl = socket.create_connection((LOOPBACK, self.ctrl_port), timeout=10)
            self._ctrl.settimeout(None)
            threading.Thread(target=self._read_ctrl, daemon=True).start()

    def end_process(self):
        if self._ctrl:
            self._ctrl.close()
        super().end_process()

    # ctrl_tcp speaks netstrings ("LEN:JSON,") both ways: our commands, its
    # answers ("response": true) and its events ("event": true)
    def _read_ctrl(self):
        buf = b""
        try:
            while True:
                chunk = self._ctrl.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while b":" in buf:
                    head, rest = buf.split(b":", 1)
                    n = int(head)
                    if len(rest) < n + 1:
                        break
                    msg = json.loads(rest[:n].decode("utf-8", "replace"))
                    buf = rest[n + 1:]
                    with self._cond:
                        (self.events if msg.get("event") else self._responses).append(msg)
                        self._cond.notify_all()
        except (OSError, ValueError):
            pass
        with self._cond:
            self._cond.notify_all()

    def command(self, name, params="", timeout=10):
        """One ctrl_tcp command (its menu's, e.g. "dial" with a URI, "hangup");
        returns its answer: {"ok": bool, "data": text}."""
        with self._ctrl_lock:
            token = "t%d" % len(self._responses)
            body = json.dumps({"command": name, "params": params, "token": token}).encode()
            self._ctrl.sendall(b"%d:%s," % (len(body), body))
            with self._cond:
                if not self._cond.wait_for(
                        lambda: any(r.get("token") == token for r in self._responses),
                        timeout):
                    raise PeerError("baresip: no answer to %s\n%s" % (name, self.output()))
                return next(r for r in self._responses if r.get("token") == token)

    def wait_event(self, kind, timeout=15):
        """The first ctrl_tcp event of this type (CALL_ESTABLISHED,
        CALL_CLOSED...), waiting for it."""
        with self._cond:
            if not self._cond.wait_for(
                    lambda: any(e.get("type") == kind for e in self.events), timeout):
                raise PeerError("baresip: no %s event, got %s\n%s" % (
                    kind, [e.get("type") for e in self.events], self.output()))
            return next(e for e in self.events if e.get("type") == kind)

    def _cert_and_key(self):
        """baresip 1.0 reads its certificate and key from one file."""
        both = self.dir / "cert-and-key.pem"
        both.write_text(Path(self.tls_cert[0]).read_text() +
                        Path(self.tls_cert[1]).read_text())
        os.chmod(both, 0o600)
        return both

    @property
    def uri(self):
        return "sip:%s@%s:%d" % (self.user, LOOPBACK, self.port)

    def output(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


# --------------------------------------------------------------------------
# certificates (openssl)

def _openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), check=True, stdin=subprocess.DEVNULL,
                   capture_output=True, timeout=60, cwd=cwd)


class Certs:
    """A private CA and certificates it signs, made by openssl in `dir`.

        certs = Certs(tmpdir)
        cert, key = certs.issue("server", ip="127.0.0.1")
        certs.ca                                  # the CA's PEM, to trust

    issue(): for an IP address (subjectAltName IP) or a DNS name; days=-1
    makes one that has expired; ca=False a self-signed one no CA vouches for.
    """

    def __init__(self, dir):
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        self._serial = 1
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=sip2rtmp test CA", "-keyout", str(self.ca_key),
                 "-out", str(self.ca))

    def issue(self, name, ip=None, dns=None, days=2, ca=True, client=False):
        """(certificate, key) paths for `name`.pem / `name`.key."""
        cert, key = self.dir / (name + ".pem"), self.dir / (name + ".key")
        cn = ip or dns or name
        san = ("IP:%s" % ip) if ip else ("DNS:%s" % (dns or name))
        ext = self.dir / (name + ".ext")
        ext.write_text("subjectAltName=%s\nextendedKeyUsage=%s\n" %
                       (san, "clientAuth" if client else "serverAuth"))
        if not ca:
            _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
                     "-subj", "/CN=%s" % cn, "-addext", "subjectAltName=%s" % san,
                     "-keyout", str(key), "-out", str(cert))
        else:
            csr = self.dir / (name + ".csr")
            _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % cn,
                     "-keyout", str(key), "-out", str(csr))
            self._serial += 1
            _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca),
                     "-CAkey", str(self.ca_key), "-set_serial", str(self._serial),
                     "-days", str(days), "-extfile", str(ext), "-out", str(cert))
        os.chmod(key, 0o600)
        return cert, key


# --------------------------------------------------------------------------
# kamailio

KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
# what every script here needs: transactions, stateless replies, routes,
# Max-Forwards, header edits, has_totag(), pseudo-variables, xlog()
KAMAILIO_CORE_MODULES = ("tm", "sl", "rr", "maxfwd", "textops", "siputils", "pv", "xlog")


def kamailio_config(listen, script, settings=(), modules=(), modparams=()):
    """A kamailio.cfg: log level 2 on stderr, no DNS aliases, one listen
    line per address of `listen` ("udp:127.0.0.1:5060"), the core lines of
    `settings` ("fork=no"), KAMAILIO_CORE_MODULES and `modules` loaded,
    `modparams` as (module, name, value) (an int value goes bare), then
    `script`: its routes, as kamailio reads them."""
    lines = ["#!KAMAILIO", "debug=2", "log_stderror=yes"]
    lines += list(settings)
    lines += ["listen=%s" % address for address in listen]
    lines += ["auto_aliases=no", 'mpath="%s"' % KAMAILIO_MODULES, ""]
    lines += ['loadmodule "%s.so"' % m for m in KAMAILIO_CORE_MODULES + tuple(modules)]
    lines.append("")
    lines += ['modparam("%s", "%s", %s)' % (m, name, value if isinstance(value, int)
                                             else '"%s"' % value)
              for m, name, value in modparams]
    return "\n".join(lines) + "\n\n" + script


class KamailioPeer(Peer):
    """What a kamailio peer does whatever its script: its config written to
    kamailio.cfg in its temp dir, its log (stderr) in kamailio.log, its
    timer and worker processes ended with it (a process group)."""

    name = "kamailio"
    process_group = True    # its timer processes outlive a killed main process

    def __init__(self):
        super().__init__()
        self.log = self.dir / "kamailio.log"

    def run(self, config, ready, children=False, timeout=10, extra=()):
        """Starts kamailio on `config` (`extra`: more arguments) and waits
        `timeout` s for `ready()` (its sockets bound). children: -DD, its
        SIP and TCP workers forked as the config says (a TCP listener needs
        them); otherwise -D, which would fork 8 children per socket whatever
        fork=no says."""
        conf = self.dir / "kamailio.cfg"
        conf.write_text(config)
        with open(self.log, "wb") as out:
            # -E: log to stderr; -Y: its runtime dir (the default
            # /run/kamailio need not exist)
            self.proc = subprocess.Popen(
                ["kamailio", "-f", str(conf), "-DD" if children else "-D", "-E",
                 "-Y", str(self.dir)] + list(extra) + ["-m", "32", "-M", "8"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_until(ready, timeout, "kamailio", self.proc, self.log)

    def output(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def report(self):
        """Text to append to an assertion message: what the script logged
        (S2R-...) and kamailio's errors."""
        return "\n--- kamailio ---\n%s" % "\n".join(
            line for line in self.output().splitlines()
            if "S2R-" in line or "ERROR" in line)[-4000:]


class ProxiedRequest:
    """One request kamailio received, as its script logged it."""

    def __init__(self, method, ruri, src, route):
        self.method = method
        self.ruri = ruri
        self.src = src              # "host:port" it came from
        self.route = route          # its first Route header, or None

    def __repr__(self):
        return "<%s %s from %s Route %s>" % (self.method, self.ruri, self.src, self.route)


class Kamailio(KamailioPeer):
    """kamailio as a provider's edge: a record-routing proxy on 127.0.0.1.

        with Sipp(...) as uas, Kamailio(callee=uas.host_port) as edge:
            ... sipsrc proxy=<edge.uri()> (or uri=sip:service@<edge.host_port>)
            edge.requests("BYE")     # what reached it: source, request URI, Route

    Its own config in a temp dir (kamailio.cfg), one process that handles
    SIP (fork=no; kamailio adds its timer processes), its log on stderr into
    kamailio.log. The script:
    - an initial request: preloaded Route headers removed, record_route() on
      INVITE, relayed with t_relay(): to `callee` (host:port) when its request
      URI names the proxy, as it is otherwise (an outbound proxy's traffic);
    - a request in a dialog (To tag): relayed by its Route (loose_route());
      without a Route naming the proxy it gets 404 (an ACK is dropped), so a
      request that ignores the route set does not get through;
    - every request logged (method, request URI, source, first Route), and
      every reply it relays (status, method, source).
    record_route=False forgets record_route(): a broken edge, whose dialogs'
    requests bypass it, to show that a test fails.
    """

    def __init__(self, callee, record_route=True):
        super().__init__()
        self.callee = callee
        self.record_route = record_route
        self.port = None

    def start(self):
        if not os.path.isdir(KAMAILIO_MODULES):
            raise PeerError("%s missing (apt-get install kamailio)" % KAMAILIO_MODULES)
        self.port = free_port()
        script = """request_route {{
    xlog("L_NOTICE", "S2R-REQ|$rm|$ru|$si:$sp|$hdr(Route)\\n");
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans())
                t_relay();
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans())
            t_relay();
        exit;
    }}
    remove_hf("Route");
{record_route}
    if (uri == myself)
        rewritehostport("{callee}");
    t_relay();
}}

onreply_route {{
    xlog("L_NOTICE", "S2R-REPLY|$rs|$rm|$si:$sp\\n");
}}
""".format(callee=self.callee,
           record_route='    if (is_method("INVITE"))\n        record_route();'
           if self.record_route else "    # record_route() forgotten: a broken edge")
        self.run(kamailio_config(["udp:%s:%d" % (LOOPBACK, self.port)], script,
                                 settings=["fork=no", "disable_tcp=yes",
                                           "disable_sctp=yes"]),
                 lambda: self.port in _bound_ports("udp"))

    @property
    def host_port(self):
        return "%s:%d" % (LOOPBACK, self.port)

    def uri(self):
        return "sip:%s" % self.host_port

    def _logged(self, tag):
        """The fields of each line its script logged with `tag`."""
        for line in self.output().splitlines():
            i = line.find(tag + "|")
            if i >= 0:
                yield line[i:].split("|")[1:]

    def requests(self, method=None):
        """The requests it received so far (with that method), in order."""
        got = [ProxiedRequest(f[0], f[1], f[2], None if f[3] == "<null>" else f[3])
               for f in self._logged("S2R-REQ") if len(f) >= 4]
        return [r for r in got if method is None or r.method == method]

    def replies(self, method=None):
        """(status, method, source) of the replies it relayed so far."""
        return [(int(f[0]), f[1], f[2]) for f in self._logged("S2R-REPLY")
                if len(f) >= 3 and (method is None or f[1] == method)]


class KamailioTls(KamailioPeer):
    """kamailio as a TLS front end on 127.0.0.1: TLS on `tls_port` with
    `cert`/`key`, every new call relayed over UDP to its callee,
    record-routed so that the in-dialog requests (ACK, BYE) cross it too.

    require_client_cert: the TLS server asks for our certificate and checks
    it against `client_ca` (mutual TLS). Each INVITE it takes is logged with
    the transport and what it verified (`.invites()`).
    """

    name = "kamailio-tls"

    def __init__(self, callee, cert, key, require_client_cert=False, client_ca=None):
        """callee: "host:port" every call goes to; None: the request URI's
        user is the port (sip:PORT@...) on 127.0.0.1, for several callees."""
        super().__init__()
        self.callee = callee
        self.cert = cert
        self.key = key
        self.require_client_cert = require_client_cert
        self.client_ca = client_ca
        self.tls_port = None
        self.udp_port = None

    def start(self):
        if not os.path.exists(KAMAILIO_MODULES + "/tls.so"):
            raise PeerError("kamailio's TLS module missing (apt-get install kamailio "
                            "kamailio-tls-modules)")
        self.tls_port = free_port()
        self.udp_port = free_port()
        verify = "yes" if self.require_client_cert else "no"
        (self.dir / "tls.cfg").write_text("""
[server:default]
method = TLSv1.2+
verify_certificate = {verify}
require_certificate = {verify}
certificate = {cert}
private_key = {key}
{ca}

[client:default]
verify_certificate = no
require_certificate = no
""".format(verify=verify, cert=self.cert, key=self.key,
           ca="ca_list = %s" % self.client_ca if self.client_ca else ""))
        script = """request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{
            xlog("L_NOTICE", "IN-DIALOG $rm over $pr from $si:$sp\\n");
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{ if (t_check_trans()) t_relay(); exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) t_relay(); exit; }}
    if (is_method("INVITE")) {{
        xlog("L_NOTICE", "INVITE over $pr from $si:$sp verified=$tls_peer_verified cn=$tls_peer_subject_cn\\n");
    }}
    record_route();
    $du = {du};
    t_relay();
}}
""".format(du='"sip:%s;transport=udp"' % self.callee if self.callee else
           '"sip:%s:" + $rU + ";transport=udp"' % LOOPBACK)
        config = kamailio_config(
            ["udp:%s:%d" % (LOOPBACK, self.udp_port), "tls:%s:%d" % (LOOPBACK, self.tls_port)],
            script, settings=["fork=yes", "children=1", "tcp_children=1", "enable_tls=yes"],
            modules=["tls"], modparams=[("tls", "config", "%s/tls.cfg" % self.dir)])
        self.run(config, lambda: self.tls_port in _bound_ports("tcp"), children=True,
                 timeout=15, extra=["-P", str(self.dir / "kamailio.pid")])

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        super().close()

    def uri(self, user="service"):
        """Our request URI: the callee's user at the TLS front end."""
        return "sip:%s@%s:%d;transport=tls" % (user, LOOPBACK, self.tls_port)

    def lines(self, word):
        return [l for l in self.output().splitlines() if word in l]

    def established_tls_connections(self):
        """TCP connections established to the TLS port now (our side's ends)."""
        count = 0
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                raddr, state = fields[2], fields[3]
                if state == "01" and int(raddr.split(":")[1], 16) == self.tls_port:
                    count += 1
        return count


# --------------------------------------------------------------------------
# gst-launch-1.0

def build_dir():
    return Path(os.environ.get("SIP2RTMP_BUILD_DIR", REPO_ROOT / "build"))


def gst_env(env=None):
    e = dict(os.environ)
    if "GST_PLUGIN_PATH" not in e:
        e["GST_PLUGIN_PATH"] = str(build_dir() / "plugins")
    e.setdefault("GST_DEBUG_NO_COLOR", "1")
    e.update(env or {})
    return e


_FIELD = re.compile(r'([A-Za-z][\w-]*)=\((\w+)\)("(?:[^"\\]|\\.)*"|[^,;]*)')


def parse_structure_fields(text):
    """Fields of a GstStructure string (as printed by gst-launch -m)."""
    out = {}
    for name, typ, val in _FIELD.findall(text):
        # GstStructure escapes with a backslash: digit=(string)"\\#" is "#"
        if val.startswith('"'):
            val = val[1:-1]
        val = re.sub(r"\\(.)", r"\1", val)
        if typ in ("int", "uint", "gint", "guint", "int64", "uint64", "gint64", "guint64"):
            try:
                val = int(val)
            except ValueError:
                pass
        out.setdefault(name, val)
    return out


class GstResult:
    """What gst-launch-1.0 -m printed, with helpers to read the messages."""

    def __init__(self, returncode, stdout, stderr, elapsed):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    @property
    def text(self):
        return self.stdout + "\n" + self.stderr

    def element_messages(self, name):
        """Structures of element messages named `name`, in bus order."""
        out = []
        for line in self.stdout.splitlines():
            m = re.search(r'Got message #\d+ from element "[^"]*" \(element\): '
                          r'%s, (.*)$' % re.escape(name), line)
            if m:
                out.append(parse_structure_fields(m.group(1)))
        return out

    def sip_call_states(self):
        return [m.get("state") for m in self.element_messages("sip-call")]

    def errors(self):
        """One dict per error message: 'text' plus fields of its sip-error details."""
        out = []
        lines = self.text.splitlines()
        for line in lines:
            if re.search(r"\(error\): ", line) or line.startswith("ERROR: from element"):
                unescaped = line.replace("\\", "")
                d = parse_structure_fields(unescaped[unescaped.find("sip-error"):]) \
                    if "sip-error" in unescaped else {}
                d["text"] = line
                out.append(d)
        return out

    def error_statuses(self):
        return [e["sip-status"] for e in self.errors() if "sip-status" in e]

    def got_eos(self):
        return "Got EOS from element" in self.stdout

    def __str__(self):
        return "gst-launch exit %s after %.1f s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            self.returncode, self.elapsed, self.stdout[-6000:], self.stderr[-3000:])


def _gst_cmd(args, eos_on_shutdown):
    if isinstance(args, str):
        import shlex
        args = shlex.split(args)
    return ["gst-launch-1.0", "-m"] + (["-e"] if eos_on_shutdown else []) + list(args)


def gst_launch(args, env=None, timeout=30, eos_on_shutdown=False, wrapper=()):
    """Run a gst-launch-1.0 -m pipeline to its end (or kill it at `timeout`).

    wrapper: a command prefix, e.g. ['unshare', '-n'].
    """
    t0 = time.monotonic()
    try:
        r = subprocess.run(list(wrapper) + _gst_cmd(args, eos_on_shutdown), env=gst_env(env),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, errors="replace")
        return GstResult(r.returncode, r.stdout, r.stderr, time.monotonic() - t0)
    except subprocess.TimeoutExpired as e:
        def s(v):
            return v.decode("utf-8", "replace") if isinstance(v, bytes) else (v or "")
        return GstResult(None, s(e.stdout), s(e.stderr) + "\n[killed: timeout %s s]" % timeout,
                         time.monotonic() - t0)


class GstLaunch:
    """gst-launch-1.0 -m running in the background, for tests that act mid-call.

    with GstLaunch(args, eos_on_shutdown=True) as g:
        g.wait_for(r"state=\\(string\\)established", 10)
        g.interrupt()            # SIGINT: with -e, EOS then a clean stop
        result = g.wait(10)
    """

    def __init__(self, args, env=None, eos_on_shutdown=True):
        self.cmd = _gst_cmd(args, eos_on_shutdown)
        self.env = gst_env(env)
        self.proc = None
        self._out = []
        self._err = []
        self._cond = threading.Condition()
        self._t0 = None
        self.result = None
        # a subclass that commands its process sets subprocess.PIPE
        self.stdin = subprocess.DEVNULL

    def __enter__(self):
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdin=self.stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, errors="replace", bufsize=1,
                                     start_new_session=True)
        self._threads = [threading.Thread(target=self._pump, args=(s, buf), daemon=True)
                         for s, buf in ((self.proc.stdout, self._out),
                                        (self.proc.stderr, self._err))]
        for t in self._threads:
            t.start()
        return self

    def _pump(self, stream, buf):
        for line in stream:
            with self._cond:
                buf.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def output(self):
        with self._cond:
            return "".join(self._out)

    def wait_for(self, pattern, timeout):
        """Block until stdout matches `pattern` (regex); False if the process ended or timed out."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if rx.search("".join(self._out)):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not any(t.is_alive() for t in self._threads)):
                    return False
                self._cond.wait(min(left, 0.2))

    def interrupt(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout=15):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        for t in self._threads:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        err = "".join(self._err) + ("" if rc is not None else
                                    "\n[killed: no exit within %s s]" % timeout)
        self.result = GstResult(rc, "".join(self._out), err, time.monotonic() - self._t0)
        return self.result

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        if self.result is None:
            self.wait(5)
        return False


def sipsrc_available(env=None):
    r = subprocess.run(["gst-inspect-1.0", "sipsrc"], env=gst_env(env),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30)
    return r.returncode == 0

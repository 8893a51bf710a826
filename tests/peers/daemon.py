"""sip2rtmpd driven over real HTTP, for the daemon's integration tests.

Python 3 standard library only.  `Daemon` starts the real binary on a free
127.0.0.1 port with a config file of the test's choosing and returns once it
printed its "listening" line; `EventStream` follows `GET /api/v1/events`;
`WebhookReceiver` is a real HTTP server recording what the daemon POSTs.
Tests wait on events (SSE, webhooks, process exit), never on sleeps.
"""

import contextlib
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
from peers import (Sipp, NginxRtmp, free_port, pull_rtmp,  # noqa: E402,F401
                   dominant_frequency, wait_until, LOOPBACK, PeerError)


def daemon_binary():
    path = os.environ.get("SIP2RTMPD")
    if path:
        return path
    return str(peers.build_dir() / "controller" / "sip2rtmpd")


def daemon_env():
    e = dict(os.environ)
    e.setdefault("GST_PLUGIN_PATH", str(peers.build_dir() / "plugins" / "sip2rtmp"))
    return e


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.text = body.decode("utf-8", "replace")
        self.headers = headers
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.text[:500])


class Daemon(peers.Peer):
    """sip2rtmpd on 127.0.0.1:<free port>.  `config` is the key file text;
    `env`, variables of its environment over the usual ones."""

    name = "daemon"

    def __init__(self, config="", token=None, listen=None, args=(), env=None):
        super().__init__()
        self.env = dict(env or {})
        self.config_path = self.dir / "sip2rtmpd.conf"
        # Admission control measures the machine, which the tests' own peers
        # (SIPp, nginx, ffmpeg) keep busy: only the tests of admission turn
        # it on (test_daemon_admission.py), no other call is refused for it
        if "[admission]" not in config:
            config += "\n[admission]\nenabled=false\n"
        self.config_path.write_text(config)
        self.token = token
        self.port = free_port()
        self.listen = listen or "%s:%d" % (LOOPBACK, self.port)
        self.args = list(args)
        self.lines = []
        self._cond = threading.Condition()
        self._pump_thread = None
        self.returncode = None

    def start(self):
        self.proc = subprocess.Popen(
            [daemon_binary(), "--listen", self.listen,
             "--config", str(self.config_path)] + self.args,
            env=dict(daemon_env(), **self.env), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.wait_log("listening on", 10)

    def _pump(self):
        try:
            for raw in self.proc.stderr:
                with self._cond:
                    self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    self._cond.notify_all()
        except ValueError:
            pass  # closed by close()
        with self._cond:
            self._cond.notify_all()

    def _read_to_the_end(self):
        """Once the process has exited, every line it wrote: the pump
        thread reads to the pipe's end (the lines written just before the
        exit may not be read yet when the exit is seen)."""
        if self.proc is not None and self.proc.poll() is not None:
            self._pump_thread.join(5)

    def log(self):
        self._read_to_the_end()
        with self._cond:
            return "\n".join(self.lines)

    def wait_log(self, text, timeout, after=0):
        """Wait for a log line holding `text`, among the lines from the
        `after`-th on (a count of lines seen before)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(text in l for l in self.lines[after:]):
                left = deadline - time.monotonic()
                # exited and its last lines read (the pump ends at the
                # pipe's end, and says so), as GstLaunch.wait_for
                if left <= 0 or (self.proc.poll() is not None and
                                 not self._pump_thread.is_alive()):
                    raise PeerError("sip2rtmpd: no '%s' in its log:\n%s" %
                                    (text, "\n".join(self.lines[-40:])))
                self._cond.wait(min(left, 0.2))

    def end_process(self):
        """SIGKILL: a test that wants the daemon's own shutdown asks for it
        (terminate())"""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.proc.stderr.close()

    def url(self, path):
        return "http://%s:%d%s" % (LOOPBACK, self.port, path)

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=10):
        """Any request; returns a Response whatever its status."""
        data = None
        h = {}
        if body is not None:
            data = body if isinstance(body, bytes) else (
                body.encode() if isinstance(body, str) else json.dumps(body).encode())
            h["Content-Type"] = "application/json"
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = "Bearer " + tok
        h.update(headers or {})
        req = urllib.request.Request(self.url(path), data=data, headers=h,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, r.read(), r.headers)
        except urllib.error.HTTPError as e:
            return Response(e.code, e.read(), e.headers)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def events(self):
        return EventStream(self.url("/api/v1/events"), self.token)

    def terminate(self, timeout=30):
        """SIGTERM; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        self.returncode = self.proc.wait(timeout)
        return self.returncode


class EventStream:
    """The daemon's Server-Sent Events, parsed, in a thread."""

    def __init__(self, url, token=None):
        self.url = url
        self.token = token
        self.events = []        # dicts: the JSON data plus "_id", "_event"
        self.by_call = {}       # callId: its events, for long runs
        self.comments = []
        self._cond = threading.Condition()
        self._resp = None
        self.status = None
        self.headers = None

    def __enter__(self):
        h = {"Accept": "text/event-stream"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url, headers=h)
        self._resp = urllib.request.urlopen(req, timeout=120)
        self.status = self._resp.status
        self.headers = self._resp.headers
        threading.Thread(target=self._read, daemon=True).start()
        # the daemon greets at once: subscribed before the test goes on
        self.wait_comment("subscribed", 5)
        return self

    def __exit__(self, *exc):
        # the reader thread holds the response's lock while it waits for the
        # next event: end the connection under it rather than close() it
        try:
            self._resp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass
        try:
            self._resp.close()
        except Exception:
            pass
        return False

    def _read(self):
        fields = {}
        try:
            for raw in self._resp:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if "data" in fields:
                        ev = json.loads(fields["data"])
                        ev["_id"] = fields.get("id")
                        ev["_event"] = fields.get("event")
                        with self._cond:
                            self.events.append(ev)
                            self.by_call.setdefault(ev.get("callId"), []).append(ev)
                            self._cond.notify_all()
                    fields = {}
                elif line.startswith(":"):
                    with self._cond:
                        self.comments.append(line[1:].strip())
                        self._cond.notify_all()
                else:
                    k, _, v = line.partition(":")
                    fields[k] = v[1:] if v.startswith(" ") else v
        except Exception:
            pass
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_comment(self, text, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while text not in self.comments:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("SSE: no ': %s' within %s s" % (text, timeout))
                self._cond.wait(left)

    def wait(self, predicate, timeout=20, what="event"):
        """The first event matching `predicate`."""
        ev = peers.wait_for_item(self._cond, self.events, predicate, timeout)
        if ev is None:
            with self._cond:
                got = [(e.get("callId"), e.get("status"), e.get("rtmpStreamStatus"))
                       for e in self.events]
            raise AssertionError("SSE: no %s within %s s; got %s" % (what, timeout, got))
        return ev

    def wait_call(self, call_id, status=None, stream=None, timeout=20):
        def match(ev):
            return (ev.get("callId") == call_id and
                    (status is None or ev.get("status") == status) and
                    (stream is None or ev.get("rtmpStreamStatus") == stream))
        return self.wait(match, timeout, "%s status=%s stream=%s" %
                         (call_id, status, stream))

    def wait_call_event(self, call_id, match, timeout, what):
        """The first event of that call matching `match`; looks at that
        call's events only (thousands of calls in one stream)."""
        with self._cond:
            events = self.by_call.setdefault(call_id, [])
        ev = peers.wait_for_item(self._cond, events, match, timeout)
        if ev is None:
            with self._cond:
                got = [(e.get("status"), e.get("rtmpStreamStatus")) for e in events]
            raise AssertionError("SSE: no %s of %s within %s s; got %s" %
                                 (what, call_id, timeout, got))
        return ev

    def of_call(self, call_id):
        with self._cond:
            return [e for e in self.events if e.get("callId") == call_id]


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 recording each POST (path, headers, JSON).

    `fail_first`: answer that many requests with 500 first; `delay`: seconds
    to sit on each request before answering; `answer`: json -> (HTTP status,
    JSON body) for a webhook whose answer counts (the routing webhook).
    """

    def __init__(self, fail_first=0, delay=0.0, answer=None):
        self.fail_first = fail_first
        self.delay = delay
        self.answer = answer
        self.arrived = []       # (headers, json) of every request, on arrival
        self.received = []      # (path, headers, json) of answered-200 requests
        self.attempts = 0
        self._cond = threading.Condition()
        self.server = None

    def __enter__(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer._cond:
                    outer.arrived.append((dict(self.headers), json.loads(body)))
                    outer._cond.notify_all()
                if outer.delay:
                    time.sleep(outer.delay)
                with outer._cond:
                    outer.attempts += 1
                    fail = outer.attempts <= outer.fail_first
                    if not fail:
                        outer.received.append((self.path, dict(self.headers),
                                               json.loads(body)))
                    outer._cond.notify_all()
                status, reply = (500, None) if fail else (
                    outer.answer(json.loads(body)) if outer.answer else (200, None))
                data = json.dumps(reply).encode() if reply is not None else b""
                try:
                    self.send_response(status)
                    if data:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass        # the client gave up on it (its timeout)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False

    @property
    def url(self):
        return "http://%s:%d/hooks/call" % (LOOPBACK, self.server.server_address[1])

    def events(self):
        with self._cond:
            return [j for (_, _, j) in self.received]

    def wait_arrived(self, timeout=15):
        """The first request's (headers, json), as soon as it arrived."""
        got = peers.wait_for_item(self._cond, self.arrived, lambda _: True, timeout)
        if got is None:
            raise AssertionError("webhook: no request within %s s" % timeout)
        return got

    def wait(self, predicate, timeout=20, what="webhook"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for (_, _, j) in self.received:
                    if predicate(j):
                        return j
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("webhook: no %s within %s s; got %s" % (
                        what, timeout, [(j.get("sequence"), j.get("status"),
                                         j.get("rtmpStreamStatus"))
                                        for (_, _, j) in self.received]))
                self._cond.wait(left)


def assert_tone_on(tc, nginx, stream, hz, wav, app="live"):
    """3 s of nginx's `stream`, pulled into `wav`, carry a tone of `hz` (3%)."""
    r = pull_rtmp(nginx.url(app, stream), 3, wav)
    tc.assertEqual(r.returncode, 0, r.stderr[-2000:])
    got = dominant_frequency(str(wav))
    tc.assertIsNotNone(got, "silence on %s" % stream)
    tc.assertAlmostEqual(got, hz, delta=hz * 0.03,
                         msg="%s: %.0f Hz, expected %d Hz" % (stream, got, hz))


def call_body(sipp, nginx, stream, **extra):
    """A native request calling a SIPp UAS and publishing to nginx-rtmp."""
    body = {"callee": sipp.uri(), "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
            "rtmpStream": stream}
    body.update(extra)
    return body


class CallCycles:
    """Calls from request to end, `at_once` at a time, of several kinds:

    hangup           answered, published, hung up through the API
    remote_bye       answered; the callee hangs up (BYE)
    busy             486 Busy Here
    cancel           ringing, hung up through the API (CANCEL)
    rtmp_refused     answered; nothing listens at the RTMP port (retry budget
                     0): FAILED, BYE
    sip_unreachable  nothing at the SIP port: FAILED 408 after the daemon's
                     [sip] answer-timeout

    One SIPp UAS per scenario answers `counts[kind]` calls (sizes its -m),
    so that wait_callees() is 0 only if each call ended as its scenario
    says. Used by the long-run test and `bench/run.sh --soak`.
    """

    KINDS = ("hangup", "remote_bye", "busy", "cancel", "rtmp_refused",
             "sip_unreachable")
    # (kind, share of the cycles)
    MIX = (("hangup", 0.60), ("remote_bye", 0.10), ("busy", 0.10),
           ("cancel", 0.10), ("rtmp_refused", 0.05), ("sip_unreachable", 0.05))
    EXPECTED = {"hangup": ("FINISH", None), "remote_bye": ("FINISH", None),
                "cancel": ("FINISH", None), "busy": ("BUSY", 486),
                "rtmp_refused": ("FAILED", None),
                "sip_unreachable": ("FAILED", 408)}
    SCENARIOS = (("hangup", "answer_pcmu_wait_bye.xml", {}),
                 ("remote_bye", "answer_pcmu_bye.xml", {"duration_ms": 300}),
                 ("busy", "busy_486.xml", {}),
                 ("cancel", "no_answer_cancel.xml", {}))

    @classmethod
    def plan(cls, n, rng):
        """n kinds of cycle in MIX's proportions, shuffled by rng."""
        kinds = []
        for kind, share in cls.MIX:
            kinds += [kind] * int(round(n * share))
        kinds = (kinds + ["hangup"] * n)[:n]
        rng.shuffle(kinds)
        return kinds

    def __init__(self, daemon, events, nginx, kinds, at_once=8, sipp_timeout=600,
                 sipp_args=()):
        """kinds: every cycle this object will run (sizes the callees)."""
        self.d, self.ev, self.nginx = daemon, events, nginx
        self.at_once = at_once
        self.callees = {}
        self.sipp_timeout = sipp_timeout
        self.sipp_args = list(sipp_args)
        self.counts = {k: kinds.count(k) for k in self.KINDS}
        self.unreachable_port = free_port()
        self.no_rtmp_port = free_port()
        self.done = 0
        self._lock = threading.Lock()

    def __enter__(self):
        with contextlib.ExitStack() as stack:
            for kind, scenario, extra in self.SCENARIOS:
                n = self.counts[kind]
                if kind == "hangup":
                    n += self.counts["rtmp_refused"]
                if n:
                    self.callees[kind] = stack.enter_context(Sipp(
                        scenario, calls=n, timeout=self.sipp_timeout,
                        extra_args=self.sipp_args, **extra))
            self._callees_stack = stack.pop_all()
        return self

    def __exit__(self, *exc):
        return self._callees_stack.__exit__(*exc)

    def request(self, i, kind):
        cid = "cycle-%d" % i
        body = {"callId": cid, "rtmpStream": cid,
                "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, self.nginx.port)}
        if kind == "sip_unreachable":
            body["callee"] = "sip:nobody@%s:%d" % (LOOPBACK, self.unreachable_port)
        elif kind == "rtmp_refused":
            body["callee"] = self.callees["hangup"].uri("c%d" % i)
            body["rtmpUrl"] = "rtmp://%s:%d/live" % (LOOPBACK, self.no_rtmp_port)
            body["rtmpRetryBudget"] = 0
        else:
            body["callee"] = self.callees[kind].uri("c%d" % i)
        return cid, body

    def cycle(self, i, kind):
        """One call of that kind, from the request to its last event; raises
        AssertionError when it does not end as a user would expect."""
        cid, body = self.request(i, kind)
        r = self.d.post("/api/v1/calls", body)
        if r.status != 201:
            raise AssertionError("%s (%s): POST answered %r" % (cid, kind, r))

        def until(match, what):
            return self.ev.wait_call_event(cid, match, 40, what)
        if kind == "hangup":
            until(lambda e: e.get("status") == "ESTABLISHED" and
                  e.get("rtmpStreamStatus") == "PUBLISHING", "publishing")
        elif kind == "cancel":
            until(lambda e: e.get("status") == "RING", "ringing")
        if kind in ("hangup", "cancel"):
            r = self.d.delete("/api/v1/calls/%s" % cid)
            if r.status not in (200, 202):
                raise AssertionError("%s: DELETE answered %r" % (cid, r))
        end = until(lambda e: e.get("ended"), "end")
        status, sip_status = self.EXPECTED[kind]
        if end["status"] != status or (sip_status and end["sipStatus"] != sip_status) \
                or (kind == "rtmp_refused" and not end["reason"].startswith("RTMP:")):
            raise AssertionError("%s (%s) ended %s, sipStatus %s, reason %r" % (
                cid, kind, end["status"], end["sipStatus"], end["reason"]))

    def run(self, kinds, first=0, progress=None):
        """Runs the cycles numbered first, first+1... `at_once` at a time;
        progress(done) after each. Raises AssertionError with the first
        failures (the others stop at their next cycle)."""
        todo = list(enumerate(kinds, first))
        todo.reverse()
        failures = []

        def worker():
            while True:
                with self._lock:
                    if failures or not todo:
                        return
                    i, kind = todo.pop()
                try:
                    self.cycle(i, kind)
                except Exception as e:
                    with self._lock:
                        failures.append("cycle %d (%s): %s" % (i, kind, e))
                    return
                with self._lock:
                    self.done += 1
                    done = self.done
                if progress:
                    progress(done)
        threads = [threading.Thread(target=worker, daemon=True)
                   for _ in range(self.at_once)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise AssertionError("; ".join(failures))

    def wait_all_forgotten(self, timeout=40):
        """Every call ended, its pipeline down and the call dropped from the
        list (the daemon's keep-finished must be short)."""
        wait_until(lambda: self.d.get("/api/v1/calls").json == [], timeout,
                   "every call forgotten", self.d.proc)
        time.sleep(0.5)     # the pool thread drops its ref right after stopping

    def wait_callees(self, timeout=30):
        """{kind: sipp's exit code}: 0 when every call of it followed its
        scenario to the end."""
        return {k: c.wait(timeout) for k, c in self.callees.items()}

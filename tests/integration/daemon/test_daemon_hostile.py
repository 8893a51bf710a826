"""Hostile HTTP input: every route answers a clear 4xx naming the problem,
at once, and the daemon goes on as before: no crash, no hang, no fd or
memory left behind.

The real daemon over real HTTP on 127.0.0.1; raw sockets where a client
library would not send what an attacker sends (a huge Content-Length and no
body, half a request, a connection left idle).
"""

import http.client
import json
import os
import socket
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import Daemon, LOOPBACK  # noqa: E402

GOOD = {"callee": "sip:service@127.0.0.1:9", "rtmpUrl": "rtmp://127.0.0.1:9/live",
        "rtmpStream": "s"}
# the three dialects that create a call
CALL_ROUTES = ("/api/v1/calls", "/RESTCall/call", "/rest-api/call/startup")
# a body of 100000 nested arrays killed the daemon (json-glib's recursion)
DEEP = b"[" * 100000 + b"]" * 100000


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def parse_answer(raw):
    """(status, headers dict with lower-case names, JSON body or None)"""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    try:
        body = json.loads(body) if body else None
    except ValueError:
        body = None
    return status, headers, body


def read_answer(sock, timeout):
    """Everything the daemon sends until it closes or `timeout` s pass."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            status, headers, body = parse_answer(data)
            length = headers.get("content-length")
            if length is not None and b"\r\n\r\n" in data and \
                    len(data.partition(b"\r\n\r\n")[2]) >= int(length):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    return data


class DaemonHostileTest(unittest.TestCase):

    def connect(self, d):
        s = socket.create_connection((LOOPBACK, d.port), timeout=5)
        self.addCleanup(s.close)
        return s

    def assertError(self, r, status, field, message_part=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json["status"], status, r)
        self.assertEqual(r.json["field"], field, r)
        self.assertTrue(r.json["message"], r)
        if message_part:
            self.assertIn(message_part, r.json["message"], r)

    def assertRawError(self, raw, status, message_part):
        code, headers, body = parse_answer(raw)
        self.assertEqual(code, status, raw[:400])
        self.assertEqual(headers.get("content-type"), "application/json", raw[:400])
        self.assertEqual(body["status"], status, raw[:400])
        self.assertIsNone(body["field"], raw[:400])
        self.assertIn(message_part, body["message"], raw[:400])
        return headers

    def assertAlive(self, d):
        self.assertIsNone(d.proc.poll(), d.log())
        self.assertEqual(d.get("/api/v1/calls").status, 200)

    def wait_fds(self, d, bound, timeout=5):
        deadline = time.monotonic() + timeout
        while fd_count(d.proc.pid) > bound and time.monotonic() < deadline:
            time.sleep(0.05)
        return fd_count(d.proc.pid)

    def test_deeply_nested_json_is_400_on_every_route(self):
        with Daemon("[server]\nmax-body=262144\n") as d:
            for path in CALL_ROUTES + ("/rest-api/call/terminate",
                                       "/rest-api/call/find"):
                with self.subTest(path=path):
                    self.assertError(d.post(path, DEEP), 400, None,
                                     "nested deeper than 32")
                    self.assertAlive(d)
            # brackets inside strings are no nesting: the request is read
            self.assertError(d.post("/api/v1/calls", dict(GOOD, callee="[" * 5000)),
                             400, "callee")

    def test_a_body_declared_over_max_body_is_413_before_it_is_sent(self):
        with Daemon("[server]\nmax-body=4096\n") as d:
            for path in CALL_ROUTES:
                with self.subTest(path=path):
                    s = self.connect(d)
                    start = time.monotonic()
                    # the headers alone: the body is never sent
                    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              b"application/json\r\nContent-Length: 16000000\r\n"
                              b"\r\n" % path.encode())
                    headers = self.assertRawError(read_answer(s, 5), 413,
                                                  "larger than 4096 bytes")
                    self.assertLess(time.monotonic() - start, 1.0)
                    self.assertEqual(headers.get("connection"), "close")
                    # the daemon does not read the 16 MB: sending it fails
                    with self.assertRaises(OSError):
                        s.settimeout(5)
                        s.sendall(b" " * 16000000)
            # chunked: refused as soon as it is over the limit, not at its end
            s = self.connect(d)
            s.sendall(b"POST /api/v1/calls HTTP/1.1\r\nHost: x\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n" +
                      b"1000\r\n" + b" " * 4096 + b"\r\n" + b"10\r\n" + b" " * 16)
            self.assertRawError(read_answer(s, 5), 413, "larger than 4096 bytes")
            self.assertAlive(d)

    def test_connections_closed_by_the_client_leave_no_fd_or_memory(self):
        with Daemon() as d:
            def gets(n):
                for _ in range(n):
                    # HTTP/1.1 keep-alive, closed by the client after the answer
                    c = http.client.HTTPConnection(LOOPBACK, d.port, timeout=5)
                    c.request("GET", "/api/v1/calls")
                    r = c.getresponse()
                    self.assertEqual(r.status, 200)
                    r.read()
                    c.close()
            gets(200)           # warm-up: libsoup's and GLib's one-time allocations
            fds, rss = self.wait_fds(d, 0, 0), rss_kb(d.proc.pid)
            gets(2000)
            after = self.wait_fds(d, fds + 10)
            self.assertLessEqual(after, fds + 10,
                                 "fds: %d before 2000 connections, %d after" % (fds, after))
            # libsoup 3.2 kept ~340 bytes of each (3.6 MB for 2000)
            # under ASan (the asan suite) freed memory waits in its quarantine:
            # RSS says nothing there, fds still do
            if "ASAN_OPTIONS" not in os.environ:
                self.assertLess(rss_kb(d.proc.pid) - rss, 512,
                                "RSS: %d kB before, %d kB after" % (rss, rss_kb(d.proc.pid)))
            self.assertAlive(d)

    def test_slow_and_partial_requests_time_out_with_408(self):
        with Daemon("[server]\nrequest-timeout=1\nidle-timeout=1\n") as d:
            fds = fd_count(d.proc.pid)
            sockets = []
            for i in range(300):
                s = self.connect(d)
                if i % 3 == 1:      # half the headers
                    s.sendall(b"POST /api/v1/calls HTTP/1.1\r\nHost: x\r\nConte")
                elif i % 3 == 2:    # the headers and half the body
                    s.sendall(b"POST /RESTCall/call HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 100\r\n\r\n{\"callee\":")
                sockets.append(s)   # i % 3 == 0: nothing at all
            start = time.monotonic()
            for s in sockets:
                self.assertRawError(read_answer(s, 5), 408, "within 1 s")
                s.close()
            self.assertLess(time.monotonic() - start, 3.0)
            after = self.wait_fds(d, fds + 10)
            self.assertLessEqual(after, fds + 10, "fds: %d before, %d after" % (fds, after))

            # a keep-alive connection left idle is closed, without an answer
            s = self.connect(d)
            s.sendall(b"GET /api/v1/calls HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(parse_answer(read_answer(s, 5))[0], 200)
            start = time.monotonic()
            self.assertEqual(read_answer(s, 5), b"")
            self.assertLess(time.monotonic() - start, 3.0)
            self.assertAlive(d)

    def test_malformed_mistyped_and_nul_laden_bodies_are_400_naming_the_field(self):
        cases = [
            (dict(GOOD, callee={"sip": "a"}), "callee", "must be a string"),
            (dict(GOOD, hasAudio=1), "hasAudio", "true or false"),
            (dict(GOOD, maxDuration="1e9"), "maxDuration", "seconds"),
            (dict(GOOD, rtmpUrls="rtmp://h/a/s"), "rtmpUrls", "array"),
            (dict(GOOD, destinations=[[[]]]), "destinations[0]", "RTMP URL"),
            (dict(GOOD, rtmpStream="a\r\nb"), "rtmpStream", "control characters"),
            (dict(GOOD, rtmpStream="../other"), "rtmpStream", "stream name"),
            (dict(GOOD, rtmpStream="live2/s"), "rtmpStream", "stream name"),
            (dict(GOOD, rtmpStream=".."), "rtmpStream", "stream name"),
            (dict(GOOD, callId=".."), "callId", "1-128"),
            (dict(GOOD, callId="a b"), "callId", "1-128"),
            (dict(GOOD, callId="a/b"), "callId", "1-128"),
            (dict(GOOD, record="../etc.mkv"), "record", None),
            (dict(GOOD, visibleName="x\u0007"), "visibleName", "control characters"),
            (dict(GOOD, sipPort="5060 "), "sipPort", "port"),
        ]
        raw = [
            (b'{"callee":"sip:a@b\\u0000x","rtmpUrl":"rtmp://h/a","rtmpStream":"s"}',
             "\\u0000"),
            (b'{"callee":"sip:a@b\\ud800","rtmpUrl":"rtmp://h/a","rtmpStream":"s"}',
             "unpaired surrogate"),
            (b'{"callee":"sip:a@b\xff\xfe","rtmpUrl":"rtmp://h/a","rtmpStream":"s"}',
             "invalid JSON"),
            (b'{"callee":"sip:a@b\x00","rtmpUrl":"rtmp://h/a","rtmpStream":"s"}',
             "invalid JSON"),
            # json-glib alone would read the octal escape as the byte 0x80
            (b'{"callee":"sip:a@b","callId":"\\200","rtmpUrl":"rtmp://h/a","rtmpStream":"s"}',
             "escape \\2"),
            (b'"sip:a@b"', "JSON object"),
            (b'null', "JSON object"),
            (b'{"callee":', "invalid JSON"),
        ]
        with Daemon() as d:
            for path in CALL_ROUTES:
                for body, field, part in cases:
                    with self.subTest(path=path, field=field, body=body):
                        self.assertError(d.post(path, body), 400, field, part)
                for body, part in raw:
                    with self.subTest(path=path, body=body):
                        self.assertError(d.post(path, body), 400, None, part)
            self.assertError(d.post("/rest-api/call/find", {"callee": ["a"]}), 400,
                             "callee", "must be a string")
            self.assertEqual(d.get("/api/v1/calls").json, [])
            self.assertAlive(d)

    def test_a_callee_without_a_valid_host_name_or_address_is_400(self):
        bad = ["sip:..:5060", "sips:bob@..", "sip:bob@-pbx.example", "bob@a..b",
               "..", "1.2.3.999", "sip:bob@1.2.3.4.5"]
        with Daemon() as d:
            for callee in bad:
                for path in CALL_ROUTES:
                    with self.subTest(path=path, callee=callee):
                        self.assertError(d.post(path, dict(GOOD, callee=callee)),
                                         400, "callee", "host")
            # a bare number is called at sipDomain (WCS 4: in "connection")
            for domain in ("..", "pbx..example", "-pbx.example"):
                with self.subTest(sipDomain=domain):
                    self.assertError(d.post("/RESTCall/call", dict(
                        GOOD, callee="1000", connection={"sipDomain": domain})),
                        400, "sipDomain", "host")
                    self.assertError(d.post("/api/v1/calls", dict(
                        GOOD, callee="1000", sipDomain=domain)), 400, "sipDomain")
            self.assertError(d.post("/rest-api/call/startup", dict(
                GOOD, sipOutboundProxy="sip:..:5060")), 400, "sipOutboundProxy")
            self.assertEqual(d.get("/api/v1/calls").json, [])

    def test_ids_with_crlf_slashes_spaces_or_dots_in_paths_are_refused(self):
        with Daemon() as d:
            for path in ("/api/v1/calls/a%0D%0Ab", "/api/v1/calls/a%20b",
                         "/api/v1/calls/a%0Ab/destinations"):
                with self.subTest(path=path):
                    self.assertError(d.get(path), 400, "callId", "1-128")
                    self.assertError(d.delete(path.split("/destinations")[0]), 400,
                                     "callId", "1-128")
            # libsoup refuses these itself; the answer is still the API's JSON
            for path in ("/api/v1/calls/a%00b", "/rest-api/call/%00"):
                with self.subTest(path=path):
                    self.assertError(d.get(path), 400, None, "path")
            self.assertError(d.post("/rest-api/call/terminate", {"callId": "a\r\nb"}),
                             400, "callId", "1-128")
            self.assertNotIn("a\r\nb", d.log())
            self.assertAlive(d)


if __name__ == "__main__":
    unittest.main()

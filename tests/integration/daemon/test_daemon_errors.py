"""Every error sip2rtmpd answers: status code, and a JSON body naming the field.

Also the security defaults: the token, loopback-only without one, and
passwords never shown.
"""

import json
import shutil
import subprocess
import tempfile
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, WebhookReceiver, call_body,  # noqa: E402
                    daemon_binary, daemon_env, free_port, wait_until, LOOPBACK)

GOOD = {"callee": "sip:service@127.0.0.1:9", "rtmpUrl": "rtmp://127.0.0.1:9/live",
        "rtmpStream": "s"}


class DaemonErrorsTest(unittest.TestCase):

    def assertError(self, r, status, field):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get_content_type(), "application/json")
        self.assertEqual(r.json["status"], status)
        self.assertEqual(r.json["field"], field, r)
        self.assertTrue(r.json["message"])

    def test_bad_json_is_400(self):
        with Daemon() as d:
            self.assertError(d.post("/api/v1/calls", "{not json"), 400, None)
            self.assertError(d.post("/RESTCall/call", "[1, 2]"), 400, None)
            self.assertError(d.post("/rest-api/call/startup", ""), 400, None)

    def test_missing_or_malformed_fields_are_400_naming_the_field(self):
        cases = [
            ({"rtmpUrl": GOOD["rtmpUrl"], "rtmpStream": "s"}, "callee"),
            (dict(GOOD, callee="bob smith"), "callee"),
            (dict(GOOD, rtmpUrl="http://127.0.0.1/live"), "rtmpUrl"),
            (dict(GOOD, rtmpStream=""), "rtmpStream"),
            (dict(GOOD, callee=LOOPBACK, sipPort="5o60"), "sipPort"),
            (dict(GOOD, callee=LOOPBACK, connection={"sipPort": 0}),
             "connection.sipPort"),
            (dict(GOOD, hasVideo="maybe"), "hasVideo"),
        ]
        with Daemon() as d:
            for body, field in cases:
                with self.subTest(field=field, body=body):
                    self.assertError(d.post("/api/v1/calls", body), 400, field)
            # the WCS routes answer the same
            self.assertError(d.post("/RESTCall/call", cases[2][0]), 400, "rtmpUrl")
            self.assertError(d.post("/rest-api/call/startup", cases[0][0]), 400,
                             "callee")
            self.assertError(d.post("/rest-api/call/terminate", {}), 400, "callId")
            self.assertError(d.post("/rest-api/call/find", {"status": "SLEEPING"}),
                             400, "status")

    def test_unknown_call_is_404(self):
        with Daemon() as d:
            self.assertError(d.get("/api/v1/calls/nope"), 404, "callId")
            self.assertError(d.delete("/api/v1/calls/nope"), 404, "callId")
            self.assertError(d.post("/rest-api/call/terminate", {"callId": "nope"}),
                             404, "callId")
            self.assertError(d.get("/no/such/thing"), 404, None)

    def test_a_wrong_method_is_405_before_the_call_is_looked_up(self):
        # the method is the route's to check: an unknown call does not
        # make it a 404
        with Daemon() as d:
            for method, path, allow in [
                    ("PUT", "/api/v1/calls/nope", "GET, DELETE"),
                    ("GET", "/api/v1/calls/nope/dtmf", "POST"),
                    ("DELETE", "/api/v1/calls/nope/destinations", "GET, POST"),
                    ("POST", "/api/v1/calls/nope/destinations/1", "GET, DELETE"),
                    ("GET", "/rest-api/call/find", "POST")]:
                r = d.request(method, path)
                self.assertError(r, 405, None)
                self.assertEqual(r.json["message"],
                                 "method %s not allowed here" % method)
                self.assertEqual(r.headers["Allow"], allow, path)

    def test_a_path_below_a_resource_or_an_unknown_wcs5_action_is_404(self):
        # a path is one of the API's as written: nothing below it is served
        with Daemon() as d:
            for method, path in [("GET", "/api/v1/events/x"),
                                 ("GET", "/api/v1/status/x"),
                                 ("GET", "/metrics/x"),
                                 ("POST", "/rest-api/call/no_such_action"),
                                 ("POST", "/RESTCall/call/x")]:
                r = d.request(method, path, body={} if method == "POST" else None)
                self.assertError(r, 404, None)
                self.assertEqual(r.json["message"], "no such resource: " + path)
            # the path comes decoded: a byte that is not UTF-8 is not echoed
            r = d.request("POST", "/rest-api/call/%ff", body={})
            self.assertError(r, 404, None)
            self.assertEqual(json.loads(r.body.decode("utf-8"))["message"],
                             "no such resource: /rest-api/call/\ufffd")

    def test_call_id_or_stream_in_use_by_an_active_call_is_409(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("no_answer_cancel.xml") as sipp:
            first = d.post("/api/v1/calls", call_body(sipp, nginx, "s1", callId="dup"))
            self.assertEqual(first.status, 201, first)
            ev.wait_call("dup", status="RING")
            self.assertError(d.post("/api/v1/calls",
                                    call_body(sipp, nginx, "s2", callId="dup")),
                             409, "callId")
            self.assertError(d.post("/RESTCall/call",
                                    call_body(sipp, nginx, "s1", callId="other")),
                             409, "rtmpStream")
            # hung up (CANCEL), the id and the stream are free again
            d.delete("/api/v1/calls/dup")
            ev.wait_call("dup", status="FINISH")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_oversized_body_is_413(self):
        with Daemon("[server]\nmax-body=1024\n") as d:
            body = dict(GOOD, visibleName="x" * 900, padding="y" * 2000)
            self.assertError(d.post("/api/v1/calls", body), 413, None)
            self.assertEqual(d.get("/api/v1/calls").status, 200)

    def test_beyond_max_calls_is_503(self):
        with NginxRtmp() as nginx, Daemon("[server]\nmax-calls=1\n") as d, \
                d.events() as ev, Sipp("no_answer_cancel.xml") as sipp:
            first = d.post("/api/v1/calls", call_body(sipp, nginx, "a"))
            self.assertEqual(first.status, 201, first)
            self.assertError(d.post("/api/v1/calls", call_body(sipp, nginx, "b")),
                             503, None)
            d.delete("/api/v1/calls/%s" % first.json["callId"])
            ev.wait_call(first.json["callId"], status="FINISH")

    def test_token_is_required_on_every_endpoint_when_configured(self):
        with Daemon("[server]\ntoken=t0ken-for-tests\n") as d:
            for method, path, body in [("GET", "/api/v1/calls", None),
                                       ("POST", "/api/v1/calls", GOOD),
                                       ("GET", "/api/v1/calls/x", None),
                                       ("GET", "/api/v1/events", None),
                                       ("POST", "/RESTCall/call", GOOD),
                                       ("POST", "/rest-api/call/find_all", {})]:
                with self.subTest(path=path):
                    r = d.request(method, path, body, token="")
                    self.assertError(r, 401, "Authorization")
                    self.assertEqual(r.headers["WWW-Authenticate"], "Bearer")
                    self.assertError(d.request(method, path, body, token="wrong"),
                                     401, "Authorization")
            self.assertEqual(d.get("/api/v1/calls", token="t0ken-for-tests").status, 200)
            self.assertNotIn("t0ken-for-tests", d.log())

    def test_non_loopback_listen_without_token_is_refused(self):
        r = subprocess.run([daemon_binary(), "--listen", "0.0.0.0:%d" % free_port()],
                           env=daemon_env(), capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("without an API token", r.stderr)

    def test_a_configured_codec_the_template_cannot_publish_stops_the_start(self):
        conf = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-")) / "bad-codecs.conf"
        self.addCleanup(shutil.rmtree, conf.parent, True)
        conf.write_text("[sip]\ncodecs=PCMU,GSM,H264\n")
        r = subprocess.run([daemon_binary(), "--config", str(conf), "--listen",
                            "%s:%d" % (LOOPBACK, free_port())],
                           env=daemon_env(), capture_output=True, text=True, timeout=10)
        # checked with the template at start-up: exit 1, as a broken template
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("[sip] codecs: template default has no depayloader for 'GSM'",
                      r.stderr)

    def test_sip_password_never_appears_in_responses_events_or_logs(self):
        secret = "Sekr3t-Passw0rd"
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("auth_401.xml", duration_ms=2000, auth_user="alice",
                     auth_pass=secret) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "auth", sipLogin="alice",
                                                  sipPassword=secret))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, status="ESTABLISHED")
            ev.wait_call(cid, status="FINISH", timeout=30)
            self.assertEqual(sipp.wait(), 0, sipp.report())
            everything = (r.text + d.get("/api/v1/calls").text +
                          d.post("/rest-api/call/find_all", {}).text +
                          repr(ev.events) + d.log())
            self.assertNotIn(secret, everything)
            self.assertEqual(r.json["sipLogin"], "alice")

    def test_stream_keys_never_appear_in_responses_events_webhooks_metrics_or_logs(self):
        key, added = "live_84f2Kq9Zsecret", "fb_Key77wQsecret"
        with WebhookReceiver() as hook, NginxRtmp() as nginx, Daemon() as d, \
                d.events() as ev, Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, key, callbackUrl=hook.url))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, status="ESTABLISHED", stream="PUBLISHING")
            # published for real, under the key
            self.assertTrue(nginx.is_publishing(key))
            a = d.post("/api/v1/calls/%s/destinations" % cid,
                       {"rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                        "rtmpStream": added})
            self.assertEqual(a.status, 201, a)
            wait_until(lambda: nginx.is_publishing(added), 15, "the added key published")
            self.assertEqual((r.json["rtmpStream"], a.json["rtmpStream"]), ("***", "***"))
            self.assertEqual(r.json["rtmpUrl"], "rtmp://%s:%d/live" % (LOOPBACK, nginx.port))
            seen = [r.text, a.text, d.get("/api/v1/calls").text,
                    d.get("/api/v1/calls/%s" % cid).text,
                    d.get("/api/v1/calls/%s/destinations" % cid).text,
                    d.post("/rest-api/call/find_all", {}).text, d.get("/metrics").text]
            self.assertIn(d.delete("/api/v1/calls/%s" % cid).status, (200, 202))
            ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED")
            hook.wait(lambda j: j["status"] == "FINISH" and
                      j["rtmpStreamStatus"] == "UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())
            seen += [repr(ev.events), repr(hook.events()), d.log()]
            for text in seen:
                self.assertNotIn(key, text)
                self.assertNotIn(added, text)


if __name__ == "__main__":
    unittest.main()

"""The operator console (issue 15, "Operate"): the page the daemon serves at
`/`, used in a real browser (Debian's headless Chromium through
chromium-driver, tests/peers/webdriver.py) against the real daemon, a SIPp
callee and nginx-rtmp on 127.0.0.1; and the static files' HTTP rules.

Screenshots are kept in <build dir>/console-artifacts/ (the path is printed).
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, pull_rtmp,  # noqa: E402
                    dominant_frequency, LOOPBACK)
import peers  # noqa: E402

TOKEN = "console-test-token-4f1c"
CONSOLE_DIR = Path(__file__).resolve().parents[3] / "console"
TONE_HZ = 850
HOSTILE = '<img src=x onerror="window.__pwned=1">"\'&amp;'


def artifact(name):
    d = peers.build_dir() / "console-artifacts"
    d.mkdir(parents=True, exist_ok=True)
    return d / name


def console_config(extra=""):
    return "[server]\ntoken=%s\n[console]\ndir=%s\n%s" % (TOKEN, CONSOLE_DIR, extra)


def call(cid):
    return 'li.call[data-call-id="%s"]' % cid


class DaemonConsoleTest(unittest.TestCase):

    def sign_in(self, b, d):
        b.get(d.url("/"))
        b.wait_text("#login-title", "Sign in")
        b.type("#token", TOKEN)
        b.click("#login-form button[type=submit]")
        b.wait_text("#stream-state", "live")

    def assertTone(self, wav, hz):
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence in %s" % wav)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz" % (got, hz))

    def test_a_call_started_from_the_page_goes_live_and_hangs_up_from_it(self):
        from webdriver import Browser
        with NginxRtmp() as nginx, Daemon(console_config(), token=TOKEN) as d, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": TONE_HZ}) as sipp, \
                Browser() as b:
            self.sign_in(b, d)
            b.wait_text("#ready", "Ready")
            b.type("#f-callee", sipp.uri())
            b.type("#f-rtmpUrl", "rtmp://%s:%d/live" % (LOOPBACK, nginx.port))
            b.type("#f-rtmpStream", "console")
            b.type("#f-callId", "console-1")
            b.click("#start-call")

            c = call("console-1")
            b.wait_text(c + ' [data-field="status"]', "ESTABLISHED", 20)
            b.wait_text(c + ' [data-field="rtmpStreamStatus"]', "PUBLISHING", 20)
            self.assertEqual(b.text(c + ' [data-field="codec"]'), "PCMU")
            # the call the form placed is the callee's, its tone on the stream
            nginx.wait_publishing("console")
            res = pull_rtmp(nginx.url(stream="console"), 2, sipp.dir / "out.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "out.wav", TONE_HZ)
            # live figures: the duration counts, RTP statistics arrive
            shown = b.wait_text(c + ' [data-field="duration"]', pattern=r"^0:\d\d$")
            b.wait_text(c + ' [data-field="duration"]', timeout=5,
                        pattern="^0:(?!%s$)\\d\\d$" % shown.split(":")[1])
            b.wait_text(c + ' [data-field="jitter"]', pattern=r"^\d+\.\d ms$")
            b.wait_text(c + ' [data-field="packetsLost"]', "0 (0.0 %)")
            b.wait_text("#capacity", "1 / 200")
            # the detail panel (opened by the form) logs the call's events
            b.wait_text("#detail-title", "Call %s (console-1)" % sipp.uri())
            log = b.text("#event-log")
            self.assertIn("ESTABLISHED", log)
            self.assertIn("PUBLISHING", log)
            shot = b.screenshot(artifact("console-call.png"))
            print("console screenshot: %s" % shot)

            b.click(c + ' button[data-action="hangup"]')
            b.wait_text(c + ' [data-field="status"]', "FINISH", 20)
            b.wait_text(c + ' [data-field="rtmpStreamStatus"]', "UNPUBLISHED", 20)
            # the scenario ends well only if the callee got our BYE
            self.assertEqual(sipp.wait(), 0, sipp.report())
            self.assertEqual(len(sipp.received("BYE")), 1)
            print("console screenshot: %s" %
                  b.screenshot(artifact("console-hung-up.png")))
            # the token was only ever a header: never in the daemon's log
            self.assertNotIn(TOKEN, d.log())
            # no script error (the 401 of the probe before signing in is the
            # network's, expected)
            self.assertEqual([m for m in b.console_log() if m.get("level") == "SEVERE"
                              and m.get("source") != "network"], [])

    def test_the_wcs4_form_from_a_phone_sized_page(self):
        from webdriver import Browser
        with NginxRtmp() as nginx, Daemon(console_config(), token=TOKEN) as d, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": TONE_HZ}) as sipp, \
                Browser(width=390, height=844, mobile=True) as b:
            self.sign_in(b, d)
            # one column: nothing wider than the screen
            self.assertLessEqual(b.execute(
                "return document.documentElement.scrollWidth"), 390)
            b.type("#f-callee", str(LOOPBACK))
            b.type("#f-rtmpUrl", "rtmp://%s:%d/live" % (LOOPBACK, nginx.port))
            b.type("#f-rtmpStream", "phone")
            b.type("#f-callId", "phone-1")
            b.click("#call-form details summary")
            b.type("#f-sipDomain", str(LOOPBACK))
            b.type("#f-sipPort", str(sipp.port))
            b.type("#f-sipLogin", "myusername")
            b.type("#f-sipPassword", "MyPasswordPassword1")
            b.click("#f-dialect-wcs4")
            b.click("#start-call")
            b.wait_text(call("phone-1") + ' [data-field="status"]', "ESTABLISHED", 20)
            b.wait_text(call("phone-1") + ' [data-field="rtmpStreamStatus"]', "PUBLISHING", 20)
            print("console screenshot: %s" %
                  b.screenshot(artifact("console-phone.png")))
            b.click("#hangup")
            b.wait_text(call("phone-1") + ' [data-field="status"]', "FINISH", 20)
            self.assertEqual(sipp.wait(), 0, sipp.report())
            self.assertNotIn("MyPasswordPassword1", d.log())

    def test_call_fields_are_shown_as_text_never_as_markup(self):
        from webdriver import Browser
        with Daemon(console_config(), token=TOKEN) as d, Browser() as b:
            # a callee that never answers: the call stays listed as it tries
            r = d.post("/api/v1/calls", {
                "callId": "xss", "callee": "%s:%d" % (LOOPBACK, peers.free_port()),
                "visibleName": HOSTILE, "rtmpUrl": "rtmp://%s:1/live" % LOOPBACK,
                "rtmpStream": "xss"})
            self.assertEqual(r.status, 201, r)
            self.sign_in(b, d)
            shown = b.wait_text(call("xss") + ' [data-field="visibleName"]', HOSTILE)
            self.assertEqual(shown, HOSTILE)
            self.assertEqual(b.execute("return document.querySelectorAll('#calls img').length"), 0)
            self.assertIsNone(b.execute("return window.__pwned === undefined ? null : 1"))
            d.delete("/api/v1/calls/xss")

    def test_a_wrong_token_keeps_the_page_at_sign_in(self):
        from webdriver import Browser
        with Daemon(console_config(), token=TOKEN) as d, Browser() as b:
            b.get(d.url("/"))
            b.wait_text("#login-title", "Sign in")
            b.type("#token", "not-the-token")
            b.click("#login-form button[type=submit]")
            b.wait_text("#login-error", "The token was refused.")
            self.assertNotIn("not-the-token", d.log())

    def test_static_files_have_their_types_and_nothing_else_is_served(self):
        with Daemon(console_config(), token=TOKEN) as d:
            for path, ctype in (("/", "text/html; charset=utf-8"),
                                ("/console/console.js", "text/javascript; charset=utf-8"),
                                ("/console/console.css", "text/css; charset=utf-8"),
                                ("/console/favicon.svg", "image/svg+xml")):
                r = d.get(path, token="")
                self.assertEqual((r.status, r.headers["Content-Type"]), (200, ctype), path)
                self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
            page = d.get("/", token="")
            self.assertIn("script-src 'self'", page.headers["Content-Security-Policy"])
            self.assertIn("frame-ancestors 'none'", page.headers["Content-Security-Policy"])
            self.assertEqual(page.text, (CONSOLE_DIR / "index.html").read_text())
            # no listing, no hidden or outside file, whatever the spelling
            for path in ("/console/", "/console", "/console/../meson.build",
                         "/console/%2e%2e/meson.build", "/console/..%2fmeson.build",
                         "/console/meson.build", "/console/.gitignore",
                         "/console/index.html/", "/console/dom.js/../../COPYING"):
                r = d.get(path, token=TOKEN)
                self.assertIn(r.status, (400, 404), (path, r))
                self.assertNotIn("project(", r.text)
                self.assertNotIn("GNU LESSER", r.text)
            r = d.post("/", {"x": 1}, token="")
            self.assertEqual((r.status, r.headers["Allow"]), (405, "GET, HEAD"))
            # the data stays behind the token
            self.assertEqual(d.get("/api/v1/calls", token="").status, 401)

    def test_the_console_can_be_turned_off(self):
        with Daemon(console_config() + "enabled=false\n", token=TOKEN) as d:
            self.assertEqual(d.get("/", token=TOKEN).status, 404)
            self.assertEqual(d.get("/", token="").status, 401)


if __name__ == "__main__":
    unittest.main()

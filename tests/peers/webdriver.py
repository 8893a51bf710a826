"""A real browser for the console's tests: Debian's headless Chromium driven
through chromium-driver (W3C WebDriver over HTTP), Python 3 stdlib only.

    with Browser() as b:
        b.get("http://127.0.0.1:9091/")
        b.type("#token", "secret"); b.click("#login-form button")
        b.wait_text('[data-field="status"]', "ESTABLISHED", 20)
        b.screenshot(path)

Waits are the page's own events: `wait_text` runs a MutationObserver in the
page and returns as soon as the DOM says so (no polling, no sleeps).
"""

import base64
import json
import os
import subprocess
import urllib.error
import urllib.request

from peers import _TempDirPeer, _bound_ports, free_port, wait_until, LOOPBACK, PeerError

CHROMIUM = os.environ.get("SIP2RTMP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SIP2RTMP_CHROMEDRIVER", "/usr/bin/chromedriver")

# A W3C element reference's key in JSON
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

_WAIT_SCRIPT = """
const [selector, want, pattern, timeoutMs, done] = arguments;
const re = pattern === null ? null : new RegExp(pattern);
function current() {
  const n = document.querySelector(selector);
  if (!n || n.closest('[hidden]')) return null;
  const text = n.textContent.trim();
  if (re !== null) return re.test(text) ? text : null;
  return want === null || text === want ? text : null;
}
const now = current();
if (now !== null) { done({ok: true, text: now}); return; }
const observer = new MutationObserver(() => {
  const t = current();
  if (t !== null) { observer.disconnect(); clearTimeout(timer); done({ok: true, text: t}); }
});
observer.observe(document, {subtree: true, childList: true, characterData: true,
                            attributes: true});
const timer = setTimeout(() => {
  observer.disconnect();
  const n = document.querySelector(selector);
  done({ok: false, text: n ? n.textContent.trim() : null});
}, timeoutMs);
"""


class WebDriverError(Exception):
    pass


class Browser(_TempDirPeer):
    """chromedriver on a free 127.0.0.1 port and one headless Chromium session."""

    name = "chromium"

    def __init__(self, width=1280, height=900, mobile=False):
        super().__init__()
        self.width, self.height, self.mobile = width, height, mobile
        self.port = None
        self.session = None

    def start(self):
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                raise PeerError("%s is missing (.ci/install-deps.sh: chromium, "
                                "chromium-driver)" % path)
        self.port = free_port()
        log = self.dir / "chromedriver.log"
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, "--port=%d" % self.port, "--log-path=%s" % log],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: self.port in _bound_ports("tcp"), 15, "chromedriver",
                   self.proc, log)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-extensions",
                "--user-data-dir=%s" % (self.dir / "profile"),
                "--window-size=%d,%d" % (self.width, self.height)]
        options = {"binary": CHROMIUM, "args": args}
        if self.mobile:
            options["mobileEmulation"] = {
                "deviceMetrics": {"width": self.width, "height": self.height,
                                  "pixelRatio": 2.0, "touch": True}}
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"}}}}
        value = self._call("POST", "/session", caps, timeout=60)
        self.session = value["sessionId"]

    def close(self):
        if self.session:
            try:
                self._call("DELETE", "/session/%s" % self.session, timeout=20)
            except (WebDriverError, OSError):
                pass
            self.session = None
        super().close()

    # -- the protocol ---------------------------------------------------

    def _call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            "http://%s:%d%s" % (LOOPBACK, self.port, path), data=data, method=method,
            headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read().decode())["value"]
                raise WebDriverError("%s %s: %s: %s" % (method, path, v.get("error"),
                                                        v.get("message", "")[:500]))
            except ValueError:
                raise WebDriverError("%s %s: HTTP %d" % (method, path, e.code))

    def _s(self, method, path, body=None, timeout=30):
        return self._call(method, "/session/%s%s" % (self.session, path), body, timeout)

    # -- what a test does -------------------------------------------------

    def get(self, url):
        self._s("POST", "/url", {"url": url}, timeout=60)

    def find(self, css):
        return self._s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in
                self._s("POST", "/elements", {"using": "css selector", "value": css})]

    def _on_element(self, css, action):
        """action(element reference) on what `css` names now. Found again
        if the page re-rendered it between the find and the action (the
        console rebuilds its call list every second: a hang-up button found
        just before is a stale reference, as text() found in CI9)."""
        for attempt in range(3):
            el = self.find(css)
            try:
                return action(el)
            except WebDriverError as e:
                if "stale element reference" not in str(e) or attempt == 2:
                    raise

    def click(self, css):
        self._on_element(css, lambda el: self._s("POST", "/element/%s/click" % el, {}))

    def type(self, css, text, clear=True):
        def typed(el):
            if clear:
                self._s("POST", "/element/%s/clear" % el, {})
            self._s("POST", "/element/%s/value" % el, {"text": text})
        self._on_element(css, typed)

    def text(self, css):
        """The text `css` shows now, read in one step in the page: found and
        read apart, an element the page re-renders in between (a call's card
        on each event) is a stale reference (CI9)."""
        r = self.execute("const e = document.querySelector(arguments[0]);"
                         "return e === null ? null : e.innerText.trim();", css)
        if r is None:
            raise WebDriverError("no element %s" % css)
        return r

    def execute(self, script, *args):
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_text(self, css, want=None, timeout=20, pattern=None):
        """Waits until the visible element `css` shows `want` (None: any
        text), or a text matching the JavaScript regexp `pattern`; its text."""
        self._s("POST", "/timeouts", {"script": int((timeout + 5) * 1000)})
        r = self._s("POST", "/execute/async",
                    {"script": _WAIT_SCRIPT,
                     "args": [css, want, pattern, int(timeout * 1000)]},
                    timeout=timeout + 10)
        if not r["ok"]:
            raise AssertionError("%s: %r after %s s, expected %r" % (
                css, r["text"], timeout, pattern or want))
        return r["text"]

    def screenshot(self, path):
        png = base64.b64decode(self._s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)
        return path

    def console_log(self):
        """The page's console messages (errors, warnings) since the last call."""
        try:
            return self._s("POST", "/se/log", {"type": "browser"})
        except WebDriverError:
            return []

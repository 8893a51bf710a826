#!/usr/bin/env python3
"""The Debian package, for real, on fresh Debian 12 roots.

1. Builds it (dpkg-buildpackage -us -uc -b) in a fresh root that has only
   build-essential and the Build-Depends (so they are complete), from the
   work tree as it is.
2. Runs lintian on it (when the host has lintian).
3. Boots a second fresh root with systemd (systemd-nspawn, host network),
   installs the .deb there with apt (its Depends from the mirror), and checks
   the service as systemd runs it: started by the package (Type=notify:
   active once READY=1), the sip2rtmp user, no capability, the limits, the
   plugin found by gst-inspect-1.0 with no environment variable.
4. Places a call through the service's API to a SIPp callee and publishes it
   to nginx-rtmp, both on the host's 127.0.0.1 (recorded too, under
   /var/lib/sip2rtmp/recordings); pulls the stream back with ffmpeg and
   checks the callee's tone.
5. systemctl reload with a changed config: the new limit applies, the call
   goes on, the journal has the daemon's messages with their priorities.
   The watchdog's keep-alives reach systemd.
6. systemctl stop with the call up: the drain hangs it up (the callee sees
   the BYE), the recording is finalized, the service exits 0.
7. apt-get purge: nothing of the package's is left but its system user.

Where systemd cannot boot in a container, 3-6 run the unit's ExecStart as
the unit's user with chroot and setpriv instead (no systemd checks).

    tests/package/run.sh [--deb FILE] [--keep] [--no-boot]       as root

Roots come from a minbase tarball cached under /var/cache/sip2rtmp-pkgtest
(fresh-root.sh). Prints what it measured; exits non-zero on any failure.
"""

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
sys.path.insert(0, str(TOP / "tests" / "peers"))
from peers import (Sipp, NginxRtmp, free_port, pull_rtmp,  # noqa: E402
                   dominant_frequency, TONE_HZ, LOOPBACK)

ROOT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# what a purge may leave: apt's and dpkg's own state, logs, caches, the
# registry gst-inspect-1.0 (run by this test as root) keeps in root's home
PURGE_IGNORED = re.compile(
    r"^/(var/lib/(apt|dpkg|ucf)|var/cache|var/log|tmp|var/tmp|root/\.cache)(/|$)"
    r"|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$"
    r"|^/etc/ld\.so\.cache$|^/var/lib/systemd/(random-seed|timers|catalog)")
STEPS = []


def step(title):
    STEPS.append((title, time.monotonic()))
    print("\n== %s" % title, flush=True)


def note(fmt, *args):
    print("   " + (fmt % args if args else fmt), flush=True)


class Failure(Exception):
    pass


def check(cond, fmt, *args):
    if not cond:
        raise Failure(fmt % args if args else fmt)


def run(cmd, timeout=1800, check_rc=True, quiet=False):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise Failure("%s: exit %d\n%s\n%s" % (" ".join(map(str, cmd))[:200],
                                               r.returncode, r.stdout[-3000:],
                                               r.stderr[-3000:]))
    return r


def fresh_root_sh(func, root):
    run(["bash", "-c", '. "$0"; %s "$1"' % func, str(HERE / "fresh-root.sh"), str(root)])


class Root:
    """A fresh Debian 12 root; commands run in it through chroot, or inside
    its booted systemd (nsenter into the container's namespaces)."""

    def __init__(self, path):
        self.path = Path(path)
        self.nspawn = None
        self.leader = None
        self.console = None

    def make(self):
        fresh_root_sh("fresh_root", self.path)

    def remove(self):
        self.halt()
        fresh_root_sh("fresh_root_remove", self.path)

    def unmount(self):
        for m in ("dev", "sys", "proc"):
            subprocess.run(["umount", "-R", str(self.path / m)],
                           capture_output=True)

    def sh(self, script, timeout=1800, check_rc=True):
        env = ["env", "-i", ROOT_PATH, "LANG=C.UTF-8", "HOME=/root",
               "DEBIAN_FRONTEND=noninteractive"]
        if self.leader:
            cmd = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-p",
                   "--root", "--wd=/"] + env + ["bash", "-c", script]
        else:
            cmd = ["chroot", str(self.path)] + env + ["bash", "-c", script]
        return run(cmd, timeout=timeout, check_rc=check_rc)

    def out(self, script, **kw):
        return self.sh(script, **kw).stdout.strip()

    def boot(self, timeout=60):
        """systemd as the root's PID 1, on the host's network; False when it
        does not come up"""
        self.unmount()
        self.console = open(self.path.parent / "console.log", "wb")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-D", str(self.path), "--register=no",
             "--keep-unit", "-b", "--console=pipe"],
            stdin=subprocess.DEVNULL, stdout=self.console,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.nspawn.poll() is None:
            kids = run(["pgrep", "-P", str(self.nspawn.pid)], check_rc=False).stdout.split()
            if kids:
                self.leader = int(kids[0])
                state = self.out("systemctl is-system-running 2>/dev/null || true",
                                 check_rc=False)
                if state in ("running", "degraded"):
                    return True
            time.sleep(0.5)
        self.halt()
        return False

    def halt(self):
        if self.nspawn and self.nspawn.poll() is None:
            self.nspawn.terminate()
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()
        self.nspawn = None
        self.leader = None
        if self.console:
            self.console.close()
            self.console = None

    def files(self):
        """Every path in the root (its own file system)"""
        listing = self.out("find / -xdev -mindepth 1 2>/dev/null || true")
        return set(listing.splitlines())


def copy_tree(dest):
    """The work tree as it is (tracked and new files, not ignored ones)"""
    files = run(["git", "-C", str(TOP), "ls-files", "-z", "--cached", "--others",
                 "--exclude-standard"]).stdout.split("\0")
    files = [f for f in files if f and (TOP / f).exists()]
    dest.mkdir(parents=True)
    tar = subprocess.run(["tar", "-C", str(TOP), "--null", "-T", "-", "-cf", "-"],
                         input="\0".join(files).encode(), capture_output=True,
                         check=True)
    subprocess.run(["tar", "-C", str(dest), "-xf", "-"], input=tar.stdout,
                   check=True)


def build(work):
    step("build: dpkg-buildpackage -us -uc -b in a fresh root (build-essential "
         "and the Build-Depends only)")
    root = Root(work / "build-root")
    try:
        root.make()
        copy_tree(root.path / "src" / "sip2rtmp")
        t = time.monotonic()
        root.sh("apt-get update -qq && apt-get build-dep -y -qq /src/sip2rtmp >/dev/null")
        note("build-dep: %d packages in the root, %.0f s",
             int(root.out("dpkg-query -W -f='${db:Status-Abbrev}\\n' | grep -c ^ii")),
             time.monotonic() - t)
        t = time.monotonic()
        r = root.sh("cd /src/sip2rtmp && dpkg-buildpackage -us -uc -b 2>&1")
        (work / "build.log").write_text(r.stdout)
        warnings = [l for l in r.stdout.splitlines() if "warning:" in l]
        note("dpkg-buildpackage: %.0f s, %d compiler warnings%s", time.monotonic() - t,
             len(warnings), "".join("\n     " + w for w in warnings[:10]))
        debs = sorted((root.path / "src").glob("sip2rtmp_*.deb"))
        check(len(debs) == 1, "expected one .deb, got %s", debs)
        deb = work / debs[0].name
        shutil.copy(debs[0], deb)
        return deb
    finally:
        root.remove()


def lint(deb):
    step("lintian")
    if not shutil.which("lintian"):
        note("lintian is not installed on the host: skipped")
        return
    r = run(["lintian", "--info", "--display-info", "--pedantic", str(deb)],
            check_rc=False)
    note("lintian exit %d%s", r.returncode,
         "".join("\n     " + l for l in r.stdout.splitlines() if l.strip()) or
         ": no tag")


def contents(deb):
    step("contents")
    r = run(["dpkg-deb", "-c", str(deb)])
    paths = [l.split()[5] for l in r.stdout.splitlines()]
    interesting = [p for p in paths if not p.endswith("/") and
                   "/usr/share/doc/" not in p]
    for p in interesting:
        note("%s", p.lstrip("."))
    for bad in ("testhook", "check-", "rtmppubsink-driver", "test-"):
        check(not any(bad in p for p in paths), "test build installed: %s", bad)
    info = run(["dpkg-deb", "-f", str(deb), "Depends", "Recommends"]).stdout
    note("%s", info.strip().replace("\n", "\n   "))


class Api:
    def __init__(self, port):
        self.base = "http://%s:%d" % (LOOPBACK, port)

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def wait(self, path, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                status, last = self.request("GET", path)
                if status == 200 and predicate(last):
                    return last
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.2)
        raise Failure("%s not within %d s; last: %s" % (what, timeout, last))


def journal(root):
    """The service's journal entries as dicts"""
    out = root.out("journalctl -u sip2rtmpd -o json --no-pager")
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def installed(root):
    return set(root.out("dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' | "
                        "awk '/^ii/ { print $2 }'").split())


def show(root, *props):
    out = root.out("systemctl show sip2rtmpd -p %s" % ",".join(props))
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def set_conf(root, group, key, value):
    """An administrator's edit of the conffile: key=value in [group]"""
    root.sh("sed -i '/^\\[%s\\]$/a %s=%s' /etc/sip2rtmp/sip2rtmpd.conf" %
            (group, key, value))


def install_and_run(deb, work, port, boot=True):
    step("a fresh root with systemd, booted with systemd-nspawn (unless --no-boot)")
    root = Root(work / "run-root")
    root.make()
    try:
        root.sh("apt-get update -qq && apt-get install -y -qq --no-install-recommends "
                "systemd systemd-sysv dbus gstreamer1.0-tools >/dev/null")
        # the administrator's drop-in: the API on a port free on this host
        root.sh("mkdir -p /etc/systemd/system/sip2rtmpd.service.d && printf "
                "'[Service]\\nExecStart=\\nExecStart=/usr/bin/sip2rtmpd --config "
                "/etc/sip2rtmp/sip2rtmpd.conf --listen 127.0.0.1:%d\\n' "
                "> /etc/systemd/system/sip2rtmpd.service.d/port.conf" % port)
        shutil.copy(deb, root.path / "root" / deb.name)
        booted = boot and root.boot()
        note("systemd in the container: %s", "running" if booted else
             "not booted (chroot + setpriv instead)")
        if boot and not booted:
            fresh_root_sh("fresh_root_mount", root.path)
        before = root.files()
        base_packages = installed(root)

        step("apt-get install ./%s" % deb.name)
        t = time.monotonic()
        root.sh("apt-get install -y -qq /root/%s >/var/log/test-install.log 2>&1" % deb.name)
        note("%d packages installed with it (Depends and Recommends), %.0f s",
             len(installed(root) - base_packages), time.monotonic() - t)
        if booted:
            service_checks(root, port)
        else:
            chroot_service(root, port)

        step("apt-get purge sip2rtmp; apt-get autoremove --purge")
        # what it pulled in goes too: apt keeps a package another one
        # merely recommends, unless told
        root.sh("apt-get purge -y -qq sip2rtmp >/var/log/test-purge.log 2>&1 && "
                "apt-get autoremove --purge -y -qq -o APT::AutoRemove::RecommendsImportant=false "
                "-o APT::AutoRemove::SuggestsImportant=false >>/var/log/test-purge.log 2>&1")
        extra = sorted(installed(root) - base_packages)
        note("packages left installed beyond the fresh root's: %s", extra or "none")
        after = root.files()
        left = sorted(p for p in after - before if not PURGE_IGNORED.search(p))
        gone = sorted(p for p in before - after if not PURGE_IGNORED.search(p))
        user = root.out("getent passwd sip2rtmp || true")
        note("left after the purge: %s", left[:40] or "nothing")
        note("removed that was there before: %s", gone[:40] or "nothing")
        note("system user kept (Debian's practice): %s", user or "none")
        check(not left, "files left after the purge: %s", left)
        check(not gone, "files removed that were there before: %s", gone)
        state = root.out("dpkg-query -W -f='${db:Status-Status}' sip2rtmp 2>/dev/null "
                         "|| echo not-installed")
        check(state == "not-installed", "sip2rtmp after the purge: %s", state)
    finally:
        root.remove()


def service_checks(root, port):
    step("the service as systemd started it")
    api = Api(port)
    props = show(root, "ActiveState", "SubState", "Type", "User", "MainPID",
                 "StatusText", "NotifyAccess", "WatchdogUSec",
                 "WatchdogTimestampMonotonic", "CapabilityBoundingSet",
                 "LimitNOFILE", "TimeoutStopUSec")
    for k in ("ActiveState", "SubState", "Type", "User", "StatusText",
              "WatchdogUSec", "LimitNOFILE", "TimeoutStopUSec",
              "CapabilityBoundingSet"):
        note("%s=%s", k, props.get(k))
    check(props["ActiveState"] == "active", "service not active: %s",
          root.out("systemctl status sip2rtmpd --no-pager || true", check_rc=False))
    check(props["StatusText"].startswith("listening on"), "no STATUS from READY")
    pid = props["MainPID"]
    status = root.out("grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs)' /proc/%s/status" % pid)
    note("%s", status.replace("\n", "; ").replace("\t", " "))
    check(re.search(r"CapEff:\s*0+\b", status) and re.search(r"NoNewPrivs:\s*1", status),
          "the service keeps a capability or may gain privileges")
    uid = root.out("id -u sip2rtmp")
    check(re.search(r"Uid:\s*%s\b" % uid, status), "not running as sip2rtmp")
    note("open files limit: %s", root.out("grep 'Max open files' /proc/%s/limits" % pid))
    note("%s", root.out("systemd-analyze security sip2rtmpd --no-pager 2>/dev/null | tail -1",
                        check_rc=False))
    inspect = root.sh("gst-inspect-1.0 sipsrc >/dev/null && gst-inspect-1.0 rtmppubsink "
                      ">/dev/null && gst-inspect-1.0 siplistener >/dev/null && "
                      "gst-inspect-1.0 sip2rtmp | grep -E '^  (Filename|Version)'",
                      check_rc=False)
    note("gst-inspect-1.0 sipsrc, rtmppubsink, siplistener (no environment): exit %d %s",
         inspect.returncode, inspect.stdout.strip().replace("\n", ";"))
    check(inspect.returncode == 0, "gst-inspect-1.0 does not find the plugin")
    note("%s", root.out("stat -c '%n %U:%G %a' /etc/sip2rtmp/sip2rtmpd.conf "
                        "/var/lib/sip2rtmp /var/lib/sip2rtmp/recordings"))
    note("man page: %s", root.out("ls /usr/share/man/man8/sip2rtmpd.8.gz"))
    for path in ("/healthz", "/readyz"):
        status, _ = api.request("GET", path)
        note("GET %s: %d", path, status)
        check(status == 200, "%s: %d", path, status)
    # the operator console, from the package's /usr/share/sip2rtmp/console
    with urllib.request.urlopen(api.base + "/", timeout=10) as r:
        page = r.read().decode("utf-8", "replace")
        note("GET /: %d %s", r.status, r.headers["Content-Type"])
        check(r.status == 200 and "sip2rtmp console" in page, "GET /: no console")
    watchdog_start = int(props["WatchdogTimestampMonotonic"])
    started = time.monotonic()

    step("a call through the service: SIPp callee and nginx-rtmp on the host")
    with NginxRtmp() as nginx, Sipp("answer_pcmu_wait_bye.xml", timeout=120) as sipp:
        status, call = api.request("POST", "/api/v1/calls", {
            "callee": sipp.uri(), "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
            "rtmpStream": "packaged", "record": "packaged.mkv"})
        check(status == 201, "POST /api/v1/calls: %s %s", status, call)
        cid = call["callId"]
        t = time.monotonic()
        api.wait("/api/v1/calls/" + cid, lambda c: c["status"] == "ESTABLISHED" and
                 c["rtmpStreamStatus"] == "PUBLISHING", 30, "ESTABLISHED and PUBLISHING")
        note("ESTABLISHED and PUBLISHING %.1f s after the request", time.monotonic() - t)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "pulled.wav"
            r = pull_rtmp(nginx.url(stream="packaged"), 5, wav)
            check(r.returncode == 0, "ffmpeg: %s", r.stderr)
            hz = dominant_frequency(str(wav))
            note("pulled 5 s with ffmpeg: tone %s Hz (the callee plays %d Hz)",
                 "none" if hz is None else "%.0f" % hz, TONE_HZ)
            check(hz is not None and abs(hz - TONE_HZ) < TONE_HZ * 0.03, "wrong tone")

        step("systemctl reload with a changed config")
        set_conf(root, "server", "max-calls", "7")
        set_conf(root, "sip", "local-address", "127.0.0.1")
        t = time.monotonic()
        root.sh("systemctl reload sip2rtmpd")
        note("systemctl reload: %.2f s", time.monotonic() - t)
        status, st = api.request("GET", "/api/v1/status")
        note("GET /api/v1/status after the reload: maxCalls %s, activeCalls %s",
             st.get("maxCalls"), st.get("activeCalls"))
        check(st.get("maxCalls") == 7, "max-calls not reloaded")
        check(api.request("GET", "/api/v1/calls/" + cid)[1]["status"] == "ESTABLISHED",
              "the call did not survive the reload")
        entries = journal(root)
        for e in entries[-8:]:
            if e.get("SYSLOG_IDENTIFIER") == "sip2rtmpd" or "GLIB_DOMAIN" in e:
                note("journal: PRIORITY=%s SYSLOG_IDENTIFIER=%s GLIB_DOMAIN=%s %s",
                     e.get("PRIORITY"), e.get("SYSLOG_IDENTIFIER"),
                     e.get("GLIB_DOMAIN"), str(e.get("MESSAGE"))[:90])
        by_text = {str(e.get("MESSAGE")): e for e in entries}
        reloaded = [e for m, e in by_text.items() if m.startswith("reloaded")]
        restart = [e for m, e in by_text.items() if "applied only by a restart" in m]
        check(reloaded and reloaded[0].get("PRIORITY") == "5" and
              reloaded[0].get("SYSLOG_IDENTIFIER") == "sip2rtmpd",
              "no 'reloaded' message from sip2rtmpd at priority 5 (notice)")
        check(restart and restart[0].get("PRIORITY") == "4",
              "no restart warning at priority 4 (warning)")

        wait_s = 11 - (time.monotonic() - started)
        if wait_s > 0:
            time.sleep(wait_s)
        wd = int(show(root, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])
        note("watchdog: last keep-alive %.1f s after the first one seen",
             (wd - watchdog_start) / 1e6)
        check(wd > watchdog_start, "no WATCHDOG=1 reached systemd")

        step("systemctl stop with the call up (the drain)")
        t = time.monotonic()
        root.sh("systemctl stop sip2rtmpd")
        stop_s = time.monotonic() - t
        props = show(root, "Result", "ExecMainStatus", "ExecMainCode")
        note("systemctl stop: %.2f s; Result=%s ExecMainStatus=%s", stop_s,
             props.get("Result"), props.get("ExecMainStatus"))
        check(props.get("Result") == "success" and props.get("ExecMainStatus") == "0",
              "the service did not exit 0")
        rc = sipp.wait(30)
        note("the callee got the BYE: SIPp scenario exit %d", rc)
        check(rc == 0, "SIPp: %s", sipp.report())
        check(not nginx.is_publishing("packaged"), "still publishing")
        rec = root.out("stat -c '%s %U' /var/lib/sip2rtmp/recordings/packaged.mkv")
        note("recording: /var/lib/sip2rtmp/recordings/packaged.mkv %s", rec)
        check(int(rec.split()[0]) > 10000, "recording too small")
        last = [str(e.get("MESSAGE")) for e in journal(root)][-3:]
        note("journal's last lines: %s", " | ".join(last))


def chroot_service(root, port):
    """No systemd: the unit's ExecStart as the unit's user, by hand"""
    step("the unit's ExecStart as its user (chroot + setpriv)")
    unit = (root.path / "lib/systemd/system/sip2rtmpd.service").read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
    user = re.search(r"^User=(.*)$", unit, re.M).group(1)
    # no higher than this sandbox's own hard limit
    nofile = min(int(re.search(r"^LimitNOFILE=(.*)$", unit, re.M).group(1)),
                 resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    cmd = "%s --listen 127.0.0.1:%d" % (exec_start, port)
    note("%s as %s, %d open files", cmd, user, nofile)
    proc = subprocess.Popen(
        ["chroot", str(root.path), "prlimit", "--nofile=%d" % nofile, "--",
         "setpriv", "--reuid", user, "--regid", user, "--init-groups",
         "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all",
         "env", "-i", ROOT_PATH, "HOME=/var/lib/sip2rtmp"] + shlex.split(cmd),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    api = Api(port)
    try:
        api.wait("/api/v1/status", lambda s: True, 20, "the API")
        with NginxRtmp() as nginx, Sipp("answer_pcmu_wait_bye.xml", timeout=120) as sipp:
            status, call = api.request("POST", "/api/v1/calls", {
                "callee": sipp.uri(), "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "packaged"})
            check(status == 201, "POST: %s %s", status, call)
            api.wait("/api/v1/calls/" + call["callId"], lambda c: c["rtmpStreamStatus"] ==
                     "PUBLISHING", 30, "PUBLISHING")
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "pulled.wav"
                r = pull_rtmp(nginx.url(stream="packaged"), 5, wav)
                check(r.returncode == 0, "pulling the stream: %s" % r.stderr[-1000:])
                hz = dominant_frequency(str(wav))
                note("tone %s Hz (the callee plays %d Hz)", hz, TONE_HZ)
                check(hz is not None and abs(hz - TONE_HZ) < TONE_HZ * 0.03, "wrong tone")
            proc.terminate()
            check(proc.wait(30) == 0, "exit %s" % proc.returncode)
            check(sipp.wait(30) == 0, "SIPp: %s" % sipp.report())
    finally:
        if proc.poll() is None:
            proc.kill()
        note("daemon's log: %s", proc.stdout.read().decode(errors="replace")[-2000:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deb", help="test this .deb instead of building one")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--no-boot", action="store_true",
                    help="do not boot systemd: run the unit's ExecStart by hand")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("tests/package: run as root (it makes roots and boots one)")
    work = Path(tempfile.mkdtemp(prefix="sip2rtmp-pkgtest-", dir="/var/tmp"))
    start = time.monotonic()
    ok = False
    try:
        deb = Path(args.deb).resolve() if args.deb else build(work)
        lint(deb)
        contents(deb)
        install_and_run(deb, work, free_port(), boot=not args.no_boot)
        ok = True
    except Failure as e:
        print("\nFAILED: %s" % e, flush=True)
    finally:
        if args.keep or not ok:
            print("work folder: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\npackage test: %s in %.0f s" % ("passed" if ok else "FAILED",
                                            time.monotonic() - start))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

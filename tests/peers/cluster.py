"""A cluster of sip2rtmpd nodes on 127.0.0.1, every component real.

Python 3 standard library only.  `Redis` (redis-server with an ACL user and
password), `Node` (a `daemon.Daemon` with a [cluster] group), `HAProxy` in
front of the nodes' APIs (health checks on /readyz), `TcpProxy` (a
breakable TCP relay between one node and Redis), `Cluster` (all of them).
`Redis` and `HAProxy` are `peers.Peer`s (a temp dir and a process, both
gone on exit; SIGKILL). Each waits until its socket answers; nothing sleeps
to synchronise.
"""

import hashlib
import hmac
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
from daemon import Daemon, free_port, wait_until, LOOPBACK  # noqa: E402

REDIS_USER = "s2r"
REDIS_PASSWORD = "redis-pw-not-in-logs"
TOKEN = "cluster-token-not-in-logs"
SECRET_KEY = "cluster-key-not-in-logs"


def node_headers(method, path, body=b"", node="test", when=None):
    """The headers of a node's forward (s2r-cluster-http.c): X-S2r-Node and
    its X-S2r-Signature under the cluster's secret-key; with them a node
    answers as to another node (its own call list, say)."""
    when = int(time.time()) if when is None else when
    key = hashlib.sha256(SECRET_KEY.encode()).digest()
    text = "\n".join([method, path, node, "", "",
                      hashlib.sha256(body).hexdigest(), str(when)])
    sig = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    return {"X-S2r-Node": node, "X-S2r-Signature": "%d:%s" % (when, sig)}


def _kill(proc):
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()


class Redis(peers.Peer):
    name = "redis"

    def __init__(self):
        super().__init__()
        self.port = free_port()

    def start(self):
        conf = self.dir / "redis.conf"
        conf.write_text(
            "port %d\nbind %s\nsave \"\"\nappendonly no\ndir %s\n"
            "user default off\nuser %s on >%s ~s2r:* +@all\n" %
            (self.port, LOOPBACK, self.dir, REDIS_USER, REDIS_PASSWORD))
        self.proc = subprocess.Popen(
            ["redis-server", str(conf)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_until(lambda: self.command("PING") == "+PONG", 10,
                   "redis-server on %d" % self.port, self.proc,
                   interval=0.05)

    def end_process(self):
        _kill(self.proc)

    def command(self, *args):
        """One command as that user; the first line of the answer."""
        try:
            with socket.create_connection((LOOPBACK, self.port), 2) as s:
                f = s.makefile("rwb")
                for cmd in (("AUTH", REDIS_USER, REDIS_PASSWORD), args):
                    f.write(("*%d\r\n" % len(cmd)).encode())
                    for a in cmd:
                        a = str(a).encode()
                        f.write(b"$%d\r\n%s\r\n" % (len(a), a))
                f.flush()
                f.readline()
                return f.readline().decode().strip()
        except OSError:
            return None


class TcpProxy:
    """127.0.0.1:<port> relayed to `target`; `cut()` closes every connection
    and refuses new ones, `mend()` relays again."""

    def __init__(self, target_port):
        self.target = target_port
        self.port = free_port()
        self.open = True
        self.conns = []
        self.lock = threading.Lock()
        self.sock = None

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, self.port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if not self.open:
                c.close()
                continue
            try:
                u = socket.create_connection((LOOPBACK, self.target), 2)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b),
                                 daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data or not self.open:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self):
        self.open = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def mend(self):
        self.open = True

    def __exit__(self, *exc):
        self.cut()
        self.sock.close()
        return False


class Node(Daemon):
    def __init__(self, node_id, redis_port, max_calls=10, extra=""):
        self.node_id = node_id
        config = ("[server]\ntoken=%s\nmax-calls=%d\nkeep-finished=60\n"
                  "[cluster]\nnode-id=%s\nredis=%s:%d\nredis-user=%s\n"
                  "redis-password=%s\nsecret-key=%s\n%s" %
                  (TOKEN, max_calls, node_id, LOOPBACK, redis_port,
                   REDIS_USER, REDIS_PASSWORD, SECRET_KEY, extra))
        super().__init__(config, token=TOKEN)

    def start(self):
        super().start()
        self.wait_log("redis s2r-node: connected", 10)

    def kill9(self):
        _kill(self.proc)

    def active(self):
        return self.get("/readyz").json["activeCalls"]


def listening_on(ports):
    """A Node class whose node ID also takes SIP calls on
    udp:127.0.0.1:ports[ID] ([sip] listen), for Cluster's node_class."""
    class ListenNode(Node):
        def __init__(self, node_id, redis_port, max_calls=10, extra=""):
            super().__init__(node_id, redis_port, max_calls, extra +
                             "[sip]\nlisten=udp:%s:%d\n" % (LOOPBACK, ports[node_id]))
    return ListenNode


class HAProxy(peers.Peer):
    name = "haproxy"

    def __init__(self, nodes):
        super().__init__()
        self.port = free_port()
        self.nodes = nodes

    def start(self):
        servers = "".join("  server %s %s:%d check\n" % (n.node_id, LOOPBACK, n.port)
                          for n in self.nodes)
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(
            "global\n  maxconn 256\n"
            "defaults\n  mode http\n  timeout connect 2s\n"
            "  timeout client 60s\n  timeout server 60s\n"
            "frontend api\n  bind %s:%d\n  default_backend nodes\n"
            "backend nodes\n  balance roundrobin\n"
            "  option httpchk GET /readyz\n  http-check expect status 200\n"
            "  default-server inter 300ms fall 2 rise 1\n%s" %
            (LOOPBACK, self.port, servers))
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)

        def up():
            try:
                socket.create_connection((LOOPBACK, self.port), 1).close()
                return True
            except OSError:
                return False
        wait_until(up, 10, "haproxy on %d" % self.port, self.proc,
                   interval=0.05)

    def end_process(self):
        _kill(self.proc)


class Front(Daemon):
    """The cluster's one API address (HAProxy), with a Daemon's client."""

    def __init__(self, port):
        self.port = port
        self.token = TOKEN


class Cluster:
    """redis-server, the nodes (max-calls each), HAProxy. `via` is a dict
    node id -> True for nodes reaching Redis through a TcpProxy."""

    def __init__(self, capacities, via_proxy=(), extra="", node_class=None):
        self.capacities = capacities
        self.node_class = node_class or Node
        self.via_proxy = set(via_proxy)
        self.extra = extra
        self.redis = None
        self.nodes = {}
        self.proxies = {}
        self.haproxy = None
        self.front = None

    def __enter__(self):
        try:
            self.redis = Redis().__enter__()
            for node_id, cap in self.capacities.items():
                port = self.redis.port
                if node_id in self.via_proxy:
                    self.proxies[node_id] = TcpProxy(port).__enter__()
                    port = self.proxies[node_id].port
                self.nodes[node_id] = self.node_class(node_id, port, cap,
                                                      self.extra).__enter__()
            self.haproxy = HAProxy(list(self.nodes.values())).__enter__()
            self.front = Front(self.haproxy.port)
            # every node sees every other one (a view a second)
            wait_until(lambda: all(n.get("/readyz").json.get("clusterNodes") ==
                                   len(self.nodes) for n in self.nodes.values()),
                       5, "every node seeing every other", interval=0.05)
            self._wait_haproxy_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_haproxy_up(self):
        # HAProxy's checks take every node in once /readyz answered
        ids = set()

        def all_seen():
            r = self.front.get("/readyz")
            if r.status == 200:
                ids.add(r.json["node"])
            return ids == set(self.nodes)
        wait_until(all_seen, 10, "HAProxy sending to every node", interval=0.05)

    def owner_of(self, call_id):
        """The node whose own list has the call active."""
        for node_id, n in self.nodes.items():
            if n.proc.poll() is None:
                # as a node asks: the node's own list (else the cluster's)
                for c in n.get("/api/v1/calls",
                               headers=node_headers("GET", "/api/v1/calls")).json or []:
                    if c["callId"] == call_id and c["status"] not in (
                            "FINISH", "FAILED", "BUSY"):
                        return node_id
        return None

    def __exit__(self, *exc):
        for part in [self.haproxy] + list(self.nodes.values()) + \
                list(self.proxies.values()) + [self.redis]:
            if part is not None:
                try:
                    part.__exit__(None, None, None)
                except Exception:
                    pass
        return False

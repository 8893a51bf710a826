"""Kamailio as the cluster's one SIP address for incoming calls (issue 16,
docs/cluster.md "SIP edge").

Every component real on 127.0.0.1: kamailio with its dispatcher module over
the three nodes' SIP listeners (OPTIONS probing each second, round robin,
the next node on a 503 or no answer), redis-server, HAProxy, the nodes with
one [route:rooms] rule and `[cluster] sip-edge` (their state set through
kamailio's JSON-RPC: active once joined, disabled while draining), SIPp
callers playing tones, nginx-rtmp.
"""

import json
import re
import sys
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon import NginxRtmp, pull_rtmp, dominant_frequency, free_port  # noqa: E402
import peers  # noqa: E402  (on the path daemon.py sets)
from daemon import LOOPBACK, wait_until  # noqa: E402
from cluster import Cluster, Node, listening_on  # noqa: E402
from callers import caller, invite_answers  # noqa: E402


class KamailioDispatcher(peers.KamailioPeer):
    """kamailio on udp `port`: every new INVITE to a node of `nodes`
    ({id: SIP port}) by its dispatcher (set 1, round robin); a 503 or no
    answer marks that node inactive and tries the next; in-dialog requests
    go by their request URI (the node's or the caller's Contact). JSON-RPC
    on http://127.0.0.1:<rpc_port>/RPC. Logged: S2R-TO|<node address> of
    each INVITE relayed, S2R-DOWN/S2R-UP|<address> when probing changes a
    node's state."""

    name = "kamailio-dispatcher"

    def __init__(self, nodes):
        super().__init__()
        self.nodes = nodes
        self.port = free_port()
        self.rpc_port = free_port()

    def start(self):
        (self.dir / "dispatcher.list").write_text("".join(
            "1 sip:%s:%d 0 0 node=%s\n" % (LOOPBACK, p, n) for n, p in self.nodes.items()))
        script = """request_route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    if (has_totag()) {
        if (loose_route() || uri != myself) {
            t_relay();
            exit;
        }
        sl_send_reply("404", "Not here");
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans())
            t_relay();
        exit;
    }
    if (!is_method("INVITE")) {
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }
    if (!ds_select_dst("1", "4")) {
        sl_send_reply("503", "No node");
        exit;
    }
    xlog("L_NOTICE", "S2R-TO|$du\\n");
    t_on_failure("NEXT");
    t_relay();
}

failure_route[NEXT] {
    if (t_is_canceled())
        exit;
    if (t_check_status("503") || (t_branch_timeout() && !t_branch_replied())) {
        ds_mark_dst("ip");
        if (ds_next_dst()) {
            xlog("L_NOTICE", "S2R-TO|$du\\n");
            t_on_failure("NEXT");
            t_relay();
        }
    }
}

event_route[xhttp:request] {
    if ($hu =~ "^/RPC") {
        jsonrpc_dispatch();
        exit;
    }
    xhttp_reply("404", "Not Found", "text/plain", "");
}

event_route[dispatcher:dst-down] {
    xlog("L_NOTICE", "S2R-DOWN|$ru\\n");
}

event_route[dispatcher:dst-up] {
    xlog("L_NOTICE", "S2R-UP|$ru\\n");
}
"""
        config = peers.kamailio_config(
            ["udp:%s:%d" % (LOOPBACK, self.port), "tcp:%s:%d" % (LOOPBACK, self.rpc_port)],
            script,
            settings=["fork=yes", "children=1", "tcp_children=1", "disable_sctp=yes"],
            modules=["xhttp", "jsonrpcs", "dispatcher"],
            modparams=[("tm", "fr_timer", 1000),
                       ("jsonrpcs", "transport", 1),
                       ("dispatcher", "list_file", "%s/dispatcher.list" % self.dir),
                       ("dispatcher", "ds_ping_interval", 1),
                       ("dispatcher", "ds_probing_mode", 1),
                       ("dispatcher", "ds_probing_threshold", 1),
                       ("dispatcher", "ds_inactive_threshold", 1),
                       ("dispatcher", "ds_ping_from", "sip:edge@%s" % LOOPBACK)])
        # children: TCP, for the JSON-RPC, needs its own process
        self.run(config, lambda: self.rpc_port in peers._bound_ports("tcp") and
                 self.port in peers._bound_ports("udp"), children=True)

    @property
    def rpc_url(self):
        return "http://%s:%d/RPC" % (LOOPBACK, self.rpc_port)

    def rpc(self, method, *params):
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params),
                           "id": 1}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.rpc_url, data=body),
                                    timeout=5) as r:
            return json.loads(r.read())["result"]

    def states(self):
        """{node id: dispatcher flags} ("AP": active, "DX": disabled, "IP":
        inactive and probing)."""
        out = {}
        for t in self.rpc("dispatcher.list")["RECORDS"][0]["SET"]["TARGETS"]:
            port = int(t["DEST"]["URI"].rsplit(":", 1)[1])
            out[[n for n, p in self.nodes.items() if p == port][0]] = t["DEST"]["FLAGS"]
        return out


def sip_nodes(ports, edge, nginx):
    """A Node class whose nodes listen for SIP on ports[id], take calls to
    room* (published as the called user's stream) and tell `edge` their
    state."""

    class SipNode(Node):
        def __init__(self, node_id, redis_port, max_calls, extra):
            more = ("sip-edge=%s\nsip-edge-address=sip:%s:%d\n"
                    "[sip]\nlisten=udp:%s:%d\n"
                    "[route:rooms]\nuser=room*\nrtmpUrl=rtmp://%s:%d/live\n"
                    "rtmpStream={user}\n" % (edge.rpc_url, LOOPBACK, ports[node_id],
                                             LOOPBACK, ports[node_id], LOOPBACK,
                                             nginx.port))
            super().__init__(node_id, redis_port, max_calls, extra + more)
    return SipNode


def sent_key(call):
    """The caller's From user (each caller is named after its room)."""
    m = re.search(r"sips?:([^@;>]+)@", call.get("caller") or "")
    return m.group(1) if m else None


class ClusterSipEdgeTest(unittest.TestCase):

    def calls_in(self, cl, users):
        """{called user: node} of the incoming calls to `users` established."""
        def got():
            calls = cl.nodes["a"].get("/api/v1/calls").json or []
            # the called user is the stream's name ({user}): masked in the
            # call's JSON, and so is a header that holds it: each caller is
            # named after its room in From (from_user=user)
            return {sent_key(c): c["node"] for c in calls
                    if c.get("direction") == "incoming" and sent_key(c) in users
                    and c["status"] == "ESTABLISHED"}
        wait_until(lambda: len(got()) == len(users), 15,
                   "incoming calls to %s established" % sorted(users))
        return got()

    def assertTone(self, nginx, stream, hz, tmp):
        wav = Path(tmp) / ("%s.wav" % stream)
        r = pull_rtmp(nginx.url(stream=stream), 2, wav)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence on %s" % stream)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03)

    def test_kamailio_spreads_calls_and_takes_out_draining_and_dead_nodes(self):
        ports = {n: free_port() for n in "abc"}
        callers = []
        with NginxRtmp() as nginx, KamailioDispatcher(ports) as edge, \
                Cluster({"a": 6, "b": 3, "c": 3},
                        node_class=sip_nodes(ports, edge, nginx)) as cl:
            try:
                for n in cl.nodes.values():
                    n.wait_log("SIP edge: this node's state is 'a'", 5)
                self.assertEqual(set(edge.states().values()), {"AP"}, edge.report())

                def call(user, hz, seconds=20):
                    c = caller(edge.port, user, from_user=user, duration_ms=seconds * 1000,
                               tones={"tone.wav": hz}, timeout=seconds + 20)
                    c.__enter__()
                    callers.append(c)
                    return c

                # round robin: one call on each node, each caller's tone on
                # its own stream
                for i, hz in ((1, 500), (2, 700), (3, 900)):
                    call("room-%d" % i, hz)
                first = self.calls_in(cl, {"room-1", "room-2", "room-3"})
                self.assertEqual(sorted(first.values()), ["a", "b", "c"], edge.report())
                self.assertTone(nginx, "room-2", 700, edge.dir)

                # b drains: disabled in the dispatcher, keeps its call
                b, c = cl.nodes["b"], cl.nodes["c"]
                b.proc.send_signal(15)
                b.wait_log("SIP edge: this node's state is 'd'", 5)
                self.assertEqual(edge.states()["b"], "DX", edge.report())
                for i in (4, 5, 6):
                    call("room-%d" % i, 600)
                drained = self.calls_in(cl, {"room-4", "room-5", "room-6"})
                self.assertNotIn("b", drained.values(), edge.report())
                self.assertEqual(b.get("/readyz").status, 503)
                self.assertEqual(b.active(), 1)

                # c killed: its OPTIONS go unanswered, probing takes it out
                c.kill9()
                wait_until(lambda: "S2R-DOWN|sip:%s:%d" % (LOOPBACK, ports["c"])
                           in edge.output(), 5, "c marked down by probing")
                for i in (7, 8):
                    call("room-%d" % i, 800)
                after = self.calls_in(cl, {"room-7", "room-8"})
                self.assertEqual(set(after.values()), {"a"}, edge.report())
                self.assertTone(nginx, "room-8", 800, edge.dir)
                # the cluster reports c's incoming call lost
                lost = [u for u, n in first.items() if n == "c"][0]
                wait_until(lambda: any(
                    sent_key(x) == lost and x.get("reason") == "node_lost"
                    for x in cl.nodes["a"].get("/api/v1/calls").json), 8,
                    "node_lost of " + lost)
            finally:
                for s in callers:
                    s.close()
                for n in cl.nodes.values():
                    if n.proc.poll() not in (None, -9):
                        print("node %s exited %s:\n%s" % (n.node_id, n.proc.poll(),
                                                          n.log()[-3000:]))

    def test_an_api_route_made_on_one_node_takes_calls_on_every_node(self):
        # issue 16 over issue 14: POST /api/v1/routes through node a, a
        # caller through node b's own listener lands on the route's stream
        # with its tone; listed and deleted through any node; the route's
        # password in Redis only sealed
        from test_cluster_records import redis_dump
        ports = {n: free_port() for n in "abc"}

        with NginxRtmp() as nginx, \
                Cluster({"a": 2, "b": 2, "c": 2}, node_class=listening_on(ports)) as cl:
            a, b, c = (cl.nodes[n] for n in "abc")
            r = a.post("/api/v1/routes", {
                "user": "room77", "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "in-room77", "sipLogin": "alice",
                "sipPassword": "route-secret-77"})
            self.assertEqual(r.status, 201, r)
            rid = r.json["id"]
            self.assertNotIn("route-secret-77", str(r.json))
            # the same route, read through any node
            for n in (b, c, cl.front):
                got = n.get("/api/v1/routes")
                self.assertEqual(got.status, 200, got)
                self.assertEqual([x["id"] for x in got.json["routes"]], [rid])
                one = n.get("/api/v1/routes/" + rid)
                self.assertEqual((one.status, one.json["user"], one.json["authenticated"]),
                                 (200, "room77", True), one)
            # a caller through b's listener, with the route's credentials
            with a.events() as ev, \
                    caller(ports["b"], "room77", duration_ms=8000,
                           extra=["-au", "alice", "-ap", "route-secret-77"],
                           tones={"tone.wav": 750}, timeout=40) as uac:
                call = ev.wait(lambda e: e.get("calledUser") == "room77" and
                               e.get("status") == "ESTABLISHED", 20, "room77 up")
                self.assertEqual((call["node"], call["route"]), ("b", rid))
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertTone(nginx, "in-room77", 750, cl.redis.dir)
                self.assertEqual(uac.wait(40), 0, uac.report())
                ev.wait_call(call["callId"], status="FINISH")
            # in Redis the password is sealed, the route there
            dump = redis_dump(cl.redis)
            self.assertIn("s2r:routes", dump)
            self.assertIn(rid, dump["s2r:routes"])
            for key, text in dump.items():
                self.assertNotIn("route-secret-77", text, key)
            for n in cl.nodes.values():
                self.assertNotIn("route-secret-77", n.log())
            # deleted through c: gone from every node, b's listener has no
            # route for room77 any more
            self.assertEqual(c.delete("/api/v1/routes/" + rid).status, 204)
            self.assertEqual(a.delete("/api/v1/routes/" + rid).status, 404)
            for n in (a, b):
                self.assertEqual(n.get("/api/v1/routes").json["routes"], [])
                self.assertEqual(n.get("/api/v1/routes/" + rid).status, 404)
            with caller(ports["b"], "room77", timeout=30) as uac:
                self.assertEqual(uac.wait(30), 0, uac.report())
                self.assertEqual(invite_answers(uac), [180, 404], uac.report())


if __name__ == "__main__":
    unittest.main()

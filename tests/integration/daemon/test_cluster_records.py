"""What a cluster keeps in Redis, read with redis-cli as the ACL user.

docs/cluster.md, Secrets: the request bodies a cluster keeps (a call's, an
API route's) are sealed whole under [cluster] secret-key, which a node needs
to start: no SIP password, no RTMP stream key in clear in any s2r:* value
(records, routes, the event stream, node sets, leases), save the call's
public JSON (below).
"""

import os
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import Sipp  # noqa: E402
from cluster import Cluster, Node, REDIS_USER, REDIS_PASSWORD, LOOPBACK  # noqa: E402
from cluster import Redis  # noqa: E402

PASSWORD = "sip-pw-not-in-redis"
STREAM = "stream-key-not-in-redis"
ROUTE_PASSWORD = "route-pw-not-in-redis"
ROUTE_STREAM = "route-stream-key-not-in-redis"
SECRETS = (PASSWORD, STREAM, ROUTE_PASSWORD, ROUTE_STREAM)


def redis_cli(redis, *args):
    """One command through redis-cli as the cluster's ACL user (password in
    the environment, not on the command line); its output lines."""
    env = dict(os.environ, REDISCLI_AUTH=REDIS_PASSWORD)
    res = subprocess.run(["redis-cli", "-h", LOOPBACK, "-p", str(redis.port),
                          "--user", REDIS_USER, "--no-auth-warning", "--raw"]
                         + [str(a) for a in args],
                         env=env, capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


def live_keys(redis):
    """(key, type) of every cluster key in Redis; one expired or deleted
    between KEYS and TYPE (the nodes go on meanwhile: TYPE says "none") is
    left out."""
    for key in redis_cli(redis, "KEYS", "s2r:*"):
        kind = redis_cli(redis, "TYPE", key)[0]
        if kind != "none":
            yield key, kind


def redis_values(redis):
    """Every value the cluster has in Redis: (key, field, text), field the
    hash field or stream entry field, else None."""
    out = []
    for key, kind in live_keys(redis):
        if kind == "hash":
            for field in redis_cli(redis, "HKEYS", key):
                out.append((key, field, "\n".join(
                    redis_cli(redis, "HGET", key, field))))
        elif kind == "stream":
            lines = redis_cli(redis, "XRANGE", key, "-", "+")
            # --raw: id, then field and value lines
            i = 0
            while i < len(lines):
                if lines[i] == "data" and i + 1 < len(lines):
                    out.append((key, "data", lines[i + 1]))
                    i += 2
                else:
                    out.append((key, None, lines[i]))
                    i += 1
        else:
            out.append((key, None, redis_dump_one(redis, key, kind)))
    return out


def redis_dump_one(redis, key, kind):
    cmd = {"string": ("GET", key), "set": ("SMEMBERS", key),
           "list": ("LRANGE", key, 0, -1),
           "zset": ("ZRANGE", key, 0, -1, "WITHSCORES")}[kind]
    return "\n".join(redis_cli(redis, *cmd))


def redis_dump(redis):
    """Everything the cluster has in Redis, as text, key by key."""
    out = {}
    for key, kind in live_keys(redis):
        cmd = {"string": ("GET", key), "hash": ("HGETALL", key),
               "set": ("SMEMBERS", key), "stream": ("XRANGE", key, "-", "+"),
               "list": ("LRANGE", key, 0, -1),
               "zset": ("ZRANGE", key, 0, -1, "WITHSCORES")}[kind]
        out[key] = "\n".join(redis_cli(redis, *cmd))
    return out


class ClusterRecordsTest(unittest.TestCase):

    def stored(self):
        """A ringing call with a SIP password and a stream key, placed
        through HAProxy, and an API route with both; the call record's
        `body`, the route's stored value and every value in Redis, during
        the call and after it."""
        with Cluster({"a": 2, "b": 2, "c": 2}) as cl, \
                Sipp("no_answer_cancel.xml") as sipp:
            r = cl.front.post("/api/v1/routes", {
                "user": "room88", "rtmpUrl": "rtmp://127.0.0.1:1/" + ROUTE_STREAM + "-app",
                "rtmpStream": ROUTE_STREAM, "sipLogin": "bob",
                "sipPassword": ROUTE_PASSWORD})
            self.assertEqual(r.status, 201, r)
            for secret in SECRETS:
                self.assertNotIn(secret, r.text)
            with cl.nodes["a"].events() as ev:
                r = cl.front.post("/api/v1/calls", {
                    "callee": sipp.uri(), "callId": "sealed-call",
                    "rtmpUrl": "rtmp://127.0.0.1:1/live", "rtmpStream": STREAM,
                    "destinations": [{"rtmpUrl": "rtmp://127.0.0.1:1/live2",
                                      "rtmpStream": STREAM + "-2"}],
                    "sipLogin": "alice", "sipPassword": PASSWORD, "restart": True})
                self.assertEqual(r.status, 201, r)
                self.assertNotIn(PASSWORD, r.text)
                # the record and its first event are one script: with the
                # event in the stream the record is there
                ev.wait_call("sealed-call", status="TRYING")
                body = redis_cli(cl.redis, "HGET", "s2r:call:sealed-call", "body")[0]
                route = redis_cli(cl.redis, "HVALS", "s2r:routes")[0]
                during = redis_values(cl.redis)
                r = cl.front.delete("/api/v1/calls/sealed-call")
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call("sealed-call", status="FINISH")
            self.assertEqual(sipp.wait(), 0, sipp.report())
            # after the end too
            after = redis_values(cl.redis)
            for n in cl.nodes.values():
                for secret in (PASSWORD, ROUTE_PASSWORD, REDIS_PASSWORD):
                    self.assertNotIn(secret, n.log())
        return body, route, during, after

    def test_the_request_bodies_are_sealed_whole_in_redis(self):
        body, route, during, after = self.stored()
        self.assertTrue(body.startswith("s2r-sealed:"), body)
        self.assertGreater(len(body), len("s2r-sealed:") + 100)
        seq, _, sealed_route = route.partition(" ")
        self.assertTrue(seq.isdigit(), route)
        self.assertTrue(sealed_route.startswith("s2r-sealed:"), route)
        self.assertIn("s2r:call:sealed-call", [k for k, _, _ in during])
        self.assertIn("s2r:events", [k for k, _, _ in during])
        self.assertIn("s2r:routes", [k for k, _, _ in during])
        for values in (during, after):
            for key, field, text in values:
                self.assertNotIn(PASSWORD, text, (key, field))
                self.assertNotIn(ROUTE_PASSWORD, text, (key, field))
                self.assertNotIn(ROUTE_STREAM, text, (key, field))
                self.assertNotIn(ROUTE_STREAM, key)
                self.assertNotIn(STREAM, key)
                # the call's public JSON (GET /api/v1/calls, the events:
                # rtmpUrl, rtmpStream) is kept as the API shows it, in the
                # record's `json` and the stream's `data` (docs/cluster.md,
                # Secrets): the stream key nowhere else
                if (key.startswith("s2r:call:") and field == "json") or \
                        (key == "s2r:events" and field == "data"):
                    continue
                self.assertNotIn(STREAM, text, (key, field))

    def test_without_a_secret_key_a_node_does_not_start(self):
        # an empty secret-key (the last one in the group wins): no key
        with Redis() as redis:
            n = Node("a", redis.port, extra="secret-key=\n")
            try:
                with self.assertRaises(Exception):
                    n.start()
                self.assertEqual(n.proc.wait(10), 2)
                self.assertIn("[cluster] secret-key: required", n.log())
            finally:
                n.end_process()


if __name__ == "__main__":
    unittest.main()

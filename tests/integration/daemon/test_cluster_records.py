"""What a cluster keeps in Redis, read with redis-cli as the ACL user.

docs/cluster.md, Secrets: a call's SIP password is sealed in its record when
the nodes have a [cluster] secret-key, left out when they have none, and in
clear nowhere in Redis (records, the event stream, node sets, leases).
"""

import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import Sipp  # noqa: E402
from cluster import Cluster, REDIS_USER, REDIS_PASSWORD, LOOPBACK  # noqa: E402

PASSWORD = "sip-pw-not-in-redis"


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


def redis_dump(redis):
    """Everything the cluster has in Redis, as text, key by key."""
    out = {}
    for key in redis_cli(redis, "KEYS", "s2r:*"):
        kind = redis_cli(redis, "TYPE", key)[0]
        cmd = {"string": ("GET", key), "hash": ("HGETALL", key),
               "set": ("SMEMBERS", key), "stream": ("XRANGE", key, "-", "+"),
               "list": ("LRANGE", key, 0, -1),
               "zset": ("ZRANGE", key, 0, -1, "WITHSCORES")}[kind]
        out[key] = "\n".join(redis_cli(redis, *cmd))
    return out


class ClusterRecordsTest(unittest.TestCase):

    def stored_body(self, key_config):
        """A ringing call with a SIP password, placed through HAProxy; its
        record's `body` (JSON) and a dump of every key."""
        with Cluster({"a": 2, "b": 2, "c": 2}, extra=key_config) as cl, \
                Sipp("no_answer_cancel.xml") as sipp:
            with cl.nodes["a"].events() as ev:
                r = cl.front.post("/api/v1/calls", {
                    "callee": sipp.uri(), "callId": "sealed-call",
                    "rtmpUrl": "rtmp://127.0.0.1:1/live", "rtmpStream": "room",
                    "sipLogin": "alice", "sipPassword": PASSWORD, "restart": True})
                self.assertEqual(r.status, 201, r)
                self.assertNotIn(PASSWORD, r.text)
                # the record and its first event are one script: with the
                # event in the stream the record is there
                ev.wait_call("sealed-call", status="TRYING")
                body = json.loads(redis_cli(cl.redis, "HGET", "s2r:call:sealed-call",
                                            "body")[0])
                dump = redis_dump(cl.redis)
                r = cl.front.delete("/api/v1/calls/sealed-call")
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call("sealed-call", status="FINISH")
            self.assertEqual(sipp.wait(), 0, sipp.report())
            # after the end too
            dump_after = redis_dump(cl.redis)
            for n in cl.nodes.values():
                self.assertNotIn(PASSWORD, n.log())
                self.assertNotIn(REDIS_PASSWORD, n.log())
        return body, dump, dump_after

    def assertNowhereInClear(self, *dumps):
        for dump in dumps:
            self.assertIn("s2r:call:sealed-call", dump)
            self.assertIn("s2r:events", dump)
            for key, text in dump.items():
                self.assertNotIn(PASSWORD, text, key)

    def test_with_a_secret_key_the_sip_password_is_sealed_in_redis(self):
        body, dump, after = self.stored_body("")     # Node's secret-key
        self.assertEqual(body["sipLogin"], "alice")
        self.assertTrue(body["sipPassword"].startswith("s2r-sealed:"), body)
        self.assertGreater(len(body["sipPassword"]), len("s2r-sealed:") + 40)
        self.assertNowhereInClear(dump, after)

    def test_without_a_secret_key_the_sip_password_is_not_in_redis(self):
        # an empty secret-key (the last one in the group wins): no key
        body, dump, after = self.stored_body("secret-key=\n")
        self.assertEqual(body["sipLogin"], "alice")
        self.assertNotIn("sipPassword", body)
        self.assertNowhereInClear(dump, after)
        for text in list(dump.values()) + list(after.values()):
            self.assertNotIn("s2r-sealed:", text)


if __name__ == "__main__":
    unittest.main()

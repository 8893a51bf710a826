#!/usr/bin/python3
"""sip2rtmp cluster bench: three nodes (--nodes) + Redis + HAProxy beside one node.

A command, not a test (bench/RESULTS.md, docs/cluster.md); `bench/run.sh --cluster`.  Everything on
127.0.0.1, every process stopped at the end: redis-server (an ACL user),
three sip2rtmpd nodes with a [cluster] group, HAProxy in front of them
(health checks on /readyz, as docs/cluster.md), and beside them one
sip2rtmpd without [cluster]; the same SIPp callees (bench/scenarios/
uas_pcmu.xml) and nginx-rtmp serve both.

Each round (--repeat): --calls calls to each side, POSTed interleaved (one to
the single node, one to the cluster through HAProxy, at --rate per second
each, the order of each pair swapped every round), so both share the noise
of the shared machine; then both hold their calls through one steady window
(--window) measured on both at once; then every call is hung up (DELETE, the
cluster's through HAProxy).  Figures, ratios within one round:
  set-up    REST request sent -> INVITE at the callee (SIPp's -trace_msg),
            p50/p99 of each side, and cluster / single;
  CPU       utime+stime per call over the window (--nodes 1: one node in
            cluster mode with as many calls as the single node, what cluster
            mode costs; 3: also three processes sharing the machine's cores):
            the nodes against the single node (cluster / single), and with
            Redis and HAProxy added;
            also per call above an idle window taken before the calls;
  Redis     INFO commandstats deltas: per call set-up (POST -> every stream
            publishing), per call end (DELETE -> every node at 0 calls) and
            per second per held call, each minus the idle rate of the cluster
            (leases, views, blocking XREADs) measured before the calls.
"""

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import bench  # noqa: E402
from bench import peers, log, LOOPBACK, pct  # noqa: E402
import cluster as tcluster  # noqa: E402  (tests' Redis and HAProxy drivers)

TOKEN = "bench-token"
# commands the bench itself sends to Redis: not the cluster's
OWN_COMMANDS = {"info", "auth", "ping", "hello"}


class Gateway:
    """One sip2rtmpd; `node_id` None: no [cluster]."""

    def __init__(self, args, workdir, name, node_id=None, redis_port=None):
        self.args, self.name, self.node_id = args, name, node_id
        self.port = peers.free_port()
        self.conf = workdir / ("%s.conf" % name)
        self.logpath = workdir / ("%s.log" % name)
        text = ("[server]\ntoken=%s\nmax-calls=%d\nkeep-finished=60\n[pipeline]\ndir=%s\n"
                "[admission]\nenabled=false\n" % (TOKEN, args.calls + 10,
                                                  args.pipelines))
        if node_id:
            text += ("[cluster]\nnode-id=%s\nredis=%s:%d\nredis-user=%s\n"
                     "redis-password=%s\nsecret-key=bench-cluster-key\n" %
                     (node_id, LOOPBACK, redis_port, tcluster.REDIS_USER,
                      tcluster.REDIS_PASSWORD))
        self.conf.write_text(text)
        self.proc = None

    def start(self):
        logf = open(self.logpath, "wb")
        env = {"GST_PLUGIN_PATH": str(self.args.build / "plugins")}
        if self.node_id and self.args.node_media_threads:
            env["SIP2RTMP_MEDIA_THREADS"] = str(self.args.node_media_threads)
        self.proc = subprocess.Popen(
            [str(self.args.build / "controller" / "sip2rtmpd"),
             "--listen", "%s:%d" % (LOOPBACK, self.port), "--config", str(self.conf)],
            env=peers.gst_env(env),
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        peers.wait_until(lambda: self.port in peers._bound_ports("tcp"), 10,
                         "sip2rtmpd %s" % self.name, self.proc, self.logpath)
        return self

    def readyz(self):
        try:
            with urllib.request.urlopen("http://%s:%d/readyz" % (LOOPBACK, self.port),
                                        timeout=5) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")
        except OSError:
            return {}


def request(port, method, path, body=None):
    rq = urllib.request.Request(
        "http://%s:%d%s" % (LOOPBACK, port, path), method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def commandstats(redis_port):
    """{command: calls} from INFO commandstats, as the cluster's ACL user."""
    with socket.create_connection((LOOPBACK, redis_port), 5) as s:
        f = s.makefile("rwb")
        for cmd in (("AUTH", tcluster.REDIS_USER, tcluster.REDIS_PASSWORD),
                    ("INFO", "commandstats")):
            f.write(("*%d\r\n" % len(cmd)).encode())
            for a in cmd:
                f.write(b"$%d\r\n%s\r\n" % (len(a), a.encode()))
        f.flush()
        f.readline()
        n = int(f.readline()[1:])
        text = f.read(n + 2).decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            calls = int(rest.split(",")[0].split("=")[1])
            if name.split("|")[0] not in OWN_COMMANDS:
                out[name] = calls
    return out


def stats_delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b) if b.get(k, 0) != a.get(k, 0)}


class RedisMeter:
    """Redis commands between start() and stop(), minus `idle` (commands per
    second) times the time; `evals` the EVAL calls, `commands` all the rest
    (those run by the scripts included)."""

    def __init__(self, port, idle=None):
        self.port, self.idle = port, idle or {}

    def start(self):
        self.t0, self.s0 = time.monotonic(), commandstats(self.port)
        return self

    def stop(self):
        self.wall = time.monotonic() - self.t0
        d = stats_delta(self.s0, commandstats(self.port))
        self.by_cmd = {k: d.get(k, 0) - self.idle.get(k, 0) * self.wall
                       for k in set(d) | set(self.idle)}
        self.evals = sum(v for k, v in self.by_cmd.items() if k.startswith("eval"))
        self.total = sum(self.by_cmd.values())
        return self

    def rates(self):
        return {k: v / self.wall for k, v in self.by_cmd.items()}


def run_round(args, r, single, nodes, front_port, redis, ng, sipps, poller, idle_redis):
    n = args.calls
    res = {"round": r}
    sides = {"single": single.port, "cluster": front_port}
    order = ("single", "cluster") if r % 2 == 0 else ("cluster", "single")
    req_t = {}          # stream name -> time the POST was sent
    http_ms = {"single": [], "cluster": []}
    ids = {"single": [], "cluster": []}
    errors = 0
    node_pids = [g.proc.pid for g in nodes]
    # idle window: no call anywhere
    idle = {"single": bench.CpuMeter([single.proc.pid]), "nodes": bench.CpuMeter(node_pids),
            "redis": bench.CpuMeter([redis.proc.pid])}
    for m in idle.values():
        m.start()
    time.sleep(args.idle)
    res["idle_cores"] = {k: m.stop() for k, m in idle.items()}
    # set-up
    setup_redis = RedisMeter(redis.port, idle_redis).start()
    t0 = time.time()
    for i in range(n):
        for j, side in enumerate(order):
            due = t0 + (i + j / 2.0) / args.rate
            if due > time.time():
                time.sleep(due - time.time())
            s = sipps[i // args.calls_per_sipp]
            name = "%s%d-%d" % (side[0], r, i)
            body = {"callee": "sip:%s@%s" % (name, s.host_port),
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, ng.port),
                    "rtmpStream": name, "hasAudio": False, "hasVideo": False}
            req_t[name] = time.time()
            code, out = request(sides[side], "POST", "/api/v1/calls", body)
            http_ms[side].append((time.time() - req_t[name]) * 1000)
            if code == 201:
                ids[side].append(out["callId"])
            else:
                errors += 1
                log("POST %s: %s %s" % (name, code, out))
    res["post_errors"] = errors
    deadline = time.time() + 30
    while time.time() < deadline and not all(k in poller.first_media for k in req_t):
        time.sleep(0.1)
    res["streams_up"] = sum(1 for k in req_t if k in poller.first_media)
    # every PUBLISHING event written: the last stream up, then a view's second
    time.sleep(1.0)
    setup_redis.stop()
    res["redis_setup"] = setup_redis.by_cmd
    res["redis_setup_evals_per_call"] = setup_redis.evals / max(1, len(ids["cluster"]))
    res["redis_setup_ops_per_call"] = setup_redis.total / max(1, len(ids["cluster"]))
    res["per_node"] = {g.node_id: g.readyz().get("activeCalls") for g in nodes}
    # steady window, both sides at once
    time.sleep(args.settle)
    meters = {"single": bench.CpuMeter([single.proc.pid]), "nodes": bench.CpuMeter(node_pids),
              "redis": bench.CpuMeter([redis.proc.pid]),
              "haproxy": bench.CpuMeter([args.haproxy_pid])}
    held_redis = RedisMeter(redis.port, idle_redis).start()
    for m in meters.values():
        m.start()
    sys0 = bench.system_busy()
    time.sleep(args.window)
    cores = {k: m.stop() for k, m in meters.items()}
    sys1 = bench.system_busy()
    held_redis.stop()
    res["machine_busy_cores"] = (sys1[0] - sys0[0]) / (sys1[1] - sys0[1]) * os.cpu_count()
    res["cores"] = cores
    nc, ns = max(1, len(ids["cluster"])), max(1, len(ids["single"]))
    res["redis_held_ops_per_s_per_call"] = held_redis.total / held_redis.wall / nc
    res["redis_held"] = held_redis.rates()
    single_pc = cores["single"] / ns
    nodes_pc = cores["nodes"] / nc
    all_pc = (cores["nodes"] + cores["redis"] + cores["haproxy"]) / nc
    res["cpu_pct_per_call"] = {"single": 100 * single_pc, "nodes": 100 * nodes_pc,
                               "cluster_all": 100 * all_pc}
    res["cpu_ratio_nodes"] = nodes_pc / single_pc
    res["cpu_ratio_all"] = all_pc / single_pc
    ic = res["idle_cores"]
    res["cpu_marginal_ratio"] = ((cores["nodes"] - ic["nodes"]) / nc) / \
        ((cores["single"] - ic["single"]) / ns)
    # set-up times
    invites = {}
    for s in sipps:
        invites.update(bench.parse_sipp_invites(s.messages()))
    for side in sides:
        to_inv = [(invites[k] - req_t[k]) * 1000 for k in req_t
                  if k.startswith(side[0] + str(r) + "-") and k in invites]
        res["invite_ms_" + side] = [round(x, 2) for x in to_inv]
        res["invite_p50_" + side] = pct(to_inv, 50)
        res["invite_p99_" + side] = pct(to_inv, 99)
        res["http_p50_" + side] = pct(http_ms[side], 50)
    # hang up
    end_redis = RedisMeter(redis.port, idle_redis).start()
    for side in order:
        for cid in ids[side]:
            code, out = request(sides[side], "DELETE", "/api/v1/calls/" + cid)
            if code not in (200, 202):
                log("DELETE %s: %s %s" % (cid, code, out))
    peers.wait_until(lambda: all(g.readyz().get("activeCalls") == 0
                                 for g in nodes + [single]), 30, "every call ended")
    time.sleep(1.0)   # the last FINISH events written
    end_redis.stop()
    res["redis_end_ops_per_call"] = end_redis.total / nc
    res["redis_end_evals_per_call"] = end_redis.evals / nc
    return res


def run(args, workdir):
    with bench.Nginx() as ng, tcluster.Redis() as redis:
        sipps, gws = [], []
        poller = bench.StatPoller(ng, args.poll_interval)
        hap = None
        try:
            for _ in range(math.ceil(args.calls * 2 / args.calls_per_sipp)):
                s = bench.BenchSipp(str(BENCH_DIR / "scenarios" / "uas_pcmu.xml"),
                                    timeout=3600)
                s.__enter__()
                sipps.append(s)
            single = Gateway(args, workdir, "single").start()
            gws.append(single)
            nodes = []
            for nid in "abcdefgh"[:args.nodes]:
                g = Gateway(args, workdir, "node-" + nid, nid, redis.port).start()
                gws.append(g)
                nodes.append(g)
            peers.wait_until(lambda: all(g.readyz().get("clusterNodes") == args.nodes
                                         for g in nodes),
                             15, "every node seeing every other")
            hap = tcluster.HAProxy(nodes).__enter__()
            args.haproxy_pid = hap.proc.pid
            seen = set()

            def all_seen():
                code, out = request(hap.port, "GET", "/readyz")
                seen.add(out.get("node"))
                return seen >= {g.node_id for g in nodes}
            peers.wait_until(all_seen, 15, "HAProxy sending to every node")
            poller.start()
            # the cluster's own Redis traffic with no call (leases, views, XREAD)
            m = RedisMeter(redis.port).start()
            time.sleep(args.idle)
            idle_redis = m.stop().rates()
            log("idle Redis: %.1f commands/s (%s)" % (
                sum(idle_redis.values()),
                ", ".join("%s %.1f" % kv for kv in sorted(idle_redis.items()))))
            rounds = []
            for r in range(args.repeat):
                res = run_round(args, r, single, nodes, hap.port, redis, ng, sipps,
                                poller, idle_redis)
                log("round %d: set-up INVITE p50/p99 single %.1f/%.1f cluster %.1f/%.1f ms; "
                    "CPU/call cluster/single %.2f; Redis %.1f ops/set-up" % (
                        r, res["invite_p50_single"], res["invite_p99_single"],
                        res["invite_p50_cluster"], res["invite_p99_cluster"],
                        res["cpu_ratio_nodes"], res["redis_setup_ops_per_call"]))
                rounds.append(res)
            return {"idle_redis_per_s": idle_redis, "rounds": rounds,
                    "machine": bench.machine()}
        finally:
            poller.stop()
            if hap:
                hap.__exit__()
            for g in gws:
                if g.proc and g.proc.poll() is None:
                    bench._kill(g.proc, signal.SIGTERM, 10)
                    bench._kill(g.proc, signal.SIGKILL)
            for s in sipps:
                s.close()


def med(values):
    values = [v for v in values if v == v]
    return sorted(values)[len(values) // 2] if values else float("nan")


def report(out, args):
    R = out["rounds"]

    def m(key, sub=None):
        return med([(x[key][sub] if sub else x[key]) for x in R])

    def rng(key):
        v = [x[key] for x in R]
        return "%.2f (%.2f-%.2f)" % (med(v), min(v), max(v))
    pool = {s: sum((x["invite_ms_" + s] for x in R), []) for s in ("single", "cluster")}
    lines = [
        "Command: bench/run.sh --cluster --calls %d --rate %g --repeat %d --window %g%s%s" % (
            args.calls, args.rate, args.repeat, args.window,
            " --nodes %d" % args.nodes if args.nodes != 3 else "",
            " --node-media-threads %d" % args.node_media_threads
            if args.node_media_threads else ""),
        "",
        "Machine busy during the windows: %s cores (of %d)" % (
            ", ".join("%.2f" % x["machine_busy_cores"] for x in R), os.cpu_count()),
        "Calls per node at the window (medians): " + ", ".join(
            "%s %s" % (k, med([x["per_node"][k] for x in R]))
            for k in "abcdefgh"[:args.nodes]),
        "",
        "| figure | single node | cluster (%d node%s, HAProxy, Redis) | cluster / single, "
        "median of rounds (min-max) |" % (args.nodes, "s" if args.nodes > 1 else ""),
        "|---|---|---|---|",
        "| REST -> INVITE p50 ms (all rounds pooled) | %.2f | %.2f | %s |" % (
            pct(pool["single"], 50), pct(pool["cluster"], 50),
            rng_ratio(R, "invite_p50_cluster", "invite_p50_single")),
        "| REST -> INVITE p99 ms (all rounds pooled) | %.2f | %.2f | %s |" % (
            pct(pool["single"], 99), pct(pool["cluster"], 99),
            rng_ratio(R, "invite_p99_cluster", "invite_p99_single")),
        "| HTTP 201 round trip p50 ms | %.2f | %.2f | %s |" % (
            m("http_p50_single"), m("http_p50_cluster"),
            rng_ratio(R, "http_p50_cluster", "http_p50_single")),
        "| CPU %% of a core per call (nodes only) | %.3f | %.3f | %s |" % (
            m("cpu_pct_per_call", "single"), m("cpu_pct_per_call", "nodes"),
            rng("cpu_ratio_nodes")),
        "| CPU %% per call, Redis and HAProxy added | %.3f | %.3f | %s |" % (
            m("cpu_pct_per_call", "single"), m("cpu_pct_per_call", "cluster_all"),
            rng("cpu_ratio_all")),
        "| CPU per call above the idle processes | | | %s |" % rng("cpu_marginal_ratio"),
        "",
        "Redis (INFO commandstats, the cluster's idle rate subtracted; commands run by the "
        "scripts counted as well as the EVALs):",
        "",
        "| figure | median (min-max) |",
        "|---|---|",
        "| EVALs per call set-up (POST -> publishing) | %s |" % rng(
            "redis_setup_evals_per_call"),
        "| Redis commands per call set-up, all | %s |" % rng("redis_setup_ops_per_call"),
        "| EVALs per call end (DELETE -> ended) | %s |" % rng("redis_end_evals_per_call"),
        "| Redis commands per call end, all | %s |" % rng("redis_end_ops_per_call"),
        "| Redis commands per second per held call | %s |" % rng(
            "redis_held_ops_per_s_per_call"),
        "| the cluster idle (%d nodes: leases, views, XREAD) | %.1f commands/s |" % (
            args.nodes, sum(out["idle_redis_per_s"].values())),
        "",
        "Set-up commands by name (median round): " + ", ".join(
            "%s %.1f" % (k, med([x["redis_setup"].get(k, 0) / max(1, args.calls) for x in R]))
            for k in sorted(set().union(*(x["redis_setup"] for x in R)))
            if abs(med([x["redis_setup"].get(k, 0) for x in R])) >= 0.5 * args.calls / 10),
    ]
    return "\n".join(lines)


def rng_ratio(R, a, b):
    v = [x[a] / x[b] for x in R if x[b]]
    if not v:
        return "n/a"
    return "%.2f (%.2f-%.2f)" % (med(v), min(v), max(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cluster", action="store_true", help="(run.sh's switch; implied)")
    ap.add_argument("--calls", type=int, default=40, help="calls held by each side")
    ap.add_argument("--rate", type=float, default=20, help="new calls per second, each side")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--window", type=float, default=10, help="steady window, s")
    ap.add_argument("--idle", type=float, default=4, help="idle windows, s")
    ap.add_argument("--settle", type=float, default=2, help="wait before the window, s")
    ap.add_argument("--nodes", type=int, default=3, choices=range(1, 9),
                    help="cluster nodes on this machine (1: the cluster's own cost, the same "
                    "calls per process as the single node; 3: three processes sharing the cores)")
    ap.add_argument("--node-media-threads", type=int, default=0,
                    help="media threads of each cluster node (SIP2RTMP_MEDIA_THREADS; 0: "
                    "the daemon's default, one per core, as the single node has)")
    ap.add_argument("--calls-per-sipp", type=int, default=100)
    ap.add_argument("--poll-interval", type=float, default=0.1)
    ap.add_argument("--build", type=Path, default=bench.REPO / "build")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    args = ap.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    outdir = args.out / ("cluster-" + stamp)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sip2rtmp-bench-cluster-") as d:
        work = Path(d)
        # others edit pipelines/ while we run: measure one snapshot of it
        args.pipelines = work / "pipelines"
        import shutil
        shutil.copytree(bench.REPO / "pipelines", args.pipelines)
        try:
            out = run(args, work)
        finally:
            for f in work.glob("*.log"):
                shutil.copy(f, outdir / f.name)
    (outdir / "cluster.json").write_text(json.dumps(out, indent=1, default=str))
    text = report(out, args)
    (outdir / "cluster.md").write_text(text + "\n")
    print(text)
    bad = [x for x in out["rounds"] if x["post_errors"] or x["streams_up"] != 2 * args.calls]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

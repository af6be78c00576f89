#!/usr/bin/env python3
"""evkv as a Redis Cluster under the real cluster clients: redis-py's
RedisCluster (Debian's python3-redis 4.3.4), redis-cli -c and
redis-benchmark --cluster, with no proxy.

Six evkv nodes (three masters, three replicas) are started from one map
and one data file. redis-py reads every key with GET, with
mget_nonatomic and in pipelines, each value checked, from any node it is
first given; with read_from_replicas=True the replicas answer reads too
(their own counters say so). redis-cli -c follows -MOVED from a node
that does not hold the key, where redis-cli without -c shows the MOVED
error; redis-benchmark --cluster -t get finds the masters from CLUSTER
NODES and runs against all three.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest

import evkv_test as t
from test_redis_clients import import_redis_py

IDS = ["%040x" % (0x1111 * (i + 1)) for i in range(6)]  # masters 0-2, replicas 3-5
RANGES = ["0-5460", "5461-10922", "10923-16383"]
TIMEOUT = 60


class ClusterClientsTest(t.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.table = {f"key:{i}": f"value {i} é" for i in range(3000)}
        self.table.update({f"{{user{i % 10}}}:{i}": f"tagged {i}" for i in range(200)})
        self.data = self.path("data.json")
        with open(self.data, "w", encoding="utf-8") as f:
            json.dump(self.table, f)
        self.ports, self.nodes = t.start_on_free_ports(len(IDS), self.start_nodes)

    def start_nodes(self, ports):
        """The six nodes, from one map naming them on ports."""
        self.ports = ports
        lines = ["# three masters, each with a replica"]
        for i, (node, port) in enumerate(zip(IDS, ports)):
            if i < 3:
                lines.append(f"{node} {t.HOST}:{port}@{port + 1} master - 0 0 {i + 1} connected {RANGES[i]}")
            else:
                lines.append(f"{node} {t.HOST}:{port}@{port + 1} slave {IDS[i - 3]} 0 0 {i - 2} connected")
        self.map = self.path("nodes.conf")
        with open(self.map, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [self.start_server("--data", self.data, "--resp-port", str(port), "--threads", "1",
                                  "--cluster-config", self.map, "--cluster-myself", node)
                for node, port in zip(IDS, ports)]

    def resp_requests(self, srv):
        with srv.connect() as c:
            c.send(t.json_request({"action": "stats"}))
            return t.answer_result(c.read_answer())["resp"]["requests"]

    def test_redis_py(self):
        import_redis_py()
        from redis.cluster import ClusterNode, RedisCluster
        keys = sorted(self.table)
        for start in (0, 4):  # a master, then a replica, as the one node it is given
            rc = RedisCluster(startup_nodes=[ClusterNode(t.HOST, self.ports[start])], decode_responses=True)
            self.addCleanup(rc.close)
            self.assertEqual([rc.get(k) for k in keys], [self.table[k] for k in keys])
            for i in range(0, len(keys), 500):
                self.assertEqual(rc.mget_nonatomic(keys[i:i + 500]), [self.table[k] for k in keys[i:i + 500]])
            pipe = rc.pipeline()
            for k in keys:
                pipe.get(k)
            self.assertEqual(pipe.execute(), [self.table[k] for k in keys])
            self.assertIsNone(rc.get("no such key"))
        before = [self.resp_requests(n) for n in self.nodes[3:]]
        rc = RedisCluster(startup_nodes=[ClusterNode(t.HOST, self.ports[0])], decode_responses=True,
                          read_from_replicas=True)
        self.addCleanup(rc.close)
        self.assertEqual([rc.get(k) for k in keys], [self.table[k] for k in keys])
        after = [self.resp_requests(n) for n in self.nodes[3:]]
        for b, a in zip(before, after):
            self.assertGreater(a - b, 100, "each replica answers reads")

    def cli(self, *args):
        cli = shutil.which("redis-cli")
        self.assertIsNotNone(cli, "redis-cli is not installed (Debian's redis-tools)")
        return subprocess.run([cli, "-h", t.HOST] + list(args), capture_output=True, text=True, timeout=TIMEOUT)

    def test_redis_cli_follows_moved(self):
        for key in ("key:0", "key:1", "{user3}:3"):
            slot = int(self.cli("-p", str(self.ports[0]), "CLUSTER", "KEYSLOT", key).stdout)
            owner = next(i for i, r in enumerate(RANGES) if int(r.split("-")[0]) <= slot <= int(r.split("-")[1]))
            other = (owner + 1) % 3
            # without -c, the MOVED error; with -c, the value, from a
            # master or a replica of another master
            out = self.cli("-p", str(self.ports[other]), "GET", key)
            self.assertEqual(out.stdout.strip(), f"MOVED {slot} {t.HOST}:{self.ports[owner]}")
            for node in (other, 3 + other):
                out = self.cli("-c", "-p", str(self.ports[node]), "GET", key)
                self.assertEqual((out.returncode, out.stdout), (0, self.table[key] + "\n"))

    def test_redis_benchmark_cluster(self):
        bench = shutil.which("redis-benchmark")
        self.assertIsNotNone(bench, "redis-benchmark is not installed (Debian's redis-tools)")
        before = [self.resp_requests(n) for n in self.nodes[:3]]
        out = subprocess.run([bench, "--cluster", "-h", t.HOST, "-p", str(self.ports[0]), "-t", "get", "-n", "3000",
                              "-c", "6", "-q"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("Cluster has 3 master nodes", out.stdout)
        self.assertRegex(out.stdout, r"GET: [\d.]+ requests per second")
        after = [self.resp_requests(n) for n in self.nodes[:3]]
        for b, a in zip(before, after):
            self.assertGreater(a - b, 100, "each master answers GETs")


    def test_a_master_killed(self):
        """A master killed: its slots' keys fail, every other key is
        served. redis-py 4.3.4 (client made before the kill: made after,
        its first COMMAND may go to the dead node and fail) raises for
        each key of the dead master's slots, after about a second of
        trying to read the slot map again from the dead node, even with
        read_from_replicas=True; the replica itself still answers those
        keys to a client that says READONLY."""
        import_redis_py()
        from redis.cluster import ClusterNode, RedisCluster
        clients = [RedisCluster(startup_nodes=[ClusterNode(t.HOST, self.ports[1])], decode_responses=True,
                                read_from_replicas=rfr, cluster_error_retry_attempts=1) for rfr in (False, True)]
        for rc in clients:
            self.addCleanup(rc.close)
        dead = [k for k in sorted(self.table) if clients[0].keyslot(k) <= 5460][:4]
        alive = [k for k in sorted(self.table) if clients[0].keyslot(k) > 5460][:40]
        self.nodes[0].kill()
        for rc in clients:
            self.assertEqual([rc.get(k) for k in alive], [self.table[k] for k in alive])
            for k in dead:
                with self.assertRaises(Exception, msg=k):
                    rc.get(k)
            self.assertEqual([rc.get(k) for k in alive], [self.table[k] for k in alive])
        r = t.Resp(self.ports[3])  # the dead master's replica
        self.addCleanup(r.close)
        self.assertEqual(r.call("READONLY"), b"OK")
        self.assertEqual([r.call("GET", k).decode() for k in dead], [self.table[k] for k in dead])


RELOADED_RE = re.compile(t.LOG_PREFIX + r"reloaded: ", re.M)


class ReshardingTest(t.TempDirTestCase):
    """Slots 0-4000 move from node A to node B, by a new map (and the same
    data) on both, reloaded in the documented order: B first, then A.
    A redis-py RedisCluster client reading every key in a loop meanwhile
    gets every value, and no error: until A's reload, A still answers
    them; after it, A answers -MOVED and the client follows to B, which
    holds them since its own reload."""

    def write(self, path, text):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def map_text(self, a_slots, b_slots):
        return (f"{IDS[0]} {t.HOST}:{self.ports[0]}@{self.ports[0] + 1} master - 0 0 1 connected {a_slots}\n"
                f"{IDS[1]} {t.HOST}:{self.ports[1]}@{self.ports[1] + 1} master - 0 0 2 connected {b_slots}\n")

    def reload(self, srv, path, text, count):
        self.write(path, text)
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while len(RELOADED_RE.findall(srv.stderr())) < count:
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.01)

    def test_slots_move_without_errors(self):
        import_redis_py()
        from redis.cluster import ClusterNode, RedisCluster
        table = {f"key:{i}": f"v{i}" for i in range(2000)}
        data = self.path("data.json")
        with open(data, "w") as f:
            json.dump(table, f)
        maps = [self.path("a.conf"), self.path("b.conf")]

        def start(ports):
            self.ports = ports
            for m in maps:
                self.write(m, self.map_text("0-8191", "8192-16383"))
            return [self.start_server("--data", data, "--resp-port", str(p), "--threads", "1", "--cluster-config",
                                      m, "--cluster-myself", i) for p, m, i in zip(ports, maps, IDS)]

        self.ports, nodes = t.start_on_free_ports(2, start)
        rc = RedisCluster(startup_nodes=[ClusterNode(t.HOST, self.ports[0])], decode_responses=True)
        self.addCleanup(rc.close)
        keys = sorted(table)
        stop, errors, rounds = threading.Event(), [], [0]

        def reader():
            while not stop.is_set():
                for k in keys:
                    try:
                        v = rc.get(k)
                    except Exception as e:  # any error fails the test
                        errors.append(f"{k}: {e!r}")
                        continue
                    if v != table[k]:
                        errors.append(f"{k}: {v!r}")
                rounds[0] += 1

        th = threading.Thread(target=reader)
        th.start()
        try:
            while rounds[0] < 1:
                time.sleep(0.01)
            moved = self.map_text("4001-8191", "0-4000 8192-16383")
            self.reload(nodes[1], maps[1], moved, 1)  # B first: it holds the slots' keys
            self.reload(nodes[0], maps[0], moved, 1)  # then A, which sends them to B
            start = rounds[0]
            while rounds[0] < start + 2:
                self.assertTrue(th.is_alive())
                time.sleep(0.01)
        finally:
            stop.set()
            th.join(60)
        self.assertEqual(errors, [])
        key = next(k for k in keys if int(rc.cluster_keyslot(k)) <= 4000)
        out = subprocess.run([shutil.which("redis-cli"), "-p", str(self.ports[0]), "GET", key], capture_output=True,
                             text=True, timeout=TIMEOUT)
        self.assertEqual(out.stdout.strip(), f"MOVED {rc.cluster_keyslot(key)} {t.HOST}:{self.ports[1]}")


if __name__ == "__main__":
    t.main()

#!/usr/bin/env python3
"""evkv's own clients in a Redis Cluster: evkv-bench --cluster (RESP or the
guide protocol) and evkv-cli --cluster (the guide protocol) route each key
to its slot's master themselves, from CLUSTER SLOTS read on the node they
are given, and follow MOVED.

Three evkv masters and a replica of the first are started from one map and
one data file. evkv-bench --cluster from a master's or the replica's
address checks every answer (hits and generated misses alike, each sent to
its slot's owner) with no error and no MOVED, and each master serves its
share. A node whose map is older (slots 0-4000 still its own, where the
other nodes' map gives them to another master) sends evkv-bench keys to the
old owner: that owner answers -MOVED, and evkv-bench follows it, every
answer still right. Over the guide protocol (each node's guide port its
RESP port plus two, --guide-port-offset 2), the same, the guide's MOVED
error followed as many times as the old owner answered it. With
--read-from-replicas, the replica (after READONLY) answers a share of its
master's keys, every answer still right.

evkv-cli --cluster prints, for every key of the table and keys it lacks,
from a master's or the replica's guide port, byte for byte what plain
evkv-cli prints against one evkv node holding the whole table (its
oracle), with the same exit status; each node's guide port is its RESP
port plus two (--guide-port-offset 2). It follows the guide protocol's
MOVED error from a node with an older map the same way.
"""

import json
import re
import socket

import evkv_test as t
from test_bench import bench
from test_cli import run_cli

IDS = ["%040x" % (0x2222 * (i + 1)) for i in range(4)]  # masters 0-2, a replica of 0
RANGES = ["0-5460", "5461-10922", "10923-16383"]
# Each node's guide port is its RESP port plus this. Linux hands bind(0)
# odd ports and connect() even ones: an odd offset would land the guide
# ports among the ports of the connections being made.
GUIDE_OFFSET = 2
MOVED_RE = re.compile(r"cluster: (\d+) MOVED answers followed")
TABLE_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s", re.M)


def map_text(ports, ranges):
    lines = ["# three masters, a replica of the first"]
    for i, (node, port) in enumerate(zip(IDS, ports)):
        if i < 3:
            lines.append(f"{node} {t.HOST}:{port}@{port + 1} master - 0 0 {i + 1} connected {ranges[i]}")
        else:
            lines.append(f"{node} {t.HOST}:{port}@{port + 1} slave {IDS[0]} 0 0 {i} connected")
    return "\n".join(lines) + "\n"


class ClusterRoutingTest(t.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.table = {f"key:{i}": f"value {i} é" for i in range(3000)}
        self.table.update({f"{{user{i % 10}}}:{i}": f"tagged {i}" for i in range(200)})
        self.data = self.path("data.json")
        with open(self.data, "w", encoding="utf-8") as f:
            json.dump(self.table, f)

    def start_nodes(self, ranges_of):
        """The four nodes; node i reads the map ranges_of(i) gives."""
        def start(ports):
            for port in ports:  # the guide ports must be free too
                with socket.socket() as s:
                    try:
                        s.bind((t.HOST, port + GUIDE_OFFSET))
                    except OSError:
                        raise AssertionError(f"port {port + GUIDE_OFFSET} in use")
            servers = []
            for i, (node, port) in enumerate(zip(IDS, ports)):
                path = self.path(f"nodes{i}.conf")
                with open(path, "w") as f:
                    f.write(map_text(ports, ranges_of(i)))
                servers.append(self.start_server("--data", self.data, "--resp-port", str(port), "--port",
                                                 str(port + GUIDE_OFFSET), "--threads", "1", "--cluster-config", path,
                                                 "--cluster-myself", node))
            return servers
        self.ports, self.nodes = t.start_on_free_ports(len(IDS), start)

    def resp_gets(self, srv):
        with srv.connect() as c:
            c.send(t.json_request({"action": "stats"}))
            return t.answer_result(c.read_answer())["resp"]["requests"]

    def moved_answers(self, srv):
        """The guide protocol's errors a node answered: here, its MOVED."""
        with srv.connect() as c:
            c.send(t.json_request({"action": "stats"}))
            return t.answer_result(c.read_answer())["errors"]["bad_request"]

    def run_bench(self, port, *args, guide=False):
        """evkv-bench --cluster from port (a RESP port, or with guide the
        guide port of the same node): its output, requests, MOVED followed."""
        proto = ["--guide-port-offset", GUIDE_OFFSET] if guide else ["--protocol", "resp"]
        port += GUIDE_OFFSET if guide else 0
        rc, out, err = bench("--cluster", *proto, "-h", t.HOST, "-p", port, "--data", self.data, *args)
        self.assertEqual(rc, 0, out + err)
        requests, errors = (int(x) for x in TABLE_RE.search(out).groups()[:2])
        self.assertEqual(errors, 0, out)
        return out, requests, int(MOVED_RE.search(out).group(1))

    def test_every_answer_routed(self):
        self.start_nodes(lambda i: RANGES)
        for start in (1, 3):  # a master, then the replica, as the node given
            before = [self.resp_gets(n) for n in self.nodes]
            out, requests, moved = self.run_bench(self.ports[start], "-n", 6000, "-c", 2, "-P", 4,
                                                  "--miss-ratio", 0.2, "--key-pattern", "sequential")
            self.assertEqual((requests, moved), (6000, 0), out)
            hits, misses = (int(x) for x in TABLE_RE.search(out).groups()[3:5])
            self.assertGreater(misses, 600, out)  # the misses routed too: no MOVED for them
            self.assertEqual(hits + misses, 6000, out)
            # no MOVED: each key went to its owner; the masters answered
            # them all, and the node given one CLUSTER SLOTS more
            served = [self.resp_gets(n) - b for n, b in zip(self.nodes, before)]
            self.assertEqual(sum(served), 6001, served)
            self.assertEqual(served[3], int(start == 3), served)
            for i in range(3):
                self.assertGreater(served[i], 0, f"master {i} serves keys: {served}")
            # over the guide protocol, the same
            out, requests, moved = self.run_bench(self.ports[start], "-n", 6000, "-c", 2, "-P", 4,
                                                  "--miss-ratio", 0.2, guide=True)
            self.assertEqual((requests, moved), (6000, 0), out)

    def test_read_from_replicas(self):
        """--read-from-replicas: the replica, after READONLY, answers its
        master's share with the master; each answer still right."""
        self.start_nodes(lambda i: RANGES)
        before = [self.resp_gets(n) for n in self.nodes]
        out, requests, moved = self.run_bench(self.ports[1], "-n", 6000, "-c", 2, "-P", 4, "--read-from-replicas")
        self.assertEqual((requests, moved), (6000, 0), out)
        served = [self.resp_gets(n) - b for n, b in zip(self.nodes, before)]
        # 6,000 GETs, CLUSTER SLOTS on node 1, READONLY on each of the two
        # connections to the replica
        self.assertEqual(sum(served), 6000 + 1 + 2, served)
        self.assertGreater(served[3], 100, f"the replica answers reads: {served}")
        self.assertGreater(served[0], 100, f"and its master still does: {served}")
        out, requests, moved = self.run_bench(self.ports[1], "-n", 3000, "-c", 2, "--read-from-replicas",
                                              guide=True)
        self.assertEqual((requests, moved), (3000, 0), out)
        rc, out, err = bench("--read-from-replicas", "--data", self.data, "-n", 10)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("--read-from-replicas goes with --cluster", err)

    def test_follows_moved_from_an_older_map(self):
        moved = ["4001-5460", "0-4000 5461-10922", "10923-16383"]
        self.start_nodes(lambda i: RANGES if i == 2 else moved)  # node 2's map is older
        out, requests, followed = self.run_bench(self.ports[2], "-n", 4000, "-c", 2, "-t", 2)
        self.assertEqual(requests, 4000, out)
        self.assertGreater(followed, 0, out)
        # for a second, pipelined, misses too: the run ends with none lost
        out, requests, followed = self.run_bench(self.ports[2], "-d", 1, "-c", 2, "-P", 8, "--miss-ratio", 0.1)
        self.assertGreater(requests, 1000, out)
        self.assertGreater(followed, 0, out)
        # from a node with the newer map, no MOVED
        self.assertEqual(self.run_bench(self.ports[0], "-n", 2000, "-c", 2)[2], 0)
        # over the guide protocol: its MOVED error followed the same way
        before = self.moved_answers(self.nodes[0])
        out, requests, followed = self.run_bench(self.ports[2], "-n", 4000, "-c", 2, "-P", 4, guide=True)
        self.assertEqual(requests, 4000, out)
        self.assertGreater(followed, 0, out)
        self.assertEqual(self.moved_answers(self.nodes[0]) - before, followed)

    def test_refused(self):
        self.start_nodes(lambda i: RANGES)
        for args, why in ((["--protocol", "evkv"], "needs --guide-port-offset N"),
                          (["--protocol", "resp", "--guide-port-offset", "1"], "--guide-port-offset goes with"),
                          (["--protocol", "resp", "--mget", "3"], "one key a request"),
                          (["--protocol", "resp", "-s", "/nonexistent"], "plain TCP")):
            rc, out, err = bench("--cluster", *args, "--data", self.data, "-n", 10)
            self.assertEqual(rc, 2, out + err)
            self.assertIn(why, err)
        # a server that is no cluster node: the error CLUSTER SLOTS answered
        plain = self.start_server("--data", self.data, "--resp-port", "any")
        rc, out, err = bench("--cluster", "--protocol", "resp", "-h", t.HOST, "-p", plain.resp_port, "--data",
                             self.data, "-n", 10)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("CLUSTER SLOTS: ERR This instance has cluster support disabled", err)
        rc, out, err = bench("--guide-port-offset", "2", "--data", self.data, "-n", 10)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("--guide-port-offset goes with --cluster", err)

    def keys_in(self):
        """Every key of the table, keys it lacks, a UTF-8 one and a tagged
        one, as stdin for a batch."""
        keys = sorted(self.table) + ["no such key", "{user3}:nothing", "clé absente"]
        return keys, ("\n".join(keys) + "\n").encode()

    def cli_cluster(self, port, *args, stdin=None):
        return run_cli(["--cluster", "--guide-port-offset", GUIDE_OFFSET, "-h", t.HOST, "-p", port] + list(args),
                       stdin=stdin)

    def test_cli_batch_as_one_node(self):
        self.start_nodes(lambda i: RANGES)
        keys, stdin = self.keys_in()
        whole = self.start_server("--data", self.data)
        oracle = run_cli(["-h", t.HOST, "-p", whole.port], stdin=stdin)
        self.assertEqual(oracle.returncode, 1, oracle.stderr)  # some keys lack
        self.assertEqual(len(oracle.stdout.splitlines()), len(keys))
        for start in (0, 3):  # a master, then the replica, as the node given
            out = self.cli_cluster(self.ports[start] + GUIDE_OFFSET, stdin=stdin)
            self.assertEqual((out.returncode, out.stdout, out.stderr), (oracle.returncode, oracle.stdout, b""))
        # one key, each master's
        for key in ("key:0", "key:1", "{user3}:3", "no such key"):
            out = self.cli_cluster(self.ports[1] + GUIDE_OFFSET, "search", key)
            one = run_cli(["-h", t.HOST, "-p", whole.port, "search", key])
            self.assertEqual((out.returncode, out.stdout, out.stderr), (one.returncode, one.stdout, one.stderr))
        # without --cluster, one node answers MOVED for other nodes' keys
        plain = run_cli(["-h", t.HOST, "-p", self.ports[0] + GUIDE_OFFSET], stdin=stdin)
        self.assertIn(b"MOVED", plain.stdout + plain.stderr)

    def test_cli_follows_moved(self):
        moved = ["4001-5460", "0-4000 5461-10922", "10923-16383"]
        self.start_nodes(lambda i: RANGES if i == 2 else moved)  # node 2's map is older
        keys, stdin = self.keys_in()
        whole = self.start_server("--data", self.data)
        oracle = run_cli(["-h", t.HOST, "-p", whole.port], stdin=stdin)
        out = self.cli_cluster(self.ports[2] + GUIDE_OFFSET, stdin=stdin)
        self.assertEqual((out.returncode, out.stdout, out.stderr), (oracle.returncode, oracle.stdout, b""))
        self.assertGreater(self.moved_answers(self.nodes[0]), 0, "node 0 answered MOVED")
        # a key of slots 0-4000: node 2's map sends it to node 0, which
        # answers MOVED to node 1
        r = t.Resp(self.ports[0])
        self.addCleanup(r.close)
        key = next(k for k in sorted(self.table) if int(r.call("CLUSTER", "KEYSLOT", k)) <= 4000)
        out = self.cli_cluster(self.ports[2] + GUIDE_OFFSET, "search", key)
        self.assertEqual((out.returncode, out.stdout.decode()), (0, self.table[key] + "\n"))

    def test_cli_refused(self):
        self.start_nodes(lambda i: RANGES)
        port = self.ports[0] + GUIDE_OFFSET
        for args, why in ((["--cluster", "search", "k"], "--cluster needs --guide-port-offset N"),
                          (["--guide-port-offset", "1", "search", "k"], "--guide-port-offset goes with --cluster"),
                          (["--cluster", "--guide-port-offset", "1", "ping"], "--cluster goes with search KEY"),
                          (["--cluster", "--guide-port-offset", "1", "stats"], "--cluster goes with search KEY"),
                          (["--cluster", "--guide-port-offset", "x", "search", "k"],
                           "--guide-port-offset must be a whole number")):
            out = run_cli(["-h", t.HOST, "-p", port] + args)
            self.assertEqual(out.returncode, 2, out.stderr)
            self.assertIn(why, out.stderr.decode())
        # the wrong offset: no RESP there (the guide port answers no RESP)
        out = run_cli(["--cluster", "--guide-port-offset", "0", "-h", t.HOST, "-p", port, "search", "k"])
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("CLUSTER SLOTS", out.stderr.decode())


if __name__ == "__main__":
    t.main()

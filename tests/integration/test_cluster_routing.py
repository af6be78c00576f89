#!/usr/bin/env python3
"""evkv's own clients in a Redis Cluster: evkv-bench --cluster routes each
key to its slot's master itself, from CLUSTER SLOTS read on the node it is
given, and follows -MOVED.

Three evkv masters and a replica of the first are started from one map and
one data file. evkv-bench --cluster from a master's or the replica's
address checks every answer (hits and generated misses alike, each sent to
its slot's owner) with no error and no MOVED, and each master serves its
share. A node whose map is older (slots 0-4000 still its own, where the
other nodes' map gives them to another master) sends evkv-bench keys to the
old owner: that owner answers -MOVED, and evkv-bench follows it, every
answer still right.
"""

import json
import re

import evkv_test as t
from test_bench import bench

IDS = ["%040x" % (0x2222 * (i + 1)) for i in range(4)]  # masters 0-2, a replica of 0
RANGES = ["0-5460", "5461-10922", "10923-16383"]
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
            servers = []
            for i, (node, port) in enumerate(zip(IDS, ports)):
                path = self.path(f"nodes{i}.conf")
                with open(path, "w") as f:
                    f.write(map_text(ports, ranges_of(i)))
                servers.append(self.start_server("--data", self.data, "--resp-port", str(port), "--threads", "1",
                                                 "--cluster-config", path, "--cluster-myself", node))
            return servers
        self.ports, self.nodes = t.start_on_free_ports(len(IDS), start)

    def resp_gets(self, srv):
        with srv.connect() as c:
            c.send(t.json_request({"action": "stats"}))
            return t.answer_result(c.read_answer())["resp"]["requests"]

    def run_bench(self, port, *args):
        rc, out, err = bench("--cluster", "--protocol", "resp", "-h", t.HOST, "-p", port, "--data", self.data, *args)
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

    def test_refused(self):
        self.start_nodes(lambda i: RANGES)
        for args, why in ((["--protocol", "evkv"], "needs --protocol resp"),
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


if __name__ == "__main__":
    t.main()

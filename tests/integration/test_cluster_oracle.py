#!/usr/bin/env python3
"""A Redis Cluster of evkv nodes against a real one, byte for byte.

A real Redis 7.0 cluster of three masters and three replicas is made with
`redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes` on
free ports, and loaded with the table of evkv's data file. Its CLUSTER
NODES becomes evkv's map (same ids, same slots, same roles; each evkv node
on a port of its own), and six evkv nodes are started from it, each as the
real node of the same id. The same requests then go to each real node and
to its evkv twin, and the replies are compared byte for byte, evkv's
addresses mapped to the real ones: GET of every key on every node (the
owner answers, the others -MOVED, a replica -MOVED unless READONLY), after
READONLY and READWRITE, MGET and EXISTS within a slot ({tag}s) and across
slots (-CROSSSLOT), writes (-MOVED before -READONLY; on an owner, Redis
writes where evkv refuses, so only other nodes' keys are compared), MULTI
with a key of another node, access control before the redirection
(-NOAUTH and -NOPERM, then -MOVED, a node with the same users), SELECT, ASKING, CLUSTER KEYSLOT of keys with
hash tags, empty tags, {}, control bytes and UTF-8, COUNTKEYSINSLOT,
GETKEYSINSLOT, MYID, INFO's # Cluster, and the errors of bad arguments.
Where the two differ by nature (the order of CLUSTER NODES and SHARDS is
Redis's dict order, ping and pong times, message counts, replication
offsets), the map's shape is compared: the same nodes with the same
addresses, flags, masters, epochs and slots.
"""

import json
import os
import re
import socket
import unittest

import evkv_test as t
import redis_oracle as ro


def make_table():
    keys = ["{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{}",
            "{}x", "x{}", "{", "}", "}{", "{a", "{a}", "{a}{b}", "\x01{\x02}", "\x7f", "clé", "日本{語}",
            "{ключ}1", "{ключ}2", "emoji-\U0001f436", "a" * 300]
    keys += [f"key:{i}" for i in range(1500)] + [f"{{tag{i % 7}}}:{i}" for i in range(200)]
    return {k: f"value of {k}" for k in keys}


def call(port, *args):
    """One request on a new connection: the raw reply bytes."""
    with socket.create_connection((t.HOST, port), timeout=t.IO_TIMEOUT) as s:
        s.sendall(ro.command(*args))
        return ro.ReplyReader(s).read_reply()


def session(port, requests):
    """Requests (argument lists) on one connection, pipelined: the raw
    replies."""
    with socket.create_connection((t.HOST, port), timeout=t.IO_TIMEOUT) as s:
        s.sendall(b"".join(ro.command(*r) for r in requests))
        reader = ro.ReplyReader(s)
        return [reader.read_reply() for _ in requests]


class ClusterOracleTest(t.TempDirTestCase):

    @classmethod
    def setUpClass(cls):
        cls.table = make_table()
        cls.cluster = ro.RedisCluster(cls.table, masters=3, replicas=1)
        cls.cluster.start()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def setUp(self):
        super().setUp()
        real = self.cluster.nodes
        text = call(real[0].port, "CLUSTER", "NODES")
        text = ro.decode(text).decode()
        self.real_lines = {line.split()[0]: line.split() for line in text.splitlines()}
        self.id_of = {int(w[1].split("@")[0].rsplit(":", 1)[1]): i for i, w in self.real_lines.items()}
        self.data = self.path("data.json")
        with open(self.data, "w", encoding="utf-8") as f:
            json.dump(self.table, f)
        self.pairs = []  # (real port, evkv port, id)
        t.start_on_free_ports(len(self.real_lines), self.start_twins)
        self.to_real = {ep: rp for rp, ep, _ in self.pairs}

    def start_twins(self, ports):
        """Each evkv node on a port of its own, in the map the real one's."""
        self.evkv_port = dict(zip(self.real_lines, ports))
        map_text = "# CLUSTER NODES of a real cluster, each address moved to its evkv twin\n"
        for i, w in self.real_lines.items():
            cport = w[1].split("@")[1]
            map_text += " ".join([i, f"{t.HOST}:{self.evkv_port[i]}@{cport}"] + w[2:]) + "\n"
        self.map = self.path("nodes.conf")
        with open(self.map, "w") as f:
            f.write(map_text)
        self.pairs = []
        for n in self.cluster.nodes:
            i = self.id_of[n.port]
            self.start_server("--data", self.data, "--port", "0", "--resp-port", str(self.evkv_port[i]),
                              "--threads", "1", "--cluster-config", self.map, "--cluster-myself", i)
            self.pairs.append((n.port, self.evkv_port[i], i))

    def mapped(self, reply):
        """evkv's reply with its nodes' addresses as the real ones'."""
        for ep, rp in self.to_real.items():
            reply = reply.replace(b"%s:%d" % (t.HOST.encode(), ep), b"%s:%d" % (t.HOST.encode(), rp))
        return reply

    def assert_same(self, requests, what, evkv_only=None):
        for rp, ep, i in self.pairs:
            want = session(rp, requests)
            got = [self.mapped(r) for r in session(ep, requests)]
            for n, (req, w, g) in enumerate(zip(requests, want, got)):
                if evkv_only and evkv_only(req, w):
                    continue
                self.assertEqual(g, w, f"{what}: node {i} ({'replica' if self.is_replica(i) else 'master'}), "
                                       f"request {n}: {req!r}")

    def is_replica(self, i):
        return "slave" in self.real_lines[i][2]

    def test_gets_moved_and_readonly(self):
        keys = list(self.table)
        gets = [["GET", k] for k in keys]
        self.assert_same(gets, "GET")
        self.assert_same([["READONLY"]] + gets + [["READWRITE"]] + gets[:300], "READONLY, READWRITE")
        self.assert_same([["ASKING"]] + gets[:50] + [["READONLY"], ["RESET"]] + gets[:50], "ASKING, RESET")

    def test_many_keys(self):
        reqs = [["PING"], ["DBSIZE"], ["MGET", "{user1000}.following", "{user1000}.followers"], ["MGET", "key:1", "key:2"],
                ["EXISTS", "{tag1}:1", "{tag1}:8", "{tag1}:nope"], ["EXISTS", "key:1", "key:3"],
                ["MGET", "{a}", "{a}{b}", "{a"], ["MGET", "x{}", "x{}"], ["DEL", "key:1", "key:2"],
                ["MSET", "key:1", "a", "key:2", "b"], ["SET", "key:7", "x"], ["SET", "{tag3}:3", "x"],
                ["SET", "{tag3}:3", "x", "GET"], ["INCR", "clé"], ["DEL", "{ключ}x", "{ключ}y"],
                ["SELECT", "0"], ["SELECT", "1"], ["SELECT", "x"], ["SELECT", "99999999999"],
                ["MULTI"], ["GET", "key:1"], ["GET", "key:2"], ["EXEC"], ["MULTI"], ["GET", "key:5"], ["EXEC"],
                ["READONLY"], ["MULTI"], ["GET", "key:1"], ["GET", "key:4"], ["EXEC"], ["SET", "key:9", "x"]]

        def writes_on_owner(req, want):
            # a real master writes its own slots' keys; evkv refuses them
            # (-READONLY after the MOVED check): other nodes' keys only
            return req[0] in ("DEL", "MSET", "SET", "INCR") and not want.startswith((b"-MOVED", b"-CROSSSLOT"))

        self.assert_same(reqs, "many keys", evkv_only=writes_on_owner)
        for rp, ep, i in self.pairs:
            for req in reqs:
                if req[0] in ("SET", "DEL", "MSET", "INCR"):
                    want = call(rp, *req)
                    if not want.startswith((b"-MOVED", b"-CROSSSLOT")):
                        self.assertEqual(call(ep, *req), b"-READONLY You can't write against a read only replica.\r\n")
        # undo the real cluster's writes, for the other tests
        for k in ("key:1", "key:2", "key:7", "{tag3}:3", "clé", "key:9"):
            rp = [p for p, _, i in self.pairs if not call(p, "GET", k).startswith(b"-")][0]
            call(rp, "SET", k, self.table[k])

    def test_acl_before_moved(self):
        """processCommand's order: -NOAUTH, then -NOPERM (a command, a key),
        then the redirection, as a real node with the same users (ACL
        SETUSER there, an --aclfile here) answers."""
        rp, _, node = next(p for p in self.pairs if not self.is_replica(p[2]))
        users = [["bob", "on", ">bobpw", "~key:*", "-@all", "+get", "+ping"],
                 ["default", "on", ">defpw", "~*", "+@all"]]
        # the real node goes back to an open default user for the other tests
        self.addCleanup(session, rp, [["AUTH", "defpw"], ["ACL", "DELUSER", "bob"],
                                      ["ACL", "SETUSER", "default", "nopass"]])
        self.assertEqual(session(rp, [["ACL", "SETUSER", *u] for u in users]), [b"+OK\r\n"] * 2)
        acl = self.path("users.acl")
        with open(acl, "w") as f:
            f.write("".join("user " + " ".join(u) + "\n" for u in reversed(users)))
        port = t.free_port()
        self.start_server("--data", self.data, "--port", "0", "--resp-port", str(port), "--threads", "1",
                          "--cluster-config", self.map, "--cluster-myself", node, "--aclfile", acl)
        own = next(k for k in self.table if k.startswith("key:") and
                   session(rp, [["AUTH", "defpw"], ["GET", k]])[1].startswith(b"$"))
        other = next(k for k in self.table if k.startswith("key:") and
                     session(rp, [["AUTH", "defpw"], ["GET", k]])[1].startswith(b"-MOVED"))
        other_tag = next(k for k in self.table if k.startswith("{tag") and
                         session(rp, [["AUTH", "defpw"], ["GET", k]])[1].startswith(b"-MOVED"))
        reqs = [["GET", other], ["GET", own], ["MGET", other], ["AUTH", "bob", "bobpw"], ["GET", other],
                ["GET", other_tag], ["MGET", other], ["EXISTS", other], ["GET", own], ["PING"],
                ["AUTH", "defpw"], ["GET", other], ["MGET", other, own]]
        want = session(rp, reqs)
        kinds = [b"-NOAUTH ", b"-NOAUTH ", b"-NOAUTH ", b"+OK", b"-MOVED ", b"-NOPERM ", b"-NOPERM ", b"-NOPERM ",
                 b"$", b"+PONG", b"+OK", b"-MOVED ", b"-CROSSSLOT "]
        self.assertEqual([w[:len(k)] for w, k in zip(want, kinds)], kinds)
        got = [self.mapped(r) for r in session(port, reqs)]
        for n, (req, w, g) in enumerate(zip(reqs, want, got)):
            self.assertEqual(g, w, f"request {n}: {req!r}")

    def test_cluster_commands(self):
        keys = list(self.table)
        reqs = [["CLUSTER", "KEYSLOT", k] for k in keys] + [["CLUSTER", "KEYSLOT", b"\x00{\xff}\x00"],
                                                          ["CLUSTER", "KEYSLOT", ""]]
        reqs += [["CLUSTER", "MYID"], ["CLUSTER", "KEYSLOT"], ["CLUSTER", "COUNTKEYSINSLOT", "x"],
                 ["CLUSTER", "COUNTKEYSINSLOT", "16384"], ["CLUSTER", "COUNTKEYSINSLOT", "-1"],
                 ["CLUSTER", "GETKEYSINSLOT", "1", "x"], ["CLUSTER", "GETKEYSINSLOT", "16384", "1"],
                 ["CLUSTER", "GETKEYSINSLOT", "1", "-1"], ["CLUSTER", "GETKEYSINSLOT", "0", "0"],
                 ["CLUSTER", "NOPE"], ["READONLY", "x"], ["INFO", "cluster"], ["CLUSTER", "INFO", "x"]]
        reqs += [["CLUSTER", "COUNTKEYSINSLOT", str(s)] for s in range(0, 16384, 97)]
        self.assert_same(reqs, "CLUSTER")
        # GETKEYSINSLOT: the same keys, in Redis's order of insertion or evkv's
        for slot in sorted({ro.decode(call(self.pairs[0][0], "CLUSTER", "KEYSLOT", k)) for k in keys})[:40]:
            for rp, ep, i in self.pairs:
                want = ro.decode(call(rp, "CLUSTER", "GETKEYSINSLOT", str(slot), "1000"))
                got = ro.decode(call(ep, "CLUSTER", "GETKEYSINSLOT", str(slot), "1000"))
                self.assertEqual(sorted(got), sorted(want), f"slot {slot} on {i}")
                self.assertEqual(len(ro.decode(call(ep, "CLUSTER", "GETKEYSINSLOT", str(slot), "1"))),
                                 min(1, len(want)))

    def node_shape(self, line):
        """A CLUSTER NODES line without its ping and pong times."""
        w = line.split()
        return w[:4] + w[6:]

    def test_the_map(self):
        for rp, ep, i in self.pairs:
            want = ro.decode(call(rp, "CLUSTER", "NODES")).decode().splitlines()
            got = ro.decode(self.mapped(call(ep, "CLUSTER", "NODES"))).decode().splitlines()
            self.assertEqual(sorted(map(self.node_shape, got)), sorted(map(self.node_shape, want)), i)
            for line in got:
                self.assertRegex(line, r"^\w{40} \S+ \S+ \S+ 0 \d{13} \d+ connected")
            # SLOTS: the same ranges, masters and replicas, in Redis's order of slots
            want, got = ro.decode(call(rp, "CLUSTER", "SLOTS")), ro.decode(call(ep, "CLUSTER", "SLOTS"))
            for r in got:
                for node in r[2:]:
                    node[1] = self.to_real[node[1]]
            self.assertEqual(got, want, i)
            # SHARDS: the same shards and nodes, but for the offsets and the order
            def shards(port, fix=lambda b: b):
                out = []
                for sh in ro.decode(fix(call(port, "CLUSTER", "SHARDS"))):
                    d = dict(zip(sh[::2], sh[1::2]))
                    nodes = [dict(zip(n[::2], n[1::2])) for n in d[b"nodes"]]
                    for n in nodes:
                        n.pop(b"replication-offset")
                        n[b"port"] = self.to_real.get(n[b"port"], n[b"port"])
                    out.append((d[b"slots"], sorted(sorted(n.items()) for n in nodes)))
                return sorted(out)
            self.assertEqual(shards(ep), shards(rp), i)
            # INFO: all but the bus's messages, and the current epoch:
            # CLUSTER NODES shows a replica with its master's epoch, so
            # the map's highest epoch is the current one
            def info(port):
                text = ro.decode(call(port, "CLUSTER", "INFO")).decode()
                return [line for line in text.splitlines() if "messages" not in line and "current_epoch" not in line]
            self.assertEqual(info(ep), info(rp), i)
            self.assertIn(f"cluster_current_epoch:{max(int(w[6]) for w in self.real_lines.values())}\r\n",
                          ro.decode(call(ep, "CLUSTER", "INFO")).decode())


if __name__ == "__main__":
    t.main()

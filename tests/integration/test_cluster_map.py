#!/usr/bin/env python3
"""--cluster-config FILE --cluster-myself ID: a Redis Cluster's map, in the
format of CLUSTER NODES, and the keys each node keeps from one data file.

The slot of every key is asked of a real Redis 7.0 (CLUSTER KEYSLOT on a
redis-server started with cluster-enabled), not computed here: keys with
hash tags, empty tags, "{}", control bytes and UTF-8. Each evkv node of a
map (three masters and a replica) must then hold exactly the keys of the
slots it serves (a replica: its master's), and the nodes together every
key once. A map with a gap, an overlap, an unknown myself, a bad address
or a replica of an unknown master is refused with exit 2 and the reason,
at --check-config and at a start; SIGHUP reads the map and the data again
together, and a bad map leaves the old map and keys in place.
"""

import json
import os
import re
import signal
import subprocess
import time
import unittest

import evkv_test as t
import redis_oracle

A = "a" * 40
B = "b1" * 20
C = "0123456789abcdef0123456789abcdef01234567"
D = "d" * 40
E = "e" * 40

RELOADED_RE = re.compile(t.LOG_PREFIX + r"reloaded: .*; cluster node (\w+)(?: \(replica of \w+\))?: slots ([^,]*), "
                         r"([\d,]+) of ([\d,]+) keys$", re.M)
FAILED_RE = re.compile(t.LOG_PREFIX + r"error: reload failed: (.*); still serving (.*)$", re.M)


def make_keys():
    """Keys whose slots test the hash tag rules, and many plain ones."""
    keys = ["{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}",
            "{}", "{}x", "x{}", "{", "}", "}{", "{a", "a}", "{{}}", "{a}", "{a}{b}", "\x01{\x02}", "\x7f",
            "clé", "日本{語}", "{ключ}1", "{ключ}2", "emoji-\U0001f436", "tab\x0bkey", "", "a" * 300]
    keys += [f"key:{i}" for i in range(1500)] + [f"{{tag{i % 7}}}:{i}" for i in range(200)]
    return keys


def map_text(ranges, replica_of=B, ports=(7001, 7002, 7003, 7004)):
    """A map of masters A, B, C with ranges[i] (text) and D replicating
    replica_of."""
    lines = [f"{n} 127.0.0.1:{p}@{p + 10000} master - 0 1700000000000 {i + 1} connected {r}".rstrip()
             for i, (n, p, r) in enumerate(zip((A, B, C), ports, ranges))]
    lines.insert(0, "# the cluster's map, as CLUSTER NODES writes it")
    lines.append(f"{D} 127.0.0.1:{ports[3]}@{ports[3] + 10000} slave {replica_of} 0 1700000000000 2 connected")
    return "\n".join(lines) + "\n"


def owner_of(ranges):
    """slot -> master id, from ranges as map_text takes them."""
    owner = {}
    for node, text in zip((A, B, C), ranges):
        for part in text.split():
            lo, _, hi = part.partition("-")
            for s in range(int(lo), int(hi or lo) + 1):
                owner[s] = node
    return owner


RANGES = ("0-5000 16000-16383", "5001-10000", "10001-15999")


class ClusterMapTest(t.TempDirTestCase):

    @classmethod
    def setUpClass(cls):
        """The slot of every key, asked of a real Redis in cluster mode."""
        if not redis_oracle.available():
            raise AssertionError("redis-server is not installed (Debian's package redis-server)")
        import tempfile
        cls.redis_dir = tempfile.TemporaryDirectory()
        redis = redis_oracle.RedisProcess(cls.redis_dir.name, "keyslot", "--cluster-enabled", "yes",
                                          "--cluster-config-file", "nodes.conf", cluster=True)
        try:
            redis.start()
            cls.keys = make_keys()
            cls.absent = [f"absent:{i}" for i in range(100)]  # keys of no data file
            with redis_oracle.socket.create_connection((redis_oracle.HOST, redis.port), timeout=10) as s:
                s.sendall(b"".join(redis_oracle.command("CLUSTER", "KEYSLOT", k) for k in cls.keys + cls.absent))
                reader = redis_oracle.ReplyReader(s)
                cls.slot = {k: redis_oracle.decode(reader.read_reply()) for k in cls.keys + cls.absent}
        finally:
            redis.stop()
            cls.redis_dir.cleanup()

    def setUp(self):
        super().setUp()
        self.values = {k: f"v{i}" for i, k in enumerate(self.keys)}
        self.data = self.path("data.json")
        self.write_data(self.values)
        self.map = self.path("nodes.conf")

    def write_data(self, values):
        with open(self.data + ".tmp", "w", encoding="utf-8") as f:
            json.dump(values, f)
        os.replace(self.data + ".tmp", self.data)

    def write_map(self, text, path=None):
        path = path or self.map
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def node(self, myself, *extra):
        return self.start_server("--data", self.data, "--resp-port", "any", "--threads", "1",
                                 "--cluster-config", self.map, "--cluster-myself", myself, *extra)

    def held(self, srv):
        """The keys srv serves (KEYS *), as text."""
        r = t.Resp(srv.resp_port)
        self.addCleanup(r.close)
        return {k.decode("utf-8") for k in r.call("KEYS", "*")}

    def expect(self, ranges, master):
        owner = owner_of(ranges)
        return {k for k in self.keys if owner.get(self.slot[k]) == master}

    def test_each_node_keeps_its_slots(self):
        self.write_map(map_text(RANGES))
        seen = []
        for myself, master, slots in ((A, A, "0-5000 16000-16383"), (B, B, "5001-10000"), (C, C, "10001-15999"),
                                      (D, B, "5001-10000")):
            srv = self.node(myself)
            want = self.expect(RANGES, master)
            self.assertEqual(self.held(srv), want, myself)
            role = f" (replica of {B})" if myself == D else ""
            self.assertIn(f"; cluster node {myself}{role}: slots {slots}, {len(want):,} of {len(self.keys):,} keys",
                          srv.source)
            with srv.connect() as c:
                c.send(t.json_request({"action": "stats"}))
                st = t.answer_result(c.read_answer())
            self.assertEqual(st["cluster"], {
                "myself": myself, "role": "replica" if myself == D else "master",
                **({"master": B} if myself == D else {}), "slots": slots,
                "slots_served": sum(1 for s in owner_of(RANGES).values() if s == master), "nodes": 4,
                "keys_kept": len(want), "keys_skipped": len(self.keys) - len(want), "config": self.map})
            if myself != D:
                seen.append(want)
        self.assertEqual(sum(len(s) for s in seen), len(self.keys))
        self.assertEqual(set().union(*seen), set(self.keys))

    def test_partial_coverage(self):
        ranges = ("0-100", "5001-10000", "16383")
        self.write_map(map_text(ranges))
        out = subprocess.run([t.SERVER, "--data", self.data, "--cluster-config", self.map, "--cluster-myself", A,
                              "--check-config"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stderr, f"evkv-server: {self.map}: slots 101-5000, 10001-16382 have no owner (every "
                         "slot needs one unless --cluster-require-full-coverage no)\n")
        srv = self.node(C, "--cluster-require-full-coverage", "no")
        self.assertEqual(self.held(srv), self.expect(ranges, C))
        # the config file's keys, the same
        conf = self.path("evkv.conf")
        with open(conf, "w") as f:
            f.write(f"data {self.data}\ncluster-config {self.map}\ncluster-myself {A}\n"
                    "cluster-require-full-coverage no\n")
        srv = self.start_server("-c", conf, "--resp-port", "any", "--threads", "1")
        self.assertEqual(self.held(srv), self.expect(ranges, A))

    def test_refused_maps(self):
        good = map_text(RANGES)
        cases = [
            ("gap", good.replace("5001-10000", "5002-10000"), A,
             f"{self.map}: slots 5001 have no owner (every slot needs one unless "
             "--cluster-require-full-coverage no)"),
            ("overlap", good.replace("5001-10000", "5000-10000"), A,
             f"{self.map}:3: slot 5000 is owned by both {A} and {B}"),
            ("unknown myself", good, E, f"{self.map}: --cluster-myself {E} is not a node of the map"),
            ("bad address", good.replace("127.0.0.1:7002", "127.0.0.256:7002"), A,
             f"{self.map}:3: node {B}: '127.0.0.256' is not an IP address"),
            ("bad port", good.replace("127.0.0.1:7002@17002", "127.0.0.1:70000@17002"), A,
             f"{self.map}:3: node {B}: ports '70000@17002' are not from 1 to 65535"),
            ("replica of unknown master", map_text(RANGES, replica_of=E), A,
             f"{self.map}: replica {D} names master {E}, which is not in the map"),
            ("replica of a replica", map_text(RANGES, replica_of=D), A,
             f"{self.map}: replica {D} names {D}, which is not a master"),
        ]
        for what, text, myself, reason in cases:
            with self.subTest(what):
                self.write_map(text)
                argv = [t.SERVER, "--data", self.data, "--cluster-config", self.map, "--cluster-myself", myself]
                out = subprocess.run(argv + ["--check-config"], capture_output=True, text=True, timeout=30)
                self.assertEqual((out.returncode, out.stderr), (2, f"evkv-server: {reason}\n"))
                out = subprocess.run(argv + ["--port", "any"], capture_output=True, text=True, timeout=30)
                self.assertEqual(out.returncode, 2)
                self.assertRegex(out.stderr, t.LOG_PREFIX + "error: " + re.escape(reason) + "$")
        for argv, reason in (([], "--cluster-config FILE and --cluster-myself ID go together"),
                             (["--cluster-myself", A, "--shard", "x", "--shard-config", self.map],
                              "--cluster-config splits the table of --data by slot: it needs --data, and no "
                              "--echo nor --shard"),
                             (["--cluster-myself", A, "--cluster-require-full-coverage", "maybe"],
                              "--cluster-require-full-coverage must be yes or no, not 'maybe'")):
            out = subprocess.run([t.SERVER, "--data", self.data, "--cluster-config", self.map] + argv,
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual((out.returncode, out.stderr.splitlines()[0]), (2, f"evkv-server: {reason}"))

    @staticmethod
    def search(c, key):
        c.send(t.search_request(key))
        return t.answer_result(c.read_answer())

    def test_guide_protocol_names_the_owner(self):
        """The guide's protocol has no redirection: a search for a key of
        another node's slot is an error naming the owner (its slot and
        RESP address, as the map gives them); msearch likewise for its
        first such key. A key of no node's slot is CLUSTERDOWN."""
        ranges = ("0-5000 16000-16383", "5001-10000", "10001-15000")
        self.write_map(map_text(ranges, ports=(7001, 7002, 7003, 7004)))
        owner = owner_of(ranges)
        srv = self.node(D, "--cluster-require-full-coverage", "no")  # a replica of B: B's keys
        port = {A: 7001, B: 7002, C: 7003}
        seen = set()
        with srv.connect() as c:
            for k in self.keys:
                s = self.slot[k]
                got = self.search(c, k)
                if owner.get(s) == B:
                    self.assertEqual(got, self.values[k], k)
                elif s in owner:
                    self.assertEqual(got, f"{t.MOVED_PREFIX}{s} 127.0.0.1:{port[owner[s]]}: '{k}{t.MOVED_SUFFIX}")
                else:
                    self.assertEqual(got, f"{t.CLUSTERDOWN_PREFIX}{s}: '{k}{t.CLUSTERDOWN_SUFFIX}")
                seen.add(owner.get(s))
            self.assertEqual(seen, {A, B, C, None})
            mine = [k for k in self.keys if owner.get(self.slot[k]) == B][:3]
            other = [k for k in self.keys if owner.get(self.slot[k]) == C][0]
            # a miss of this node's slots is a miss, as without a map
            absent = next(k for k in self.absent if owner.get(self.slot[k]) == B)
            self.assertEqual(self.search(c, absent), t.miss_text(absent))
            c.send(t.json_request({"action": "msearch", "value": mine + [absent]}))
            self.assertEqual(t.answer_result(c.read_answer()), [self.values[k] for k in mine] + [None])
            c.send(t.json_request({"action": "msearch", "value": mine + [other]}))
            s = self.slot[other]
            self.assertEqual(t.answer_result(c.read_answer()),
                             f"{t.MOVED_PREFIX}{s} 127.0.0.1:7003: '{other}{t.MOVED_SUFFIX}")

    def hup_and_wait(self, srv, pattern, count):
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while len(pattern.findall(srv.stderr())) < count:
            self.assertIsNone(srv.proc.poll(), srv.stderr())
            self.assertLess(time.monotonic(), deadline, f"no reload line; stderr:\n{srv.stderr()}")
            time.sleep(0.01)

    def test_sighup_reads_map_and_data_together(self):
        self.write_map(map_text(RANGES))
        srv = self.node(A)
        before = self.expect(RANGES, A)
        self.assertEqual(self.held(srv), before)
        # slots 0-999 move from A to B, and the values change, in one reload
        moved = ("1000-5000 16000-16383", "0-999 5001-10000", "10001-15999")
        self.write_map(map_text(moved))
        self.write_data({k: v + "'" for k, v in self.values.items()})
        self.hup_and_wait(srv, RELOADED_RE, 1)
        after = self.expect(moved, A)
        self.assertLess(len(after), len(before))
        self.assertEqual(RELOADED_RE.search(srv.stderr()).groups(),
                         (A, "1000-5000 16000-16383", f"{len(after):,}", f"{len(self.keys):,}"))
        r = t.Resp(srv.resp_port)
        self.addCleanup(r.close)
        self.assertEqual({k.decode() for k in r.call("KEYS", "*")}, after)
        some = sorted(after)[0]
        self.assertEqual(r.call("GET", some), (self.values[some] + "'").encode())
        # a bad map: the old map and keys stay, whatever the data file says
        self.write_map(map_text(moved).replace("0-999 5001-10000", "0-1000 5001-10000"))
        self.write_data(self.values)
        self.hup_and_wait(srv, FAILED_RE, 1)
        why, still = FAILED_RE.search(srv.stderr()).groups()
        self.assertEqual(why, f"{self.map}:3: slot 1000 is owned by both {A} and {B}")
        self.assertTrue(still.endswith(f"; cluster node {A}: slots 1000-5000 16000-16383, {len(after):,} of "
                                       f"{len(self.keys):,} keys"), still)
        self.assertEqual({k.decode() for k in r.call("KEYS", "*")}, after)
        self.assertEqual(r.call("GET", some), (self.values[some] + "'").encode())


if __name__ == "__main__":
    t.main()

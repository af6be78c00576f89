#!/usr/bin/env python3
"""--shard NAME --shard-config FILE [--shard-pool POOL] against the real
nutcracker (twemproxy 0.5.0, Debian's package).

Each ring is built for real: evkv shards, each started with the same
nutcracker YAML and keeping only its share of one table, behind a real
nutcracker that routes with that YAML. Every key of the table is then
asked through nutcracker: it finds each key, with its value, only if it
sends the key to the shard that kept it. With the shards' key counts
summing to the table's size, no key is kept twice: evkv's choice of keys
is nutcracker's, key for key. That covers every hash nutcracker offers,
ketama and modula, weights, names and unnamed servers (host:port), a
25-server ring and hash_tag. A ring position is an evkv of its own (with
one worker thread, so that 25 of them stay light).
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

import evkv_test as t

STEP_TIMEOUT = 10.0
HASHES = ["one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64", "fnv1_32", "fnv1a_32",
          "hsieh", "murmur", "jenkins"]


def nutcracker_path():
    path = shutil.which("nutcracker") or shutil.which("nutcracker", path="/usr/sbin:/sbin")
    if not path:
        raise AssertionError("nutcracker is not installed (Debian's package nutcracker)")
    return path


def make_keys(n):
    """n distinct UTF-8 keys of varied lengths and bytes above 0x7f (so
    that the hashes reading a key's bytes as signed chars are tested)."""
    words = ["clé", "日本", "ключ", "k", "emoji-\U0001f436", "x" * 13, "naïve", "Ωmega", "key", "µ"]
    return [f"{words[i % len(words)]}:{i}:{'é' * (i % 5)}" for i in range(n)]


def value_of(i):
    return f"v{i}"


def write_table(path, keys):
    with open(path, "w", encoding="utf-8") as f:
        for i, k in enumerate(keys):
            f.write(f"{k}\t{value_of(i)}\n")


def wait_port(port, proc, what):
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection((t.HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"{what} not listening within {STEP_TIMEOUT} s")


class ShardTest(t.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.nutcracker = nutcracker_path()

    def table(self, n):
        path = self.path(f"table-{n}.tsv")
        keys = make_keys(n)
        if not os.path.exists(path):
            write_table(path, keys)
        return path, keys

    def write_yaml(self, path, pools):
        """pools: {name: (listen port, options dict, [server lines])}."""
        with open(path, "w", encoding="utf-8") as f:
            for name, (listen, options, servers) in pools.items():
                f.write(f"{name}:\n  listen: {t.HOST}:{listen}\n  redis: true\n  timeout: 5000\n")
                for k, v in options.items():
                    f.write(f"  {k}: {v}\n")
                f.write("  servers:\n")
                for line in servers:
                    f.write(f"   - {line}\n")

    def start_nutcracker(self, cfg, listen):
        stats = t.free_port()
        log = self.path(f"nutcracker-{listen}.log")
        p = subprocess.Popen([self.nutcracker, "-c", cfg, "-s", str(stats), "-a", t.HOST, "-o", log,
                              "-p", self.path(f"nutcracker-{listen}.pid")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.addCleanup(stop)
        try:
            wait_port(listen, p, "nutcracker")
        except AssertionError:
            with open(log, errors="replace") as f:
                raise AssertionError(f.read())
        return p

    def start_ring(self, table, servers, options, pool="ring"):
        """Starts one evkv shard per entry of servers ((weight, name or
        None)) and nutcracker over them, all from one YAML. Ports are picked
        before the YAML is written (it names them); a port taken meanwhile
        starts the ring over. Returns (nutcracker's port, shards in the
        order of servers, the YAML's path)."""
        for attempt in range(3):
            ports = [t.free_port() for _ in servers]
            listen = t.free_port()
            lines = [f"{t.HOST}:{port}:{w}" + (f" {name}" if name else "")
                     for port, (w, name) in zip(ports, servers)]
            cfg = self.path(f"nutcracker-{listen}.yml")
            self.write_yaml(cfg, {pool: (listen, options, lines)})
            shards = []
            try:
                for port, (w, name) in zip(ports, servers):
                    srv = t.Server("--host", t.HOST, "--port", "0", "--threads", "1", "--resp-port", str(port),
                                   "--data", table, "--shard", name or f"{t.HOST}:{port}", "--shard-config", cfg)
                    self.addCleanup(self._cleanup_server, srv)
                    shards.append(srv)
                for srv in shards:
                    # 25 servers loading at once on 2 cores, under the
                    # sanitizers too: more than one server's start time
                    srv.wait_started(timeout=60)
            except AssertionError as e:
                if "in use" in str(e) and attempt < 2:
                    continue
                raise
            self.start_nutcracker(cfg, listen)
            return listen, shards, cfg
        raise AssertionError("no free ports")

    def assert_ring(self, listen, shards, keys, batch=500):
        """Every key found through nutcracker with its value; the shards'
        key counts add up to the table (none kept twice)."""
        conn = t.Resp(listen)
        self.addCleanup(conn.close)
        for start in range(0, len(keys), batch):
            part = keys[start:start + batch]
            got = conn.call("MGET", *part)
            want = [value_of(start + i).encode() for i in range(len(part))]
            if got != want:
                bad = [(k, g) for k, g, w in zip(part, got, want) if g != w]
                self.fail(f"{len(bad)} of {len(part)} keys wrong through nutcracker, e.g. {bad[:3]}")
        counts = []
        for srv in shards:
            c = t.Resp(srv.resp_port)
            counts.append(c.call("DBSIZE"))
            c.close()
        self.assertEqual(sum(counts), len(keys), f"shards' key counts {counts}")
        return counts

    # ---- the rings ----

    def test_three_weighted_named_shards(self):
        table, keys = self.table(100000)
        listen, shards, cfg = self.start_ring(table, [(1, "alpha"), (2, "beta"), (3, "gamma")],
                                              {"hash": "fnv1a_64", "distribution": "ketama"})
        counts = self.assert_ring(listen, shards, keys)
        self.assertTrue(all(c > 0 for c in counts), counts)
        self.assertLess(counts[0], counts[2])  # weights 1 and 3

        # --check-config says the same share, and INFO and stats show it
        out = subprocess.run([t.SERVER, "--check-config", "--data", table, "--shard", "beta", "--shard-config", cfg],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"shard beta of pool ring: {counts[1]:,} of 100,000 keys", out.stdout)
        c = t.Resp(shards[1].resp_port)
        info = c.call("INFO", "evkv").decode()
        c.close()
        self.assertIn("\r\nshard_name:beta\r\nshard_pool:ring\r\nshard_ring_servers:3\r\n", info)
        with shards[1].connect() as g:
            g.send(t.json_request({"action": "stats"}))
            stats = t.answer_result(g.read_answer())
        self.assertEqual(stats["shard"], {"name": "beta", "pool": "ring", "hash": "fnv1a_64",
                                          "distribution": "ketama", "servers": 3, "keys_kept": counts[1],
                                          "keys_skipped": 100000 - counts[1]})

        # a shard gone: its keys error through nutcracker, the others
        # answer right; never a wrong value, never a false miss
        self.assertEqual(shards[0].stop(), 0)
        conn = t.Resp(listen)
        self.addCleanup(conn.close)
        errors = 0
        for start in range(0, len(keys), 1000):
            replies = conn.pipeline([t.resp_command("GET", k) for k in keys[start:start + 1000]])
            for i, r in enumerate(replies):
                if isinstance(r, t.RespError):
                    errors += 1
                else:
                    self.assertEqual(r, value_of(start + i).encode(), keys[start + i])
        self.assertEqual(errors, counts[0])

    def test_25_server_ring(self):
        # unnamed servers: nutcracker names them host:port, in the points' keys too;
        # 25,000 keys: about a thousand a server, each loading the whole file
        table, keys = self.table(25000)
        servers = [(1 + i % 3, None) for i in range(25)]
        listen, shards, _ = self.start_ring(table, servers, {"distribution": "ketama"})
        counts = self.assert_ring(listen, shards, keys)
        self.assertTrue(all(c > 0 for c in counts), counts)

    def test_modula(self):
        table, keys = self.table(100000)
        listen, shards, _ = self.start_ring(table, [(1, "a"), (2, "bb"), (1, "c")],
                                            {"hash": "murmur", "distribution": "modula"})
        self.assert_ring(listen, shards, keys)

    def test_hash_tag(self):
        path = self.path("tagged.tsv")
        keys = [f"user:{{{i // 4}é}}:{f}" for i, f in zip(range(20000), ["name", "mail", "x{y}", "z"] * 5000)]
        write_table(path, keys)
        listen, shards, _ = self.start_ring(path, [(1, "a"), (1, "b"), (1, "c")],
                                            {"hash": "fnv1a_64", "hash_tag": '"{}"'})
        self.assert_ring(listen, shards, keys)
        # the keys of one tag are on one shard
        for srv in shards:
            c = t.Resp(srv.resp_port)
            got = c.pipeline([t.resp_command("EXISTS", k) for k in keys[:400]])
            c.close()
            for i in range(0, 400, 4):
                self.assertEqual(len(set(got[i:i + 4])), 1, keys[i:i + 4])

    def test_every_hash(self):
        table, keys = self.table(6000)
        for n, h in enumerate(HASHES):
            with self.subTest(hash=h):
                dist = "ketama" if n % 2 == 0 else "modula"
                listen, shards, _ = self.start_ring(table, [(1, "s1"), (2, "s2"), (1, "s3")],
                                                    {"hash": h, "distribution": dist})
                self.assert_ring(listen, shards, keys)

    # ---- configuration ----

    def check(self, cfg_text, *args):
        cfg = self.path("check.yml")
        with open(cfg, "w") as f:
            f.write(cfg_text)
        table, _ = self.table(100)
        return subprocess.run([t.SERVER, "--check-config", "--data", table, "--shard-config", cfg] + list(args),
                              capture_output=True, text=True, timeout=30)

    def test_bad_configs(self):
        two = ("a:\n  servers:\n   - 127.0.0.1:7001:1 x\n"
               "b:\n  servers:\n   - 127.0.0.1:7002:1 y\n")
        cases = [
            (two, ["--shard", "x"], "has 2 pools (a, b): --shard-pool must name one"),
            (two, ["--shard", "x", "--shard-pool", "c"], "has no pool named c"),
            (two, ["--shard", "z", "--shard-pool", "a"], "pool a has no server named z (its servers: x)"),
            ("a:\n  distribution: random\n  servers:\n   - 127.0.0.1:7001:1 x\n", ["--shard", "x"],
             "distribution random"),
            ("a:\n  hash: sha1\n  servers:\n   - 127.0.0.1:7001:1 x\n", ["--shard", "x"], "hash 'sha1'"),
            ("a: [1, 2\n", ["--shard", "x"], "check.yml:"),
        ]
        for text, args, message in cases:
            with self.subTest(args=args, message=message):
                out = self.check(text, *args)
                self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
                self.assertIn(message, out.stderr)
        out = subprocess.run([t.SERVER, "--check-config", "--shard", "x"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--shard NAME and --shard-config FILE go together", out.stderr)

    def test_sighup_reads_the_shard_config_again(self):
        table, keys = self.table(100000)
        cfg = self.path("reload.yml")
        self.write_yaml(cfg, {"p": (t.free_port(), {}, ["127.0.0.1:7001:1 a", "127.0.0.1:7002:1 b"])})
        srv = self.start_server("--resp-port", "any", "--threads", "1", "--data", table, "--shard", "a",
                                "--shard-config", cfg)
        c = t.Resp(srv.resp_port)
        self.addCleanup(c.close)
        before = c.call("DBSIZE")
        self.write_yaml(cfg, {"p": (t.free_port(), {}, ["127.0.0.1:7001:3 a", "127.0.0.1:7002:1 b"])})
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + STEP_TIMEOUT
        while c.call("DBSIZE") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        after = c.call("DBSIZE")
        self.assertGreater(after, before)
        out = subprocess.run([t.SERVER, "--check-config", "--data", table, "--shard", "a", "--shard-config", cfg],
                             capture_output=True, text=True, timeout=30)
        self.assertIn(f": {after:,} of 100,000 keys", out.stdout)


if __name__ == "__main__":
    t.main()

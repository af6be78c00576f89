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

The config is checked as nutcracker checks it: each kind of file that
`nutcracker -t` refuses (asked for real) is refused by --check-config and
at a start, and variations it takes are taken.
"""

import os
import signal
import subprocess
import time
import unittest

import evkv_test as t

STEP_TIMEOUT = 10.0
HASHES = ["one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64", "fnv1_32", "fnv1a_32",
          "hsieh", "murmur", "jenkins"]


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


# A pool nutcracker takes, to vary.
POOL = ("p:\n  listen: 127.0.0.1:22121\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n"
        "   - 127.0.0.1:7001:1 a\n   - 127.0.0.1:7002:1 b\n")
POOL_Q = POOL.replace("p:", "q:", 1).replace("22121", "22122")

# Configs nutcracker -t refuses (the test asks it), with a part of evkv's
# reason. nutcracker's rules are in twemproxy's src/nc_conf.c:
# conf_validate_document, conf_validate_tokens, conf_validate_structure,
# the conf_set_* of each key, conf_validate_pool, conf_post_validate.
NUTCRACKER_REFUSES = [
    ("anchor", POOL.replace("hash: fnv1a_64", "hash: &h fnv1a_64"), "an anchor (&name)"),
    ("anchor and alias", POOL.replace("hash: fnv1a_64", "hash: &h fnv1a_64")
     + POOL_Q.replace("hash: fnv1a_64", "hash: *h"), "an anchor (&name)"),
    ("alias", POOL.replace("hash: fnv1a_64", "hash: *h"), "an alias (*name)"),
    ("flow mapping", "p: {listen: 127.0.0.1:22121, servers: [127.0.0.1:7001:1 a]}\n", "flow style"),
    ("flow mapping in a pool", POOL.replace("hash: fnv1a_64", "hash: {fnv1a_64: 1}"), "flow style"),
    ("flow sequence", "p:\n  listen: 127.0.0.1:22121\n  servers: [127.0.0.1:7001:1 a, 127.0.0.1:7002:1 b]\n",
     "flow style"),
    ("two documents", "---\n" + POOL + "---\n" + POOL_Q, "a document start (---)"),
    ("document end", POOL + "...\n", "a document end (...)"),
    ("directive", "%YAML 1.1\n---\n" + POOL, "a %YAML directive"),
    ("tag", POOL.replace("hash: fnv1a_64", "hash: !!str fnv1a_64"), "a tag"),
    ("duplicate hash", POOL + "  hash: md5\n", "hash is given twice"),
    ("duplicate listen", POOL + "  listen: 127.0.0.1:22123\n", "listen is given twice"),
    ("duplicate redis", POOL + "  redis: true\n  redis: true\n", "redis is given twice"),
    ("duplicate pool", POOL + POOL.replace("22121", "22122"), "two pools named p"),
    ("two pools on one listen", POOL + POOL_Q.replace("22122", "22121"), "listen on the same address"),
    ("unknown key", POOL + '  hash_tags: "{}"\n', "unknown key 'hash_tags'"),
    ("misspelt key", POOL.replace("distribution:", "distrbution:"), "unknown key 'distrbution'"),
    ("missing listen", POOL.replace("  listen: 127.0.0.1:22121\n", ""), "has no listen"),
    ("server without weight", POOL.replace("127.0.0.1:7001:1 a", "127.0.0.1:7001 a"),
     'is not "host:port:weight [name]"'),
    ("server with zero weight", POOL.replace("127.0.0.1:7001:1 a", "127.0.0.1:7001:0 a"), "zero weight"),
    ("server with a bad weight", POOL.replace("127.0.0.1:7001:1 a", "127.0.0.1:7001:x a"), "invalid weight"),
    ("server with a bad port", POOL.replace("127.0.0.1:7001:1 a", "127.0.0.1:70000:1 a"), "invalid port"),
    ("two servers of one name", POOL.replace("7002:1 b", "7002:1 a"), "two servers named a"),
    ("servers not a list", "p:\n  listen: 127.0.0.1:22121\n  servers: 127.0.0.1:7001:1 a\n", "has no list"),
    ("two servers lists", POOL + "  servers:\n   - 127.0.0.1:7003:1 c\n", "a second list"),
    ("nested deeper", POOL + "  hash_tag:\n    open: x\n", "nested deeper"),
    ("empty value", POOL + "  redis_auth:\n", "an empty value"),
    ("bool not true or false", POOL + "  redis: yes\n", "is not true or false"),
    ("not a number", POOL + "  timeout: 5s\n", "is not a number"),
    ("unknown hash", POOL.replace("fnv1a_64", "sha1"), "hash 'sha1' is not one of nutcracker's"),
    ("unknown distribution", POOL.replace("ketama", "consistent"), "is not ketama, modula or random"),
    ("hash_tag of one character", POOL + '  hash_tag: "{"\n', "is not two characters"),
    ("server_connections 0", POOL + "  server_connections: 0\n", "server_connections cannot be 0"),
    ("redis_auth without redis", POOL + "  redis_auth: secret\n", "redis_auth is only for"),
    ("listen without a port", POOL.replace("127.0.0.1:22121", "127.0.0.1"), 'is not "hostname:port"'),
    ("listen on port 0", POOL.replace("127.0.0.1:22121", "127.0.0.1:0"), "invalid port"),
    ("listen without a host", POOL.replace("127.0.0.1:22121", ":22121"), "not an IPv4 or IPv6 address"),
    ("a list of pools", "- 127.0.0.1:7001:1 a\n", "a list where nutcracker expects"),
    ("a scalar", "p\n", "not a nutcracker config"),
    ("a pool that is a scalar", "p: 127.0.0.1:7001:1 a\n", "is not a mapping"),
    ("empty file", "", "no pools"),
    ("only comments", "# nothing yet\n", "no pools"),
    ("bad YAML", POOL.replace("hash: fnv1a_64", 'hash: "fnv1a_64'), "while scanning a quoted scalar"),
]

# Variations nutcracker -t takes: evkv must take them too (with the
# arguments that pick this shard).
NUTCRACKER_ACCEPTS = [
    ("plain", POOL, ["--shard", "a"]),
    ("comments", "# the proxies' config\np:   # the pool\n  listen: 127.0.0.1:22121  # where\n\n"
     "  servers:  # the shards\n   # the first one\n   - 127.0.0.1:7001:1 a  # named a\n\n# end\n", ["--shard", "a"]),
    ("quoted values", "p:\n  listen: \"127.0.0.1:22121\"\n  hash: 'fnv1a_64'\n  hash_tag: \"{}\"\n  servers:\n"
     "   - \"127.0.0.1:7001:1 a\"\n   - '127.0.0.1:7002:1 b'\n", ["--shard", "b"]),
    ("every key", "p:\n  listen: 127.0.0.1:22121\n  hash: murmur\n  hash_tag: \"{}\"\n  distribution: modula\n"
     "  timeout: 400\n  backlog: 1024\n  client_connections: 100\n  redis: true\n  tcpkeepalive: true\n"
     "  redis_auth: secret\n  redis_db: 0\n  preconnect: true\n  auto_eject_hosts: false\n"
     "  server_connections: 2\n  server_retry_timeout: 2000\n  server_failure_limit: 3\n  servers:\n"
     "   - 127.0.0.1:7001:1 a\n", ["--shard", "a"]),
    ("servers first", "p:\n  servers:\n   - 127.0.0.1:7001:2 a\n  listen: 127.0.0.1:22121\n  redis: false\n",
     ["--shard", "a"]),
    ("unnamed servers", "p:\n  listen: 127.0.0.1:22121\n  servers:\n   - 127.0.0.1:11211:1\n"
     "   - 127.0.0.1:7002:1\n", ["--shard", "127.0.0.1"]),
    ("unix socket listen", "p:\n  listen: /tmp/evkv-nc-test.sock 0600\n  servers:\n   - 127.0.0.1:7001:1 a\n",
     ["--shard", "a"]),
    ("host name listen", POOL.replace("127.0.0.1:22121", "localhost:22121"), ["--shard", "a"]),
    ("two pools", POOL + POOL_Q, ["--shard", "b", "--shard-pool", "q"]),
    ("CRLF line ends", POOL.replace("\n", "\r\n"), ["--shard", "a"]),
    ("list at the key's indent", "p:\n    listen: 127.0.0.1:22121\n    servers:\n    - 127.0.0.1:7001:1 a\n",
     ["--shard", "a"]),
]


class ShardTest(t.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.nutcracker = t.nutcracker_path()

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
                    srv = t.Server("--host", t.HOST, "--port", "any", "--threads", "1", "--resp-port", str(port),
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
            try:
                self.start_nutcracker(cfg, listen)
            except AssertionError as e:
                if "in use" in str(e) and attempt < 2:  # its port, taken meanwhile
                    continue
                raise
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
        two = ("a:\n  listen: 127.0.0.1:22121\n  servers:\n   - 127.0.0.1:7001:1 x\n"
               "b:\n  listen: 127.0.0.1:22122\n  servers:\n   - 127.0.0.1:7002:1 y\n")
        cases = [
            (two, ["--shard", "x"], "has 2 pools (a, b): --shard-pool must name one"),
            (two, ["--shard", "x", "--shard-pool", "c"], "has no pool named c"),
            (two, ["--shard", "z", "--shard-pool", "a"], "pool a has no server named z (its servers: x)"),
            ("a:\n  listen: 127.0.0.1:22121\n  distribution: random\n  servers:\n   - 127.0.0.1:7001:1 x\n",
             ["--shard", "x"], "distribution random"),
            ("a:\n  listen: 127.0.0.1:22121\n  hash: sha1\n  servers:\n   - 127.0.0.1:7001:1 x\n", ["--shard", "x"],
             "hash 'sha1'"),
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

    # ---- the same file as nutcracker: what `nutcracker -t` refuses, evkv refuses ----

    def nutcracker_test(self, cfg):
        """nutcracker -t's verdict on cfg: (exit status, its words)."""
        p = subprocess.run([self.nutcracker, "-t", "-c", cfg], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=STEP_TIMEOUT)
        return p.returncode, p.stdout + p.stderr

    def write_case(self, name, text):
        cfg = self.path(f"{name.replace(' ', '-')}.yml")
        with open(cfg, "w", newline="") as f:
            f.write(text)
        return cfg

    def test_refused_as_nutcracker_refuses(self):
        """Each config nutcracker -t refuses is refused by --check-config
        and by a start, with exit status 2 and the same reason (issue 17,
        defect 6): a file the proxies would not run with cannot route a
        shard's keys either."""
        table, _ = self.table(100)
        for name, text, reason in NUTCRACKER_REFUSES:
            with self.subTest(name):
                cfg = self.write_case(name, text)
                rc, words = self.nutcracker_test(cfg)
                self.assertNotEqual(rc, 0, f"nutcracker -t takes it: {words}")
                args = ["--data", table, "--shard", "a", "--shard-config", cfg]
                out = subprocess.run([t.SERVER, "--check-config"] + args, stdin=subprocess.DEVNULL,
                                     capture_output=True, text=True, timeout=STEP_TIMEOUT)
                self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
                message = out.stderr.strip().split("evkv-server: ", 1)[-1]
                self.assertIn(cfg, message)
                self.assertIn(reason, message)
                srv = t.Server("--threads", "1", *args)
                self.addCleanup(srv.close_files)
                self.addCleanup(srv.kill)
                self.assertEqual(srv.wait_exit(STEP_TIMEOUT), 2, srv.stderr())
                self.assertIn(message, srv.stderr())
                self.assertNotIn("listening", srv.stderr())

    def test_accepted_as_nutcracker_accepts(self):
        """The variations nutcracker -t takes, evkv takes too: the checks
        above refuse no more than nutcracker does."""
        table, _ = self.table(100)
        for name, text, args in NUTCRACKER_ACCEPTS:
            with self.subTest(name):
                cfg = self.write_case(name, text)
                rc, words = self.nutcracker_test(cfg)
                self.assertEqual(rc, 0, f"nutcracker -t refuses it: {words}")
                out = subprocess.run([t.SERVER, "--check-config", "--data", table, "--shard-config", cfg] + args,
                                     stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=STEP_TIMEOUT)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertIn("configuration OK", out.stdout)

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

"""integration.reload: SIGHUP reloads the data file while the server
answers. A good file is swapped in between two requests; a bad one leaves
the old table in place; a reload under load (evkv-bench checking every
answer against both tables) fails no request; the config file is read
again; and old tables are freed."""

import collections
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import evkv_test as t
from test_bench import BENCH, BENCH_TIMEOUT

RELOADED_RE = re.compile(t.LOG_PREFIX + r"reloaded: (\d+) keys? from (\S+), loaded in", re.M)
FAILED_RE = re.compile(t.LOG_PREFIX + r"error: reload failed: (.*); still serving (.*)$", re.M)
RESTART_RE = re.compile(t.LOG_PREFIX + r"warn: reload: (\S+) changed; that needs a restart, the running value stays$",
                        re.M)


def write_tsv(path, table):
    """Writes table to path as TSV, atomically (a rename), as a deployment
    would replace its data file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(f"{k}\t{v}\n" for k, v in table.items()))
    os.replace(tmp, path)


class ReloadTest(t.ServerTestCase):

    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        self.dir = d.name
        self.data = os.path.join(self.dir, "data.tsv")

    def hup_and_wait(self, srv, pattern, count):
        """Sends SIGHUP and waits until pattern has matched count times in
        the log (the reload's outcome)."""
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while len(pattern.findall(srv.stderr())) < count:
            self.assertIsNone(srv.proc.poll(), srv.stderr())
            self.assertLess(time.monotonic(), deadline, f"no reload line; stderr:\n{srv.stderr()}")
            time.sleep(0.01)

    def stats(self, conn):
        conn.send(t.json_request({"action": "stats"}))
        return t.answer_result(conn.read_answer())

    def test_reloaded_means_every_worker_moved(self):
        # Once the log says "reloaded", every worker answers from the new
        # table: each request sent after the line sees it, on whichever
        # worker. The workers are kept busy, so that one may be late to
        # move.
        tables = [{"k": "even"}, {"k": "odd"}]
        write_tsv(self.data, tables[0])
        srv = self.start_server("--data", self.data, "--threads", "2")
        other = os.path.join(self.dir, "other.tsv")
        write_tsv(other, tables[1])
        bench = subprocess.Popen([BENCH, "-p", str(srv.port), "--data", self.data, "--data", other, "-c", "8",
                                  "-P", "32", "-d", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(bench.wait)
        self.addCleanup(bench.kill)
        for i in range(1, 101):
            write_tsv(self.data, tables[i % 2])
            self.hup_and_wait(srv, RELOADED_RE, i)
            for _ in range(6):
                with srv.connect() as c:
                    self.assertEqual(c.exchange(t.search_request("k")), t.search_answer("k", tables[i % 2]),
                                     f"reload {i}")

    def test_reload_swaps_the_table(self):
        old = {"a": "old a", "b": "old b"}
        new = {"a": "new a", "c": "new c", "d": "new d"}
        write_tsv(self.data, old)
        srv = self.start_server("--data", self.data, "--threads", "2")
        conn = self.connect(srv)
        for k in ("a", "b", "c"):
            self.assert_search(conn, k, old)
        write_tsv(self.data, new)
        self.hup_and_wait(srv, RELOADED_RE, 1)
        # the connection opened before the reload gets the new table
        for k in ("a", "b", "c", "d"):
            self.assert_search(conn, k, new)
        self.assert_search(self.connect(srv), "d", new)
        st = self.stats(conn)["table"]
        self.assertEqual((st["keys"], st["source"], st["format"], st["reloads"], st["reload_failures"]),
                         (3, self.data, "tsv", 1, 0))
        self.assertEqual(RELOADED_RE.search(srv.stderr()).groups(), ("3", self.data))

    def test_bad_reload_keeps_the_old_table(self):
        old = {"a": "old a"}
        write_tsv(self.data, old)
        srv = self.start_server("--data", self.data)
        conn = self.connect(srv)
        with open(self.data, "w") as f:
            f.write("a\tnew a\nno tab on this line\n")
        self.hup_and_wait(srv, FAILED_RE, 1)
        why, still = FAILED_RE.search(srv.stderr()).groups()
        self.assertEqual(why, f"{self.data}: line 2: no TAB between key and value")
        self.assertRegex(still, "^" + re.escape(f"1 key from {self.data}, loaded in ") + r"\d+\.\d\d s$")
        self.assert_search(conn, "a", old)
        os.unlink(self.data)
        self.hup_and_wait(srv, FAILED_RE, 2)
        self.assert_search(conn, "a", old)
        st = self.stats(conn)["table"]
        self.assertEqual((st["keys"], st["reloads"], st["reload_failures"]), (1, 0, 2))
        # and a good file afterwards is taken
        write_tsv(self.data, {"a": "fixed"})
        self.hup_and_wait(srv, RELOADED_RE, 1)
        self.assert_search(conn, "a", {"a": "fixed"})

    def test_reload_under_load(self):
        """evkv-bench drives 3 s of pipelined requests from 8 connections
        while the file changes and SIGHUP arrives six times: no request
        fails, and every answer is what table A or table B gives."""
        a = {f"k{i}": f"value {i} from A" for i in range(2000)}
        b = {f"k{i}": f"value {i} from B" for i in range(1000, 3000)}
        path_a = os.path.join(self.dir, "a.tsv")
        path_b = os.path.join(self.dir, "b.tsv")
        write_tsv(path_a, a)
        write_tsv(path_b, b)
        write_tsv(self.data, a)
        srv = self.start_server("--data", self.data, "--threads", "2")
        report = os.path.join(self.dir, "bench.json")
        bench = subprocess.Popen([BENCH, "-h", t.HOST, "-p", str(srv.port), "-c", "8", "-P", "8", "-d", "3",
                                  "--data", path_a, "--data", path_b, "--json", report],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.3)
            for i in range(6):
                write_tsv(self.data, b if i % 2 == 0 else a)
                self.hup_and_wait(srv, RELOADED_RE, i + 1)
                time.sleep(0.2)
            out, err = bench.communicate(timeout=BENCH_TIMEOUT)
        finally:
            bench.kill()
        self.assertEqual(bench.returncode, 0, out.decode() + err.decode())
        with open(report) as f:
            r = json.load(f)
        self.assertEqual(r["errors"], 0, out.decode())
        self.assertGreater(r["requests"], 0)
        self.assertGreater(r["answers_from"]["data1_only"], 0)
        self.assertGreater(r["answers_from"]["data2_only"], 0)
        st = self.stats(self.connect(srv))["table"]
        self.assertEqual((st["keys"], st["reloads"], st["reload_failures"]), (2000, 6, 0))

    def test_many_key_requests_see_one_table(self):
        """An MGET (RESP) or an msearch (the guide's protocol) of many keys
        is answered from one table, whole, while reloads swap two tables
        under a stream of them: every reply's values all come from table A
        or all from table B, and both kinds of reply are seen."""
        keys = [f"k{i}" for i in range(300)]
        tables = [{k: f"{k} from A" for k in keys}, {k: f"{k} from B" for k in keys}]
        write_tsv(self.data, tables[0])
        srv = self.start_server("--data", self.data, "--threads", "2", "--resp-port", "any")
        mget = b"*%d\r\n$4\r\nMGET\r\n" % (len(keys) + 1) + b"".join(
            b"$%d\r\n%s\r\n" % (len(k), k.encode()) for k in keys)
        msearch = t.search_request(keys, action="msearch")
        stop = threading.Event()
        seen = {"resp": collections.Counter(), "guide": collections.Counter()}
        failures = []

        def which(values):
            for name, table in zip("AB", tables):
                if values == [table[k] for k in keys]:
                    return name
            return "mixed: " + repr(sorted({v.rsplit(" ", 1)[-1] for v in values}))

        def resp_client():
            with socket.create_connection((t.HOST, srv.resp_port), timeout=t.IO_TIMEOUT) as s:
                f = s.makefile("rb")
                while not stop.is_set():
                    s.sendall(mget * 4)
                    for _ in range(4):
                        header = f.readline()
                        if header != b"*%d\r\n" % len(keys):
                            failures.append(f"MGET reply {header!r}")
                            return
                        values = []
                        for _ in keys:
                            n = int(f.readline()[1:])
                            values.append(f.read(n + 2)[:-2].decode())
                        seen["resp"][which(values)] += 1

        def guide_client():
            conn = srv.connect()
            try:
                while not stop.is_set():
                    conn.send(msearch * 4)
                    for _ in range(4):
                        seen["guide"][which(t.answer_result(conn.read_answer()))] += 1
            finally:
                conn.close()

        threads = [threading.Thread(target=fn) for fn in (resp_client, guide_client)]
        for th in threads:
            th.start()
        try:
            for i in range(1, 41):
                write_tsv(self.data, tables[i % 2])
                self.hup_and_wait(srv, RELOADED_RE, i)
                time.sleep(0.02)
        finally:
            stop.set()
            for th in threads:
                th.join(30)
        self.assertEqual(failures, [])
        for proto, counts in seen.items():
            self.assertEqual(set(counts), {"A", "B"}, f"{proto}: {counts}")

    @unittest.skipIf(t.TSAN, "ThreadSanitizer's shadow memory of freed tables stays resident")
    def test_old_tables_are_freed(self):
        """Twenty reloads of a 200,000-key table leave the server's memory
        about where one reload leaves it."""
        table = {f"key-{i:07d}": "x" * 100 for i in range(200000)}
        write_tsv(self.data, table)
        srv = self.start_server("--data", self.data, "--threads", "2")
        self.hup_and_wait(srv, RELOADED_RE, 1)
        conn = self.connect(srv)
        self.assert_search(conn, "key-0000001", table)
        after_one = t.rss_kib(srv.proc.pid)
        for i in range(2, 22):
            self.hup_and_wait(srv, RELOADED_RE, i)
        self.assert_search(conn, "key-0199999", table)
        after_many = t.rss_kib(srv.proc.pid)
        # one table is about 30 MiB; twenty kept would be 600 MiB
        self.assertLess(after_many, after_one + 40 * 1024, (after_one, after_many))

    def test_reload_reads_the_config_file_again(self):
        other = os.path.join(self.dir, "other.tsv")
        write_tsv(self.data, {"a": "first"})
        write_tsv(other, {"a": "second"})
        conf = os.path.join(self.dir, "evkv.conf")
        with open(conf, "w") as f:
            f.write(f"data {self.data}\n")
        srv = self.start_server("-c", conf)
        conn = self.connect(srv)
        self.assert_search(conn, "a", {"a": "first"})
        with open(conf, "w") as f:
            f.write(f"data {other}\nidle-timeout 5\n")
        self.hup_and_wait(srv, RELOADED_RE, 1)
        self.assert_search(conn, "a", {"a": "second"})
        self.assertEqual(RESTART_RE.findall(srv.stderr()), ["idle-timeout"])
        # a config file that no longer parses changes nothing
        with open(conf, "w") as f:
            f.write(f"data {self.data}\nthreads many\n")
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload: " + conf not in srv.stderr():
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.01)
        self.assertIn(f"error: reload: {conf}:2: threads must be 1 to 256; nothing changed", srv.stderr())
        self.assert_search(conn, "a", {"a": "second"})
        self.assertEqual(self.stats(conn)["table"]["reload_failures"], 1)

    def test_reload_names_what_needs_a_restart(self):
        """A config file change of a setting a reload cannot change (each
        listener setting, the threads, the limits) is logged on SIGHUP as
        needing a restart, naming it, and the server goes on serving on
        its old listeners; a reloadable setting (the data file) takes
        effect."""
        other = os.path.join(self.dir, "other.tsv")
        write_tsv(self.data, {"a": "first"})
        write_tsv(other, {"a": "second"})
        conf = os.path.join(self.dir, "evkv.conf")
        base = {"host": t.HOST, "port": "any", "resp-port": "any", "threads": "1", "data": self.data}

        def configure(**changed):
            settings = dict(base, **{k.replace("_", "-"): v for k, v in changed.items()})
            with open(conf, "w") as f:
                f.write("".join(f"{k} {v}\n" for k, v in settings.items()))

        configure()
        srv = self.start_server(argv=["-c", conf])
        redis = t.Resp(srv.resp_port)
        self.addCleanup(redis.close)
        changes = [("host", "::1"), ("port", str(t.free_port())), ("port", "0"),
                   ("unix", os.path.join(self.dir, "evkv.sock")), ("unix_mode", "0600"),
                   ("resp_port", str(t.free_port())), ("resp_port", "0"),
                   ("resp_unix", os.path.join(self.dir, "redis.sock")), ("threads", "2"), ("max_header", "100"),
                   ("max_content", "100"), ("max_conns", "10"), ("max_output", "100"), ("idle_timeout", "5"),
                   ("message_timeout", "5")]
        for i, (key, value) in enumerate(changes, 1):
            with self.subTest(option=key, value=value):
                configure(**{key: value})
                self.hup_and_wait(srv, RELOADED_RE, i)
                self.assertEqual(RESTART_RE.findall(srv.stderr()), [k.replace("_", "-") for k, _ in changes[:i]])
                self.assert_search(self.connect(srv), "a", {"a": "first"})
                self.assertEqual(redis.call("GET", "a"), b"first")
        self.assertEqual(len(RESTART_RE.findall(srv.stderr())), len(changes))
        configure(data=other)
        self.hup_and_wait(srv, RELOADED_RE, len(changes) + 1)
        self.assertEqual(len(RESTART_RE.findall(srv.stderr())), len(changes), "the data file needs no restart")
        self.assert_search(self.connect(srv), "a", {"a": "second"})
        self.assertEqual(redis.call("GET", "a"), b"second")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "evkv.sock")), "no listener moved")

    def test_reload_moves_the_log(self):
        """log-file set, changed and removed in the config file: each
        reload sends the log where the file now says."""
        conf = os.path.join(self.dir, "evkv.conf")
        one, two = os.path.join(self.dir, "one.log"), os.path.join(self.dir, "two.log")
        with open(conf, "w") as f:
            f.write(f"log-file {one}\n")
        srv = t.Server("-c", conf)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        deadline = time.monotonic() + 10

        def wait_for(path, text):
            while not (os.path.exists(path) and text in open(path).read()):
                self.assertIsNone(srv.proc.poll(), srv.stderr())
                self.assertLess(time.monotonic(), deadline, srv.stderr())
                time.sleep(0.01)

        wait_for(one, "listening on")
        with open(conf, "w") as f:
            f.write(f"log-file {two}\n")
        srv.send_signal(signal.SIGHUP)
        wait_for(two, "reloaded: 3 keys, built-in table")
        with open(conf, "w") as f:
            f.write("# back to stderr\n")
        srv.send_signal(signal.SIGHUP)
        while "reloaded: 3 keys" not in srv.stderr():
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.01)
        self.assertEqual(srv.stop(), 0)
        self.assertNotIn("reloaded", open(one).read())
        self.assertIn("reload: the log goes on in " + two, open(one).read())
        self.assertIn("reload: the log goes on in stderr", open(two).read())
        self.assertEqual(open(two).read().count("reloaded"), 1)
        self.assertRegex(srv.stderr(), t.STOP_RE)
        self.assertNotIn("listening on", srv.stderr())

    def test_log_moved_while_the_workers_log(self):
        """Reloads move the log from stderr to a file and back while both
        workers log every request (-v): every answer stays right (a log
        line written to a descriptor the log had let go of could land on a
        client's connection), and every reload line is in one log or the
        other."""
        table = {"a": "x" * 40}
        write_tsv(self.data, table)
        conf = os.path.join(self.dir, "evkv.conf")
        log = os.path.join(self.dir, "evkv.log")
        with open(conf, "w") as f:
            f.write("# the log on stderr\n")
        srv = self.start_server("-c", conf, "--data", self.data, "--threads", "2", "-v")
        stop = threading.Event()
        errors = []

        def client():
            try:
                with srv.connect() as c:
                    while not stop.is_set():
                        self.assertEqual(c.exchange(t.search_request("a")), t.search_answer("a", table))
                        time.sleep(0.002)  # a log of a few thousand lines
            except Exception as e:  # reported below
                errors.append(e)

        clients = [threading.Thread(target=client, daemon=True) for _ in range(4)]
        for th in clients:
            th.start()
        deadline = time.monotonic() + 60
        for i in range(1, 5):
            with open(conf, "w") as f:
                f.write(f"log-file {log}\n" if i % 2 else "# the log on stderr\n")
            srv.send_signal(signal.SIGHUP)
            while True:
                logged = srv.stderr()
                if os.path.exists(log):
                    with open(log) as f:
                        logged += f.read()
                if len(RELOADED_RE.findall(logged)) >= i:
                    break
                self.assertIsNone(srv.proc.poll(), srv.stderr())
                self.assertLess(time.monotonic(), deadline, f"no reload line; stderr:\n{srv.stderr()}")
                time.sleep(0.01)
        stop.set()
        for th in clients:
            th.join(t.IO_TIMEOUT)
        self.assertEqual(errors, [])

    def test_sighup_during_the_first_load(self):
        """A SIGHUP while the server loads its first table, before it
        listens, is held back, then handled as a reload: it does not end
        the process."""
        write_tsv(self.data, {f"key-{i:07d}": "x" * 50 for i in range(1000000)})
        srv = t.Server("--data", self.data)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        # main() holds SIGHUP back before it loads: wait until the data file
        # is being read (before main() runs, the default action would end
        # any process, and a wrapper such as valgrind starts slowly).
        t.wait_for_load(srv.proc.pid, self.data, done=lambda: srv.proc.poll() is not None)
        self.assertIsNone(srv.proc.poll(), srv.stderr())
        deadline = time.monotonic() + 60
        srv.send_signal(signal.SIGHUP)
        self.assertNotRegex(srv.stderr(), t.START_RE, "the table loaded before the SIGHUP was sent")
        srv.wait_started()
        while not RELOADED_RE.search(srv.stderr()):
            self.assertIsNone(srv.proc.poll(), srv.stderr())
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.01)
        self.assertEqual(srv.stop(), 0)

    def test_stop_during_a_reload(self):
        """SIGTERM while a reload loads: the load is given up, the server
        stops promptly and cleanly."""
        write_tsv(self.data, {f"key-{i:07d}": "x" * 50 for i in range(1000000)})
        srv = self.start_server("--data", self.data)
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reloading " + self.data not in srv.stderr():
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.001)
        self.assertEqual(srv.stop(), 0)
        self.assertNotIn("reloaded", srv.stderr())
        self.assertNotIn("reload failed", srv.stderr())

    def test_stop_during_a_slow_shard_config_reload(self):
        """SIGTERM during a reload whose nutcracker config is pathological
        (60,000 nested flow brackets, which libyaml's document loader takes
        seconds over): the process exits promptly, as it does during a
        data file's load (issue 17, defect 5). The file is refused, with
        the reason, at a start and by --check-config."""
        write_tsv(self.data, {"a-key": "1", "another": "2"})
        cfg = os.path.join(self.dir, "nutcracker.yml")
        pool = "p:\n  listen: 127.0.0.1:22121\n  servers:\n   - 127.0.0.1:7001:1 a\n   - 127.0.0.1:7002:1 b\n"
        with open(cfg, "w") as f:
            f.write(pool)
        args = ["--data", self.data, "--shard", "a", "--shard-config", cfg]
        srv = self.start_server("--threads", "1", *args)
        depth = 60000
        with open(cfg + ".tmp", "w") as f:
            f.write(pool + "  x: " + "[" * depth + "]" * depth + "\n")
        os.replace(cfg + ".tmp", cfg)
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reloading " + self.data not in srv.stderr():
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.001)
        srv.send_signal(signal.SIGTERM)
        # A generous bound, far below the seconds the loader took, under a
        # wrapper such as valgrind too.
        self.assertEqual(srv.wait_exit(5), 0, srv.stderr())
        self.assertNotIn("reloaded", srv.stderr())

        check = subprocess.run([t.SERVER, "--check-config"] + args, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=10)
        self.assertEqual(check.returncode, 2, check.stdout + check.stderr)
        message = check.stderr.strip().split("evkv-server: ", 1)[-1]
        self.assertIn(f"{cfg}:6: flow style", message)
        start = t.Server("--threads", "1", *args)
        self.addCleanup(start.close_files)
        self.addCleanup(start.kill)
        self.assertEqual(start.wait_exit(10), 2, start.stderr())
        self.assertIn(message, start.stderr())

    def test_reload_of_the_built_in_table(self):
        srv = self.start_server()
        conn = self.connect(srv)
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reloaded: 3 keys, built-in table" not in srv.stderr():
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.01)
        self.assert_search(conn, "morpheus")
        self.assertEqual(self.stats(conn)["table"]["reloads"], 1)


if __name__ == "__main__":
    t.main()

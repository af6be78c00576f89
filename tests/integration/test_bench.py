"""integration.bench: evkv-bench's correctness, not speed. It counts
exactly N requests for -n N, honours --reconnect, reports wrong answers
(a proxy between it and the real server corrupts one), and checks answers
against --data. No timing is asserted."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import evkv_test as t

BENCH = os.environ.get("EVKV_BENCH") or os.path.join(t.HERE, "..", "..", "build", "client", "evkv-bench")
BENCH_TIMEOUT = 60


def bench(*args, timeout=BENCH_TIMEOUT, cwd=None):
    """Runs evkv-bench with args; returns (status, stdout, stderr)."""
    p = subprocess.run([BENCH] + [str(a) for a in args], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def run_bench(port, *args, timeout=BENCH_TIMEOUT, cwd=None):
    """Runs evkv-bench against port; returns (status, stdout, stderr)."""
    return bench("-h", t.HOST, "-p", port, *args, timeout=timeout, cwd=cwd)


def start_bench(port, *args):
    """Starts evkv-bench against port in the background."""
    return subprocess.Popen([BENCH, "-h", t.HOST, "-p", str(port)] + [str(a) for a in args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def doc_option(name):
    """The meaning of option name in docs/load-testing.md's evkv-bench
    options table, its spaces collapsed."""
    with open(os.path.join(t.HERE, "..", "..", "docs", "load-testing.md"), encoding="utf-8") as f:
        page = f.read()
    section = page[page.index("## evkv-bench"):page.index("## Scripts")]
    m = re.search(r"^\| `" + re.escape(name) + r"[^|]*\| (.*) \|$", section, re.M)
    assert m, name
    return " ".join(m.group(1).split())


def table_row(stdout):
    """The final table as a dict: requests, errors, retried, hits, misses, req/s,
    KB/s, then the latencies: min(us), mean(us), p50(us)... The table is
    the last four lines: two header lines, each over a line of figures."""
    lines = [l for l in stdout.splitlines() if l.strip()]
    row = {}
    for head, values in ((lines[-4], lines[-3]), (lines[-2], lines[-1])):
        row.update(zip(head.split(), (float(v) for v in values.split())))
    return row


class CorruptingProxy:
    """Forwards connections between the bench and the real server; on the
    first connection only, changes the byte of the server's output at
    offset `at`, so exactly one answer is wrong."""

    def __init__(self, server_port, at):
        self.lsock = socket.socket()
        self.lsock.bind((t.HOST, 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.server_port = server_port
        self.at = at
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        at = self.at
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            upstream = socket.create_connection((t.HOST, self.server_port))
            threading.Thread(target=self.pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, at), daemon=True).start()
            at = None

    @staticmethod
    def pump(src, dst, corrupt_at):
        seen = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if corrupt_at is not None and seen <= corrupt_at < seen + len(data):
                    i = corrupt_at - seen
                    data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
                seen += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.lsock.close()


class SplittingProxy:
    """Forwards the bench's connections to two servers in turn: the first
    to ports[0], the second to ports[1], the third to ports[0] again... A
    run over it gets answers from both servers' tables, as a run across a
    reload between two data files does."""

    def __init__(self, ports):
        self.lsock = socket.socket()
        self.lsock.bind((t.HOST, 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.ports = ports
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        n = 0
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            upstream = socket.create_connection((t.HOST, self.ports[n % len(self.ports)]))
            n += 1
            threading.Thread(target=CorruptingProxy.pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=CorruptingProxy.pump, args=(upstream, client, None), daemon=True).start()

    def close(self):
        self.lsock.close()


class Redis:
    """A real redis-server (Debian's) on a free port of HOST, with no
    persistence, in directory; stopped by close()."""

    def __init__(self, directory):
        self.port = t.free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", t.HOST, "--save", "", "--appendonly", "no",
             "--dir", directory, "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                if self.command(b"PING") == [b"+PONG"]:
                    return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError("redis-server did not start")

    def command(self, *commands):
        """Sends each command (a list of arguments, or one word) on one
        connection; returns the first line of each reply."""
        out = b""
        for c in commands:
            args = [c] if isinstance(c, bytes) else [a if isinstance(a, bytes) else a.encode() for a in c]
            out += b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        with socket.create_connection((t.HOST, self.port), timeout=5) as s:
            s.sendall(out)
            buf = b""
            while buf.count(b"\r\n") < len(commands):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf.split(b"\r\n")[:len(commands)]

    def load(self, table):
        """SETs every key of table as evkv's RESP listener answers it: a
        string as its text, any other JSON value as its JSON text."""
        sets = [["SET", k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)] for k, v in table.items()]
        assert self.command(*sets) == [b"+OK"] * len(sets)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


REDIS_SERVER = shutil.which("redis-server")

# Values of every JSON kind, and keys that need escaping, for --mget.
MGET_TABLE = {"s": "text", "u": "caf\u00e9 \U0001f436", "n": 42, "f": 2.5, "l": [1, "two", None],
              "o": {"x": None, "y": [True, False]}, "t": True, "z": None, "q\"uote": "a\tb\\c",
              "sp ace": "", "k10": "ten", "k11": "eleven"}

ANSWERS_FROM_RE = re.compile(r"^answers matching only --data (.+): (\d+), only --data (.+): (\d+), both: (\d+)$", re.M)


def answers_from(stdout):
    """The summary's (first path, count, second path, count, both)."""
    m = ANSWERS_FROM_RE.search(stdout)
    assert m, stdout
    return m.group(1), int(m.group(2)), m.group(3), int(m.group(4)), int(m.group(5))


class BenchTest(t.ServerTestCase):

    def two_tables(self):
        """Writes data files A, B and C into a temporary directory; returns
        their paths. A has k0..k99; B has k50..k159, with its own values
        for k50, k55, ... k95 and A's for the other 40 keys they share. In
        the bench's key order (A's keys, then B's others), each of the 160
        keys comes up 10 times in -n 1600 with sequential keys. C is A with
        values for k3, k60 and k120 that neither A nor B gives."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        a = {f"k{i}": f"value {i}" for i in range(100)}
        b = {f"k{i}": f"value {i} (B)" if i < 100 and i % 5 == 0 else f"value {i}" for i in range(50, 160)}
        c = dict(a, k3="value 3 (C)", k60="value 60 (C)", k120="value 120 (C)")
        paths = []
        for name, table in (("a", a), ("b", b), ("c", c)):
            paths.append(os.path.join(d.name, name + ".tsv"))
            with open(paths[-1], "w") as f:
                f.write("".join(f"{k}\t{v}\n" for k, v in table.items()))
        return paths

    def test_exact_request_count(self):
        for args in (["-c", 1], ["-c", 3, "-P", 4], ["-t", 2, "-c", 5, "-P", 7], ["-t", 3, "-c", 1, "-P", 2]):
            with self.subTest(args=args):
                srv = self.start_server()
                rc, out, err = run_bench(srv.port, "-n", 1001, *args)
                self.assertEqual(rc, 0, err)
                row = table_row(out)
                self.assertEqual(row["requests"], 1001)
                self.assertEqual(row["errors"], 0)
                self.assertEqual(row["hits"], 1001)
                # The server saw exactly as many: no request was lost or repeated.
                self.assertEqual(srv.stop(), 0)
                self.assertEqual(int(t.STOP_RE.search(srv.stderr()).group(2)), 1001)

    def test_misses_counted(self):
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-n", 500, "--miss-ratio", 1)
        self.assertEqual(rc, 0, err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["hits"], row["misses"], row["errors"]), (500, 0, 500, 0))

    def test_reconnect_opens_a_connection_per_request(self):
        srv = self.start_server("-v")
        rc, out, err = run_bench(srv.port, "-n", 60, "-c", 4, "--reconnect")
        self.assertEqual(rc, 0, err)
        self.assertEqual(table_row(out)["requests"], 60)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(srv.stderr().count(": accepted"), 60)

    def test_persistent_connections_are_reused(self):
        srv = self.start_server("-v")
        rc, out, err = run_bench(srv.port, "-n", 600, "-c", 4, "-t", 2)
        self.assertEqual(rc, 0, err)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(srv.stderr().count(": accepted"), 8)

    def test_one_corrupted_answer_is_an_error(self):
        srv = self.start_server()
        # With one connection and sequential keys, the answers come in the
        # table's order: corrupt the last byte of the 11th answer's value.
        keys = ["morpheus", "ring", "\U0001f436"]
        stream = b"".join(t.search_answer(keys[i % 3]) for i in range(11))
        proxy = CorruptingProxy(srv.port, at=len(stream) - 3)
        self.addCleanup(proxy.close)
        rc, out, err = run_bench(proxy.port, "-n", 200, "-c", 1, "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"]), (200, 1, 199))
        self.assertIn("wrong answer for 'ring'", err)

    def test_broken_framing_is_counted(self):
        srv = self.start_server()
        # Corrupt the first byte of the 5th answer's protoheader: the bench
        # waits for a header that never comes, gives up after --timeout,
        # counts that request failed (--retries 0), reconnects and goes on.
        keys = ["morpheus", "ring", "\U0001f436"]
        stream = b"".join(t.search_answer(keys[i % 3]) for i in range(4))
        proxy = CorruptingProxy(srv.port, at=len(stream))
        self.addCleanup(proxy.close)
        rc, out, err = run_bench(proxy.port, "-n", 100, "-c", 1, "--key-pattern", "sequential",
                                 "--timeout", 1, "--retries", 0)
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"]), (100, 1, 99))
        self.assertIn("no answer within --timeout", err)
        # With retries too: --timeout is the request's deadline, retries
        # included, so a request out of time is not sent again.
        proxy = CorruptingProxy(srv.port, at=len(stream))
        self.addCleanup(proxy.close)
        rc, out, err = run_bench(proxy.port, "-n", 100, "-c", 1, "--key-pattern", "sequential",
                                 "--timeout", 1)
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["retried"], row["hits"]), (100, 1, 0, 99))
        self.assertIn("timed out: no answer within --timeout of 1000 ms (1 requests unanswered)", err)

    def test_timeout_bounds_the_whole_answer(self):
        """--timeout counts from the last whole answer, not the last byte: a
        server trickling an answer a byte every 0.25 s (for over a minute)
        has its requests counted failed within seconds."""
        answer = t.result_answer("x" * 250)

        def handle(s):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.recv(65536)
            for i in range(len(answer)):
                s.sendall(answer[i:i + 1])
                time.sleep(0.25)

        port, _ = self.fake_server(handle)
        t0 = time.monotonic()
        try:
            rc, out, err = run_bench(port, "-n", 1, "-c", 1, "--timeout", 1, timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("evkv-bench --timeout 1 still waiting after 15 s")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual((table_row(out)["requests"], table_row(out)["errors"]), (1, 1))
        self.assertIn("no answer within --timeout", err)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    def test_answers_checked_against_data(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        served = os.path.join(d.name, "served.tsv")
        other = os.path.join(d.name, "other.tsv")
        with open(served, "w") as f:
            f.write("".join(f"k{i}\tvalue {i}\n" for i in range(100)))
        with open(other, "w") as f:
            f.write("".join(f"k{i}\tvalue {i}{'!' if i == 7 else ''}\n" for i in range(100)))
        srv = self.start_server("--data", served)
        rc, out, err = run_bench(srv.port, "--data", served, "-n", 1000, "-c", 2, "-P", 8)
        self.assertEqual(rc, 0, err)
        self.assertEqual(table_row(out)["hits"], 1000)
        # The bench believes k7's value differs: every answer for k7 is wrong.
        rc, out, err = run_bench(srv.port, "--data", other, "-n", 1000, "--key-pattern", "sequential")
        row = table_row(out)
        self.assertEqual(rc, 1)
        self.assertEqual(row["errors"], 10)
        self.assertIn("'k7'", err)

    def test_answers_over_1_mib(self):
        """A 2,000,000-byte value comes through and is checked like any
        other: --max-answer is 512 MiB unless told otherwise."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path, table = t.write_big_table(d.name)
        srv = self.start_server("--data", path)
        rc, out, err = run_bench(srv.port, "--data", path, "-n", 20, "-c", 2, "-P", 2,
                                 "--key-pattern", "sequential")
        self.assertEqual(rc, 0, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"]), (20, 0, 20))
        # Under the limit: every answer for "big" is refused, unread.
        content_len = len(t.json_encode({"result": table["big"]}))
        rc, out, err = run_bench(srv.port, "--data", path, "-n", 20, "-c", 1, "--key-pattern", "sequential",
                                 "--max-answer", content_len - 1)
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"]), (20, 10, 10))
        self.assertIn(f"content-length {content_len} exceeds the limit of {content_len - 1} bytes "
                      f"(--max-answer raises it)", err)

    def test_keys_file_with_data(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        data = os.path.join(d.name, "d.json")
        keys = os.path.join(d.name, "keys")
        with open(data, "w") as f:
            json.dump({"a": [1, 2.5], "b": {"x": None}, "c": "text"}, f)
        with open(keys, "w") as f:
            f.write("a\nb\nc\nnot-there\n")
        srv = self.start_server("--data", data)
        rc, out, err = run_bench(srv.port, "--keys", keys, "--data", data, "-n", 400,
                                 "--key-pattern", "sequential")
        self.assertEqual(rc, 0, err)
        row = table_row(out)
        self.assertEqual((row["hits"], row["misses"], row["errors"]), (300, 100, 0))

    def test_two_data_files_server_serving_the_first(self):
        a, b, _ = self.two_tables()
        report = os.path.join(os.path.dirname(a), "r.json")
        srv = self.start_server("--data", a)
        rc, out, err = run_bench(srv.port, "--data", a, "--data", b, "-n", 1600, "-c", 2, "-P", 8,
                                 "--key-pattern", "sequential", "--json", report)
        self.assertEqual(rc, 0, err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"], row["misses"]), (1600, 0, 1000, 600))
        # Only A's: k0..k49 (B lacks them), B's 10 own values, k100..k159
        # (A lacks them: the miss answer). Both: the 40 keys A and B agree on.
        self.assertEqual(answers_from(out), (a, 1200, b, 0, 400))
        with open(report) as f:
            r = json.load(f)
        self.assertEqual(r["answers_from"], {"data1_only": 1200, "data2_only": 0, "both": 400})
        self.assertEqual(r["config"]["data"], [a, b])
        # Given the other way round, the same answers count for the second.
        rc, out, err = run_bench(srv.port, "--data", b, "--data", a, "-n", 1600, "--key-pattern", "sequential")
        self.assertEqual(rc, 0, err)
        self.assertEqual(answers_from(out), (b, 0, a, 1200, 400))
        # With one --data, no such counts.
        rc, out, err = run_bench(srv.port, "--data", a, "-n", 100, "--json", report)
        self.assertEqual(rc, 0, err)
        self.assertNotRegex(out, ANSWERS_FROM_RE)
        with open(report) as f:
            r = json.load(f)
        self.assertNotIn("answers_from", r)
        self.assertEqual(r["config"]["data"], [a])

    def test_two_data_files_server_serving_the_second(self):
        a, b, _ = self.two_tables()
        srv = self.start_server("--data", b)
        rc, out, err = run_bench(srv.port, "--data", a, "--data", b, "-n", 1600, "-t", 1, "-c", 3, "-P", 4,
                                 "--key-pattern", "sequential")
        self.assertEqual(rc, 0, err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"], row["misses"]), (1600, 0, 1100, 500))
        self.assertEqual(answers_from(out), (a, 0, b, 1200, 400))

    def test_two_data_files_answers_from_neither_are_errors(self):
        a, b, c = self.two_tables()
        srv = self.start_server("--data", c)
        rc, out, err = run_bench(srv.port, "--data", a, "--data", b, "-n", 1600, "-c", 2, "-P", 8,
                                 "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        # k3, k60 and k120, 10 times each.
        self.assertEqual((row["requests"], row["errors"]), (1600, 30))
        self.assertEqual(answers_from(out), (a, 1170, b, 0, 400))
        self.assertRegex(err, "wrong answer for 'k(3|60|120)'")

    def test_two_data_files_answers_from_both(self):
        # Two servers, one serving A and one B, behind a proxy that sends
        # the bench's connections to each in turn: as a reload would, the
        # run sees answers from both tables, and none is an error.
        a, b, _ = self.two_tables()
        srv_a = self.start_server("--data", a)
        srv_b = self.start_server("--data", b)
        proxy = SplittingProxy([srv_a.port, srv_b.port])
        self.addCleanup(proxy.close)
        rc, out, err = run_bench(proxy.port, "--data", a, "--data", b, "-n", 3000, "-c", 4, "-P", 4)
        self.assertEqual(rc, 0, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"]), (3000, 0))
        _, only_a, _, only_b, both = answers_from(out)
        self.assertGreater(only_a, 0)
        self.assertGreater(only_b, 0)
        self.assertEqual(only_a + only_b + both, 3000)
        # Each server answered part of the requests.
        self.assertEqual(srv_a.stop(), 0)
        self.assertEqual(srv_b.stop(), 0)
        served = [int(t.STOP_RE.search(s.stderr()).group(2)) for s in (srv_a, srv_b)]
        self.assertEqual(sum(served), 3000)

    def test_two_data_files_with_keys(self):
        a, b, _ = self.two_tables()
        keys = os.path.join(os.path.dirname(a), "keys")
        with open(keys, "w") as f:
            f.write("k0\nk120\nk55\nk56\nnot-there\n")
        srv = self.start_server("--data", b)
        rc, out, err = run_bench(srv.port, "--keys", keys, "--data", a, "--data", b, "-n", 500,
                                 "--key-pattern", "sequential")
        self.assertEqual(rc, 0, err)
        row = table_row(out)
        self.assertEqual((row["hits"], row["misses"], row["errors"]), (300, 200, 0))
        # k0, k120 and k55 as B gives them and A does not; k56 and
        # not-there the same in both.
        self.assertEqual(answers_from(out), (a, 0, b, 300, 200))

    def test_data_at_most_twice(self):
        a, b, c = self.two_tables()
        rc, out, err = run_bench(1, "--data", a, "--data", b, "--data", c)
        self.assertEqual(rc, 2, err)
        self.assertIn("--data may be given at most twice", err)

    def test_open_loop_keeps_to_its_schedule(self):
        # At 200 requests/s for 1 s, no more than 200 (+1 per connection)
        # can have been scheduled: an upper bound, not a timing assertion.
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-R", 200, "-d", 1, "-c", 4)
        self.assertEqual(rc, 0, err)
        self.assertLessEqual(table_row(out)["requests"], 204)

    def test_json_report(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = os.path.join(d.name, "r.json")
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-n", 300, "--json", path)
        self.assertEqual(rc, 0, err)
        r = json.load(open(path))
        self.assertEqual(r["requests"], 300)
        self.assertEqual(r["errors"], 0)
        self.assertEqual(sum(p["requests"] for p in r["series"]), 300)
        lat = r["latency_us"]
        self.assertTrue(lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"])
        pcts = [p["percentile"] for p in r["distribution"]]
        self.assertEqual(pcts, sorted(pcts))

    def test_nothing_listening_exits_2_at_once(self):
        """No results table of failed connects counted as requests: the
        reason, status 2, long before the 30 s asked for."""
        port = t.free_port()
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        for args in (["-h", t.HOST, "-p", port], ["-u", f"evkv://{t.HOST}:{port}"],
                     ["-h", t.HOST, "-p", port, "--reconnect", "-t", 2],
                     ["-s", os.path.join(d.name, "nothing.sock")]):
            with self.subTest(args=args):
                try:
                    rc, out, err = bench(*args, "-d", 30, "--timeout", 30, timeout=15)
                except subprocess.TimeoutExpired:
                    self.fail("evkv-bench still running 15 s after its connects were refused")
                self.assertEqual(rc, 2, out + err)
                self.assertEqual(out, "")
                self.assertRegex(err, r"^evkv-bench: cannot connect to \S+: (Connection refused|No such file or "
                                      r"directory)\n$")

    def test_first_sigint_prints_what_ran(self):
        """As wrk: the first Ctrl-C stops measuring and prints the results of
        what ran."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        report = os.path.join(d.name, "r.json")
        srv = self.start_server()
        p = start_bench(srv.port, "-d", 30, "-c", 2, "--json", report)
        self.addCleanup(p.kill)
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("evkv-bench still running 15 s after SIGINT")
        self.assertEqual(p.returncode, 0, err)
        row = table_row(out.decode())
        self.assertGreater(row["requests"], 0)
        self.assertEqual(row["errors"], 0)
        self.assertEqual(row["hits"], row["requests"])
        with open(report) as f:
            r = json.load(f)
        self.assertTrue(r["interrupted"])
        self.assertEqual(r["requests"], row["requests"])
        self.assertLess(r["elapsed_s"], 30)

    def test_second_sigint_ends_at_once(self):
        """The first SIGINT waits for the answers in flight (up to
        --timeout); a second ends evkv-bench at once."""
        port, accepted = self.fake_server(lambda s: s.recv(65536) and time.sleep(60))
        p = start_bench(port, "-d", 30, "-c", 1, "--timeout", 60)
        self.addCleanup(p.kill)
        deadline = time.monotonic() + 10
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        time.sleep(0.5)
        self.assertIsNone(p.poll(), "evkv-bench ended at the first SIGINT with an answer in flight")
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("evkv-bench still running 15 s after a second SIGINT")
        self.assertEqual(p.returncode, -signal.SIGINT, err)
        self.assertEqual(out, b"")

    def test_table_fits_80_columns(self):
        """Every line of a run's output (the spectrum of a run of 5 s or
        more, each run of -x, the aggregate) fits 80 columns; latencies
        carry their unit in every header; a mean and KB/s are there."""
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-d", 5, "-c", 2, "-x", 2)
        self.assertEqual(rc, 0, err)
        for line in out.splitlines():
            self.assertLessEqual(len(line), 80, line)
        # The spectrum, as wrk2's --latency prints it, once per run.
        self.assertEqual(out.count("Latency Distribution"), 2)
        self.assertEqual(re.findall(r"^ *(\d+\.\d{3})% +\d+\.\d\d(?:us|ms|s)$", out, re.M),
                         ["50.000", "75.000", "90.000", "99.000", "99.900", "99.990", "99.999", "100.000"] * 2)
        row = table_row(out[:out.index("\naggregate of 2 runs")])
        for name in ("min", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max"):
            self.assertIn(name + "(us)", row)
        self.assertTrue(row["min(us)"] <= row["mean(us)"] <= row["max(us)"])
        self.assertGreater(row["KB/s"], 0)
        # Hidden on request; not shown for a short run.
        for args in (["-d", 5, "--hide-histogram"], ["-n", 1000]):
            with self.subTest(args=args):
                rc, out, err = run_bench(srv.port, *args)
                self.assertEqual(rc, 0, err)
                self.assertNotIn("Latency Distribution", out)
                self.assertEqual(len(out.splitlines()), 4)

    def test_json_to_stdout(self):
        """--json - writes the report to stdout (no file named -, no
        table), its numbers rounded, the port a number."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-n", 300, "--json", "-", cwd=d.name)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.listdir(d.name), [])
        r = json.loads(out)
        self.assertEqual((r["requests"], r["errors"], r["hits"]), (300, 0, 300))
        self.assertEqual(r["config"]["port"], srv.port)
        self.assertEqual(r["config"]["host"], t.HOST)
        for v in list(r["latency_us"].values()) + [p["latency_us"] for p in r["distribution"]] + [r["throughput"]]:
            self.assertEqual(round(v, 1), v)
        self.assertEqual(round(r["elapsed_s"], 3), r["elapsed_s"])
        # With -x, each run and the aggregate too.
        rc, out, err = run_bench(srv.port, "-n", 100, "-x", 2, "--json", "-")
        self.assertEqual(rc, 0, err)
        r = json.loads(out)
        self.assertEqual([run["requests"] for run in r["runs"]], [100, 100])
        self.assertEqual(r["requests"], 200)
        agg = r["aggregate"]["throughput"]
        self.assertTrue(agg["min"] <= agg["median"] <= agg["max"])

    def test_runs_and_aggregate(self):
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-n", 300, "-c", 2, "-x", 3)
        self.assertEqual(rc, 0, err)
        self.assertEqual(re.findall(r"^run (\d) of 3$", out, re.M), ["1", "2", "3"])
        runs = out[:out.index("\naggregate")].split("\n\n")
        self.assertEqual(len(runs), 3)
        for run in runs:
            row = table_row(run)
            self.assertEqual((row["requests"], row["errors"], row["hits"]), (300, 0, 300))
        agg = out[out.index("aggregate of 3 runs"):].splitlines()
        self.assertEqual(agg[1].split(), ["req/s", "KB/s", "mean(us)", "p50(us)", "p99(us)", "p99.9(us)", "max(us)"])
        self.assertEqual([line.split()[0] for line in agg[2:]], ["median", "min", "max"])
        for i in range(7):
            low, mid, high = (float(agg[j].split()[i + 1]) for j in (3, 2, 4))
            self.assertTrue(low <= mid <= high, agg)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(int(t.STOP_RE.search(srv.stderr()).group(2)), 900)

    def test_csv(self):
        srv = self.start_server()
        rc, out, err = run_bench(srv.port, "-n", 200, "--csv", "-x", 2)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        head = lines[0].split(",")
        self.assertEqual(head[:7], ["run", "requests", "errors", "retried", "hits", "misses", "elapsed_s"])
        for i, line in enumerate(lines[1:]):
            row = dict(zip(head, line.split(",")))
            self.assertEqual(len(row), len(head))
            self.assertEqual((row["run"], row["requests"], row["errors"], row["hits"]), (str(i + 1), "200", "0", "200"))
            self.assertTrue(float(row["min_us"]) <= float(row["p50_us"]) <= float(row["max_us"]))
        rc, out, err = run_bench(srv.port, "-n", 10, "--csv", "--json", "-")
        self.assertEqual(rc, 2, out + err)

    def test_quiet(self):
        srv = self.start_server()
        for args, tail in ((["-n", 200], "200 requests, 0 errors, 0 retried"),
                           (["-n", 100, "-x", 3], "median of 3 runs, 0 errors, 0 retried")):
            with self.subTest(args=args):
                rc, out, err = run_bench(srv.port, "-q", *args)
                self.assertEqual(rc, 0, err)
                self.assertEqual(len(out.splitlines()), 1, out)
                self.assertRegex(out, r"^\d+\.\d req/s.*, p50 \d+\.\d us, p99 \d+\.\d us, " + tail + "\n$")

    def test_unix_socket_and_uri(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = os.path.join(d.name, "evkv.sock")
        srv = self.start_server(argv=["--unix", path])
        tcp = self.start_server()
        for args in (["-s", path], ["-u", "unix://" + path], ["-u", "evkv+unix://" + path],
                     ["-u", f"evkv://{t.HOST}:{tcp.port}"]):
            with self.subTest(args=args):
                rc, out, err = bench(*args, "-n", 500, "-c", 3, "-P", 4)
                self.assertEqual(rc, 0, err)
                self.assertEqual(table_row(out)["hits"], 500)
        report = os.path.join(d.name, "r.json")
        rc, out, err = bench("-u", "unix://" + path, "-n", 10, "--json", report)
        self.assertEqual(rc, 0, err)
        with open(report) as f:
            self.assertEqual(json.load(f)["config"]["socket"], path)
        for args, why in ((["-u", "http://x"], "bad URI 'http://x'"),
                          (["-s", path, "-p", 1], "--socket cannot go with --host or --port"),
                          (["-u", "evkv://x", "-h", "x"], "--uri names the server")):
            with self.subTest(args=args):
                rc, out, err = bench(*args, "-n", 1)
                self.assertEqual(rc, 2, err)
                self.assertIn(why, err)

    def mget_data(self):
        """Writes MGET_TABLE as a JSON data file; returns its path."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = os.path.join(d.name, "mget.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(MGET_TABLE, f, ensure_ascii=False)
        return path

    def start_redis(self, table):
        if REDIS_SERVER is None:
            self.skipTest("no redis-server (apt-get install redis-server)")
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        redis = Redis(d.name)
        self.addCleanup(redis.close)
        redis.load(table)
        return redis

    def test_mget_against_redis(self):
        """MGET of N keys to a real Redis: every element checked, hits and
        misses counted by key, requests by request."""
        data = self.mget_data()
        redis = self.start_redis(MGET_TABLE)
        report = data + ".r.json"
        for args in (["--mget", 1, "-c", 1], ["--mget", 5, "-c", 3, "-P", 4], ["--mget", 20, "-t", 2, "-c", 2, "-P", 2]):
            with self.subTest(args=args):
                rc, out, err = run_bench(redis.port, "--protocol", "resp", "--data", data, "-n", 300,
                                         "--miss-ratio", 0.2, "--json", report, *args)
                self.assertEqual(rc, 0, out + err)
                row = table_row(out)
                n = args[1]
                self.assertEqual((row["requests"], row["errors"]), (300, 0))
                self.assertEqual(row["hits"] + row["misses"], 300 * n)
                self.assertGreater(row["misses"], 0)
                self.assertIn(f"keys per request: {n}, keys asked for: {300 * n}, keys/s: ", out)
                with open(report) as f:
                    r = json.load(f)
                self.assertEqual((r["keys_per_request"], r["config"]["mget"]), (n, n))
                self.assertAlmostEqual(r["keys_per_s"], r["throughput"] * n, delta=n)
        # Every key, in the table's order, with no misses: all hits.
        rc, out, err = run_bench(redis.port, "--protocol", "resp", "--data", data, "-n", 60, "-c", 1,
                                 "--mget", len(MGET_TABLE), "--key-pattern", "sequential", "-q")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, f", 60 requests, 0 errors, 0 retried, {len(MGET_TABLE)} keys per request, [0-9.]+ keys/s\n$")

    def test_mget_wrong_value_detected(self):
        """One key's value changed in Redis, one deleted: each answer with
        either is wrong, the others right."""
        data = self.mget_data()
        redis = self.start_redis(MGET_TABLE)
        keys = list(MGET_TABLE)
        self.assertEqual(redis.command(["SET", "n", "43"]), [b"+OK"])
        # 12 keys, 4 a request, sequential: requests ask for keys 0-3, 4-7, 8-11 in turn.
        rc, out, err = run_bench(redis.port, "--protocol", "resp", "--data", data, "-n", 90, "-c", 1,
                                 "--mget", 4, "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"], row["misses"]), (90, 30, 240, 0))
        self.assertIn(f"wrong answer for 'n' (key {keys.index('n') + 1} of 4): 43", err)
        self.assertEqual(redis.command(["SET", "n", "42"], ["DEL", "sp ace"]), [b"+OK", b":1"])
        rc, out, err = run_bench(redis.port, "--protocol", "resp", "--data", data, "-n", 90, "-c", 1,
                                 "--mget", 4, "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"]), (90, 30, 240))
        self.assertIn("wrong answer for 'sp ace' (key 2 of 4): nil", err)

    def test_mget_reply_of_another_shape(self):
        """A reply that is not MGET's array of as many values (an error,
        one value, a shorter array, a nil array) is a wrong answer; the
        next ones are read on."""
        replies = [b"-ERR unknown command 'MGET'\r\n", b"$3\r\nabc\r\n", b"*1\r\n$4\r\ntext\r\n",
                   b"*2\r\n$4\r\ntext\r\n$4\r\nnull\r\n", b"*-1\r\n"]

        def handle(s):
            for r in replies:
                buf = b""
                while not buf.endswith(b"$1\r\nz\r\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                s.sendall(r)

        port, _ = self.fake_server(handle)
        data = self.mget_data()
        with open(os.path.join(os.path.dirname(data), "keys"), "w") as f:
            f.write("s\nz\n")
        rc, out, err = run_bench(port, "--protocol", "resp", "--data", data, "--keys", f.name, "-n", 5, "-c", 1,
                                 "--mget", 2, "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"], row["misses"]), (5, 4, 2, 0))
        self.assertIn("unexpected reply to MGET: -ERR unknown command 'MGET'", err)

    def test_resp_reply_in_pieces_and_malformed(self):
        """Over RESP, a reply that arrives a few bytes at a time (a big value
        too) is read whole and checked; a reply of another type is a wrong
        answer; bytes that are not RESP end the connection, saying why."""
        big = "v" * 300000
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        data, keys = os.path.join(d.name, "d.json"), os.path.join(d.name, "keys")
        with open(data, "w") as f:
            json.dump({"big": big, "s": "text"}, f)
        with open(keys, "w") as f:
            f.write("big\ns\n")
        pieces = [(b"$%d\r\n%s\r\n" % (len(big), big.encode()), 7000), (b"$4\r\ntext\r\n", 1), (b"+OK\r\n", 5)]

        def answering(replies):
            def handle(s):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for reply, piece in replies:
                    buf = b""
                    while not buf.endswith((b"$3\r\nbig\r\n", b"$1\r\ns\r\n")):
                        chunk = s.recv(4096)
                        if not chunk:
                            return
                        buf += chunk
                    for i in range(0, len(reply), piece):
                        s.sendall(reply[i:i + piece])
                        time.sleep(0.002)
            return self.fake_server(handle)[0]

        rc, out, err = run_bench(answering(pieces), "--protocol", "resp", "--data", data, "--keys", keys, "-n", 3,
                                 "-c", 1, "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"], row["misses"]), (3, 1, 2, 0))
        self.assertIn("unexpected reply: +OK\n", err)
        for reply, why in ((b"$05\r\ntext!\r\n", "bad bulk length in a reply: '05'"),
                           (b"$4\r\ntext\n\n", 'a bulk of 4 bytes not followed by "\\r\\n"'),
                           (b"HTTP/1.1 400 Bad Request\r\n", "not a RESP2 reply: it starts with 'H'")):
            with self.subTest(reply=reply):
                rc, out, err = run_bench(answering([(reply, 3)]), "--protocol", "resp", "--data", data, "--keys",
                                         keys, "-n", 1, "-c", 1, "--key-pattern", "sequential")
                self.assertEqual(rc, 1, out + err)
                self.assertEqual(table_row(out)["errors"], 1)
                self.assertIn(f"bad RESP reply: {why} (1 requests unanswered)", err)

    def test_msearch_against_the_server(self):
        """msearch (--mget over the guide protocol) against evkv-server:
        every element checked; a value the bench does not expect is found.
        Needs the server's msearch action."""
        data = self.mget_data()
        srv = self.start_server("--data", data)
        for args in (["--mget", 1, "-c", 1], ["--mget", 5, "-c", 3, "-P", 4], ["--mget", 20, "-t", 2, "-c", 2, "-P", 2]):
            with self.subTest(args=args):
                rc, out, err = run_bench(srv.port, "--data", data, "-n", 300, "--miss-ratio", 0.2, *args)
                self.assertEqual(rc, 0, out + err)
                row = table_row(out)
                self.assertEqual((row["requests"], row["errors"]), (300, 0))
                self.assertEqual(row["hits"] + row["misses"], 300 * args[1])
                self.assertGreater(row["misses"], 0)
        other = data + ".other.json"
        with open(other, "w", encoding="utf-8") as f:
            json.dump(dict(MGET_TABLE, n=43), f, ensure_ascii=False)
        rc, out, err = run_bench(srv.port, "--data", other, "-n", 90, "-c", 1, "--mget", 4,
                                 "--key-pattern", "sequential")
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["hits"], row["misses"]), (90, 30, 240, 0))
        self.assertIn("wrong answer for 'n' (key 3 of 4): 42", err)

    def test_msearch_of_1000_keys_against_a_default_server(self):
        """--mget 1000 (the bench takes 1 to 10,000) against a server with
        the default limits: every answer checked against --data, none
        refused for its size."""
        table = {f"key:{i:05d}": f"value {i}" for i in range(3000)}
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        data = os.path.join(d.name, "keys.json")
        with open(data, "w", encoding="utf-8") as f:
            json.dump(table, f)
        srv = self.start_server("--data", data)
        for mget in (1000, 10000):
            with self.subTest(mget=mget):
                rc, out, err = run_bench(srv.port, "--data", data, "-n", 40, "-c", 2, "--mget", mget,
                                         "--miss-ratio", 0.2)
                self.assertEqual(rc, 0, out + err)
                row = table_row(out)
                self.assertEqual((row["requests"], row["errors"]), (40, 0))
                self.assertEqual(row["hits"] + row["misses"], 40 * mget)
                self.assertGreater(row["hits"], 0)
                self.assertGreater(row["misses"], 0)

    def test_msearch_answers_checked_by_element(self):
        """msearch answers from a stand-in server that answers as the
        protocol says (json.dumps of the list, null for a miss), and then
        one wrong in each way: an element changed, one missing, one too
        many, an error text."""
        table = dict(MGET_TABLE)
        wrong = {3: lambda r: r[:1] + ["changed"] + r[2:], 5: lambda r: r[:-1], 7: lambda r: r + [None],
                 9: lambda r: "Error: invalid action 'msearch'."}

        def handle(s):
            conn = t.Conn.wrap(s)
            for i in range(12):
                req = json.loads(conn.read_answer().content)
                assert req["action"] == "msearch", req
                result = [table.get(k) for k in req["value"]]
                if i in wrong:
                    result = wrong[i](result)
                s.sendall(t.result_answer(result))

        port, _ = self.fake_server(handle)
        data = self.mget_data()
        rc, out, err = run_bench(port, "--data", data, "-n", 12, "-c", 1, "--mget", 3, "--miss-ratio", 0.3)
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"]), (12, 4))
        self.assertEqual(row["hits"] + row["misses"], 8 * 3)
        self.assertIn("wrong answer for '", err)

    def test_help(self):
        p = subprocess.run([BENCH, "--help"], capture_output=True, timeout=BENCH_TIMEOUT)
        self.assertEqual(p.returncode, 0)
        for text in ("--mget N", "--max-answer BYTES", "(default 536870912:\n                         512 MiB)", "--timeout SECS"):
            self.assertIn(text, p.stdout.decode())
        # --timeout's help says what docs/load-testing.md says.
        m = re.search(r"^      --timeout SECS +(.*?)\n(?=  -|      --)", p.stdout.decode(), re.M | re.S)
        self.assertEqual(" ".join(m.group(1).split()), doc_option("--timeout SECS"))
        for line in p.stdout.decode().splitlines():
            self.assertLessEqual(len(line), 80, line)

    def test_usage_errors(self):
        for args in (["-c", 0], ["--key-pattern", "nope"], ["--miss-ratio", 2], ["extra"], ["--data", "/nonexistent.tsv"],
                     ["--max-answer", 0], ["--max-answer", "1k"], ["--mget", 0], ["--mget", 10001]):
            with self.subTest(args=args):
                rc, out, err = run_bench(1, *args)
                self.assertEqual(rc, 2, err)
                self.assertTrue(err.strip())
        # The numbers are read, and their errors said, as evkv-cli's are.
        for args, why in ((["-c", 0], "-c must be a whole number from 1 to 100000, not '0'"),
                          (["-d", "1x"], "-d must be a number of seconds from 0.001 to 86400, not '1x'"),
                          (["--max-answer", "1k"], "--max-answer must be a whole number of bytes from 1 to "),
                          (["--miss-ratio", 2], "--miss-ratio must be a share from 0 to 1, not '2'")):
            with self.subTest(args=args):
                rc, out, err = run_bench(1, *args)
                self.assertEqual(rc, 2, err)
                self.assertIn("evkv-bench: " + why, err)


class BenchRetriesTest(t.ServerTestCase):
    """--retries: a request whose connection is lost before its answer is
    re-sent on a new connection; an error counts only once its retries are
    spent."""

    def assert_all_right(self, rc, out, err, n=None):
        """Status 0, no errors, some retries, and every answer right."""
        self.assertEqual(rc, 0, out + err)
        row = table_row(out)
        self.assertEqual(row["errors"], 0, out + err)
        self.assertGreater(row["retried"], 0, out + err)
        self.assertEqual(row["hits"] + row["misses"], row["requests"], out + err)
        if n is not None:
            self.assertEqual(row["requests"], n, out + err)
        return row

    def test_closed_after_k_answers_of_a_pipeline(self):
        """Every connection closed after 7 answers, 8 requests in flight:
        the unanswered ones are sent again, in order, on the next one."""
        port, accepted = self.fake_server(t.answer_and_close_after(7))
        rc, out, err = run_bench(port, "-n", 300, "-c", 2, "-P", 8, "--retries", 3, "--key-pattern",
                                 "sequential")
        row = self.assert_all_right(rc, out, err, n=300)
        self.assertEqual(row["hits"], 300)
        self.assertGreater(len(accepted), 300 // 7 // 2)

    def test_partial_answer_then_close(self):
        """Half an answer, then the close: the answer is lost, the request
        re-sent, and right in the end."""
        port, accepted = self.fake_server(t.answer_and_close_after(3, partial=True))
        rc, out, err = run_bench(port, "-n", 40, "-c", 1, "--key-pattern", "sequential")
        row = self.assert_all_right(rc, out, err, n=40)
        self.assertGreaterEqual(row["retried"], 13)

    def test_retries_0_counts_the_lost_requests(self):
        port, _ = self.fake_server(t.answer_and_close_after(7))
        rc, out, err = run_bench(port, "-n", 100, "-c", 1, "-P", 4, "--retries", 0)
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual(row["retried"], 0)
        self.assertGreater(row["errors"], 0)
        self.assertEqual(row["hits"] + row["errors"], 100, out + err)
        self.assertRegex(err, r"evkv-bench: thread 0: .*\(\d+ requests unanswered\)")
        port, _ = self.fake_server(t.answer_and_close_after(3, partial=True))
        rc, out, err = run_bench(port, "-n", 10, "-c", 1, "--retries", "0")
        self.assertEqual(rc, 1, out + err)
        # 3 answered and 1 lost on each connection: 4, 8, then the last 2.
        self.assertEqual((table_row(out)["errors"], table_row(out)["hits"]), (2, 8))

    def test_error_answers_are_not_retried(self):
        """An answer that came, an error answer included, is not sent again."""
        def handle(s):
            with s:
                buf = b""
                while True:
                    data = s.recv(65536)
                    if not data:
                        return
                    requests, buf = t.split_requests(buf + data)
                    s.sendall(b"".join(t.result_answer("Error: nope.") for _ in requests))

        port, accepted = self.fake_server(handle)
        rc, out, err = run_bench(port, "-n", 20, "-c", 1, "-P", 4)
        self.assertEqual(rc, 1, out + err)
        row = table_row(out)
        self.assertEqual((row["requests"], row["errors"], row["retried"]), (20, 20, 0))
        self.assertEqual(len(accepted), 1)

    def restart_during_run(self, protocol):
        """A real server SIGKILLed a second into a run and started again on
        the same port(s); returns the bench's (status, stdout, stderr)."""
        port, resp_port = t.free_port(), t.free_port()
        argv = ["--host", t.HOST, "--port", str(port), "--resp-port", str(resp_port)]
        srv = self.start_server(argv=argv)
        self.assertEqual(srv.resp_port, resp_port)
        target = resp_port if protocol == "resp" else port
        p = start_bench(target, "--protocol", protocol, "-d", 4, "-c", 4, "-P", 8, "--retries", 3)
        try:
            time.sleep(1)
            srv.kill()
            self.start_server(argv=argv)
            out, err = p.communicate(timeout=BENCH_TIMEOUT)
        finally:
            p.kill()
            p.wait()
        return p.returncode, out.decode(), err.decode()

    def test_server_killed_and_restarted(self):
        for protocol in ("evkv", "resp"):
            with self.subTest(protocol=protocol):
                rc, out, err = self.restart_during_run(protocol)
                row = self.assert_all_right(rc, out, err)
                self.assertEqual(row["hits"], row["requests"])

    def test_server_gone_each_request_counted_once(self):
        """The server killed for good: the requests in flight are retried
        (the connects refused are tries) until their --retries are spent or
        their --timeout passes, then each counted as one error (the later
        ones too), status 1."""
        srv = self.start_server()
        p = start_bench(srv.port, "-d", 3, "-c", 2, "-P", 4, "--timeout", 0.5, "--retries", 2)
        try:
            time.sleep(1)
            srv.kill()
            out, err = p.communicate(timeout=BENCH_TIMEOUT)
        finally:
            p.kill()
            p.wait()
        out, err = out.decode(), err.decode()
        self.assertEqual(p.returncode, 1, out + err)
        row = table_row(out)
        self.assertGreater(row["errors"], 8, out + err)
        self.assertEqual(row["hits"] + row["misses"] + row["errors"], row["requests"], out + err)
        self.assertRegex(err, r"evkv-bench: thread \d: .*Connection refused.*\d+ requests unanswered")

    def test_reported_everywhere(self):
        port, _ = self.fake_server(t.answer_and_close_after(7))
        rc, out, err = run_bench(port, "-n", 50, "-c", 1, "-P", 4, "-q")
        self.assertEqual(rc, 0, out + err)
        m = re.search(r", 50 requests, 0 errors, (\d+) retried", out)
        self.assertTrue(m and int(m.group(1)) > 0, out)
        port, _ = self.fake_server(t.answer_and_close_after(7))
        rc, out, err = run_bench(port, "-n", 50, "-c", 1, "-P", 4, "--csv")
        self.assertEqual(rc, 0, out + err)
        lines = out.splitlines()
        row = dict(zip(lines[0].split(","), lines[1].split(",")))
        self.assertEqual((row["requests"], row["errors"]), ("50", "0"))
        self.assertGreater(int(row["retried"]), 0)
        port, _ = self.fake_server(t.answer_and_close_after(7))
        rc, out, err = run_bench(port, "-n", 50, "-c", 1, "-P", 4, "--json", "-")
        self.assertEqual(rc, 0, out + err)
        j = json.loads(out)
        self.assertEqual((j["requests"], j["errors"], j["config"]["retries"]), (50, 0, 3))
        self.assertGreater(j["retried"], 0)

    def test_help_and_doc(self):
        p = subprocess.run([BENCH, "--help"], capture_output=True, timeout=BENCH_TIMEOUT)
        self.assertIn("--retries N", p.stdout.decode())
        self.assertIn("(default 3", doc_option("--retries N"))
        rc, out, err = run_bench(1, "--retries", -1)
        self.assertEqual(rc, 2, err)
        self.assertIn("evkv-bench: --retries must be a whole number from 0 to 1000", err)


if __name__ == "__main__":
    t.main()

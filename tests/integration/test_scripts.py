"""integration.scripts: the load test scripts, without a load test.

- scripts/loadtest, scripts/compare, scripts/bench-load and
  scripts/bench-cluster check their arguments before they build, generate
  or start anything: a bad one exits 2 with the reason, and
  leaves no build directory, output directory or data set behind.
- Their data sets are named by key count, value size and seed (lib.sh's
  ensure_data): other parameters never reuse another run's data.
- scripts/report.py turns canned evkv-bench --json results into report.md
  (the columns, the notes, the spread of compare's rounds) and, when
  gnuplot is there, its plots, leaving out the partial last second.
- scripts/callgrind refuses a kind it does not know before it builds.
- scripts/gen-data writes the files its help describes: the same for the
  same arguments, TSV and JSON with the same entries, the key list in
  order; bad arguments exit 2.

Each case runs in a few seconds at most; nothing listens, nothing connects.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPTS = os.path.join(TOP, "scripts")


def run(argv, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(argv, cwd=TOP, env=e, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


class Temp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="evkv-scripts-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)


class ArgumentTest(Temp):
    """Bad arguments: exit 2, the reason, and nothing done."""

    CASES = [
        ("loadtest", ["--scenarios", "nosuch"], "loadtest: unknown scenario 'nosuch' (known: idle-10k, closed-50, "
                                                "pipeline-50x16, open-loop, reconnect, conns-10k, reload)"),
        ("loadtest", ["--scenarios", "closed-50,nosuch"], "loadtest: unknown scenario 'nosuch'"),
        ("loadtest", ["--scenarios", ""], "loadtest: --scenarios needs at least one name"),
        ("loadtest", ["--duration"], "loadtest: --duration needs a value"),
        ("loadtest", ["--duration", "0"], "loadtest: --duration must be a number of seconds above 0, not '0'"),
        ("loadtest", ["--keys", "0"], "loadtest: --keys must be a whole number from 1 to 999999999, not '0'"),
        ("loadtest", ["--value-size", "ten"], "loadtest: --value-size must be a whole number from 0"),
        ("loadtest", ["--rate", "-5"], "loadtest: --rate must be a whole number from 1"),
        ("loadtest", ["--rounds", "2"], "loadtest: unknown option --rounds"),
        ("loadtest", ["--keys", "10", "--scenarios", "nosuch", "--duration", "1"], "loadtest: unknown scenario"),
        ("compare", ["--rounds"], "compare: --rounds needs a value"),
        ("compare", ["--rounds", "0"], "compare: --rounds must be a whole number from 1 to 1000, not '0'"),
        ("compare", ["--rounds", "--keys"], "compare: --rounds must be a whole number"),
        ("compare", ["--scenarios", "nosuch"], "compare: unknown scenario 'nosuch' (known: closed-50, "
                                               "pipeline-50x16, resp-closed-50, resp-pipeline-50x16, resp-mget-10)"),
        ("compare", ["--scenarios", "resp-closed-50,resp-mget-5"], "compare: unknown scenario 'resp-mget-5'"),
        ("compare", ["--scenarios", "resp-mget-10", "--keys", "0"], "compare: --keys must be a whole number"),
        ("compare", ["--scenarios", "reload"], "compare: unknown scenario 'reload'"),
        ("compare", ["--evkv-threads", "0"], "compare: --evkv-threads must be a whole number from 1"),
        ("compare", ["--bogus"], "compare: unknown option --bogus"),
        ("bench-load", ["--keys", "0"], "bench-load: --keys must be a whole number from 1 to 999999999, not '0'"),
        ("bench-load", ["--rounds", "100"], "bench-load: --rounds must be a whole number from 1 to 99, not '100'"),
        ("bench-load", ["--duration", "x"], "bench-load: --duration must be a number of seconds above 0, not 'x'"),
        ("bench-load", ["--format", "tsv"], "bench-load: unknown option --format"),
        ("bench-cluster", ["--keys", "2"], "bench-cluster: --keys must be a whole number from 3 to 99999999, not '2'"),
        ("bench-cluster", ["--requests", "10"], "bench-cluster: --requests must be a whole number from 1000"),
        ("bench-cluster", ["--clients", "x"], "bench-cluster: --clients must be a whole number from 3 to 3000"),
        ("bench-cluster", ["--pipeline"], "bench-cluster: --pipeline needs a value"),
        ("bench-cluster", ["--duration", "1"], "bench-cluster: unknown option --duration"),
    ]

    def test_bad_arguments(self):
        build = os.path.join(self.tmp, "build")
        out = os.path.join(self.tmp, "out")
        for script, args, message in self.CASES:
            with self.subTest(script=script, args=args):
                p = run([os.path.join(SCRIPTS, script), "--out", out] + args,
                        env={"EVKV_BUILD_DIR": build, "PATH": os.environ.get("PATH", "")})
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertIn(message, p.stderr)
                self.assertTrue(p.stderr.rstrip("\n").endswith("(see --help)"), p.stderr)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
                self.assertFalse(os.path.exists(build), "nothing is built")
                self.assertFalse(os.path.exists(out), "nothing is generated")

    def test_help(self):
        p = run([os.path.join(SCRIPTS, "bench-load"), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("scripts/bench-load [--keys N]", p.stdout)
        self.assertIn("Exit status: 0; 1 when a step fails; 2 usage error.", p.stdout)
        p = run([os.path.join(SCRIPTS, "bench-cluster"), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("scripts/bench-cluster [--keys N]", p.stdout)
        self.assertIn("Exit status: 0; 1 when a step fails; 2 usage error.", p.stdout)
        for script in ("loadtest", "compare"):
            with self.subTest(script=script):
                p = run([os.path.join(SCRIPTS, script), "--help"])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("scripts/%s [--keys N]" % script, p.stdout)
                self.assertIn("--seed S", p.stdout)


class CallgrindTest(Temp):
    """scripts/callgrind: its kinds and usage errors (a measurement itself
    needs valgrind and a quiet build, not a test)."""

    def test_unknown_kind(self):
        build = os.path.join(self.tmp, "build")
        p = run([os.path.join(SCRIPTS, "callgrind"), "guide", "nosuch"], env={"EVKV_BUILD_DIR": build})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(p.stderr, "scripts/callgrind: unknown kind 'nosuch' (guide, resp, mget10 or resp-cluster) (see --help)\n")
        self.assertFalse(os.path.exists(build), "nothing is built")

    def test_bad_data(self):
        build = os.path.join(self.tmp, "build")
        for args, why in ((["--data"], "--data needs a file"),
                          (["--data", os.path.join(self.tmp, "nosuch.tsv"), "guide"],
                           "cannot read '%s'" % os.path.join(self.tmp, "nosuch.tsv"))):
            p = run([os.path.join(SCRIPTS, "callgrind"), *args], env={"EVKV_BUILD_DIR": build})
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(p.stderr, "scripts/callgrind: %s (see --help)\n" % why)
        self.assertFalse(os.path.exists(build), "nothing is built")

    def test_help(self):
        p = run([os.path.join(SCRIPTS, "callgrind"), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("Usage: scripts/callgrind [--data FILE] [guide|resp|mget10|resp-cluster]...\n"),
                        p.stdout)
        self.assertIn("Exit status: 0; 1 when a run fails; 2 usage error.", p.stdout)


class TlsBenchTest(Temp):
    """scripts/tls-bench: usage errors before anything starts (a
    measurement itself is not a test)."""

    def test_usage(self):
        for args, why in ((["--nosuch"], "unknown option '--nosuch'"),
                          (["--requests", "x"], "--requests must be a whole number"),
                          (["--requests"], "--requests needs a value"),
                          (["--idle", "-1"], "--idle must be a whole number")):
            with self.subTest(args=args):
                p = run([os.path.join(SCRIPTS, "tls-bench")] + args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual((p.stdout, p.stderr), ("", f"scripts/tls-bench: {why} (see --help)\n"))
        p = run([os.path.join(SCRIPTS, "tls-bench"), "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("Usage: scripts/tls-bench [--requests N] [--idle N] [--out FILE]\n"), p.stdout)
        self.assertIn("Exit status: 0; 1 when a server or a run fails; 2 usage error.", p.stdout)


class DataCacheTest(Temp):
    """lib.sh's ensure_data: one data set per (keys, value size, seed)."""

    def ensure(self, keys, size, seed):
        p = run(["bash", "-c", '. scripts/lib.sh && ensure_data "$@"', "ensure_data", self.tmp, str(keys),
                 str(size), str(seed)])
        self.assertEqual(p.returncode, 0, p.stderr)
        path = p.stdout.strip()
        self.assertTrue(os.path.isfile(path) and os.path.isfile(path + ".keys"), path)
        return path, p.stderr

    @staticmethod
    def values(path):
        with open(path) as f:
            return [line.rstrip("\n").split("\t", 1)[1] for line in f]

    def test_keyed_by_every_parameter(self):
        base, _ = self.ensure(5, 100, 1)
        self.assertEqual(os.path.basename(base), "data-n5-v100-s1.tsv")
        self.assertEqual([len(v) for v in self.values(base)], [100] * 5)
        small, err = self.ensure(5, 10, 1)
        self.assertNotEqual(small, base)
        self.assertNotIn("reusing", err)
        self.assertEqual([len(v) for v in self.values(small)], [10] * 5)
        more, _ = self.ensure(7, 100, 1)
        self.assertNotEqual(more, base)
        self.assertEqual(len(self.values(more)), 7)
        seeded, _ = self.ensure(5, 100, 2)
        self.assertNotEqual(seeded, base)
        self.assertNotEqual(self.values(seeded), self.values(base))
        self.assertEqual(len({base, small, more, seeded}), 4)
        # The same parameters again: the same file, not written again.
        mtime = os.stat(base).st_mtime_ns
        again, err = self.ensure(5, 100, 1)
        self.assertEqual(again, base)
        self.assertIn("reusing", err)
        self.assertEqual(os.stat(base).st_mtime_ns, mtime)
        self.assertEqual(sorted(f for f in os.listdir(self.tmp) if not f.startswith("data-")), [],
                         "no temporary file is left")

    def test_redis_benchmark_keys(self):
        """ensure_rb_data: the same data set with keys as redis-benchmark's
        key:__rand_int__ makes them with -r (12 digits)."""
        base, _ = self.ensure(3, 4, 1)
        p = run(["bash", "-c", '. scripts/lib.sh && ensure_rb_data "$1"', "ensure_rb_data", base])
        self.assertEqual(p.returncode, 0, p.stderr)
        path = p.stdout.strip()
        self.assertEqual(os.path.basename(path), "data-n3-v4-s1-rb.tsv")
        with open(path) as f:
            self.assertEqual([line.split("\t")[0] for line in f], ["key:%012d" % i for i in range(3)])
        with open(path + ".keys") as f:
            self.assertEqual(f.read(), "".join("key:%012d\n" % i for i in range(3)))
        self.assertEqual(self.values(path), self.values(base))

    def test_half_written_set_is_made_again(self):
        """A data file without its key list (a run stopped while writing) is
        not reused."""
        path, _ = self.ensure(3, 4, 1)
        os.unlink(path + ".keys")
        again, err = self.ensure(3, 4, 1)
        self.assertEqual(again, path)
        self.assertNotIn("reusing", err)
        self.assertTrue(os.path.isfile(path + ".keys"))


class GenDataTest(Temp):
    """scripts/gen-data's data file and key list."""

    def gen(self, name, *args):
        path = os.path.join(self.tmp, name)
        p = run([os.path.join(SCRIPTS, "gen-data")] + list(args) + [path])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("gen-data: wrote", p.stderr)
        with open(path, "rb") as f, open(path + ".keys", "rb") as k:
            return f.read(), k.read()

    def test_formats_and_seeds(self):
        tsv, keys = self.gen("a.tsv", "-n", "1200", "--value-size", "37", "--seed", "7")
        lines = tsv.decode().split("\n")
        self.assertEqual(lines[-1], "", "the last line ends")
        pairs = [line.split("\t") for line in lines[:-1]]
        self.assertEqual([k for k, _ in pairs], ["key:%09d" % i for i in range(1200)])
        self.assertEqual(keys.decode(), "".join("key:%09d\n" % i for i in range(1200)))
        self.assertTrue(all(len(v) == 37 and v.isalnum() and v.isascii() for _, v in pairs))
        self.assertGreater(len({v for _, v in pairs}), 1000, "values differ")
        # JSON by the extension: one object with the same entries in order.
        js, jkeys = self.gen("a.json", "-n", "1200", "--value-size", "37", "--seed", "7")
        self.assertEqual(jkeys, keys)
        self.assertEqual(list(json.loads(js).items()), [tuple(p) for p in pairs])
        self.assertTrue(js.startswith(b'{\n"key:000000000": "') and js.endswith(b'"\n}\n'), js[-40:])
        # --format wins over the extension; the same arguments, the same bytes.
        forced, _ = self.gen("b.json", "--format", "tsv", "-n", "1200", "--value-size", "37", "--seed", "7")
        self.assertEqual(forced, tsv)
        other, _ = self.gen("c.tsv", "-n", "1200", "--value-size", "37", "--seed", "8")
        self.assertNotEqual(other, tsv)
        empty, _ = self.gen("d.tsv", "-n", "2", "--value-size", "0")
        self.assertEqual(empty, b"key:000000000\t\nkey:000000001\t\n")
        big, _ = self.gen("e.json", "-n", "2", "--value-size", "3000000")
        self.assertEqual([len(v) for v in json.loads(big).values()], [3000000] * 2)

    def test_bad_arguments(self):
        out = os.path.join(self.tmp, "x.tsv")
        for args, message in ((["-n", "0"], "-n must be a whole number from 1 to 999999999, not '0'"),
                              (["--value-size", "-1"], "--value-size must be"),
                              (["--format", "csv"], "--format must be tsv or json"),
                              (["--seed", "x"], "--seed must be a whole number"),
                              ([], "give one output file, OUT")):
            with self.subTest(args=args):
                p = run([os.path.join(SCRIPTS, "gen-data")] + args + ([out] if args else []))
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(message, p.stderr)
                self.assertFalse(os.path.exists(out))
        p = run([os.path.join(SCRIPTS, "gen-data"), os.path.join(self.tmp, "no", "such", "dir.tsv")])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("No such file or directory", p.stderr)


def bench_json(throughput, seconds=3, p50=300.0, p99=2500.0, connections=50, threads=1, reconnect=False,
               errors=0):
    """evkv-bench --json as it writes it: a per-second series that goes on
    past the run (a partial second, then zeros)."""
    series = [{"second": s, "requests": int(throughput), "errors": 0} for s in range(1, seconds + 1)]
    series.append({"second": seconds + 1, "requests": 20, "errors": 0})
    series += [{"second": s, "requests": 0, "errors": 0} for s in range(seconds + 2, 16)]
    dist = [{"percentile": p, "latency_us": lat} for p, lat in
            ((0.0, 20.0), (50.0, p50), (90.0, p50 * 2), (99.0, p99), (99.9, p99 * 2), (100.0, p99 * 3))]
    return {"requests": int(throughput * seconds), "errors": errors, "hits": int(throughput * seconds),
            "misses": 0, "elapsed_s": seconds + 0.002, "throughput": throughput,
            "latency_us": {"min": 20.0, "max": p99 * 3, "p50": p50, "p90": p50 * 2, "p99": p99,
                           "p99.9": p99 * 2, "p99.99": p99 * 3},
            "distribution": dist, "series": series,
            "config": {"threads": threads, "connections": connections, "depth": 1, "reconnect": reconnect}}


class ReportTest(Temp):
    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.tmp, "data-n3-v10-s1.tsv")
        with open(self.data, "w") as f:
            f.write("key:000000000\t0123456789\nkey:000000001\tabcdefghij\nkey:000000002\tABCDEFGHIJ\n")
        self.plots = shutil.which("gnuplot") is not None

    def report(self, kind, *args):
        argv = ["python3", os.path.join(SCRIPTS, "report.py"), kind, self.tmp, "--data", self.data,
                "--command", "scripts/%s --keys 3" % kind] + list(args)
        if not self.plots:
            argv.append("--no-plots")
        p = run(argv)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "report.md")) as f:
            text = f.read()
        self.assertEqual(p.stdout.rstrip("\n"), text.rstrip("\n"), "the report's text on stdout too")
        return text

    def assert_lines(self, text, *wanted):
        lines = text.splitlines()
        for line in wanted:
            self.assertIn(line, lines, text)

    def check_plots(self):
        if not self.plots:
            return
        for name in ("throughput.png", "latency.png"):
            with open(os.path.join(self.tmp, name), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)

    def test_loadtest(self):
        rows = [("idle-10k", "-t 2 -c 5000 -R 2000", bench_json(2000, p99=240000.0, connections=5000, threads=2),
                 "1.000", "40000", "2000"),
                ("closed-50", "-c 50 -P 1", bench_json(104214.4), "0.800", "16588", "16000"),
                ("reconnect", "--reconnect -c 8", None, "0", "16600", "16588")]
        with open(os.path.join(self.tmp, "server.tsv"), "w") as f:
            f.write("scenario\targs\tbench_status\tserver_cpu_s\tserver_rss_kib\tserver_rss_before_kib\n")
            for name, args, b, cpu, rss, before in rows:
                f.write("%s\t%s\t%s\t%s\t%s\t%s\n" % (name, args, 0 if b else 2, cpu, rss, before))
                if b:
                    with open(os.path.join(self.tmp, name + ".json"), "w") as j:
                        json.dump(b, j)
        text = self.report("loadtest", "--start", "evkv-server: listening on 127.0.0.1:1 (3 keys)")
        self.assert_lines(
            text,
            "- Data: 3 keys of 10 bytes (`scripts/gen-data` seed 1), `data-n3-v10-s1.tsv`",
            "Produced by `scripts/loadtest --keys 3`.",
            "| scenario | evkv-bench | req/s | errors | p50 (ms) | p99 (ms) | max (ms) "
            "| server CPU (µs/req) | server peak RSS (MiB) | RSS per connection (KiB) |",
            "| idle-10k | `-t 2 -c 5000 -R 2000` | 2,000 | 0 | 0.300 | 240 | 720 | 166.67 | 39.1 | 3.8 |",
            "| closed-50 | `-c 50 -P 1` | 104,214 | 0 | 0.300 | 2.50 | 7.50 | 2.56 | 16.2 |  |",
            "| reconnect | `--reconnect -c 8` | failed (evkv-bench exit status 2) |" + " |" * 7)
        self.assertRegex(text, r"include setting up their 10,000\s+connections")
        if self.plots:
            # The full seconds only: no partial fourth second, no zeros after.
            with open(os.path.join(self.tmp, "throughput-0.dat")) as f:
                self.assertEqual(f.read(), '"closed-50"\n1 104214\n2 104214\n3 104214\n\n\n')
        self.check_plots()

    def write_runs(self, rounds):
        with open(os.path.join(self.tmp, "runs.tsv"), "w") as f:
            f.write("scenario\tserver\tround\tstatus\tcpu_s\n")
            for r in range(1, rounds + 1):
                for server, base in (("evkv", 110000.0), ("redis", 100000.0)):
                    tp = base + 1000 * r
                    f.write("closed-50\t%s\t%d\t0\t%.3f\n" % (server, r, tp * 3 * 8e-6))
                    with open(os.path.join(self.tmp, "closed-50-%s-%d.json" % (server, r)), "w") as j:
                        json.dump(bench_json(tp, p99=900.0 + 10 * r), j)

    def test_compare_spread(self):
        self.write_runs(3)
        text = self.report("compare", "--evkv-rss", "2048", "--redis-rss", "12288", "--evkv-load", "0.01",
                           "--redis-load", "0.40", "--redis-version", "7.0.15")
        self.assertNotIn("One round", text)
        self.assert_lines(
            text,
            "| scenario | server | req/s | p50 (ms) | p99 (ms) | server CPU (µs/req) | errors |",
            "| closed-50 | evkv | 112,000 (111,000-113,000) | 0.300 | 0.920 (0.910-0.930) | 8.00 | 0 |",
            "| closed-50 | Redis | 102,000 (101,000-103,000) | 0.300 | 0.920 (0.910-0.930) | 8.00 | 0 |",
            "| closed-50 | 1.10 | 1.00 | 1.00 |",
            "- Memory with 3 keys, resident after the runs: evkv 2.0 MiB, Redis 12.0 MiB (ratio 0.17)")
        runs = [line for line in text.splitlines() if re.match(r"\| closed-50 \| (evkv|Redis) \| \d \|", line)]
        self.assertEqual(len(runs), 6, "every run listed")
        self.check_plots()

    def test_redis_benchmark_json(self):
        """redis-benchmark --csv's line, as compare reads evkv-bench's --json."""
        path = os.path.join(self.tmp, "rb.csv")
        with open(path, "w") as f:
            f.write('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",'
                    '"p99_latency_ms","max_latency_ms"\n'
                    '"MGET key:__rand_int__ key:__rand_int__","80971.66","0.406","0.112","0.359","0.639",'
                    '"0.911","8.335"\n')
        out = os.path.join(self.tmp, "rb.json")
        p = run(["python3", os.path.join(SCRIPTS, "report.py"), "redis-benchmark-json", path, "20000", out])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            b = json.load(f)
        self.assertEqual((b["requests"], b["errors"], b["throughput"]), (20000, 0, 80971.7))
        self.assertEqual(b["latency_us"], {"min": 112.0, "p50": 359.0, "p95": 639.0, "p99": 911.0, "max": 8335.0,
                                           "mean": 406.0})
        self.assertEqual([d["percentile"] for d in b["distribution"]], [0, 50, 95, 99, 100])

    def test_compare_with_redis_benchmark(self):
        """A resp-* scenario's runs by both clients: redis-benchmark's are
        rows of their own, their CPU time per request counted from its
        requests."""
        with open(os.path.join(self.tmp, "runs.tsv"), "w") as f:
            f.write("scenario\tserver\tround\tstatus\tcpu_s\tclient\n")
            for server, tp in (("evkv", 110000.0), ("redis", 100000.0)):
                f.write("resp-mget-10\t%s\t1\t0\t%.3f\tevkv-bench\n" % (server, tp * 3 * 8e-6))
                with open(os.path.join(self.tmp, "resp-mget-10-%s-1.json" % server), "w") as j:
                    json.dump(bench_json(tp), j)
                f.write("resp-mget-10\t%s\t1\t0\t%.3f\tredis-benchmark\n" % (server, tp * 3 * 4e-6))
                with open(os.path.join(self.tmp, "resp-mget-10-redis-benchmark-%s-1.json" % server), "w") as j:
                    json.dump(bench_json(tp / 2), j)
        text = self.report("compare")
        self.assert_lines(text,
                          "| resp-mget-10 | evkv | 110,000 | 0.300 | 2.50 | 8.00 | 0 |",
                          "| resp-mget-10 (redis-benchmark) | evkv | 55,000 | 0.300 | 2.50 | 8.00 | 0 |",
                          "| resp-mget-10 (redis-benchmark) | Redis | 50,000 | 0.300 | 2.50 | 8.00 | 0 |",
                          "| resp-mget-10 (redis-benchmark) | 1.10 | 1.00 | 1.00 |")
        self.check_plots()

    def test_compare_one_round(self):
        self.write_runs(1)
        text = self.report("compare")
        self.assertIn("**One round: no spread.**", text)
        self.assert_lines(text, "| closed-50 | evkv | 111,000 | 0.300 | 0.910 | 8.00 | 0 |")


if __name__ == "__main__":
    unittest.main(verbosity=2)

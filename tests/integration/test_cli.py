"""integration.cli: evkv-cli against a real evkv-server: search, batches,
ping, stats, ping --latency, server URIs, IPv6 and Unix domain sockets
(the interactive mode is in test_cli_interactive.py).

Exit status: 0 found or answered, 1 no match, 2 usage, connection or
protocol error (with a message on stderr).
"""

import json
import os
import random
import re
import shlex
import socket
import subprocess
import signal
import tempfile
import threading
import time
import unittest

import evkv_test as t

CLI_TIMEOUT = 30  # seconds for one evkv-cli run


# EVKV_CLI_WRAPPER runs evkv-cli under another program, such as valgrind
# ("valgrind -q --leak-check=full --error-exitcode=99 --log-file=...").
CLI_WRAPPER = shlex.split(os.environ.get("EVKV_CLI_WRAPPER", ""))


def run_cli(args, stdin=None, timeout=CLI_TIMEOUT):
    """Runs evkv-cli; stdin is bytes (a pipe) or None (/dev/null)."""
    kw = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(CLI_WRAPPER + [t.CLI] + [str(a) for a in args], capture_output=True, timeout=timeout,
                          **kw)


def printed(value):
    """How the CLI prints a found value: a string as is, else its JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class CliTestCase(t.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(t.CLI, os.X_OK):
            raise AssertionError(f"evkv-cli not found at {t.CLI} (set EVKV_CLI)")

    def assert_run(self, p, status, stdout=None):
        detail = f"exit {p.returncode}, stdout {p.stdout[:300]!r}, stderr {p.stderr[:300]!r}"
        self.assertEqual(p.returncode, status, detail)
        if stdout is not None:
            self.assertEqual(p.stdout, stdout.encode("utf-8") if isinstance(stdout, str) else stdout, detail)
        if status == 2:
            self.assertTrue(p.stderr.strip(), f"no message on stderr: {detail}")

    def silent_server(self):
        """A listening socket that accepts and never answers."""
        return self.fake_server()

    def trickling_server(self, answer_bytes=None, interval=0.25):
        """A listening socket that, once a request has come on a connection,
        sends answer_bytes (None: the bytes that came, as an echo server
        would) one byte every interval seconds, until the client leaves."""
        def handle(s):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data = s.recv(65536)
            for i in range(len(answer_bytes or data)):
                s.sendall((answer_bytes or data)[i:i + 1])
                time.sleep(interval)

        return self.fake_server(handle)[0]

    def server_answering(self, answer_bytes):
        """A listening socket that answers each connection with answer_bytes
        once something arrives, then closes."""
        def handle(s):
            with s:
                s.recv(65536)
                s.sendall(answer_bytes)

        return self.fake_server(handle)[0]


class CliServerTestCase(CliTestCase):
    """A server of the built-in table for each test; self.hp names it."""

    def setUp(self):
        self.srv = self.start_server()
        self.hp = ["-h", t.HOST, "-p", self.srv.port]

    def stats(self):
        p = run_cli(self.hp + ["--json", "stats"])
        self.assert_run(p, 0)
        return json.loads(p.stdout)["result"]


class CliSearchTest(CliServerTestCase):

    def test_search_found(self):
        p = run_cli(self.hp + ["search", "morpheus"])
        self.assert_run(p, 0, "Follow the white rabbit. \U0001f430\n")

    def test_search_every_builtin_key(self):
        for key, value in t.TABLE.items():
            self.assert_run(run_cli(self.hp + ["search", key]), 0, value + "\n")

    def test_search_no_match(self):
        p = run_cli(self.hp + ["search", "nope"])
        self.assert_run(p, 1, t.miss_text("nope") + "\n")

    def test_search_no_match_odd_keys(self):
        for key in ("", 'a"b\\c', "\u00e9t\u00e9", "\x01", "two words", "-dash"):
            with self.subTest(key=key):
                p = run_cli(self.hp + ["search", "--", key] if key.startswith("-") else
                            self.hp + ["search", key])
                self.assert_run(p, 1, t.miss_text(key) + "\n")

    def test_long_options(self):
        p = run_cli(["--host", t.HOST, "--port", self.srv.port, "search", "ring"])
        self.assert_run(p, 0, t.TABLE["ring"] + "\n")

    def test_guide_positional_form(self):
        p = run_cli([t.HOST, self.srv.port, "search", "ring"])
        self.assert_run(p, 0, "In the caves beneath the Misty Mountains. \U0001f48d\n")

    def test_guide_positional_binary_action(self):
        p = run_cli([t.HOST, self.srv.port, "double", "12"])
        self.assert_run(p, 0, t.BINARY_PREFIX + "double12\n")

    def test_binary_action_truncated_to_ten_bytes(self):
        p = run_cli([t.HOST, self.srv.port, "reverse", "abcdefghij"])
        self.assert_run(p, 0, t.BINARY_PREFIX + "reverseabc\n")

    def test_json_output(self):
        p = run_cli(self.hp + ["--json", "search", "morpheus"])
        self.assert_run(p, 0, '{"result": "Follow the white rabbit. \U0001f430"}\n')
        p = run_cli(self.hp + ["-j", "search", "\U0001f436"])
        self.assert_run(p, 0, t.json_encode({"result": t.TABLE["\U0001f436"]}).decode() + "\n")

    def test_json_output_no_match(self):
        p = run_cli(self.hp + ["--json", "search", "nope"])
        self.assert_run(p, 1, '{"result": "No match for \'nope\'."}\n')

    def test_json_output_bytes_as_received(self):
        key = "ctl\x01\x1f\"\\"
        p = run_cli(self.hp + ["--json", "search", key])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, t.json_encode({"result": t.miss_text(key)}) + b"\n")
        self.assertIn(b"\\u0001", p.stdout)

    def test_help(self):
        p = run_cli(["--help"])
        self.assert_run(p, 0)
        out = p.stdout.decode()
        for opt in ("-h, --host", "-p, --port", "-u, --uri", "-s, --socket", "-t, --timeout", "-j, --json",
                    "--latency", "-i, --interval", "-n, --count", "-e, --echo", "--help", "-V, --version",
                    "--max-answer BYTES", "(default 536870912: 512 MiB)", "--retries N",
                    "search KEY", "ping", "stats", "evkv://", "evkv+unix://", "unix://", "EVKV_HISTFILE",
                    ".evkv_history", "Interactive mode", "quit", "Exit status"):
            self.assertIn(opt, out)
        for status in ("0  ", "1  ", "2  "):
            self.assertIn("\n  " + status, out)

    def test_bad_usage(self):
        for args in (["--no-such-option", "search", "x"], self.hp + ["search", "a", "b"],
                     self.hp + ["search", "a", "b", "c", "d", "e"], ["--timeout", "zero", "search", "x"],
                     ["--retries", "-1", "search", "x"], ["--retries", "many", "search", "x"],
                     ["-p"], self.hp + ["morpheus"], self.hp + ["stats", "a", "b"]):
            with self.subTest(args=args):
                p = run_cli(args)
                self.assert_run(p, 2)
                self.assertEqual(p.stdout, b"")
        # the guide's form names the server itself
        for flags in (self.hp, ["-p", "1"], ["-u", "evkv://127.0.0.1"], ["-s", "/tmp/x.sock"]):
            with self.subTest(flags=flags):
                p = run_cli(flags + [t.HOST, str(self.srv.port), "search", "morpheus"])
                self.assertEqual((p.returncode, p.stdout, p.stderr), (2, b"", (
                    "evkv-cli: HOST PORT ACTION VALUE names the server: give it without --host, --port, --uri or "
                    "--socket\nTry 'evkv-cli --help'.\n").encode()))


class CliCommandLineTest(CliServerTestCase):
    """Command names in any case, -r/-i, --stat, Ctrl-C."""

    def test_command_names_in_any_case(self):
        self.assert_run(run_cli(self.hp + ["SEARCH", "morpheus"]), 0, t.TABLE["morpheus"] + "\n")
        self.assert_run(run_cli(self.hp + ["Search", "nope"]), 1, t.miss_text("nope") + "\n")
        self.assert_run(run_cli(self.hp + ["PING"]), 0, "pong\n")
        p = run_cli(self.hp + ["Stats"])
        self.assert_run(p, 0)
        self.assertEqual(json.loads(p.stdout)["version"], "0.1.0")
        self.assert_run(run_cli(self.hp + ["PING", "--latency", "-n", "2", "-i", "0"]), 0)
        self.assert_run(run_cli(self.hp + ["SEARCH"], stdin=b"ring\n"), 0, t.TABLE["ring"] + "\n")
        # Other actions are the guide's binary requests, as before; and the
        # guide's own form keeps app-client's exact "search".
        self.assert_run(run_cli(self.hp + ["double", "x"]), 0, t.BINARY_PREFIX + "doublex\n")
        self.assert_run(run_cli([t.HOST, self.srv.port, "SEARCH", "x"]), 0, t.BINARY_PREFIX + "SEARCHx\n")
        self.assertEqual(self.stats()["requests"]["binary"], 2)

    def test_search_with_more_words_says_to_quote(self):
        for args in (["search", "two", "words"], ["SEARCH", "a", "b", "c"], ["search", "a", "b", "c", "d"]):
            with self.subTest(args=args):
                p = run_cli(self.hp + args)
                self.assertEqual((p.returncode, p.stdout, p.stderr), (2, b"", (
                    "evkv-cli: search takes one KEY: quote a key with spaces (evkv-cli search 'two words')\n"
                    "Try 'evkv-cli --help'.\n").encode()))
        self.assertEqual(self.stats()["requests"]["total"], 0)

    def test_repeat(self):
        p = run_cli(self.hp + ["-r", "3", "search", "morpheus"])
        self.assert_run(p, 0, (t.TABLE["morpheus"] + "\n") * 3)
        self.assert_run(run_cli(self.hp + ["--repeat", "2", "ping"]), 0, "pong\npong\n")
        self.assert_run(run_cli(self.hp + ["-r", "2", "search", "nope"]), 1, (t.miss_text("nope") + "\n") * 2)
        self.assert_run(run_cli(self.hp + ["-r", "2", "x", "y"]), 0, (t.BINARY_PREFIX + "xy\n") * 2)
        # One connection for them all.
        before = self.stats()["connections"]["total"]
        self.assert_run(run_cli(self.hp + ["-r", "5", "ping"]), 0, "pong\n" * 5)
        self.assertEqual(self.stats()["connections"]["total"], before + 2)  # -r 5, and this stats
        # -i: the pause between two (4 pauses of 0.25 s: at least 1 s).
        start = time.monotonic()
        self.assert_run(run_cli(self.hp + ["-r", "5", "-i", "0.25", "ping"]), 0, "pong\n" * 5)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)

    def test_repeat_forever_until_sigint(self):
        """-r -1 repeats until Ctrl-C, which ends evkv-cli at once (by the
        signal, as redis-cli: a shell shows status 130)."""
        proc = subprocess.Popen(CLI_WRAPPER + [t.CLI] + [str(a) for a in self.hp] + ["-r", "-1", "-i", "0.05", "ping"],
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.addCleanup(proc.stdout.close)
        for _ in range(3):
            self.assertEqual(proc.stdout.readline(), b"pong\n")
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(CLI_TIMEOUT), -signal.SIGINT)

    def test_sigint_while_waiting_for_an_answer(self):
        """Ctrl-C while a request waits (-t 300) ends evkv-cli at once, in
        every mode; ping --latency prints what it measured."""
        came = threading.Event()

        def handle(s):
            while s.recv(65536):
                came.set()

        port, _ = self.fake_server(handle)
        hp = ["-t", "300", "-h", t.HOST, "-p", str(port)]
        for args, stdin in ((["search", "k"], None), (["-r", "3", "ping"], None), ([], b"a\nb\n"),
                            (["stats"], None)):
            with self.subTest(args=args):
                came.clear()
                keys = tempfile.TemporaryFile()
                self.addCleanup(keys.close)
                keys.write(stdin or b"")
                keys.seek(0)
                proc = subprocess.Popen(CLI_WRAPPER + [t.CLI] + hp + args, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, stdin=keys if stdin else subprocess.DEVNULL)
                self.assertTrue(came.wait(CLI_TIMEOUT))
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=CLI_TIMEOUT)  # far below -t 300
                self.assertEqual((proc.returncode, out), (-signal.SIGINT, b""), err)
        came.clear()
        proc = subprocess.Popen(CLI_WRAPPER + [t.CLI] + hp + ["ping", "--latency", "-n", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.assertTrue(came.wait(CLI_TIMEOUT))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        self.assertEqual((proc.returncode, out, err), (0, b"no samples\n", b""))

    def test_stat(self):
        self.assert_run(run_cli(self.hp + ["search", "morpheus"]), 0)
        self.assert_run(run_cli(self.hp + ["search", "nope"]), 1)
        p = run_cli(self.hp + ["--stat", "-r", "3", "-i", "0.1"])
        self.assert_run(p, 0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual(lines[0].split(), ["keys", "mem", "rss", "conns", "requests", "req/s", "hits", "misses"])
        rows = [line.split() for line in lines[1:]]
        for row in rows:
            self.assertEqual(len(row), 8, row)
            self.assertEqual(row[0], "3")                        # keys
            self.assertRegex(row[1], r"^\d+(\.\d)?[BKMG]$")      # the table's memory
            self.assertRegex(row[2], r"^\d+\.\d[KMG]$")           # resident memory
            self.assertEqual(row[3], "1")                        # this connection
            self.assertRegex(row[5], r"^\d+$")                   # requests per second
            self.assertEqual(row[6:], ["1", "1"])               # hits, misses
        # requests: the two searches, then each stats request once answered
        self.assertEqual([int(r[4]) for r in rows], [2, 3, 4])
        self.assertLessEqual(len(lines[0]), 80)

    def test_stat_header_every_20_lines(self):
        p = run_cli(self.hp + ["--stat", "-r", "41", "-i", "0"])
        self.assert_run(p, 0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 41 + 3)
        self.assertEqual([i for i, line in enumerate(lines) if line.startswith("keys")], [0, 21, 42])

    def test_stat_server_down(self):
        p = run_cli(["-h", t.HOST, "-p", t.free_port(), "--stat"])
        self.assert_run(p, 2, b"")
        self.assertIn(b"Connection refused", p.stderr)

    def test_stat_interval_default_one_second(self):
        start = time.monotonic()
        self.assert_run(run_cli(self.hp + ["--stat", "-r", "2"]), 0)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)

    def test_usage_errors(self):
        for args in (["-r", "0", "ping"], ["-r", "x", "ping"], ["-r", "-2", "ping"], ["-r", "2"],
                     ["-r", "2", "search"], ["-r", "2", "ping", "--latency"], ["-r", "2", "--echo", "x"],
                     ["-i", "1", "ping"], ["-i", "1", "search", "k"], ["-i", "-1", "-r", "2", "ping"],
                     ["--stat", "ping"], ["--stat", "search", "k"], ["--stat", "--echo", "x"],
                     ["--stat", "--latency"], ["--stat", "-n", "3"]):
            with self.subTest(args=args):
                p = run_cli(self.hp + args)
                self.assert_run(p, 2, b"")
                self.assertIn(b"Try 'evkv-cli --help'.", p.stderr)
        self.assertEqual(self.stats()["requests"]["total"], 0)


class CliDataTest(CliTestCase):

    def test_non_string_values_print_as_json(self):
        table = {"k": [1, 2], "obj": {"a": None, "b": [True, 1.5]}, "num": 42, "s": "text",
                 "f": 0.1, "null": None, "uni": ["\U0001f436"]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
            json.dump(table, f)
            f.flush()
            srv = self.start_server("--data", f.name)
        hp = ["-h", t.HOST, "-p", srv.port]
        self.assert_run(run_cli(hp + ["search", "k"]), 0, "[1, 2]\n")
        for key, value in table.items():
            with self.subTest(key=key):
                self.assert_run(run_cli(hp + ["search", key]), 0, printed(value) + "\n")
                self.assert_run(run_cli(hp + ["--json", "search", key]), 0,
                                t.json_encode({"result": value}).decode() + "\n")
        self.assert_run(run_cli(hp + ["search", "morpheus"]), 1, t.miss_text("morpheus") + "\n")


class CliBigAnswerTest(CliTestCase):
    """An answer over 1 MiB (a 2,000,000-byte value from a data file) comes
    through in every mode: the client's limit, --max-answer, is 512 MiB
    unless told otherwise."""

    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path, self.table = t.write_big_table(d.name)
        self.srv = self.start_server("--data", path)
        self.hp = ["-h", t.HOST, "-p", self.srv.port]
        # The server does send it whole: a Python client reads it all.
        self.assert_search(self.connect(self.srv), "big", self.table)

    def test_search(self):
        p = run_cli(self.hp + ["search", "big"])
        self.assert_run(p, 0, self.table["big"] + "\n")
        self.assertEqual(p.stderr, b"")
        p = run_cli(self.hp + ["--json", "search", "big"])
        self.assert_run(p, 0, t.json_encode({"result": self.table["big"]}) + b"\n")

    def test_batch(self):
        keys = ["big", "small", "big", "nope", "big"]
        want = "".join((self.table[k] if k in self.table else t.miss_text(k)) + "\n" for k in keys)
        p = run_cli(self.hp + ["search"], stdin="".join(k + "\n" for k in keys).encode())
        self.assert_run(p, 1, want)
        self.assertEqual(p.stderr, b"")

    def test_max_answer(self):
        # The answer's content is {"result": "<value>"}: 2,000,014 bytes.
        content_len = len(t.json_encode({"result": self.table["big"]}))
        p = run_cli(self.hp + ["--max-answer", content_len, "search", "big"])
        self.assert_run(p, 0, self.table["big"] + "\n")
        refused = (f"content-length {content_len} exceeds the limit of {content_len - 1} bytes "
                   f"(--max-answer raises it)").encode()
        for args, stdin in ((["search", "big"], None), (["search"], b"small\nbig\n")):
            with self.subTest(args=args):
                p = run_cli(self.hp + ["--max-answer", content_len - 1] + args, stdin=stdin)
                self.assert_run(p, 2)
                self.assertIn(refused, p.stderr)
                self.assertNotIn(self.table["big"][:100].encode(), p.stdout)
        for bad in ("0", "-1", "1k", "", "99999999999999999999999"):
            with self.subTest(bad=bad):
                p = run_cli(self.hp + ["--max-answer", bad, "search", "small"])
                self.assert_run(p, 2, b"")
                self.assertIn(b"--max-answer", p.stderr)


class CliBatchTest(CliTestCase):

    def setUp(self):
        self.srv = self.start_server()
        self.hp = ["-h", t.HOST, "-p", self.srv.port]

    def expected(self, keys, table=t.TABLE):
        return "".join((printed(table[k]) if k in table else t.miss_text(k)) + "\n" for k in keys)

    def test_1000_lines_mixed(self):
        rnd = random.Random(11)
        keys = [rnd.choice(list(t.TABLE)) if rnd.random() < 0.6 else f"miss {i} \u00e9" for i in range(1000)]
        stdin = "".join(k + "\n" for k in keys).encode("utf-8")
        for args in (self.hp + ["search"], self.hp):
            with self.subTest(args=args):
                p = run_cli(args, stdin=stdin)
                self.assert_run(p, 1, self.expected(keys))

    def test_1000_lines_all_found(self):
        keys = [list(t.TABLE)[i % 3] for i in range(1000)]
        p = run_cli(self.hp + ["search"], stdin="".join(k + "\n" for k in keys).encode())
        self.assert_run(p, 0, self.expected(keys))

    def test_batch_uses_one_connection(self):
        keys = ["morpheus", "ring"] * 50
        p = run_cli(self.hp + ["search"], stdin="\n".join(keys).encode())  # no final newline
        self.assert_run(p, 0, self.expected(keys))
        self.assertNotIn(b"evkv-cli", p.stderr)
        # The server saw exactly 100 requests on one connection.
        srv = t.Server("--verbose")
        self.addCleanup(self._cleanup_server, srv)
        srv.wait_started()
        p = run_cli(["-h", t.HOST, "-p", srv.port, "search"], stdin="\n".join(keys).encode())
        self.assert_run(p, 0, self.expected(keys))
        deadline = time.monotonic() + t.IO_TIMEOUT
        while "closed" not in srv.stderr() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(srv.stderr().count(": accepted"), 1, srv.stderr())

    def test_batch_crlf_lines(self):
        p = run_cli(self.hp + ["search"], stdin=b"morpheus\r\nnope\r\n")
        self.assert_run(p, 1, self.expected(["morpheus", "nope"]))

    def test_control_characters_pass_through_a_pipe(self):
        """Into a pipe, a value is written byte for byte (escaping is for
        terminals only)."""
        table = {"evil": "a\x1b[2Jb\u009bc\x7f"}
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
            json.dump(table, f)
            f.flush()
            srv = self.start_server("--data", f.name)
        p = run_cli(["-h", t.HOST, "-p", srv.port, "search", "evil"])
        self.assert_run(p, 0, table["evil"] + "\n")

    def test_batch_line_with_a_nul_byte(self):
        for stdin in (b"morpheus\na\0b\nring\n", b"morpheus\nring\n\0"):
            with self.subTest(stdin=stdin):
                p = run_cli(self.hp + ["search"], stdin=stdin)
                line = stdin.split(b"\n").index(next(l for l in stdin.split(b"\n") if b"\0" in l)) + 1
                self.assertEqual((p.returncode, p.stdout, p.stderr),
                                 (2, b"", f"evkv-cli: stdin line {line} holds a NUL byte\n".encode()))

    def test_batch_json(self):
        keys = ["morpheus", "nope", "\U0001f436"]
        p = run_cli(self.hp + ["--json", "search"], stdin="\n".join(keys).encode() + b"\n")
        want = b"".join(t.json_encode({"result": t.TABLE.get(k, t.miss_text(k))}) + b"\n"
                        for k in keys)
        self.assert_run(p, 1, want)

    def batch_keys(self, n):
        return [list(t.TABLE)[i % 3] if i % 5 else f"miss {i}" for i in range(n)]

    def test_batch_connection_closed_every_k_answers(self):
        """A server closing every connection after 600 answers, with up to
        512 requests in flight: the unanswered ones are sent again, in
        order, and every line is answered in order. Each request is lost
        once at most (the window is under 600)."""
        keys = self.batch_keys(3000)
        stdin = "".join(k + "\n" for k in keys).encode()
        port, accepted = self.fake_server(t.answer_and_close_after(600))
        p = run_cli(["-h", t.HOST, "-p", port, "--retries", 1], stdin=stdin)
        self.assert_run(p, 1, self.expected(keys))
        self.assertEqual(p.stderr, b"")
        self.assertEqual(len(accepted), 5)
        # Every 100 answers: requests in flight on up to 5 lost connections,
        # more than 3 retries for some.
        port, accepted = self.fake_server(t.answer_and_close_after(100))
        p = run_cli(["-h", t.HOST, "-p", port, "--retries", 3], stdin=stdin)
        self.assert_run(p, 2)
        self.assertTrue(self.expected(keys).encode().startswith(p.stdout))
        # --retries 0: the error, as before, after the answers that came.
        port, accepted = self.fake_server(t.answer_and_close_after(100))
        p = run_cli(["-h", t.HOST, "-p", port, "--retries", 0], stdin=stdin)
        self.assert_run(p, 2)
        self.assertTrue(self.expected(keys).encode().startswith(p.stdout))
        self.assertRegex(p.stderr.decode(), r"^evkv-cli: (the server closed the connection|recv: .*|send: .*) "
                                            r"\(after 100 of 3000 answers\)\n$")
        self.assertEqual(len(accepted), 1)

    def test_batch_half_an_answer_then_close(self):
        keys = self.batch_keys(1000)
        port, accepted = self.fake_server(t.answer_and_close_after(300, partial=True))
        p = run_cli(["-h", t.HOST, "-p", port], stdin="".join(k + "\n" for k in keys).encode())
        self.assert_run(p, 1, self.expected(keys))
        self.assertEqual(len(accepted), 4)

    def test_batch_through_a_restart(self):
        """The server SIGKILLed and started again on its port mid-batch:
        every line is answered, in order. stdout is read slowly at first,
        so that the batch is still running when the server goes. Every
        refused connect is a try (-t is each request's deadline, retries
        included): the client gets the tries and the time a restart takes
        even under valgrind (pauses of at most 200 ms, within 30 s), where
        the default 3 tries last 70 ms."""
        keys = self.batch_keys(200000)
        expected = self.expected(keys).encode()
        port = t.free_port()
        argv = ["--host", t.HOST, "--port", str(port)]
        srv = self.start_server(argv=argv)
        with tempfile.TemporaryFile() as f:
            f.write("".join(k + "\n" for k in keys).encode())
            f.seek(0)
            p = subprocess.Popen(CLI_WRAPPER + [t.CLI, "-h", t.HOST, "-p", str(port), "-t", "30", "--retries", "200"],
                                 stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            head = os.read(p.stdout.fileno(), 1000)
            srv.kill()
            self.start_server(argv=argv)
            out, err = p.communicate(timeout=CLI_TIMEOUT)
        finally:
            p.kill()
            p.wait()
        self.assertEqual(p.returncode, 1, err)
        self.assertEqual(err, b"")
        self.assertEqual(head + out, expected)

    def test_batch_server_gone_for_good(self):
        """Retries spent against a port where nothing listens any more: the
        error once, status 2, after the answers that came. (-t 5: the three
        retries' pauses take 70 ms, far within it, however slowly the
        client runs; under ThreadSanitizer on a busy machine a deadline of
        0.5 s once ran out first, rightly ending with the timeout.)"""
        keys = self.batch_keys(200000)
        port = t.free_port()
        srv = self.start_server(argv=["--host", t.HOST, "--port", str(port)])
        with tempfile.TemporaryFile() as f:
            f.write("".join(k + "\n" for k in keys).encode())
            f.seek(0)
            p = subprocess.Popen(CLI_WRAPPER + [t.CLI, "-h", t.HOST, "-p", str(port), "-t", "5"], stdin=f,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            head = os.read(p.stdout.fileno(), 1000)
            srv.kill()
            out, err = p.communicate(timeout=CLI_TIMEOUT)
        finally:
            p.kill()
            p.wait()
        self.assertEqual(p.returncode, 2, err)
        self.assertTrue(self.expected(keys).encode().startswith(head + out))
        self.assertRegex(err.decode(), rf"^evkv-cli: cannot connect to {t.HOST} port {port}: Connection refused "
                                       r"\(after \d+ of 200000 answers\)\n$")

    def test_batch_10000_lines(self):
        keys = [f"k{i}" if i % 7 else "ring" for i in range(10000)]
        p = run_cli(self.hp + ["search"], stdin="".join(k + "\n" for k in keys).encode())
        self.assert_run(p, 1, self.expected(keys))


class CliEchoTest(CliTestCase):

    def test_echo(self):
        srv = self.start_server("--echo")
        for text in ("hello", "two words \U0001f436", "x" * 10000):
            with self.subTest(text=text[:20]):
                p = run_cli(["-h", t.HOST, "-p", srv.port, "--echo", text])
                self.assert_run(p, 0, text + "\n")


    def test_echo_to_a_server_not_in_echo_mode(self):
        """The server's error answer is said to be one, not printed as raw
        frame bytes."""
        srv = self.start_server()
        for text in ("hello", "hi", "hello world, a longer text than the answer's header"):
            with self.subTest(text=text):
                p = run_cli(["-h", t.HOST, "-p", srv.port, "--echo", text])
                self.assert_run(p, 2, b"")
                self.assertRegex(p.stderr.decode(), r"^evkv-cli: the server does not echo \(start it with --echo\): "
                                                    r"it answered \"Error: [^\n]*\"\n$")
        # One byte: a server not in echo mode waits for the second.
        p = run_cli(["-h", t.HOST, "-p", srv.port, "-t", "0.5", "--echo", "a"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr, b"evkv-cli: timed out after 500 ms waiting for the echo "
                                   b"(is the server in --echo mode?)\n")


class CliErrorsTest(CliTestCase):

    def test_connection_refused(self):
        port = t.free_port()
        for args in (["-h", t.HOST, "-p", port, "search", "morpheus"], [t.HOST, port, "search", "ring"],
                     ["-h", t.HOST, "-p", port, "--echo", "hi"]):
            with self.subTest(args=args):
                p = run_cli(args)
                self.assert_run(p, 2)
                self.assertEqual(p.stdout, b"")
        p = run_cli(["-h", t.HOST, "-p", port, "search"], stdin=b"morpheus\n")
        self.assert_run(p, 2)

    def test_no_arguments_stdin_not_a_terminal_is_an_empty_batch(self):
        # stdin is /dev/null: a batch of no keys, which needs no server.
        p = run_cli(["-h", t.HOST, "-p", t.free_port()])
        self.assert_run(p, 0, b"")
        self.assertEqual(p.stderr, b"")

    def test_timeout_against_silent_server(self):
        port, accepted = self.silent_server()
        for args, stdin in ((["search", "morpheus"], None), (["search"], b"morpheus\nring\n"),
                            (["--echo", "hi"], None)):
            with self.subTest(args=args):
                t0 = time.monotonic()
                p = run_cli(["--timeout", "1", "--retries", "0", "-h", t.HOST, "-p", port] + args, stdin=stdin)
                elapsed = time.monotonic() - t0
                self.assert_run(p, 2)
                self.assertGreaterEqual(elapsed, 0.9)
                self.assertLess(elapsed, 5)
        self.assertTrue(accepted)
        # With --retries 1 too: the request is out of time (its deadline
        # counts its retries), so it is not sent again.
        for args, stdin in ((["search", "morpheus"], None), (["search"], b"morpheus\nring\n")):
            with self.subTest(args=args, retries=1):
                before = len(accepted)
                p = run_cli(["--timeout", "0.5", "--retries", "1", "-h", t.HOST, "-p", port] + args, stdin=stdin)
                self.assert_run(p, 2, b"")
                self.assertIn(b"timed out", p.stderr)
                self.assertEqual(len(accepted) - before, 1)

    def test_timeout_bounds_the_whole_answer(self):
        """-t is a deadline for each whole answer, not for each byte of it:
        a server that sends a byte every 0.25 s, for over a minute, does not
        keep evkv-cli -t 1 waiting, in any mode."""
        answer = t.result_answer("x" * 250)  # 338 bytes: 84 s at 4 bytes/s
        echo = "y" * 300
        bound = 30 if CLI_WRAPPER else 10  # seconds; well under the trickle's
        for mode, args, stdin, port in (("one query", ["ping"], None, self.trickling_server(answer)),
                                        ("one query", ["search", "morpheus"], None, self.trickling_server(answer)),
                                        ("batch", ["search"], b"morpheus\nring\n", self.trickling_server(answer)),
                                        ("latency", ["ping", "--latency", "-n", "2"], None,
                                         self.trickling_server(answer)),
                                        ("echo", ["--echo", echo], None, self.trickling_server())):
            with self.subTest(mode=mode, command=args[0]):
                t0 = time.monotonic()
                try:
                    p = run_cli(["-t", "1", "-h", t.HOST, "-p", port] + args, stdin=stdin, timeout=bound)
                except subprocess.TimeoutExpired:
                    self.fail(f"evkv-cli -t 1 ({mode}, {args[0]}) still waiting after {bound} s")
                elapsed = time.monotonic() - t0
                self.assert_run(p, 2)
                self.assertIn(b"timed out after 1000 ms", p.stderr)
                self.assertGreaterEqual(elapsed, 0.9)

    def test_protocol_errors_exit_2(self):
        for what, data in (("garbage", b"\x00\x03abc"),
                           ("truncated answer", t.search_answer("morpheus")[:-5]),
                           ("closed at once", b"")):
            with self.subTest(what):
                port = self.server_answering(data)
                p = run_cli(["--timeout", "5", "-h", t.HOST, "-p", port, "search", "morpheus"])
                self.assert_run(p, 2)

    def test_server_error_answer_exit_2(self):
        port = self.server_answering(t.result_answer("Error: something broke."))
        p = run_cli(["-h", t.HOST, "-p", port, "search", "morpheus"])
        self.assert_run(p, 2)
        self.assertIn(b"something broke", p.stderr)


# The stats object's keys, in the order the server writes them (ops-spec).
STATS_KEYS = {
    None: ["version", "pid", "uptime_seconds", "threads", "rss_bytes", "connections", "requests",
           "requests_per_second", "hits", "misses", "errors", "bytes", "table", "resp"],
    "connections": ["current", "total", "refused"],
    "requests": ["total", "search", "ping", "stats", "invalid_action", "binary", "bad_request", "bad_frame",
                 "msearch", "auth", "denied"],
    "errors": ["invalid_action", "bad_request", "bad_frame", "timeout", "nomem", "auth_failed"],
    "bytes": ["in", "out"],
    "table": ["keys", "memory_bytes", "source", "format", "load_seconds", "loaded_at", "reloads",
              "reload_failures", "acl_load_failures"],
    "resp": ["requests", "commands", "errors", "protocol_errors", "hits", "misses", "acl_denied_auth",
             "acl_denied_cmd", "acl_denied_key"],
}

# A stats answer with a fixed content, and how evkv-cli prints it.
FIXED_STATS = {"version": "0.1.0", "pid": 123, "connections": {"current": 1, "total": 5}, "empty": {},
               "list": [1, "two"], "table": {"source": "/data/k\u00e9ys \U0001f436.tsv", "format": None,
                                             "load_seconds": 0.43, "reloads": 0}, "ok": True}
FIXED_STATS_PRINTED = """{
  "version": "0.1.0",
  "pid": 123,
  "connections": {
    "current": 1,
    "total": 5
  },
  "empty": {},
  "list": [
    1,
    "two"
  ],
  "table": {
    "source": "/data/k\u00e9ys \U0001f436.tsv",
    "format": null,
    "load_seconds": 0.43,
    "reloads": 0
  },
  "ok": true
}
"""


# A stats answer with sizes in bytes: evkv-cli stats prints each with the
# same in K, M or G after it, as Redis's INFO has used_memory_human.
SIZED_STATS = {"rss_bytes": 147010355, "table": {"memory_bytes": 1023, "disk_bytes": 1536}, "x_bytes": "text",
               "big_bytes": 5 * 1024 ** 3, "bytes": 7}
SIZED_STATS_PRINTED = """{
  "rss_bytes": 147010355,
  "rss_human": "140.2M",
  "table": {
    "memory_bytes": 1023,
    "memory_human": "1023B",
    "disk_bytes": 1536,
    "disk_human": "1.5K"
  },
  "x_bytes": "text",
  "big_bytes": 5368709120,
  "big_human": "5.0G",
  "bytes": 7
}
"""


def with_human(keys):
    """keys, each X_bytes followed by X_human, as evkv-cli stats prints them."""
    out = []
    for k in keys:
        out.append(k)
        if k.endswith("_bytes"):
            out.append(k[:-len("_bytes")] + "_human")
    return out


def human(n):
    """n bytes as evkv-cli writes them: 512B, 1.5K, 140.2M."""
    if n < 1024:
        return f"{n}B"
    for unit in "KMGTPE":
        n /= 1024
        if n < 1024 or unit == "E":
            return f"{n:.1f}{unit}"


def parse_stats(text):
    """The stats object in text, as a dict in the order received."""
    return json.loads(text)


class CliPingStatsTest(CliServerTestCase):

    def test_ping(self):
        p = run_cli(self.hp + ["ping"])
        self.assert_run(p, 0, "pong\n")
        self.assertEqual(p.stderr, b"")

    def test_ping_json(self):
        p = run_cli(self.hp + ["--json", "ping"])
        self.assert_run(p, 0, '{"result": "pong"}\n')

    def test_ping_and_stats_with_a_value_are_the_guide_form(self):
        self.assert_run(run_cli(self.hp + ["ping", "x"]), 0, t.BINARY_PREFIX + "pingx\n")
        self.assert_run(run_cli(self.hp + ["stats", "0123456789"]), 0, t.BINARY_PREFIX + "stats01234\n")
        self.assert_run(run_cli([t.HOST, self.srv.port, "ping", "x"]), 0, t.BINARY_PREFIX + "pingx\n")

    def test_stats_pretty(self):
        p = run_cli(self.hp + ["stats"])
        self.assert_run(p, 0)
        self.assertEqual(p.stderr, b"")
        text = p.stdout.decode("utf-8")
        stats = parse_stats(text)
        # Indented by 2, keys in the order received: the same text Python
        # writes for the same object with indent=2.
        self.assertEqual(text, json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
        self.assertEqual(list(stats), with_human(STATS_KEYS[None]))
        for key, keys in STATS_KEYS.items():
            if key is not None:
                self.assertEqual(list(stats[key]), with_human(keys), key)
        self.assertEqual(stats["table"]["memory_human"], human(stats["table"]["memory_bytes"]))
        self.assertEqual(stats["rss_human"], human(stats["rss_bytes"]))
        self.assertEqual(stats["version"], "0.1.0")
        self.assertEqual(stats["pid"], self.srv.proc.pid)
        self.assertEqual(stats["table"]["keys"], 3)
        self.assertEqual(stats["table"]["source"], "built-in")
        # A request is counted once answered: this one is not in yet.
        self.assertEqual(stats["requests"]["stats"], 0)
        self.assertEqual(stats["requests"]["ping"], 0)
        self.assertEqual(self.stats()["requests"]["stats"], 1)

    def test_stats_json_is_the_answer_as_received(self):
        run_cli(self.hp + ["search", "morpheus"])
        run_cli(self.hp + ["search", "nope"])
        run_cli(self.hp + ["ping"])
        p = run_cli(self.hp + ["--json", "stats"])
        self.assert_run(p, 0)
        answer = json.loads(p.stdout)
        self.assertEqual(list(answer), ["result"])
        # Byte for byte what the server sent: its own JSON layout, one line.
        self.assertEqual(p.stdout, t.json_encode(answer) + b"\n")
        stats = answer["result"]
        self.assertEqual((stats["hits"], stats["misses"]), (1, 1))
        self.assertEqual((stats["requests"]["search"], stats["requests"]["ping"], stats["requests"]["stats"]),
                         (2, 1, 0))

    def test_stats_printed_exactly(self):
        port = self.server_answering(t.result_answer(FIXED_STATS))
        p = run_cli(["-h", t.HOST, "-p", port, "stats"])
        self.assert_run(p, 0, FIXED_STATS_PRINTED)
        p = run_cli(["-h", t.HOST, "-p", port, "--json", "stats"])
        self.assert_run(p, 0, t.json_encode({"result": FIXED_STATS}) + b"\n")

    def test_stats_sizes_in_human_units(self):
        port = self.server_answering(t.result_answer(SIZED_STATS))
        self.assert_run(run_cli(["-h", t.HOST, "-p", port, "stats"]), 0, SIZED_STATS_PRINTED)
        # --json: the answer as received, without them
        p = run_cli(["-h", t.HOST, "-p", port, "--json", "stats"])
        self.assert_run(p, 0, t.json_encode({"result": SIZED_STATS}) + b"\n")

    def test_ping_and_stats_error_answers(self):
        port = self.server_answering(t.result_answer("Error: invalid action 'ping'."))
        p = run_cli(["-h", t.HOST, "-p", port, "ping"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr, b"evkv-cli: Error: invalid action 'ping'.\n")
        port = self.server_answering(t.result_answer("pong"))
        p = run_cli(["-h", t.HOST, "-p", port, "stats"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr, b'evkv-cli: unexpected answer to stats: {"result": "pong"}\n')
        port = self.server_answering(t.result_answer("PONG"))
        p = run_cli(["-h", t.HOST, "-p", port, "ping"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr, b'evkv-cli: unexpected answer to ping: {"result": "PONG"}\n')

    def test_ping_server_down(self):
        port = t.free_port()
        for cmd in ("ping", "stats"):
            p = run_cli(["-h", t.HOST, "-p", port, cmd])
            self.assert_run(p, 2, b"")
            self.assertEqual(p.stderr.decode(),
                             f"evkv-cli: cannot connect to {t.HOST} port {port}: Connection refused\n")


LATENCY_RE = re.compile(r"^min: (\d+\.\d\d), avg: (\d+\.\d\d), p50: (\d+\.\d\d), p99: (\d+\.\d\d), "
                        r"max: (\d+\.\d\d) \((\d+) samples\)\n$")


class CliLatencyTest(CliTestCase):

    def setUp(self):
        self.srv = self.start_server()
        self.hp = ["-h", t.HOST, "-p", self.srv.port]

    def assert_latency_line(self, stdout, samples):
        m = LATENCY_RE.match(stdout.decode())
        self.assertTrue(m, stdout)
        lo, avg, p50, p99, hi = (float(x) for x in m.groups()[:5])
        self.assertEqual(int(m.group(6)), samples)
        self.assertLessEqual(lo, p50)
        self.assertLessEqual(p50, p99)
        self.assertLessEqual(p99, hi)
        self.assertLessEqual(lo, avg)
        self.assertLessEqual(avg, hi)
        return lo, avg, p50, p99, hi

    def test_latency_count(self):
        p = run_cli(self.hp + ["ping", "--latency", "-n", "20"])
        self.assert_run(p, 0)
        self.assertEqual(p.stderr, b"")
        self.assert_latency_line(p.stdout, 20)
        # 20 pings, one after another on one connection.
        p = run_cli(self.hp + ["--json", "stats"])
        stats = json.loads(p.stdout)["result"]
        self.assertEqual(stats["requests"]["ping"], 20)
        self.assertEqual(stats["connections"]["total"], 2)

    def test_latency_defaults_to_100_samples_when_not_a_terminal(self):
        p = run_cli(self.hp + ["ping", "--latency", "--interval", "0"])
        self.assert_run(p, 0)
        self.assert_latency_line(p.stdout, 100)

    def test_latency_interval(self):
        t0 = time.monotonic()
        p = run_cli(self.hp + ["ping", "--count", "6", "--latency", "-i", "0.2"])
        elapsed = time.monotonic() - t0
        self.assert_run(p, 0)
        self.assert_latency_line(p.stdout, 6)
        self.assertGreaterEqual(elapsed, 1.0)  # five pauses between six round trips
        self.assertLess(elapsed, 10)

    def test_latency_slow_server(self):
        # A server that answers each ping 50 ms late: every sample is >= 50.
        lsock = socket.socket()
        lsock.bind((t.HOST, 0))
        lsock.listen(1)
        self.addCleanup(lsock.close)

        def run():
            s, _ = lsock.accept()
            with s:
                buf = b""
                while True:
                    data = s.recv(65536)
                    if not data:
                        return
                    buf += data
                    while len(buf) >= len(t.search_request("", action="ping")):
                        buf = buf[len(t.search_request("", action="ping")):]
                        time.sleep(0.05)
                        s.sendall(t.result_answer("pong"))

        th = threading.Thread(target=run, daemon=True)
        th.start()
        p = run_cli(["-h", t.HOST, "-p", lsock.getsockname()[1], "ping", "--latency", "-n", "5", "-i", "0"])
        th.join(10)
        self.assert_run(p, 0)
        lo, avg, p50, p99, hi = self.assert_latency_line(p.stdout, 5)
        self.assertGreaterEqual(lo, 50)
        self.assertLess(hi, 5000)

    def test_latency_wrong_answer(self):
        port = self.server_answering(t.result_answer("Error: invalid action 'ping'."))
        p = run_cli(["-h", t.HOST, "-p", port, "ping", "--latency", "-n", "3"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr, b'evkv-cli: unexpected answer to ping: '
                         b'{"result": "Error: invalid action \'ping\'."}\n')

    def test_latency_server_down(self):
        p = run_cli(["-h", t.HOST, "-p", t.free_port(), "ping", "--latency", "-n", "3"])
        self.assert_run(p, 2, b"")

    def test_latency_bad_usage(self):
        for args in (["--latency"], ["--latency", "search", "x"], ["stats", "--latency"], ["ping", "x", "--latency"],
                     ["ping", "-n", "5"], ["ping", "-i", "1"], ["ping", "--latency", "-n", "0"],
                     ["ping", "--latency", "-n", "x"], ["ping", "--latency", "-i", "-1"],
                     ["ping", "--latency", "-i", "soon"]):
            with self.subTest(args=args):
                p = run_cli(self.hp + args)
                self.assert_run(p, 2, b"")
        p = run_cli(self.hp + ["--json", "stats"])
        self.assertEqual(json.loads(p.stdout)["result"]["requests"]["ping"], 0)


class CliServerAddressTest(CliTestCase):
    """-u URIs, IPv6 hosts and -s Unix domain sockets."""

    def test_uri_host_port(self):
        srv = self.start_server()
        for uri in (f"evkv://127.0.0.1:{srv.port}", f"evkv://localhost:{srv.port}", f"EVKV://127.0.0.1:{srv.port}/",
                    f"Evkv://LOCALHOST:{srv.port}"):
            with self.subTest(uri=uri):
                self.assert_run(run_cli(["-u", uri, "search", "morpheus"]), 0, t.TABLE["morpheus"] + "\n")
        self.assert_run(run_cli(["--uri", f"evkv://127.0.0.1:{srv.port}", "ping"]), 0, "pong\n")
        self.assert_run(run_cli([f"--uri=evkv://127.0.0.1:{srv.port}", "search", "x"]), 1, t.miss_text("x") + "\n")
        p = run_cli(["-u", f"evkv://127.0.0.1:{srv.port}"], stdin=b"ring\nnope\n")
        self.assert_run(p, 1, t.TABLE["ring"] + "\n" + t.miss_text("nope") + "\n")

    def test_uri_default_port(self):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((t.HOST, 65432))
            except OSError:
                self.skipTest("port 65432 is in use here")
        srv = self.start_server(argv=["--host", t.HOST, "--port", "65432"])
        self.assertEqual(srv.port, 65432)
        self.assert_run(run_cli(["-u", "evkv://127.0.0.1", "search", "ring"]), 0, t.TABLE["ring"] + "\n")
        self.assert_run(run_cli(["-u", "evkv://127.0.0.1/", "ping"]), 0, "pong\n")

    def test_uri_connection_refused_names_the_server(self):
        port = t.free_port()
        p = run_cli(["-u", f"evkv://127.0.0.1:{port}", "ping"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr.decode(), f"evkv-cli: cannot connect to 127.0.0.1 port {port}: Connection refused\n")

    def test_bad_uris(self):
        expected = ("expected evkv://HOST[:PORT], evkvs://HOST[:PORT] (TLS), evkv://[IPV6][:PORT], "
                    "evkv+unix:///PATH or unix:///PATH")
        port_range = "the port must be a number from 1 to 65535"
        for uri, why in (
                ("http://127.0.0.1:65432", expected),
                ("127.0.0.1:65432", expected),
                ("evkv:/127.0.0.1", expected),
                ("", expected),
                ("evkv://", "no host: write evkv://HOST[:PORT]"),
                ("evkv://:65432", "no host: write evkv://HOST[:PORT]"),
                ("evkv://127.0.0.1:", port_range),
                ("evkv://127.0.0.1:0", port_range),
                ("evkv://127.0.0.1:65536", port_range),
                ("evkv://127.0.0.1:123456", port_range),
                ("evkv://127.0.0.1:12a", port_range),
                ("evkv://127.0.0.1:-1", port_range),
                ("evkv://::1", "write an IPv6 address in brackets: evkv://[::1]:65432"),
                ("evkv://::1:65432", "write an IPv6 address in brackets: evkv://[::1]:65432"),
                ("evkv://[::1", "an IPv6 address needs its closing ']'"),
                ("evkv://[]:65432", "no address between '[' and ']'"),
                ("evkv://[127.0.0.1]:65432", "brackets are for an IPv6 address: evkv://[::1]:65432, "
                                             "evkv://127.0.0.1:65432"),
                ("evkv://[::1]65432", "expected ':' and a port after ']'"),
                ("evkv://[::1]:", port_range),
                ("evkv://a@b@127.0.0.1:65432", "one '@' only: write an '@' of the user or password as %40"),
                ("evkv://127.0.0.1:65432/db", "nothing may follow HOST:PORT but one '/'"),
                ("evkv://127.0.0.1:65432?x=1", "nothing may follow HOST:PORT but one '/'"),
                ("evkv://127.0.0.1#frag", "nothing may follow HOST:PORT but one '/'"),
                ("unix://relative/path", "a Unix socket URI names no host: write evkv+unix:///PATH (three slashes) "
                                         "for /PATH"),
                ("evkv+unix://", "a Unix socket URI names no host: write evkv+unix:///PATH (three slashes) for /PATH"),
                ("unix:relative", "the socket path must be absolute: evkv+unix:///PATH"),
                ("evkv+unix:", "the socket path must be absolute: evkv+unix:///PATH"),
                ("unix:///tmp/x?y", "a query or fragment ('?', '#') is not supported"),
                ("unix:///tmp/a%zz", "a '%' must start an escape %XX of a byte other than 0"),
                ("unix:///tmp/a%00", "a '%' must start an escape %XX of a byte other than 0"),
                ("unix:///tmp/a%4", "a '%' must start an escape %XX of a byte other than 0"),
                ("unix:///" + "x" * 200, "too long")):
            with self.subTest(uri=uri):
                p = run_cli(["-u", uri, "ping"])
                self.assert_run(p, 2, b"")
                self.assertEqual(p.stderr.decode(), f"evkv-cli: bad URI '{uri}': {why}\n")

    def test_address_option_conflicts(self):
        for args in (["-u", "evkv://127.0.0.1:1", "-h", "127.0.0.1", "ping"],
                     ["-p", "1", "-u", "evkv://127.0.0.1:1", "ping"],
                     ["-u", "evkv://127.0.0.1:1", "-s", "/tmp/x.sock", "ping"],
                     ["-s", "/tmp/x.sock", "-h", "127.0.0.1", "ping"],
                     ["-s", "/tmp/x.sock", "--port", "1", "ping"],
                     ["-s", "/tmp/x.sock", "127.0.0.1", "1", "search", "x"],
                     ["-u", "evkv://127.0.0.1:1", "127.0.0.1", "1", "search", "x"],
                     ["-s", "", "ping"]):
            with self.subTest(args=args):
                p = run_cli(args)
                self.assert_run(p, 2, b"")
                self.assertIn(b"Try 'evkv-cli --help'.", p.stderr)

    def test_ipv6(self):
        if not t.ipv6_loopback():
            self.skipTest("no IPv6 loopback here")
        srv = self.start_server(argv=["--host", "::1", "--port", "any"])
        port = srv.port
        self.assert_run(run_cli(["-u", f"evkv://[::1]:{port}", "search", "morpheus"]), 0, t.TABLE["morpheus"] + "\n")
        self.assert_run(run_cli(["-u", f"evkv://[0:0:0:0:0:0:0:1]:{port}/", "ping"]), 0, "pong\n")
        self.assert_run(run_cli(["-h", "::1", "-p", port, "search", "ring"]), 0, t.TABLE["ring"] + "\n")
        self.assert_run(run_cli(["::1", port, "search", "nope"]), 1, t.miss_text("nope") + "\n")
        self.assert_run(run_cli(["-h", "::1", "-p", port, "ping", "--latency", "-n", "3"]), 0)
        p = run_cli(["-h", "::1", "-p", port], stdin=b"morpheus\nring\n")
        self.assert_run(p, 0, t.TABLE["morpheus"] + "\n" + t.TABLE["ring"] + "\n")
        # Nothing listens on 127.0.0.1 at that port.
        p = run_cli(["-u", f"evkv://127.0.0.1:{port}", "ping"])
        self.assert_run(p, 2, b"")

    def unix_server(self, name="evkv.sock"):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = os.path.join(tmp.name, name)
        srv = self.start_server(argv=["--unix", path])
        self.assertEqual(srv.address, "unix:" + path)
        return path

    def test_unix_socket(self):
        path = self.unix_server()
        self.assert_run(run_cli(["-s", path, "search", "morpheus"]), 0, t.TABLE["morpheus"] + "\n")
        self.assert_run(run_cli(["--socket", path, "ping"]), 0, "pong\n")
        self.assert_run(run_cli(["-s", path, "search", "nope"]), 1, t.miss_text("nope") + "\n")
        self.assert_run(run_cli(["-s", path, "double", "12"]), 0, t.BINARY_PREFIX + "double12\n")
        p = run_cli(["-s", path], stdin=b"".join(k.encode() + b"\n" for k in t.TABLE) * 100)
        self.assert_run(p, 0, "".join(v + "\n" for v in t.TABLE.values()) * 100)
        p = run_cli(["-s", path, "ping", "--latency", "-n", "10", "-i", "0"])
        self.assert_run(p, 0)
        self.assertRegex(p.stdout.decode(), LATENCY_RE)
        p = run_cli(["-s", path, "stats"])
        self.assert_run(p, 0)
        self.assertEqual(json.loads(p.stdout)["requests"]["ping"], 11)

    def test_unix_uris(self):
        # '%' and a non-ASCII letter, which a URI writes %25 and %C3%A9.
        path = self.unix_server("evkv%\u00e9.sock")
        uri_path = path.replace("%", "%25").replace("\u00e9", "%C3%A9")
        for uri in (f"evkv+unix://{uri_path}", f"unix://{uri_path}", f"unix:{uri_path}", f"UNIX://{uri_path}",
                    f"evkv+unix:{uri_path}"):
            with self.subTest(uri=uri):
                self.assert_run(run_cli(["-u", uri, "search", "ring"]), 0, t.TABLE["ring"] + "\n")

    def test_unix_socket_errors(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = os.path.join(tmp.name, "none.sock")
        p = run_cli(["-s", path, "ping"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr.decode(), f"evkv-cli: cannot connect to unix:{path}: No such file or directory\n")
        p = run_cli(["-u", f"unix://{path}", "search", "x"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr.decode(), f"evkv-cli: cannot connect to unix:{path}: No such file or directory\n")
        long_path = "/tmp/" + "x" * 120
        p = run_cli(["-s", long_path, "ping"])
        self.assert_run(p, 2, b"")
        self.assertEqual(p.stderr.decode(),
                         f"evkv-cli: cannot connect to unix:{long_path}: the path must be 1 to 107 bytes\n")


if __name__ == "__main__":
    t.main()

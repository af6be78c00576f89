"""integration.cli: evkv-cli against a real evkv-server.

Exit status: 0 found or answered, 1 no match, 2 usage, connection or
protocol error (with a message on stderr).
"""

import json
import os
import random
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import evkv_test as t

CLI_TIMEOUT = 30  # seconds for one evkv-cli run


def run_cli(args, stdin=None, timeout=CLI_TIMEOUT):
    """Runs evkv-cli; stdin is bytes (a pipe) or None (/dev/null)."""
    kw = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([t.CLI] + [str(a) for a in args], capture_output=True, timeout=timeout, **kw)


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


class CliSearchTest(CliTestCase):

    def setUp(self):
        self.srv = self.start_server()
        self.hp = ["-h", t.HOST, "-p", self.srv.port]

    def test_search_found(self):
        p = run_cli(self.hp + ["search", "morpheus"])
        self.assert_run(p, 0, "Follow the white rabbit. \U0001f430\n")

    def test_search_every_builtin_key(self):
        for key, value in t.TABLE.items():
            self.assert_run(run_cli(self.hp + ["search", key]), 0, value + "\n")

    def test_search_no_match(self):
        p = run_cli(self.hp + ["search", "nope"])
        self.assert_run(p, 1, "No match for 'nope'.\n")

    def test_search_no_match_odd_keys(self):
        for key in ("", 'a"b\\c', "\u00e9t\u00e9", "\x01", "two words", "-dash"):
            with self.subTest(key=key):
                p = run_cli(self.hp + ["search", "--", key] if key.startswith("-") else
                            self.hp + ["search", key])
                self.assert_run(p, 1, f"No match for '{key}'.\n")

    def test_long_options(self):
        p = run_cli(["--host", t.HOST, "--port", self.srv.port, "search", "ring"])
        self.assert_run(p, 0, t.TABLE["ring"] + "\n")

    def test_guide_positional_form(self):
        p = run_cli([t.HOST, self.srv.port, "search", "ring"])
        self.assert_run(p, 0, "In the caves beneath the Misty Mountains. \U0001f48d\n")

    def test_guide_positional_binary_action(self):
        p = run_cli([t.HOST, self.srv.port, "double", "12"])
        self.assert_run(p, 0, "First 10 bytes of request: double12\n")

    def test_binary_action_truncated_to_ten_bytes(self):
        p = run_cli([t.HOST, self.srv.port, "reverse", "abcdefghij"])
        self.assert_run(p, 0, "First 10 bytes of request: reverseabc\n")

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
        self.assertEqual(p.stdout, t.json_encode({"result": f"No match for '{key}'."}) + b"\n")
        self.assertIn(b"\\u0001", p.stdout)

    def test_help(self):
        p = run_cli(["--help"])
        self.assert_run(p, 0)
        out = p.stdout.decode()
        for opt in ("--host", "--port", "--timeout", "--json", "--echo", "--help"):
            self.assertIn(opt, out)

    def test_bad_usage(self):
        for args in (["--no-such-option", "search", "x"], self.hp + ["search", "a", "b"],
                     self.hp + ["search", "a", "b", "c", "d", "e"], ["--timeout", "zero", "search", "x"],
                     ["-p"]):
            with self.subTest(args=args):
                p = run_cli(args)
                self.assert_run(p, 2)
                self.assertEqual(p.stdout, b"")


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
        self.assert_run(run_cli(hp + ["search", "morpheus"]), 1, "No match for 'morpheus'.\n")


class CliBatchTest(CliTestCase):

    def setUp(self):
        self.srv = self.start_server()
        self.hp = ["-h", t.HOST, "-p", self.srv.port]

    def expected(self, keys, table=t.TABLE):
        return "".join((printed(table[k]) if k in table else f"No match for '{k}'.") + "\n" for k in keys)

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

    def test_batch_json(self):
        keys = ["morpheus", "nope", "\U0001f436"]
        p = run_cli(self.hp + ["--json", "search"], stdin="\n".join(keys).encode() + b"\n")
        want = b"".join(t.json_encode({"result": t.TABLE.get(k, f"No match for '{k}'.")}) + b"\n"
                        for k in keys)
        self.assert_run(p, 1, want)

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

    def silent_server(self):
        """A listening socket that accepts and never answers."""
        lsock = socket.socket()
        lsock.bind((t.HOST, 0))
        lsock.listen(8)
        accepted = []
        stop = threading.Event()

        def run():
            lsock.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(lsock.accept()[0])
                except (socket.timeout, OSError):
                    pass

        th = threading.Thread(target=run, daemon=True)
        th.start()

        def cleanup():
            stop.set()
            th.join()
            for s in accepted:
                s.close()
            lsock.close()

        self.addCleanup(cleanup)
        return lsock.getsockname()[1], accepted

    def test_timeout_against_silent_server(self):
        port, accepted = self.silent_server()
        for args, stdin in ((["search", "morpheus"], None), (["search"], b"morpheus\nring\n"),
                            (["--echo", "hi"], None)):
            with self.subTest(args=args):
                t0 = time.monotonic()
                p = run_cli(["--timeout", "1", "-h", t.HOST, "-p", port] + args, stdin=stdin)
                elapsed = time.monotonic() - t0
                self.assert_run(p, 2)
                self.assertGreaterEqual(elapsed, 0.9)
                self.assertLess(elapsed, 5)
        self.assertTrue(accepted)

    def server_answering(self, answer_bytes):
        """A listening socket that answers each connection with answer_bytes
        once something arrives, then closes."""
        lsock = socket.socket()
        lsock.bind((t.HOST, 0))
        lsock.listen(8)
        lsock.settimeout(0.1)
        stop = threading.Event()

        def run():
            while not stop.is_set():
                try:
                    s, _ = lsock.accept()
                except (socket.timeout, OSError):
                    continue
                with s:
                    try:
                        s.settimeout(t.IO_TIMEOUT)
                        s.recv(65536)
                        s.sendall(answer_bytes)
                    except OSError:
                        pass

        th = threading.Thread(target=run, daemon=True)
        th.start()

        def cleanup():
            stop.set()
            th.join()
            lsock.close()

        self.addCleanup(cleanup)
        return lsock.getsockname()[1]

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


if __name__ == "__main__":
    t.main()

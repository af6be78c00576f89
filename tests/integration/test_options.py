"""integration.options: the command line of evkv-server."""

import re
import socket
import subprocess

import evkv_test as t

# Every option main.c accepts, long and short.
OPTIONS = ["--host", "-H", "--port", "-p", "--data", "-d", "--format", "-f", "--echo", "-e",
           "--max-header", "--max-content", "--verbose", "-v", "--help", "-h", "--version", "-V"]


def run(args, timeout=t.IO_TIMEOUT):
    return subprocess.run([t.SERVER] + args, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)


class OptionsTest(t.ServerTestCase):

    def test_help(self):
        for flag in ("--help", "-h"):
            p = run([flag])
            self.assertEqual(p.returncode, 0)
            out = p.stdout.decode()
            for opt in OPTIONS:
                self.assertRegex(out, rf"(^|[\s,]){re.escape(opt)}\b", opt)
            self.assertIn("HOST PORT", out)
            self.assertIn("SIGTERM", out)

    def test_version(self):
        p = run(["--version"])
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout.decode(), r"^evkv-server \d+\.\d+")

    def test_bad_usage_exits_2(self):
        for args in (["--no-such-option"], ["-Z"], ["--port"], ["--port", "65536"], ["--port", "http"],
                     ["--port", "-1"], ["127.0.0.1"], ["127.0.0.1", "0", "extra"],
                     ["--format", "xml"], ["--host"]):
            with self.subTest(args=args):
                p = run(args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertTrue(p.stderr.strip())
                self.assertNotIn(b"listening", p.stderr)

    def test_positional_host_port(self):
        srv = self.start_server(argv=["127.0.0.1", "0"])
        with srv.connect() as c:
            self.assert_search(c, "morpheus")
            self.assertEqual(c.exchange(t.binary_request(b"double12")), t.binary_answer(b"double12"))

    def test_positional_with_options(self):
        srv = self.start_server(argv=["--max-content", "100", "127.0.0.1", "0"])
        with srv.connect() as c:
            self.assert_search(c, "ring")
            c.send(t.binary_request(b"x" * 101))
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())

    def test_short_options(self):
        srv = self.start_server(argv=["-H", "127.0.0.1", "-p", "0", "-v"])
        with srv.connect() as c:
            self.assert_search(c, "\U0001f436")

    def test_explicit_port(self):
        port = t.free_port()
        srv = self.start_server(argv=["--host", "127.0.0.1", "--port", str(port)])
        self.assertEqual(srv.port, port)
        with srv.connect() as c:
            self.assert_search(c, "ring")

    def test_port_in_use_exits_1(self):
        with socket.socket() as s:
            s.bind((t.HOST, 0))
            s.listen(1)
            port = s.getsockname()[1]
            srv = t.Server(argv=["--host", t.HOST, "--port", str(port)])
            try:
                self.assertEqual(srv.wait_exit(), 1, srv.stderr())
                self.assertIn(str(port), srv.stderr())
            finally:
                srv.kill()
                srv.close_files()

    def test_verbose_logs_requests(self):
        srv = self.start_server("--verbose")
        with srv.connect() as c:
            self.assert_search(c, "morpheus")
            c.send(t.raw_frame(b"bad"))
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())
        with srv.connect() as c:
            self.assert_search(c, "ring")
        err = srv.stderr()
        self.assertIn("morpheus", err)
        self.assertIn("accepted", err)


if __name__ == "__main__":
    t.main()

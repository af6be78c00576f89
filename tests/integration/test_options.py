"""integration.options: the command line of evkv-server."""

import os
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
        srv = self.start_server(argv=["127.0.0.1", "any"])
        with srv.connect() as c:
            self.assert_search(c, "morpheus")
            self.assertEqual(c.exchange(t.binary_request(b"double12")), t.binary_answer(b"double12"))

    def test_positional_with_options(self):
        srv = self.start_server(argv=["--max-content", "100", "127.0.0.1", "any"])
        with srv.connect() as c:
            self.assert_search(c, "ring")
            c.send(t.binary_request(b"x" * 101))
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())

    def test_short_options(self):
        srv = self.start_server(argv=["-H", "127.0.0.1", "-p", "any", "-v"])
        with srv.connect() as c:
            self.assert_search(c, "\U0001f436")

    def test_port_any_and_port_0(self):
        """A port of `any` is a free one, the same for --port and
        --resp-port; 0 is none: a server may listen only for Redis
        clients."""
        srv = self.start_server(argv=["--host", t.HOST, "--port", "any", "--resp-port", "any", "--threads", "1"])
        self.assertNotIn(srv.port, (None, 0))
        self.assertNotIn(srv.resp_port, (None, 0, srv.port))
        self.assert_search(self.connect(srv), "morpheus")
        srv = self.start_server(argv=["--host", t.HOST, "--port", "0", "--resp-port", "any", "--threads", "1"])
        self.assertIsNone(srv.address, srv.stderr())
        self.assertRegex(srv.stderr(), re.compile(t.LOG_PREFIX + r"listening for Redis clients only \(3 keys, "
                                                  r"built-in table, 1 thread\)$", re.M))
        redis = t.Resp(srv.resp_port)
        self.addCleanup(redis.close)
        self.assertEqual(redis.call("GET", "morpheus"), t.TABLE["morpheus"].encode())
        # INFO's tcp_port is the port bound, not the `any` asked for
        self.assertIn(b"tcp_port:%d\r\n" % srv.resp_port, redis.call("INFO", "server"))

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


class ListenerCheckTest(t.TempDirTestCase):
    """Every listener setting, on the command line and in a config file,
    is checked by one path: --check-config and a real start refuse a bad
    one alike, with exit status 2 and the same message, naming the setting
    as it was given (issue 17, defect 4)."""

    def run_both(self, args):
        """(--check-config's status and message, the start's status and
        stderr)."""
        p = subprocess.run(os.environ.get("EVKV_SERVER_WRAPPER", "").split() + [t.SERVER, "--check-config"] + args,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=t.START_TIMEOUT * 3)
        lines = p.stderr.strip().splitlines()
        message = lines[0].split("evkv-server: ", 1)[-1] if lines else ""
        srv = t.Server(argv=["--threads", "1"] + args)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        return p.returncode, message, srv.wait_exit(t.START_TIMEOUT * 3), srv.stderr()

    def cases(self):
        """(arguments, how the message names the bad setting)."""
        long_path = "/tmp/" + "s" * 103  # 108 bytes: one too many for sun_path
        sock = self.path("evkv.sock")
        port = str(t.free_port())
        conf = self.path("evkv.conf")
        cli = [
            (["--port", "65536"], "--port"),
            (["--port", "http"], "--port"),
            (["--host", "256.1.1.1", "--port", "any"], "--host"),
            (["--host", "fe80::1%nosuchif", "--port", "any"], "--host"),
            (["256.1.1.1", "any"], "host"),
            (["--unix", long_path], "--unix"),
            (["--unix", ""], "--unix"),
            (["--unix", sock, "--unix-mode", "0888"], "--unix-mode"),
            (["--resp-unix", sock, "--unix-mode", "rw", "--port", "any"], "--unix-mode"),
            (["--resp-port", "65536", "--port", "any"], "--resp-port"),
            (["--resp-port", "x", "--port", "any"], "--resp-port"),
            (["--resp-unix", long_path, "--port", "any"], "--resp-unix"),
            (["--resp-unix", "", "--port", "any"], "--resp-unix"),
            (["--unix", sock, "--resp-unix", sock], "--resp-unix"),
            (["--port", port, "--resp-port", port], "--resp-port"),
            (["--unix", sock, "--host", "256.1.1.1", "--resp-port", "any"], "--host"),
            # port 0 is no listener: with none at all there is nothing to serve
            (["--port", "0"], "--port"),
            (["-p", "0", "--resp-port", "0"], "--port"),
            (["127.0.0.1", "0"], "port"),
        ]
        for args, name in cli:
            yield args, None, name
        in_file = [
            ("port 65536\n", "1: port"),
            (f"host 256.1.1.1\nport any\n", "1: host"),
            (f"unix {long_path}\n", "1: unix"),
            ("unix\n", "1: unix"),
            (f"unix {sock}\nunix-mode 0888\n", "2: unix-mode"),
            ("port any\nresp-port 70000\n", "2: resp-port"),
            (f"port any\nresp-unix {long_path}\n", "2: resp-unix"),
            (f"unix {sock}\nresp-unix {sock}\n", "2: resp-unix"),
            (f"port {port}\nresp-port {port}\n", "2: resp-port"),
            (f"unix {sock}\nhost 256.1.1.1\nresp-port any\n", "2: host"),
            ("port 0\n", "1: port"),
            ("resp-port any\nresp-port 0\nport 0\n", "3: port"),
        ]
        for text, name in in_file:
            yield ["-c", conf], text, f"{conf}:{name}"

    def test_bad_listener_settings_exit_2_alike(self):
        for args, conf_text, name in self.cases():
            with self.subTest(args=args, conf=conf_text):
                if conf_text is not None:
                    with open(self.path("evkv.conf"), "w") as f:
                        f.write(conf_text)
                rc, message, start_rc, start_err = self.run_both(args)
                self.assertEqual(rc, 2, f"--check-config: {message}")
                self.assertTrue(message.startswith(name + " "), f"{message!r} does not name {name}")
                self.assertEqual(start_rc, 2, start_err)
                self.assertIn(message, start_err)
                self.assertNotIn("listening", start_err)
                self.assertFalse(os.path.exists(self.path("evkv.sock")))

    def test_listeners_that_fit_together(self):
        """What the checks must not refuse: a free port (any) for both
        listeners, a Unix socket with the RESP listener on a TCP port, and
        the other way round, and one listener alone (port 0 is none)."""
        sock = self.path("evkv.sock")
        for args in (["--port", "any", "--resp-port", "0"], ["--port", "any", "--resp-port", "any"],
                     ["--unix", sock, "--resp-port", "any"], ["--port", "any", "--resp-unix", sock],
                     ["--port", "0", "--unix", sock]):
            with self.subTest(args=args):
                p = subprocess.run(os.environ.get("EVKV_SERVER_WRAPPER", "").split() + [t.SERVER, "--check-config"]
                                   + args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=t.START_TIMEOUT * 3)
                self.assertEqual(p.returncode, 0, p.stderr)
                srv = self.start_server(argv=["--threads", "1"] + args)
                self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    t.main()

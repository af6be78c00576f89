"""integration.ops: what operators use. The ping and stats actions, the
config file and its precedence, --check-config, log levels, --log-file and
its reopening, journald's line prefix, systemd's readiness notifications,
and the Unix domain socket and IPv6 listeners."""

import os
import re
import signal
import socket
import subprocess
import time

import evkv_test as t

STATS_KEYS = ["version", "pid", "uptime_seconds", "threads", "rss_bytes", "connections", "requests",
              "requests_per_second", "hits", "misses", "errors", "bytes", "table", "resp"]


def run_server(*args, timeout=30):
    p = subprocess.run([t.SERVER] + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class OpsTest(t.TempDirTestCase):

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def stats(self, conn):
        conn.send(t.json_request({"action": "stats"}))
        return t.answer_result(conn.read_answer())

    # ---- actions ----

    def test_ping(self):
        srv = self.start_server()
        conn = self.connect(srv)
        pong = t.result_answer("pong")
        self.assertEqual(conn.exchange(t.search_request("", action="ping")), pong)
        self.assertEqual(conn.exchange(t.json_request({"action": "ping"})), pong)
        self.assertEqual(conn.exchange(t.json_request({"action": "ping", "value": [1, 2]})), pong)
        # still a binary request when sent as one, and search still needs its value
        self.assertEqual(conn.exchange(t.binary_request(b"ping")), t.binary_answer(b"ping"))
        self.assertEqual(conn.exchange(t.json_request({"action": "search"})),
                         t.result_answer("Error: request lacks 'value'."))

    def test_stats_counts_what_happened(self):
        srv = self.start_server("--threads", "2", "--resp-port", "any")
        sent = received = 0
        conns = [self.connect(srv) for _ in range(3)]
        # Redis clients count apart, but for connections and bytes
        redis = t.Conn(srv.resp_port)
        redis_sent = b"GET morpheus\r\nGET nope\r\nNOSUCHCOMMAND\r\n"
        redis.send(redis_sent)
        sent += len(redis_sent)
        redis_got = b""
        while redis_got.count(b"\r\n") < 4:
            redis_got += redis.sock.recv(4096)
        received += len(redis_got)
        requests = [t.search_request("morpheus"), t.search_request("ring"), t.search_request("nope"),
                    t.search_request("x", action="double"), t.binary_request(b"0123456789abc"),
                    t.json_request({"action": "search", "value": 7}), t.json_request({"action": "ping"})]
        for c in conns:
            for r in requests:
                c.send(r)
                sent += len(r)
                received += len(c.read_answer().raw)
        # a bad frame: answered, then the connection closes
        bad = self.connect(srv)
        bad.send(b"\x00\x05{nope")
        sent += 7
        received += len(bad.read_answer().raw)
        self.assertTrue(bad.at_eof())
        conn = conns[0]
        stats_request = t.json_request({"action": "stats"})
        conn.send(stats_request)
        sent += len(stats_request)
        s = t.answer_result(conn.read_answer())
        self.assertEqual(list(s), STATS_KEYS)
        self.assertEqual(s["version"], "0.1.0")
        self.assertEqual(s["pid"], srv.proc.pid)
        self.assertEqual(s["threads"], 2)
        self.assertEqual(s["connections"], {"current": 4, "total": 5, "refused": 0})
        self.assertEqual(s["requests"], {"total": 22, "search": 9, "ping": 3, "stats": 0, "invalid_action": 3,
                                         "binary": 3, "bad_request": 3, "bad_frame": 1, "msearch": 0, "auth": 0,
                                         "denied": 0})
        self.assertEqual(s["resp"], {"requests": 3, "commands": 2, "errors": 1, "protocol_errors": 0,
                                     "hits": 1, "misses": 1, "acl_denied_auth": 0, "acl_denied_cmd": 0,
                                     "acl_denied_key": 0})
        self.assertEqual((s["hits"], s["misses"]), (6, 3))
        self.assertEqual(s["errors"], {"invalid_action": 3, "bad_request": 3, "bad_frame": 1, "timeout": 0,
                                       "nomem": 0, "auth_failed": 0})
        self.assertEqual(s["bytes"], {"in": sent, "out": received})
        table = s["table"]
        self.assertEqual({k: table[k] for k in ("keys", "source", "format", "reloads", "reload_failures")},
                         {"keys": 3, "source": "built-in", "format": None, "reloads": 0, "reload_failures": 0})
        self.assertGreater(table["memory_bytes"], 0)
        self.assertRegex(table["loaded_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # the stats request itself is counted once answered
        self.assertEqual(self.stats(conn)["requests"]["stats"], 1)
        # each protocol counts its own requests only, errors and broken
        # streams included: a RESP protocol error is RESP's, in stats and
        # in INFO, and the guide's bad frame and errors are the guide's
        redis.send(b"*1\r\n$x\r\n")
        got = b""
        while not got.endswith(b"\r\n"):
            got += redis.sock.recv(4096)
        self.assertTrue(got.startswith(b"-ERR Protocol error"), got)
        self.assertTrue(redis.at_eof())
        s = self.stats(conn)
        self.assertEqual(s["requests"]["total"], 24)
        self.assertEqual((s["resp"]["requests"], s["resp"]["protocol_errors"]), (4, 1))
        fields = dict(line.split(b":", 1) for line in t.Resp(srv.resp_port).call("INFO", "evkv").split(b"\r\n")
                      if b":" in line)
        self.assertEqual((fields[b"guide_requests"], fields[b"resp_requests"]), (b"25", b"4"))

    def test_stats_resident_memory(self):
        srv = self.start_server()
        s = self.stats(self.connect(srv))
        # The process's own figure (from /proc/self/statm): the same as the
        # kernel shows for it from outside, give or take what moved between
        # the two readings.
        rss = t.rss_kib(srv.proc.pid) * 1024
        self.assertGreater(s["rss_bytes"], rss // 2)
        self.assertLess(s["rss_bytes"], rss * 2)

    def test_stats_requests_per_second(self):
        """The requests the workers answered in their last whole second
        (each worker's sweep counts them once a second)."""
        srv = self.start_server("--threads", "2")
        conn = self.connect(srv)
        self.assertEqual(self.stats(conn)["requests_per_second"], 0)
        burst = 300
        conn.send(t.search_request("morpheus") * burst)
        conn.read_answers(burst)
        # Within a few seconds the burst shows: at most the burst and the
        # stats requests; it may straddle two seconds, so at least half of
        # it in one of them.
        seen = [0]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and max(seen) < burst // 2:
            seen.append(self.stats(conn)["requests_per_second"])
            time.sleep(0.25)
        self.assertGreaterEqual(max(seen), burst // 2, seen)
        self.assertLessEqual(max(seen), burst + len(seen), seen)
        # Quiet for over two seconds: back to 0.
        time.sleep(2.5)
        self.assertEqual(self.stats(conn)["requests_per_second"], 0)

    def test_stats_of_a_data_file(self):
        data = self.write("d.json", '{"a": 1, "b": [true]}')
        srv = self.start_server("--data", data)
        table = self.stats(self.connect(srv))["table"]
        self.assertEqual((table["keys"], table["source"], table["format"]), (2, data, "json"))

    def test_stats_counts_timeouts(self):
        srv = self.start_server("--idle-timeout", "1")
        idle = self.connect(srv)
        self.assertTrue(idle.at_eof())
        self.assertEqual(self.stats(self.connect(srv))["errors"]["timeout"], 1)

    # ---- config file ----

    def test_config_file_and_flags_override_it(self):
        a = self.write("a.tsv", "k\tfrom a\n")
        b = self.write("b.tsv", "k\tfrom b\n")
        conf = self.write("evkv.conf", "# a comment\n\n  data   %s  \nthreads 1\necho no\nverbose yes\n" % a)
        srv = self.start_server("-c", conf)
        self.assert_search(self.connect(srv), "k", {"k": "from a"})
        self.assertIn("1 thread)", srv.stderr())
        self.assertIn("-> hit", srv.stderr())  # verbose yes
        srv2 = self.start_server("--config", conf, "--data", b, "--threads", "2", "--log-level", "info")
        self.assert_search(self.connect(srv2), "k", {"k": "from b"})
        self.assertIn("2 threads)", srv2.stderr())
        self.assertNotIn("-> hit", srv2.stderr())

    def test_config_file_errors(self):
        cases = [
            ("port any\nbogus 1\n", "evkv.conf:2: unknown option 'bogus'"),
            ("max-header 5\n", "evkv.conf:1: max-header must be a byte count from 16 to 65535"),
            ("data\n", "evkv.conf:1: data needs a value"),
            ("echo maybe\n", "evkv.conf:1: echo takes yes or no, not 'maybe'"),
            ("config other.conf\n", "evkv.conf:1: 'config' is for the command line only"),
            ("port 7000\0junk\n", "evkv.conf:1: a NUL byte: not a text file?"),
            ("unix-mode 0999\n", "evkv.conf:1: unix-mode must be an octal mode from 0 to 0777, not '0999'"),
            ("port 7000 # the usual\nthreads 0#\n", "evkv.conf:2: threads must be 1 to 256"),
            ("log-level loud\n", "evkv.conf:1: log-level must be error, warn, info or debug, not 'loud'"),
            ("x" * 5000 + "\n", "evkv.conf:1: line longer than 4096 bytes"),
        ]
        for text, message in cases:
            with self.subTest(text=text[:20]):
                conf = self.write("evkv.conf", text)
                rc, out, err = run_server("-c", conf, "-p", "any")
                self.assertEqual(rc, 2, err)
                self.assertEqual(err, f"evkv-server: {self.dir}/{message}\nTry 'evkv-server --help'.\n")
        rc, out, err = run_server("-c", self.path("missing.conf"))
        self.assertEqual((rc, err), (2, f"evkv-server: cannot read config file {self.dir}/missing.conf: "
                                        "No such file or directory\nTry 'evkv-server --help'.\n"))

    def test_command_line_errors(self):
        cases = [
            (["--echo=1"], "option --echo takes no value"),
            (["--echo", "-Zv"], "unknown option -Z"),
            (["--bogus"], "unknown option --bogus"),
            (["--port"], "option --port needs a value"),
            (["-p"], "option -p needs a value"),
            (["a", "b", "c"], "expected no arguments or HOST PORT"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                rc, out, err = run_server(*args)
                self.assertEqual((rc, out, err), (2, "", f"evkv-server: {message}\nTry 'evkv-server --help'.\n"))

    def test_config_comments(self):
        data = self.write("d#1.tsv", "k\tv\n")
        conf = self.write("evkv.conf", f"# the table\ndata {data}   # a '#' after a blank starts a comment\n"
                                       "port 0#not a comment, so a bad port\n")
        rc, out, err = run_server("-c", conf)
        self.assertEqual(rc, 2)
        self.assertIn("evkv.conf:3: port must be a number from 0 to 65535 or any, not '0#not a comment, so a bad port'", err)
        # without the bad line, the path with '#' in it (no blank before) is read whole
        self.write("evkv.conf", f"data {data}  # a comment\n")
        srv = self.start_server("-c", conf)
        self.assert_search(self.connect(srv), "k", {"k": "v"})

    def test_check_config(self):
        data = self.write("d.tsv", "a\t1\nb\t2\n")
        conf = self.write("evkv.conf", f"data {data}\nport 7000\n")
        rc, out, err = run_server("--check-config", "-c", conf)
        self.assertEqual((rc, err), (0, ""))
        self.assertRegex(out, "^" + re.escape(f"evkv-server: configuration OK ({conf}; 2 keys from {data}, loaded in ")
                         + r"\d+\.\d\d s\)\n$")
        # a data file that does not load
        self.write("d.tsv", "a\n")
        rc, out, err = run_server("--check-config", "-c", conf)
        self.assertEqual((rc, out), (2, ""))
        self.assertEqual(err, f"evkv-server: {data}: line 1: no TAB between key and value\n")
        # a bad flag, and an unknown host
        self.assertEqual(run_server("--check-config", "--threads", "0")[0], 2)
        rc, out, err = run_server("--check-config", "--host", "no.such.host.invalid")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("no.such.host.invalid", err)
        # a log file that cannot be opened, a Unix socket path too long
        rc, out, err = run_server("--check-config", "--log-file", self.path("no/such/dir/evkv.log"))
        self.assertEqual((rc, err), (2, f"evkv-server: cannot open log file {self.dir}/no/such/dir/evkv.log: "
                                        "No such file or directory\n"))
        rc, out, err = run_server("--check-config", "--unix", "/" + "x" * 120)
        self.assertEqual(rc, 2)
        self.assertIn("the path is longer than 107 bytes", err)
        # nothing listens meanwhile: the port stays free
        self.assertEqual(run_server("--check-config")[:2], (0, "evkv-server: configuration OK (3 keys, "
                                                               "built-in table)\n"))

    # ---- logging ----

    def test_log_level_warn_hides_info(self):
        # No start line to wait for: wait until it answers on a port of
        # our choosing (a SIGTERM before its signal handling is set up
        # would end it by the signal).
        port = t.free_port()
        srv = t.Server(argv=["--host", t.HOST, "--port", str(port), "--log-level", "warn", "--idle-timeout", "1"])
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        deadline = time.monotonic() + t.START_TIMEOUT
        while True:
            self.assertIsNone(srv.proc.poll(), srv.stderr())
            try:
                with t.Conn(port) as c:
                    self.assertEqual(c.exchange(t.search_request("ring")), t.search_answer("ring"))
                break
            except ConnectionRefusedError:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
        time.sleep(1.5)  # an idle timeout passes: nothing logged at warn
        self.assertEqual(srv.stderr(), "")
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(srv.stderr(), "")

    def test_log_file_and_reopen(self):
        log = self.path("evkv.log")
        srv = t.Server("--log-file", log, "-v")
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        line_re = re.compile(t.LOG_PREFIX + r"listening on 127\.0\.0\.1:(\d+) ", re.M)
        deadline = time.monotonic() + 10
        while not (os.path.exists(log) and line_re.search(open(log).read())):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        self.assertEqual(srv.stderr(), "")  # all of it went to the file
        port = int(line_re.search(open(log).read()).group(1))
        os.rename(log, log + ".1")  # as logrotate does
        srv.send_signal(signal.SIGHUP)
        while not (os.path.exists(log) and "reloaded: " in open(log).read()):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        # a value with a newline and 200 bytes: escaped and cut in the log
        key = "evil\nkey" + "z" * 200
        with t.Conn(port) as c:
            self.assertEqual(c.exchange(t.search_request(key)), t.search_answer(key))
        self.assertEqual(srv.stop(), 0)
        rotated, current = open(log + ".1").read(), open(log).read()
        self.assertIn("listening on", rotated)
        self.assertNotIn("listening on", current)
        self.assertIn("reloaded: 3 keys, built-in table", current)
        self.assertRegex(current, "(?m)" + t.LOG_PREFIX + r"conn \d+ 127\.0\.0\.1:\d+: search 'evil\\x0akeyz{40}\.\.\.' "
                                                 r"-> miss$")
        for line in current.splitlines():
            self.assertRegex(line, t.LOG_PREFIX)
            self.assertLess(len(line), 300)

    def test_journald_lines_have_priorities(self):
        err_path = self.path("stderr")
        with open(err_path, "wb") as err:
            st = os.fstat(err.fileno())
            env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
            p = subprocess.Popen([t.SERVER, "-p", "any", "--data", self.path("missing.tsv")], stderr=err,
                                 stdin=subprocess.DEVNULL, env=env)
            self.assertEqual(p.wait(timeout=10), 2)
        self.assertEqual(open(err_path).read(),
                         f"<3>evkv-server: error: {self.dir}/missing.tsv: No such file or directory\n")

    # ---- systemd ----

    def test_systemd_notifications(self):
        sock_path = self.path("notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(ns.close)
        ns.bind(sock_path)
        ns.settimeout(10)
        env_before = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = sock_path
        try:
            srv = self.start_server()
        finally:
            if env_before is None:
                del os.environ["NOTIFY_SOCKET"]
            else:
                os.environ["NOTIFY_SOCKET"] = env_before
        ready = ns.recv(4096).decode()
        self.assertEqual(ready, f"READY=1\nSTATUS=listening on 127.0.0.1:{srv.port} (3 keys, built-in table)\n"
                                f"MAINPID={srv.proc.pid}")
        srv.send_signal(signal.SIGHUP)
        reloading = ns.recv(4096).decode()
        self.assertRegex(reloading, r"^RELOADING=1\nMONOTONIC_USEC=\d+$")
        usec = int(reloading.split("=")[-1])
        self.assertLess(abs(usec / 1e6 - time.clock_gettime(time.CLOCK_MONOTONIC)), 60)
        self.assertEqual(ns.recv(4096).decode(), "READY=1")
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(ns.recv(4096).decode(), "STOPPING=1")

    # ---- listeners ----

    def test_unix_socket(self):
        path = self.path("evkv.sock")
        srv = self.start_server(argv=["--unix", path, "--threads", "2"])
        self.assertEqual(srv.address, "unix:" + path)
        conns = [self.connect(srv) for _ in range(4)]
        for c in conns:
            self.assert_search(c, "morpheus")
        self.assertEqual(self.stats(conns[0])["connections"]["current"], 4)
        # a second server may not take the socket of one that answers
        rc, out, err = run_server("--unix", path)
        self.assertEqual(rc, 1)
        self.assertIn(f"cannot listen on {path}: a server is already listening there", err)
        self.assert_search(conns[0], "ring")
        self.assertEqual(srv.stop(), 0)
        self.assertFalse(os.path.exists(path), "the socket file is removed at exit")

    def test_resp_unix_socket(self):
        """--resp-unix: Redis clients on a Unix socket (with --unix-mode),
        beside the guide's TCP port; the file is removed at exit."""
        path = self.path("redis.sock")
        srv = self.start_server("--resp-unix", path, "--unix-mode", "0660", "--threads", "2")
        self.assertEqual(srv.resp_address, "unix:" + path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o660)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(t.IO_TIMEOUT)
            s.connect(path)
            s.sendall(t.resp_command("GET", "ring") + t.resp_command("PING"))
            want = b"$46\r\n" + t.TABLE["ring"].encode() + b"\r\n+PONG\r\n"
            got = b""
            while len(got) < len(want):
                got += s.recv(4096)
            self.assertEqual(got, want)
        self.assert_search(self.connect(srv), "morpheus")
        self.assertEqual(srv.stop(), 0)
        self.assertFalse(os.path.exists(path), "the socket file is removed at exit")

    def test_resp_listener_options(self):
        # 0 (or nothing) is no Redis listener
        srv = self.start_server("--resp-port", "0")
        self.assertIsNone(srv.resp_port)
        self.assertNotRegex(srv.stderr(), "listening for Redis clients")
        for args, why in ((["--resp-port", "x"], "--resp-port must be a number from 0 to 65535 or any, not 'x'"),
                          (["--resp-port", "65536"], "--resp-port must be a number from 0 to 65535 or any"),
                          (["--resp-unix", ""], "--resp-unix needs a path"),
                          (["--echo", "--resp-port", "any"], "--echo serves no table: it takes no --resp-port"),
                          (["--echo", "--resp-unix", self.path("r.sock")], "--echo serves no table")):
            with self.subTest(args=args):
                rc, out, err = run_server(*args)
                self.assertEqual(rc, 2, err)
                self.assertIn(why, err)

    def test_unix_socket_mode(self):
        path = self.path("evkv.sock")
        srv = self.start_server(argv=["--unix", path, "--unix-mode", "0666"])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o666)
        self.assert_search(self.connect(srv), "morpheus")
        srv2 = self.start_server(argv=["--unix", self.path("b.sock"), "--unix-mode", "600"])
        self.assertEqual(os.stat(self.path("b.sock")).st_mode & 0o777, 0o600)
        self.assert_search(self.connect(srv2), "morpheus")

    def test_unix_socket_of_a_successor_is_left_alone(self):
        """A server stopping after another took over its path (its socket
        file replaced) does not remove the new server's file."""
        path = self.path("evkv.sock")
        first = self.start_server(argv=["--unix", path])
        moved = self.path("first.sock")
        os.rename(path, moved)  # as if a new server had made its own file
        second = self.start_server(argv=["--unix", path])
        self.assertEqual(first.stop(), 0)
        self.assertTrue(os.path.exists(path))
        self.assert_search(self.connect(second), "morpheus")

    def test_unix_socket_left_by_a_dead_server(self):
        path = self.path("evkv.sock")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)
        stale.close()  # the file stays, nobody listens
        srv = self.start_server(argv=["--unix", path])
        self.assert_search(self.connect(srv), "morpheus")
        # a path that is not a socket is not removed
        regular = self.write("file", "keep me")
        rc, out, err = run_server("--unix", regular)
        self.assertEqual(rc, 1)
        self.assertEqual(open(regular).read(), "keep me")
        # a path too long for a socket is bad configuration, as --check-config says
        self.assertEqual(run_server("--unix", "/" + "x" * 200)[0], 2)

    def test_ipv6(self):
        if not t.ipv6_loopback():
            self.skipTest("this machine has no IPv6 loopback")
        srv = self.start_server(argv=["--host", "::1", "--port", "any", "--threads", "2"])
        self.assertEqual(srv.address, "[::1]")
        for _ in range(4):
            self.assert_search(self.connect(srv), "\U0001f436")
        with self.assertRaises(OSError):
            socket.create_connection((t.HOST, srv.port), timeout=2).close()


if __name__ == "__main__":
    t.main()

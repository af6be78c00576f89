"""integration.reliability: nothing a client sent is lost, nothing hangs.

Backpressure never stalls a pipelined connection, whatever --max-output,
the pipeline depth and the value size; a slow but steady reader is not cut
off by --message-timeout; connections opened in a worker's first second
are timed out like any other; --echo obeys --max-output; --max-conns holds
across workers; a connection the server closes first is closed without a
reset, so answers already sent are never destroyed; a second server on a
busy port refuses to start; bad addresses exit 2 from a start as from
--check-config.
"""

import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time

import evkv_test as t

PING = t.json_request({"action": "ping"})
PONG = t.result_answer("pong")


class BigTableCase(t.ServerTestCase):

    def big_server(self, size, *args):
        """A server (one worker) of the table "big" -> size x's, with
        args; returns it and the table."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "big.tsv")
            with open(path, "w") as f:
                f.write("big\t" + "x" * size + "\n")
            srv = self.start_server("--data", path, "--threads", "1", *args)
        return srv, {"big": "x" * size}


def small_rcvbuf_conn(port, rcvbuf):
    """A connection whose receive buffer is set small before it connects,
    so that the server's output really backs up."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(t.IO_TIMEOUT)
    s.connect((t.HOST, port))
    return t.Conn.wrap(s)


def wait_refused(port, timeout=t.STOP_TIMEOUT):
    """Waits until nothing accepts on port (the stopping server closed its
    listener)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((t.HOST, port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.02)
    raise AssertionError("the listener is still open")


class BackpressureTest(BigTableCase):
    """Finding 1: every complete request is answered, in order."""

    def test_pipelined_big_values_default_limits(self):
        srv, table = self.big_server(100000)
        c = self.connect(srv)
        c.send(t.search_request("big") * 20)
        want = t.search_answer("big", table)
        for i in range(20):
            self.assertEqual(c.read_answer().raw, want, f"answer {i}")

    def test_pipelined_pings_small_max_output(self):
        for max_output in ("1", "1000", "65536"):
            with self.subTest(max_output=max_output):
                srv = self.start_server("--max-output", max_output, "--threads", "1")
                c = self.connect(srv)
                c.send(PING * 100)
                for i in range(100):
                    self.assertEqual(c.read_answer().raw, PONG, f"answer {i}")
                c.close()

    def test_depths_sizes_and_marks(self):
        # Every combination answers everything, in order, read at once or
        # read slowly through a small receive buffer.
        for max_output in ("1000", "100000"):
            srv, table = self.big_server(30000, "--max-output", max_output)
            want_big = t.search_answer("big", table)
            for depth in (1, 7, 64):
                for rcvbuf in (4096, 1 << 20):
                    with self.subTest(max_output=max_output, depth=depth, rcvbuf=rcvbuf):
                        c = small_rcvbuf_conn(srv.port, rcvbuf)
                        reqs = [(t.search_request("big"), want_big) if i % 3 == 0 else
                                (t.search_request("nope"), t.search_answer("nope", table)) if i % 3 == 1 else
                                (PING, PONG) for i in range(depth)]
                        c.send(b"".join(r for r, _ in reqs))
                        for i, (_, want) in enumerate(reqs):
                            self.assertEqual(c.read_answer().raw, want, f"answer {i}")
                        c.close()


class TimeoutsTest(BigTableCase):

    def test_slow_steady_reader_is_not_cut_off(self):
        # Finding 2: 10 pipelined requests for 50 KB, read at about
        # 100 KB/s through a small receive buffer: the server stops reading
        # for backpressure, which is no incomplete message; every answer
        # arrives although it takes longer than --message-timeout.
        srv, table = self.big_server(50000, "--message-timeout", "1", "--max-output", "20000")
        c = small_rcvbuf_conn(srv.port, 4096)
        self.addCleanup(c.close)
        c.send(t.search_request("big") * 10)
        want = t.search_answer("big", table)
        start = time.monotonic()
        got = bytearray()
        while len(got) < 10 * len(want):
            chunk = c.sock.recv(2048)
            if not chunk:
                break
            got += chunk
            time.sleep(0.02)  # 2 KB every 20 ms: ~100 KB/s at most
        self.assertEqual(bytes(got), want * 10)
        # It did take longer than the message deadline (plus the sweep's
        # second), so the test shows what it means to.
        self.assertGreater(time.monotonic() - start, 2.5)

    def test_stalled_reader_closed_at_the_idle_timeout(self):
        # A connection paused for backpressure whose client takes nothing
        # is closed by --idle-timeout, not kept forever.
        srv, _ = self.big_server(200000, "--idle-timeout", "2", "--max-output", "10000")
        c = small_rcvbuf_conn(srv.port, 4096)
        self.addCleanup(c.close)
        c.send(t.search_request("big") * 50)
        time.sleep(5)  # past 2 s (+1 s of sweep) with no byte taken
        # Now read: what arrives ends (EOF or reset) well short of 50 answers.
        c.sock.settimeout(t.IO_TIMEOUT)
        total = 0
        try:
            while True:
                chunk = c.sock.recv(1 << 16)
                if not chunk:
                    break
                total += len(chunk)
        except ConnectionResetError:
            pass
        self.assertLess(total, 50 * 200000)
        with srv.connect() as s:
            s.send(t.json_request({"action": "stats"}))
            stats = t.answer_result(s.read_answer())
        self.assertEqual(stats["errors"]["timeout"], 1, stats)

    def test_connections_of_the_first_second_time_out(self):
        # Finding 3: a connection that sends one byte right after the start
        # is closed by the message deadline like any other.
        srv = t.Server("--message-timeout", "2", "--idle-timeout", "3", "--threads", "1")
        self.addCleanup(self._cleanup_server, srv)
        srv.wait_started()
        s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
        self.addCleanup(s.close)
        s.sendall(b"\x00")
        start = time.monotonic()
        s.settimeout(8)
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            self.fail(f"still open {time.monotonic() - start:.1f} s later")
        self.assertIn(b"message not complete within 2 s", data)
        self.assertLess(time.monotonic() - start, 8)


class EchoTest(t.ServerTestCase):

    def test_echo_obeys_max_output(self):
        # Finding 4: a client that sends and never reads cannot make the
        # server buffer more than --max-output (plus socket buffers); then
        # it reads, and every byte comes back in order.
        srv = self.start_server("--echo", "--max-output", "1048576", "--threads", "1")
        rss_before = t.rss_kib(srv.proc.pid)
        s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
        self.addCleanup(s.close)
        s.setblocking(False)
        block = bytes(range(256)) * 256  # 64 KiB
        sent = 0
        limit = 128 << 20
        stalled_since = None
        while sent < limit:
            try:
                sent += s.send(block[sent % len(block):])
                stalled_since = None
            except BlockingIOError:
                if stalled_since is None:
                    stalled_since = time.monotonic()
                elif time.monotonic() - stalled_since > 1.0:
                    break  # the server stopped reading
                select.select([], [s], [], 0.1)
        self.assertLess(sent, 64 << 20, "the server kept reading past --max-output")
        # --max-output and the buffers it reads into, not what was sent
        self.assertLess(t.rss_kib(srv.proc.pid) - rss_before, 40 << 10)
        # Everything sent comes back, in order.
        s.setblocking(True)
        s.settimeout(t.IO_TIMEOUT)
        got = 0
        while got < sent:
            chunk = s.recv(1 << 16)
            self.assertTrue(chunk, f"EOF after {got} of {sent} bytes")
            pos = got % len(block)
            expect = (block[pos:] + block * (len(chunk) // len(block) + 2))[:len(chunk)]
            self.assertEqual(chunk, expect, f"echo differs at byte {got}")
            got += len(chunk)


class MaxConnsTest(t.ServerTestCase):

    def test_max_conns_holds_across_workers(self):
        # Finding 5: with 4 workers, 8 clients connecting at once: never
        # more than one served. The 8 connects go out back to back, so that
        # the workers accept them at the same moment.
        srv = self.start_server("--max-conns", "1", "--threads", "4")
        for trial in range(1000):
            socks = []
            for _ in range(8):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex((t.HOST, srv.port))
                socks.append(s)
            served = refused = 0
            for s in socks:
                s.setblocking(True)
                s.settimeout(t.IO_TIMEOUT)
                c = t.Conn.wrap(s)
                try:
                    s.sendall(PING)
                    a = c.read_answer().raw
                except (OSError, EOFError):
                    a = None
                if a == PONG:
                    served += 1
                else:
                    refused += 1
            for s in socks:
                s.close()
            self.assertLessEqual(served, 1, f"trial {trial}: {served} served at once")
            self.assertEqual(served + refused, 8)
            # The server has seen every close before the next trial.
            deadline = time.monotonic() + t.IO_TIMEOUT
            while time.monotonic() < deadline:
                with srv.connect() as c:
                    try:
                        if c.exchange(PING) == PONG:
                            break
                    except (OSError, EOFError):
                        pass
                time.sleep(0.02)


class LingeringCloseTest(t.ServerTestCase):
    """Finding 6: a close with unread input never resets the connection."""

    def test_stop_with_unread_input_keeps_every_answer(self):
        # 8 MB of answers queued for a client that reads slowly; the stop
        # is seen (the listener closed), then the client sends more bytes,
        # which the stopping server never reads. They sit in its receive
        # queue when it closes: a plain close() would reset the connection
        # and drop what its send queue still holds. Every answer the server
        # made arrives, whole, then EOF. (The stop answers the requests
        # that had reached the server; those still in the client's own
        # send buffer had not.)
        srv = self.start_server("--threads", "1")
        c = small_rcvbuf_conn(srv.port, 65536)
        self.addCleanup(c.close)
        key = "\u00e9" * 20000
        n = 200
        c.send(t.search_request(key) * n)
        time.sleep(0.5)
        srv.send_signal(signal.SIGTERM)
        wait_refused(srv.port)
        time.sleep(0.2)
        c.send(t.search_request("ring") * 10)
        want = t.search_answer(key)
        got = 0
        while True:
            try:
                answer = c.read_answer().raw
            except EOFError:
                self.assertEqual(c.buf, b"", "a cut answer")
                break
            self.assertEqual(answer, want, f"answer {got}")
            got += 1
        self.assertEqual(srv.wait_exit(), 0, srv.stderr())
        self.assertEqual(int(t.STOP_RE.search(srv.stderr()).group(2)), got)
        self.assertGreater(got, 0)

    def test_bad_frame_read_by_the_stop_lingers_and_closes(self):
        # The stop reads what already arrived on every connection. When
        # that is a bad frame, the error answer goes out and the connection
        # lingers: it must close once its client has closed, not be left
        # without an event until the stop's 5 s grace ends. The worker is
        # kept busy with slow requests, so that the stop and the bad frame
        # are both waiting when it next looks. The stop answers what the
        # busy client had sent too, within its 5 s grace: under valgrind or
        # a sanitizer, lighter requests (several of the heavy ones took
        # over 5 s under valgrind on a loaded machine).
        pad = 15000 if t.SLOWED else 150000
        slow = t.message(('{"action": "search", "value": "ring", "pad": "' + "\\u0041" * pad + '"}').encode(),
                         "text/json", "utf-8")
        for trial in range(6):
            srv = self.start_server("--threads", "1")
            busy = srv.connect()
            self.addCleanup(busy.close)
            sender = busy.send_in_background(slow * 100)

            def drain(sock=busy.sock):
                try:
                    while sock.recv(1 << 20):
                        pass
                except OSError:
                    pass

            reader = threading.Thread(target=drain, daemon=True)
            reader.start()
            bad = self.connect(srv)
            time.sleep(0.5)
            srv.send_signal(signal.SIGTERM)
            time.sleep(0.03)
            bad.send(b"\x00\x05{nope")
            # Read by the stop: the error answer, then EOF. Come after it:
            # EOF alone.
            try:
                self.assert_error_answer(bad.read_answer())
                self.assertTrue(bad.at_eof())
            except EOFError:
                pass
            bad.close()
            self.assertEqual(srv.wait_exit(), 0, srv.stderr())
            self.assertNotIn("still had answers unsent", srv.stderr(), f"trial {trial}")
            sender.join(t.IO_TIMEOUT)
            reader.join(t.IO_TIMEOUT)

    def test_error_answer_then_close_is_not_reset(self):
        # A frame whose framing is lost gets one error answer and a close;
        # bytes sent after it do not turn that close into a reset.
        srv = self.start_server("--threads", "1")
        c = small_rcvbuf_conn(srv.port, 4096)
        self.addCleanup(c.close)
        key = "\u00e9" * 20000
        bad = b"\x00\x05hello"  # a header that is not JSON: framing lost
        c.send(t.search_request(key) * 50 + bad)
        time.sleep(0.5)
        c.send(t.search_request("ring") * 100)  # unread by the server
        want = t.search_answer(key)
        for i in range(50):
            self.assertEqual(c.read_answer().raw, want, f"answer {i}")
        self.assert_error_answer(c.read_answer())
        self.assertTrue(c.at_eof())

    def test_refused_connection_gets_its_answer(self):
        # A connection refused past --max-conns that already sent a
        # request gets the error answer and an orderly close.
        srv = self.start_server("--max-conns", "1", "--threads", "1")
        keep = self.connect(srv)
        self.assert_search(keep, "ring")
        for _ in range(20):
            s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
            s.sendall(PING * 100)
            c = t.Conn.wrap(s)
            time.sleep(0.05)
            self.assertIn("too many connections", self.assert_error_answer(c.read_answer()))
            self.assertTrue(c.at_eof())
            s.close()


class BusyPortTest(t.ServerTestCase):
    """Finding 9: a second server on a busy port exits 1."""

    def test_second_server_refused(self):
        for first, second in (("2", "2"), ("1", "2"), ("2", "1"), ("1", "1")):
            with self.subTest(first=first, second=second):
                srv = self.start_server("--threads", first)
                other = t.Server("--port", str(srv.port), "--threads", second)
                self.addCleanup(other.close_files)
                self.addCleanup(other.kill)
                rc = other.wait_exit(t.START_TIMEOUT)
                self.assertEqual(rc, 1, other.stderr())
                self.assertIn("address already in use", other.stderr().lower())
                self.assertNotIn("listening on", other.stderr())
                self.assert_search(self.connect(srv), "ring")
                srv.stop()


class ExitStatusTest(t.ServerTestCase):
    """Finding 11: bad configuration exits 2, from a start as from
    --check-config."""

    def run_server(self, *args):
        argv = os.environ.get("EVKV_SERVER_WRAPPER", "").split() + [t.SERVER] + list(args)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=t.START_TIMEOUT * 3)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_bad_addresses_exit_2(self):
        long_path = "/tmp/" + "s" * 104  # 109 bytes: too long for sun_path
        cases = [
            ["--unix", long_path],
            ["--host", "256.1.1.1", "--port", "any"],
            ["--host", "fe80::1%nosuchif", "--port", "any"],
        ]
        for args in cases:
            with self.subTest(args=args):
                rc, err = self.run_server("--check-config", *args)
                self.assertEqual(rc, 2, err)
                rc2, err2 = self.run_server(*args)
                self.assertEqual(rc2, 2, err2)
                self.assertNotIn("listening on", err2)
                # Both say the same thing.
                self.assertIn(err.strip().splitlines()[-1].split(": ", 1)[-1],
                              err2.strip().splitlines()[-1])


if __name__ == "__main__":
    t.main()

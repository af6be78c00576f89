"""integration.limits: the server's limits under hostile and buggy clients.

Slowloris connections closed at the message deadline, idle connections at
the idle timeout, connection floods past --max-conns and past the open file
limit, clients that pipeline and never read (memory stays under the output
cap), clients that reset mid-answer, random bytes, fairness between a heavy
pipeline and a light client, and a second stop signal. Throughout, a
control client keeps getting right answers. Every test is bounded in time
and talks only to 127.0.0.1.
"""

import os
import random
import resource
import select
import signal
import socket
import struct
import threading
import time

import evkv_test as t


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_eof(sock, timeout):
    """Reads until EOF (or a reset); returns the bytes read before it.
    Fails if the connection is still open after timeout seconds."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except socket.timeout:
            raise AssertionError(f"still open after {timeout} s; got {data[:200]!r}")
        if not chunk:
            return data
        data += chunk
        if time.monotonic() > deadline:
            raise AssertionError(f"still open after {timeout} s; got {data[:200]!r}")


def error_result(data):
    """The result of the one text/json answer in data."""
    (hlen,) = struct.unpack(">H", data[:2])
    import json
    header = json.loads(data[2:2 + hlen])
    return json.loads(data[2 + hlen:2 + hlen + header["content-length"]])["result"]


class Control:
    """A client on its own connection that keeps asking and checking, in a
    thread, until stopped. Every answer must be right."""

    def __init__(self, srv):
        self.conn = srv.connect()
        # Served before the test goes on: a connection still in the
        # kernel's backlog when a flood takes every descriptor would wait
        # for one (the other worker may accept the flood first).
        assert self.conn.exchange(t.search_request("ring")) == t.search_answer("ring")
        self.errors = []
        self.count = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        keys = ["morpheus", "nope", "\U0001f436"]
        try:
            while not self.stop_flag.is_set():
                k = keys[self.count % 3]
                if self.conn.exchange(t.search_request(k)) != t.search_answer(k):
                    self.errors.append(f"wrong answer for {k}")
                self.count += 1
                time.sleep(0.01)
        except Exception as e:  # reported by stop()
            self.errors.append(repr(e))

    def stop(self, test):
        self.stop_flag.set()
        self.thread.join(t.IO_TIMEOUT)
        self.conn.close()
        test.assertEqual(self.errors, [])
        test.assertGreater(self.count, 0)


class LimitsTest(t.ServerTestCase):

    def test_slowloris_closed_at_the_message_deadline(self):
        srv = self.start_server("--message-timeout", "2")
        control = Control(srv)
        req = t.search_request("morpheus")
        socks = []
        for _ in range(500):
            s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
            s.sendall(req[:5])  # a message begun, never finished
            socks.append(s)
        # Trickle a byte a second into each: the deadline runs from the
        # message's first byte, so trickling does not keep it open.
        start = time.monotonic()
        for i in range(5, 8):
            time.sleep(0.6)
            for s in socks:
                try:
                    s.send(req[i:i + 1])
                except OSError:
                    pass
        for s in socks:
            data = wait_eof(s, 8)
            self.assertIn("message not complete within 2 s", error_result(data))
            s.close()
        self.assertLess(time.monotonic() - start, 15)
        control.stop(self)

    def test_idle_connection_closed(self):
        srv = self.start_server("--idle-timeout", "1")
        idle = srv.connect()
        busy = srv.connect()
        deadline = time.monotonic() + 3.2
        while time.monotonic() < deadline:  # busy keeps talking
            self.assert_search(busy, "ring")
            time.sleep(0.2)
        self.assertEqual(wait_eof(idle.sock, 2), b"")  # closed without a word, within 1-2 s
        self.assert_search(busy, "ring")
        idle.close()
        busy.close()

    def test_max_conns(self):
        srv = self.start_server("--max-conns", "20")
        control = Control(srv)  # one of the 20
        conns = [srv.connect() for _ in range(19)]
        for c in conns:
            self.assert_search(c, "morpheus")
        extra = [socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT) for _ in range(10)]
        for s in extra:
            self.assertIn("too many connections", error_result(wait_eof(s, 5)))
            s.close()
        # When some leave, new ones are served again.
        for c in conns[:5]:
            c.close()
        time.sleep(0.3)
        for _ in range(5):
            c = self.connect(srv)
            self.assert_search(c, "ring")
        control.stop(self)
        for c in conns[5:]:
            c.close()

    def test_flood_past_the_file_limit(self):
        # The server may open 64 descriptors; --max-conns is set above that
        # so accept() itself fails with EMFILE.
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        srv = t.Server("--max-conns", "1000", preexec_fn=limit)
        self.addCleanup(self._cleanup_server, srv)
        srv.wait_started()
        control = Control(srv)
        flood = []
        for _ in range(100):
            flood.append(socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT))
        time.sleep(0.5)
        cpu0 = cpu_seconds(srv.proc.pid)
        time.sleep(2)
        used = cpu_seconds(srv.proc.pid) - cpu0
        # Out of descriptors, the listener pauses instead of spinning on
        # accept(): a spinning server would use the whole 2 s.
        self.assertLess(used, 1.0, f"server used {used:.2f} s of CPU in 2 s")
        control.stop(self)
        for s in flood[:60]:
            s.close()
        # Service resumes: the waiting connections are accepted and served.
        for s in flood[60:]:
            s.sendall(t.search_request("ring"))
        for s in flood[60:]:
            s.settimeout(t.IO_TIMEOUT)
            want = t.search_answer("ring")
            got = b""
            while len(got) < len(want):
                chunk = s.recv(65536)
                self.assertTrue(chunk, "closed before the answer")
                got += chunk
            self.assertEqual(got, want)
            s.close()
        self.assertIn("accept:", srv.stderr())

    def test_pipelining_clients_that_never_read(self):
        srv = self.start_server("--max-output", "1048576")
        control = Control(srv)
        base = t.rss_kib(srv.proc.pid)
        req = t.search_request("\u00e9" * 2000)  # answers of about 4 KB
        n = 8
        socks = []
        for _ in range(n):
            s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
            s.setblocking(False)
            socks.append(s)
        # Push 20 MB of requests down each, for as long as the sockets take
        # them: the server stops reading each once its output passes 1 MiB.
        payload = req * (20 * 1024 * 1024 // len(req))
        sent = [0] * n
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            progress = False
            for i, s in enumerate(socks):
                try:
                    k = s.send(payload[sent[i]:sent[i] + 65536])
                    sent[i] += k
                    progress = progress or k > 0
                except BlockingIOError:
                    pass
            if not progress:
                time.sleep(0.05)
        grown = t.rss_kib(srv.proc.pid) - base
        # Each such client may hold about 1 MiB of answers, a read's worth
        # of requests, and a batch of answers past the mark (not measurable
        # under ThreadSanitizer, whose shadow memory grows with the buffers).
        if not t.TSAN:
            self.assertLess(grown, n * 2 * 1024 + 8 * 1024, f"server grew {grown} KiB")
        self.assertLess(max(sent), len(payload), "the server never stopped reading")
        control.stop(self)
        for s in socks:
            s.close()

    def test_resets_mid_answer(self):
        srv = self.start_server()
        control = Control(srv)
        big = t.search_request("\u00e9" * 30000) * 50  # 3 MB of answers
        for _ in range(50):
            t.send_and_close_rudely(srv.port, big)
        for _ in range(50):
            t.send_and_close_rudely(srv.port, big[:len(big) // 3])
        time.sleep(0.5)
        control.stop(self)
        with srv.connect() as c:
            self.assertEqual(c.exchange(t.search_request("ring")), t.search_answer("ring"))

    def test_random_bytes_closed_after_a_bounded_amount(self):
        srv = self.start_server()
        control = Control(srv)
        rng = random.Random(7)
        for _ in range(20):
            s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
            s.setblocking(False)
            sent, closed = 0, False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and sent < 4 * 1024 * 1024:
                try:
                    sent += s.send(bytes(rng.getrandbits(8) for _ in range(4096)))
                except BlockingIOError:
                    select.select([s], [], [], 0.05)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                r, _, _ = select.select([s], [], [], 0)
                if r:
                    try:
                        if s.recv(65536) == b"":
                            closed = True
                            break
                    except ConnectionResetError:
                        closed = True
                        break
            if not closed:
                closed = wait_eof(s, 5) is not None
            self.assertTrue(closed)
            # The header limit bounds what the server reads before it gives
            # up: the client could send little more than that plus socket
            # buffers before the close.
            self.assertLess(sent, 4 * 1024 * 1024)
            s.close()
        control.stop(self)

    def test_fairness_heavy_pipeline_does_not_starve_others(self):
        srv = self.start_server()
        heavy = srv.connect()
        n = 100000
        answers = [0]

        def reader():
            try:
                while answers[0] < n:
                    heavy.read_answer()
                    answers[0] += 1
            except Exception:
                pass
        r = threading.Thread(target=reader, daemon=True)
        r.start()
        sender = heavy.send_in_background(t.search_request("ring") * n)
        while answers[0] < 1000:
            time.sleep(0.001)
        with srv.connect() as light:
            self.assertEqual(light.exchange(t.search_request("morpheus")), t.search_answer("morpheus"))
            done_when_light_answered = answers[0]
        sender.join(60)
        r.join(60)
        self.assertEqual(answers[0], n)
        self.assertLess(done_when_light_answered, n, "the light client waited for the whole pipeline")
        heavy.close()

    def test_second_signal_stops_at_once(self):
        # A value of 1 MB: a few requests queue more answer bytes than the
        # socket buffers hold, for a client that does not read them.
        path = os.path.join(self.tmp(), "big.tsv")
        with open(path, "w") as f:
            f.write("big\t" + "v" * 1000000 + "\n")
        srv = t.Server("--data", path)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        srv.wait_started()
        s = socket.create_connection((t.HOST, srv.port), timeout=t.IO_TIMEOUT)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(t.search_request("big") * 30)
        time.sleep(0.5)
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assertIsNone(srv.proc.poll(), "stopped before the answers were sent")
        start = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        rc = srv.wait_exit(3)
        self.assertLess(time.monotonic() - start, 2)
        self.assertEqual(rc, 1)
        s.close()

    def tmp(self):
        import tempfile
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        return d.name


if __name__ == "__main__":
    t.main()

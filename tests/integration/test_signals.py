"""integration.signals: SIGTERM and SIGINT stop the server cleanly, after
answering the requests that had already arrived."""

import select
import signal
import socket
import time

import evkv_test as t


class SignalsTest(t.ServerTestCase):

    def start(self, *args):
        srv = t.Server(*args)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        srv.wait_started()
        return srv

    def assert_stopped(self, srv, sig, name):
        rc = srv.stop(sig)
        err = srv.stderr()
        self.assertEqual(rc, 0, err)
        m = t.STOP_RE.search(err)
        self.assertIsNotNone(m, err)
        self.assertEqual(m.group(1), name)
        return int(m.group(2))

    def test_sigterm_idle(self):
        srv = self.start()
        self.assert_stopped(srv, signal.SIGTERM, "SIGTERM")

    def test_sigint_idle(self):
        srv = self.start()
        self.assert_stopped(srv, signal.SIGINT, "SIGINT")

    def test_sigterm_counts_requests(self):
        srv = self.start()
        with srv.connect() as c:
            for _ in range(7):
                self.assert_search(c, "ring")
        self.assertEqual(self.assert_stopped(srv, signal.SIGTERM, "SIGTERM"), 7)

    def test_sigterm_answers_requests_in_flight(self):
        srv = self.start()
        c = self.connect(srv)
        reqs = []
        for i in range(100):
            key = ("morpheus", "nope", "\U0001f436", f"k{i}")[i % 4]
            reqs.append((t.search_request(key), t.search_answer(key)))
        c.send(b"".join(r for r, _ in reqs))
        # Wait until the first answer starts to arrive: the server is at work.
        ready, _, _ = select.select([c.sock], [], [], t.IO_TIMEOUT)
        self.assertTrue(ready, "no answer within the timeout")
        srv.send_signal(signal.SIGTERM)
        for i, (_, want) in enumerate(reqs):
            self.assertEqual(c.read_answer().raw, want, f"answer {i}")
        self.assertTrue(c.at_eof())
        rc = srv.wait_exit()
        self.assertEqual(rc, 0, srv.stderr())
        self.assertRegex(srv.stderr(), t.STOP_RE)
        self.assertIn("stopped on SIGTERM", srv.stderr())

    def test_sigterm_while_many_answers_are_unsent(self):
        # Lots of output queued for a client that reads slowly: the server
        # sends it all, then exits 0.
        srv = self.start()
        c = self.connect(srv)
        key = "\u00e9" * 20000
        n = 200  # about 8 MB of answers
        c.send(t.search_request("ring"))
        self.assertEqual(c.read_answer().raw, t.search_answer("ring"))
        sender = c.send_in_background(t.search_request(key) * n)
        time.sleep(0.3)
        srv.send_signal(signal.SIGTERM)
        want = t.search_answer(key)
        got = 0
        try:
            while got < n:
                self.assertEqual(c.read_answer().raw, want)
                got += 1
        except EOFError:
            pass
        sender.join(t.IO_TIMEOUT)
        # Requests fully received before the signal are all answered; the
        # rest may be cut off, but never a half answer.
        self.assertGreater(got, 0)
        self.assertEqual(srv.wait_exit(), 0, srv.stderr())

    def test_sigterm_closes_idle_and_mid_frame_connections(self):
        srv = self.start()
        idle = self.connect(srv)
        mid = self.connect(srv)
        mid.send(t.search_request("morpheus")[:20])
        self.assert_search(idle, "morpheus")
        srv.send_signal(signal.SIGTERM)
        self.assertEqual(srv.wait_exit(), 0, srv.stderr())
        self.assertTrue(idle.at_eof())
        self.assertTrue(mid.at_eof())

    def test_no_new_connections_after_sigterm(self):
        srv = self.start()
        port = srv.port
        self.assert_stopped(srv, signal.SIGTERM, "SIGTERM")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((t.HOST, port), timeout=t.IO_TIMEOUT).close()

    def test_sigint_answers_requests_in_flight(self):
        srv = self.start()
        c = self.connect(srv)
        c.send(t.search_request("morpheus") * 50)
        select.select([c.sock], [], [], t.IO_TIMEOUT)
        srv.send_signal(signal.SIGINT)
        for _ in range(50):
            self.assertEqual(c.read_answer().raw, t.search_answer("morpheus"))
        self.assertTrue(c.at_eof())
        self.assertEqual(srv.wait_exit(), 0, srv.stderr())
        self.assertIn("stopped on SIGINT", srv.stderr())

    def test_echo_mode_sigterm(self):
        srv = self.start("--echo")
        with srv.connect() as c:
            c.send(b"hello")
            self.assertEqual(c.read_exactly(5), b"hello")
        self.assert_stopped(srv, signal.SIGTERM, "SIGTERM")


if __name__ == "__main__":
    t.main()

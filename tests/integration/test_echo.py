"""integration.echo: --echo sends back exactly what arrives."""

import os
import random
import socket

import evkv_test as t


class EchoTest(t.ServerTestCase):

    def setUp(self):
        self.srv = self.start_server("--echo")

    def echo(self, conn, data):
        sender = conn.send_in_background(data)
        got = conn.read_exactly(len(data))
        sender.join(t.IO_TIMEOUT)
        self.assertEqual(sender.errors, [])
        return got

    def test_start_line_says_echo(self):
        self.assertIn("echo", self.srv.source)

    def test_text(self):
        c = self.connect(self.srv)
        self.assertEqual(self.echo(c, b"hello, world\n"), b"hello, world\n")

    def test_every_byte_value(self):
        c = self.connect(self.srv)
        data = bytes(range(256)) * 3
        self.assertEqual(self.echo(c, data), data)

    def test_one_mib_of_random_bytes(self):
        c = self.connect(self.srv)
        data = os.urandom(1024 * 1024)
        self.assertEqual(self.echo(c, data), data)

    def test_protocol_frames_are_not_interpreted(self):
        c = self.connect(self.srv)
        for data in (t.search_request("morpheus"), t.binary_request(b"double12"),
                     t.raw_frame(b"not json"), b"\xff\xff", b"\x00\x00"):
            self.assertEqual(self.echo(c, data), data)

    def test_many_small_writes(self):
        c = self.connect(self.srv)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rnd = random.Random(5)
        sent = b""
        for _ in range(500):
            chunk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 50)))
            c.send(chunk)
            sent += chunk
        self.assertEqual(c.read_exactly(len(sent)), sent)

    def test_several_clients_at_once(self):
        conns = [self.connect(self.srv) for _ in range(10)]
        datas = [os.urandom(100000) for _ in conns]
        senders = [c.send_in_background(d) for c, d in zip(conns, datas)]
        for c, d in zip(conns, datas):
            self.assertEqual(c.read_exactly(len(d)), d)
        for s in senders:
            s.join(t.IO_TIMEOUT)

    def test_half_close_gets_everything_then_eof(self):
        c = self.connect(self.srv)
        data = os.urandom(200000)
        c.send(data[:1000])
        self.assertEqual(c.read_exactly(1000), data[:1000])
        sender = c.send_in_background(data[1000:])
        sender.join(t.IO_TIMEOUT)
        c.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(c.read_exactly(len(data) - 1000), data[1000:])
        self.assertTrue(c.at_eof())

    def test_client_vanishing_hurts_nobody(self):
        control = self.connect(self.srv)
        for _ in range(20):
            t.send_and_close_rudely(self.srv.port, os.urandom(50000))
        self.assertEqual(self.echo(control, b"still here"), b"still here")


if __name__ == "__main__":
    t.main()

"""integration.tls_hostile: evkv's TLS ports against clients that misbehave,
certificates rotated under load, and a scanner:

  - plain text to a TLS port and a TLS handshake to a plain port: closed,
    with a log line saying which;
  - a handshake that never starts or stalls half way: closed after
    --message-timeout; 1,000 of them at once while other clients are served;
  - a 16 KB TLS record sent one byte per packet: answered whole; half a
    record, then a reset: that connection goes, the others are served;
  - a connection past --max-conns: its error answer after the handshake;
  - backpressure (--max-output) and a stop: every answer whole, then
    close_notify;
  - certificates replaced in place and SIGHUP while clients connect and
    reconnect, redis-benchmark --tls and evkv-bench --tls --reconnect run: no request fails, new
    connections get the new certificate, established ones go on; a bad
    file keeps the old certificate, with the reason in the log and stats;
  - sslscan: no SSLv3, TLS 1.0 or 1.1, no NULL, EXPORT or RC4 cipher, and
    the same protocols and ciphers as a redis-server with the same settings.
"""

import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time

import evkv_test as t
import redis_oracle
import tls_certs
import tls_test

command = redis_oracle.command


def closed_within(sock, timeout):
    """Reads (and drops) what arrives on sock until the server closes it;
    returns whether it did within timeout seconds."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def client_hello(ctx):
    """The first flight of a TLS client with ctx: its ClientHello's bytes."""
    bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(bio_in, bio_out, server_hostname=tls_test.HOST)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return bio_out.read()


class MisbehavingClientTest(tls_test.TlsTestCase):

    def raise_fd_limit(self, need):
        """This process's (and the servers it starts') soft limit on open
        files raised to at least need (within the hard limit), and put back
        at cleanup; fails, saying why, where the hard limit is lower."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < need:
            self.fail(f"this test holds {need} descriptors; the hard limit on open files is {hard} (ulimit -Hn)")
        if soft != resource.RLIM_INFINITY and soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))

    def test_plain_text_to_tls_port(self):
        s = self.start_evkv()
        for port, request in ((s.resp_tls_port, command("PING")), (s.tls_port, t.search_request("a"))):
            with socket.create_connection((tls_test.HOST, port), timeout=t.IO_TIMEOUT) as sock:
                sock.sendall(request)
                self.assertTrue(closed_within(sock, t.IO_TIMEOUT))
        found = re.findall(r"TLS handshake failed: (?:wrong version number|packet length too long|http request) "
                           r"\(plain text on a TLS port\?\)$", self.evkv_log_wait(s, r"plain text on a TLS") and
                           s.stderr(), re.M)
        self.assertEqual(len(found), 2, s.stderr())

    def test_tls_to_plain_port(self):
        s = self.start_evkv()
        for port in (s.port, s.resp_port):
            with self.subTest(port=port):
                with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                    with self.tls_connect(port) as sock:
                        sock.sendall(command("PING"))
                        sock.recv(100)
        self.evkv_log_wait(s, r"conn \d+ 127\.0\.0\.1:\d+: a TLS handshake on a plain-text port: closed")
        self.assertEqual(len(re.findall("a TLS handshake on a plain-text port", s.stderr())), 2)
        with s.connect() as c:  # and the plain port serves on
            key = list(t.TABLE)[0]
            c.send(t.search_request(key))
            self.assertEqual(c.read_answer().raw, t.search_answer(key))

    def test_stalled_handshakes_closed(self):
        s = self.start_evkv("--message-timeout", "1", "--idle-timeout", "0")
        hello = client_hello(self.client_context())
        silent = socket.create_connection((tls_test.HOST, s.resp_tls_port), timeout=t.IO_TIMEOUT)
        half = socket.create_connection((tls_test.HOST, s.tls_port), timeout=t.IO_TIMEOUT)
        half.sendall(hello[:len(hello) // 2])
        for sock in (silent, half):
            with sock:
                # 1 s, checked by a sweep once a second: closed well within 10 s
                self.assertTrue(closed_within(sock, t.IO_TIMEOUT))

    def test_many_unfinished_handshakes(self):
        """1,000 clients that connect and never finish their handshake
        (each sends part of a ClientHello, from 1 byte to all but its last)
        while new clients are served; every one of them closed after
        --message-timeout, and the server serves on."""
        many = 1000
        self.raise_fd_limit(many + 100)
        s = self.start_evkv("--message-timeout", "2", "--idle-timeout", "0", "--max-conns", str(many + 50))
        hello = client_hello(self.client_context())
        stalled = []
        try:
            for i in range(many):
                sock = socket.create_connection((tls_test.HOST, s.resp_tls_port), timeout=t.IO_TIMEOUT)
                stalled.append(sock)
                sock.sendall(hello[:1 + i % (len(hello) - 1)])
            for _ in range(3):  # served meanwhile, each time on a new connection
                self.assertEqual(self.resp_ask(s.resp_tls_port, command("PING")), b"+PONG\r\n")
            for sock in stalled:
                self.assertTrue(closed_within(sock, t.IO_TIMEOUT))
        finally:
            for sock in stalled:
                sock.close()
        self.assertEqual(self.resp_ask(s.resp_tls_port, command("PING")), b"+PONG\r\n")

    def test_reset_mid_record(self):
        """Half a record, then a reset: the server drops that connection
        and goes on serving."""
        s = self.start_evkv()
        bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.client_context().wrap_bio(bio_in, bio_out, server_hostname=tls_test.HOST)
        sock = socket.create_connection((tls_test.HOST, s.resp_tls_port), timeout=t.IO_TIMEOUT)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(bio_out.read())
                bio_in.write(sock.recv(65536))
        sock.sendall(bio_out.read())
        obj.write(command("MGET", *["k"] * 2000))
        record = bio_out.read()
        sock.sendall(record[:len(record) // 2])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset
        for _ in range(3):
            self.assertEqual(self.resp_ask(s.resp_tls_port, command("PING")), b"+PONG\r\n")
        deadline = time.monotonic() + t.IO_TIMEOUT
        # the reset connection is gone: only the stats request's own is
        # open. The count read is the one asserted: each stats request is a
        # new connection, and the one before it may still be closing on
        # another worker when the next is counted.
        current = self.evkv_stats(s)["connections"]["current"]
        while current != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            current = self.evkv_stats(s)["connections"]["current"]
        self.assertEqual(current, 1)

    def test_refused_past_max_conns(self):
        """A connection past --max-conns gets its error answer over TLS as
        over plain text: the answer waits for the handshake it needs."""
        s = self.start_evkv("--max-conns", "1", "--threads", "1")
        with self.tls_connect(s.resp_tls_port) as held:
            held.sendall(command("PING"))
            self.assertEqual(redis_oracle.ReplyReader(held).read_reply(), b"+PONG\r\n")
            with socket.create_connection((tls_test.HOST, s.resp_port), timeout=t.IO_TIMEOUT) as plain:
                want = redis_oracle.ReplyReader(plain).read_reply()
            self.assertRegex(want, rb"^-ERR too many connections")
            with self.tls_connect(s.resp_tls_port) as refused:
                self.assertEqual(redis_oracle.ReplyReader(refused).read_reply(), want)
                self.assertEqual(refused.recv(100), b"")  # then close_notify
        for _ in range(50):  # the places free again
            if self.resp_ask(s.resp_tls_port, command("PING")) == b"+PONG\r\n":
                break
            time.sleep(0.1)
        self.assertEqual(self.resp_ask(s.resp_tls_port, command("PING")), b"+PONG\r\n")

    def test_record_one_byte_per_packet(self):
        data = self.path("table.json")
        with open(data, "w") as f:
            json.dump({"alpha": "1"}, f)
        s = self.start_evkv("--data", data)
        keys = ["k" * 100] * 155 + ["alpha"]
        request = command("MGET", *keys)
        self.assertGreater(len(request), 16000)
        bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.client_context().wrap_bio(bio_in, bio_out, server_hostname=tls_test.HOST)
        with socket.create_connection((tls_test.HOST, s.resp_tls_port), timeout=t.IO_TIMEOUT) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:  # the handshake, through the memory BIOs
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(bio_out.read())
                    bio_in.write(sock.recv(65536))
            sock.sendall(bio_out.read())
            obj.write(request[:16384])  # one full record
            obj.write(request[16384:])
            record = bio_out.read()
            for i in range(len(record)):
                sock.send(record[i:i + 1])
            want = b"*156\r\n" + b"$-1\r\n" * 155 + b"$1\r\n1\r\n"
            got = b""
            while len(got) < len(want):
                try:
                    got += obj.read(65536)
                except ssl.SSLWantReadError:
                    chunk = sock.recv(65536)
                    self.assertTrue(chunk, "closed before the answer")
                    bio_in.write(chunk)
            self.assertEqual(got, want)


class LifecycleTest(tls_test.TlsTestCase):
    """Backpressure and a stop over TLS, as in plain text."""

    def start_big(self, *args):
        data = self.path("table.json")
        with open(data, "w") as f:
            json.dump({"big": "b" * 100000, "alpha": "1"}, f)
        return self.start_evkv("--data", data, *args)

    def read_replies(self, sock, n):
        reader = redis_oracle.ReplyReader(sock)
        return [reader.read_reply() for _ in range(n)]

    def test_backpressure(self):
        """50 answers of 100 KB asked for at once, none read for a while:
        the server stops reading past --max-output and goes on as the
        client reads; every answer comes whole, in order."""
        s = self.start_big("--max-output", "65536")
        want = b"$100000\r\n" + b"b" * 100000 + b"\r\n"
        with self.tls_connect(s.resp_tls_port) as sock:
            sock.sendall(b"".join(command("GET", k) for k in ["big"] * 50 + ["alpha"]))
            time.sleep(0.5)
            got = self.read_replies(sock, 51)
        self.assertEqual(got, [want] * 50 + [b"$1\r\n1\r\n"])

    def test_stop_answers_then_close_notify(self):
        s = self.start_big()
        want = b"$100000\r\n" + b"b" * 100000 + b"\r\n"
        with self.tls_connect(s.resp_tls_port) as sock:
            sock.sendall(command("PING"))
            self.assertEqual(self.read_replies(sock, 1), [b"+PONG\r\n"])
            # one record: once the first answer comes, the server holds all 20
            sock.sendall(b"".join(command("GET", "big") for _ in range(20)))
            reader = redis_oracle.ReplyReader(sock)
            self.assertEqual(reader.read_reply(), want)
            s.send_signal(signal.SIGTERM)
            self.assertEqual([reader.read_reply() for _ in range(19)], [want] * 19)
            self.assertEqual(sock.recv(100), b"")  # close_notify: ssl.SSLEOFError otherwise
        self.assertEqual(s.wait_exit(), 0)


class RotationTest(tls_test.TlsTestCase):
    """Certificates replaced in place, SIGHUP, under load."""

    def served_cn(self, port):
        with self.tls_connect(port) as sock:
            subject = dict(x[0] for x in sock.getpeercert()["subject"])
            return subject["commonName"]

    def load(self, port, stop, counts):
        """Requests until stop is set, a new connection every 20."""
        ctx = self.client_context()
        while not stop.is_set():
            try:
                with self.tls_connect(port, ctx) as sock:
                    reader = redis_oracle.ReplyReader(sock)
                    for _ in range(20):
                        sock.sendall(command("PING"))
                        if reader.read_reply() != b"+PONG\r\n":
                            counts["errors"] += 1
                        counts["ok"] += 1
            except (OSError, EOFError, ValueError) as e:
                counts["errors"] += 1
                counts["last"] = repr(e)

    def test_rotation_under_load(self):
        live = os.path.join(self.dir, "live")
        os.mkdir(live)
        crt, key = os.path.join(live, "server.crt"), os.path.join(live, "server.key")
        shutil.copy(self.certs.server_crt, crt)
        shutil.copy(self.certs.server_key, key)
        s = self.start_evkv("--tls-cert-file", crt, "--tls-key-file", key)
        self.assertEqual(self.served_cn(s.resp_tls_port), "Server")
        early = self.tls_connect(s.resp_tls_port)  # established before the rotation
        self.addCleanup(early.close)
        bench = subprocess.Popen(
            ["redis-benchmark", "-h", tls_test.HOST, "-p", str(s.resp_tls_port), "--tls", "--cacert", self.certs.ca,
             "--cert", self.certs.client_crt, "--key", self.certs.client_key, "-t", "ping", "-n", "20000", "-c", "4",
             "-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(bench.kill)
        # evkv-bench --tls, a new connection (and handshake) for every request
        ebench = subprocess.Popen(
            [tls_test.BENCH, "--tls", "--cacert", self.certs.ca, "--cert", self.certs.client_crt, "--key",
             self.certs.client_key, "-p", str(s.tls_port), "--reconnect", "-c", "2", "-d", "3", "-q"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(ebench.kill)
        stop, counts = threading.Event(), {"ok": 0, "errors": 0, "last": None}
        loaders = [threading.Thread(target=self.load, args=(s.resp_tls_port, stop, counts)) for _ in range(3)]
        for th in loaders:
            th.start()
        try:
            new_crt, new_key = tls_certs.server_cert(self.certs, "rotated", "Rotated")
            for src, dst in ((new_key, key), (new_crt, crt)):  # in place, each file whole
                shutil.copy(src, dst + ".tmp")
                os.replace(dst + ".tmp", dst)
            s.send_signal(signal.SIGHUP)
            self.evkv_log_wait(s, r"reload: TLS certificates read again from ")
            self.assertEqual(self.served_cn(s.resp_tls_port), "Rotated")
            with open(crt, "w") as f:
                f.write("not a certificate\n")
            s.send_signal(signal.SIGHUP)
            self.evkv_log_wait(s, r"error: reload: TLS: --tls-cert-file \S+: no start line; new TLS connections "
                                  r"still get the certificates loaded before")
            self.assertEqual(self.served_cn(s.resp_tls_port), "Rotated")
            tls = self.evkv_stats(s)["tls"]
            self.assertEqual((tls["reloads"], tls["reload_failures"]), (1, 1))
            self.assertRegex(tls["reload_error"], r"^--tls-cert-file \S+: no start line$")
            time.sleep(0.5)
        finally:
            stop.set()
            for th in loaders:
                th.join(30)
        out, _ = bench.communicate(timeout=60)
        self.assertEqual(bench.returncode, 0, out)
        self.assertRegex(out.decode(), r"PING_INLINE: [\d.]+ requests per second")
        self.assertNotIn(b"rror", out)
        out, _ = ebench.communicate(timeout=60)
        self.assertEqual(ebench.returncode, 0, out)
        self.assertRegex(out.decode(), r" [1-9]\d* requests, 0 errors, 0 retried\n$")
        self.assertEqual(counts["errors"], 0, counts["last"])
        self.assertGreater(counts["ok"], 0)
        early.sendall(command("PING"))  # the old session carries on
        self.assertEqual(redis_oracle.ReplyReader(early).read_reply(), b"+PONG\r\n")


class ScannerTest(tls_test.TlsTestCase):
    """sslscan against evkv and a Redis with the same settings."""

    def scan(self, port):
        r = subprocess.run(["sslscan", "--no-colour", "--no-heartbleed", "--no-renegotiation", "--no-compression",
                            "--no-fallback", "--no-check-certificate", "--no-groups", f"{tls_test.HOST}:{port}"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.decode("utf-8", "replace")
        protocols = dict(re.findall(r"^(SSLv[23]|TLSv1\.[0-3])\s+(enabled|disabled)$", text, re.M))
        ciphers = sorted(re.findall(r"^(?:Preferred|Accepted)\s+(TLSv1\.[0-3])\s+\d+ bits\s+(\S+)", text, re.M))
        return protocols, ciphers

    def test_scan(self):
        evkv, redis = self.start_evkv(auth="no"), self.start_redis(auth="no")
        got, want = self.scan(evkv.resp_tls_port), self.scan(redis.tls_port)
        protocols, ciphers = got
        self.assertEqual(protocols, {"SSLv2": "disabled", "SSLv3": "disabled", "TLSv1.0": "disabled",
                                     "TLSv1.1": "disabled", "TLSv1.2": "enabled", "TLSv1.3": "enabled"})
        self.assertTrue(ciphers)
        for _, name in ciphers:
            self.assertNotRegex(name, r"NULL|EXP|RC4|DES-CBC|MD5|anon")
        self.assertEqual(got, want)


if __name__ == "__main__":
    tls_test.main()

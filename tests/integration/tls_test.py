"""
tls_test.py: what the TLS tests (test_tls.py, test_tls_hostile.py) share:
certificates made once per test run (tls_certs.py), an evkv-server with its
TLS listeners, a redis-server 7.0 with the same TLS settings as oracle, and
clients: Python's ssl module, openssl s_client.
"""

import os
import re
import select
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import evkv_test as t
import redis_oracle
import tls_certs

HOST = t.HOST
BENCH = os.environ.get("EVKV_BENCH") or os.path.join(t.HERE, "..", "..", "build", "client", "evkv-bench")
TLS_RE = re.compile(t.LOG_PREFIX + r"listening over TLS on (\S+):(\d+)$", re.M)
RESP_TLS_RE = re.compile(t.LOG_PREFIX + r"listening for Redis clients over TLS on (\S+):(\d+)$", re.M)
# What a redis-server with TLS is given besides the certificates.
REDIS_TLS_ARGS = ("--tls-replication", "no", "--protected-mode", "no")


class TlsTestCase(t.TempDirTestCase):
    """Certificates made once for the class (self.certs)."""

    @classmethod
    def setUpClass(cls):
        d = tempfile.TemporaryDirectory()
        cls.addClassCleanup(d.cleanup)
        cls.certs = tls_certs.make(d.name)

    def start_evkv(self, *args, auth="yes", tls_extra=(), plain=True):
        """evkv with both TLS listeners (and, with plain, both plain ones) on
        free ports; returns the Server, with tls_port and resp_tls_port."""
        argv = ["--host", HOST, "--port", "any" if plain else "0", *(["--resp-port", "any"] if plain else []),
                "--tls-port", "any", "--resp-tls-port", "any",
                *tls_certs.server_args(self.certs, auth, tls_extra), *args]
        s = t.Server(argv=argv)
        self.addCleanup(s.close_files)
        self.addCleanup(s.kill)
        s.wait_started()
        s.tls_port = int(TLS_RE.search(s.stderr()).group(2))
        s.resp_tls_port = int(RESP_TLS_RE.search(s.stderr()).group(2))
        return s

    def start_redis(self, auth="yes", tls_extra=(), name="redis"):
        """A redis-server with the same TLS settings on a free port
        (redis.tls_port); its plain port loads it (redis.port)."""
        if not redis_oracle.available():
            raise AssertionError("no redis-server: scripts/test installs it")
        port = t.free_port()
        r = redis_oracle.RedisProcess(self.dir, name, "--tls-port", port, *REDIS_TLS_ARGS,
                                      *tls_certs.server_args(self.certs, auth, tls_extra))
        self.addCleanup(r.stop)
        r.start()
        r.tls_port = port
        return r

    def client_pem(self):
        """The client's certificate and key in one file (HAProxy's `crt`)."""
        path = os.path.join(self.dir, "client.pem")
        with open(path, "w") as f:
            for part in (self.certs.client_crt, self.certs.client_key):
                with open(part) as src:
                    f.write(src.read())
        return path

    def client_context(self, which="client", verify=True, minimum=None, maximum=None):
        """A client's SSLContext: the CA, and the certificate named which
        (client, expired, other or None)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if verify:
            ctx.load_verify_locations(self.certs.ca)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        pairs = {"client": (self.certs.client_crt, self.certs.client_key),
                 "expired": (self.certs.expired_crt, self.certs.expired_key),
                 "other": (self.certs.other_crt, self.certs.other_key)}
        if which:
            ctx.load_cert_chain(*pairs[which])
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
        return ctx

    def tls_connect(self, port, ctx=None, timeout=t.IO_TIMEOUT):
        """A TLS socket to port, handshake done."""
        raw = socket.create_connection((HOST, port), timeout=timeout)
        try:
            return (ctx or self.client_context()).wrap_socket(raw, server_hostname=HOST)
        except BaseException:
            raw.close()
            raise

    def resp_ask(self, port, request, ctx=None):
        """Sends request (bytes) over a new TLS connection; returns the raw
        reply, or the exception that ended the exchange."""
        try:
            with self.tls_connect(port, ctx) as s:
                s.sendall(request)
                return redis_oracle.ReplyReader(s).read_reply()
        except (OSError, EOFError, ValueError) as e:
            return e

    def s_client(self, port, *args, send=b"PING\r\n", expect=b"+PONG", timeout=20):
        """openssl s_client to port with args; sends send, then reads until
        expect arrives or s_client ends (a refused handshake ends it), at
        most timeout seconds. Returns (status, output)."""
        argv = ["openssl", "s_client", "-connect", f"{HOST}:{port}", "-CAfile", self.certs.ca, "-quiet",
                "-no_ign_eof", *args]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out, deadline = b"", time.monotonic() + timeout
        try:
            p.stdin.write(send)
            p.stdin.flush()
            while expect not in out:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                    break
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
        except BrokenPipeError:
            pass
        try:  # communicate closes stdin: the end of input ends s_client (-no_ign_eof)
            out += p.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            p.kill()
            out += p.communicate()[0]
        return p.returncode, out.decode("utf-8", "replace")

    def evkv_stats(self, server):
        """The stats action's answer, over server's plain port."""
        with server.connect() as c:
            c.send(t.json_request({"action": "stats"}))
            return t.answer_result(c.read_answer())

    def evkv_log_wait(self, server, pattern, timeout=10, msg=""):
        """Waits for a line matching pattern in server's log; returns the match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, server.stderr(), re.M)
            if m:
                return m
            time.sleep(0.02)
        raise AssertionError(f"no log line matching {pattern!r} within {timeout} s {msg}; log:\n{server.stderr()}")


def main():
    if not os.access(t.SERVER, os.X_OK):
        raise SystemExit(f"evkv-server not found at {t.SERVER}")
    unittest.main(verbosity=2)

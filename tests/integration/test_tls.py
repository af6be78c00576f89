"""integration.tls: evkv's TLS listeners (--tls-port, --resp-tls-port) with
the real programs, and a real redis-server 7.0 with the same TLS settings
as the oracle:

  - RESP replies over TLS byte for byte as a read-only Redis replica's
    (Python's ssl module), pipelined and with a 200 KB value;
  - evkv-cli --tls (--cacert, --cacertdir, --cert, --key, --sni,
    --insecure) and evkvs:// URIs, and what it refuses; evkv-bench --tls
    over both protocols, pipelined, --reconnect, --mget;
  - redis-cli --tls (--cacert, --cert, --key), redis-benchmark --tls,
    redis-py (ssl=True, rediss://) answered as Redis answers them;
  - the guide's protocol over TLS (the guide's header and JSON on an ssl
    socket), next to the plain port;
  - access control over TLS (--aclfile): RESP sessions (NOAUTH, WRONGPASS,
    NOPERM, AUTH) byte for byte as Redis's with the same users; evkv-cli
    and evkv-bench logging in with evkvs://USER:PASSWORD@ and --user/-a;
  - HAProxy 2.6 in front of the RESP TLS port: `ssl verify required`, a
    client certificate, its Redis check over check-ssl (UP, then DOWN);
  - prometheus-redis-exporter over rediss:// with a client certificate;
  - client certificates under --tls-auth-clients yes, optional and no:
    none, the CA's, an expired one, another CA's, each accepted or refused
    by openssl s_client's handshake as Redis accepts or refuses it;
  - protocol versions: TLS 1.0 and 1.1 refused, 1.2 and 1.3 accepted, and
    --tls-protocols TLSv1.3 alone, as Redis;
  - --check-config: missing files, a key that is not the certificate's, a
    bad protocol name, a TLS port without certificate (exit 2, the reason);
    a TLS-only server (--port 0).
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.request

import evkv_test as t
import redis_oracle
import test_redis_clients as rc
import tls_certs
import tls_test

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TABLE = {"alpha": "1", "beta": "two", "gamma": "x" * 200000, "delta": "é"}
command = redis_oracle.command


def import_redis_py():
    try:
        import redis
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        import redis
    return redis


class OracleTest(tls_test.TlsTestCase):
    """RESP over TLS, evkv against a Redis replica with the same TLS
    settings and table."""

    def setUp(self):
        super().setUp()
        data = self.path("table.json")
        with open(data, "w", encoding="utf-8") as f:
            json.dump(TABLE, f, ensure_ascii=False)
        self.evkv = self.start_evkv("--data", data)
        self.redis_tls_port = t.free_port()
        rr = redis_oracle.start_for_test(
            self, {k.encode(): v.encode() for k, v in TABLE.items()},
            replica_args=["--tls-port", str(self.redis_tls_port), *tls_test.REDIS_TLS_ARGS,
                          *tls_certs.server_args(self.certs)])
        self.redis = rr

    def test_replies_byte_for_byte(self):
        requests = [command("PING"), command("GET", "alpha"), command("GET", "nope"),
                    command("MGET", "alpha", "beta", "nope", "delta"), command("EXISTS", "alpha", "beta", "x"),
                    command("SET", "a", "b"), command("DBSIZE"), command("STRLEN", "gamma"),
                    command("GET", "gamma"), b"PING\r\n", command("TYPE", "beta"),
                    b"".join(command("GET", k) for k in ("alpha", "gamma", "beta") * 5)]
        for req in requests:
            with self.subTest(request=req[:60]):
                want = self.resp_ask(self.redis_tls_port, req)
                got = self.resp_ask(self.evkv.resp_tls_port, req)
                self.assertIsInstance(want, bytes, f"Redis: {want}")
                self.assertEqual(got, want)

    def test_redis_cli(self):
        base = ["redis-cli", "-h", tls_test.HOST, "--tls", "--cacert", self.certs.ca, "--cert", self.certs.client_crt,
                "--key", self.certs.client_key]
        for args in (["GET", "alpha"], ["MGET", "alpha", "nope", "delta"], ["DBSIZE"], ["PING"], ["SET", "a", "b"]):
            with self.subTest(args=args):
                want = subprocess.run(base + ["-p", str(self.redis_tls_port), *args], capture_output=True,
                                      timeout=20)
                got = subprocess.run(base + ["-p", str(self.evkv.resp_tls_port), *args], capture_output=True,
                                     timeout=20)
                self.assertEqual(want.returncode, 0, want.stderr)
                self.assertEqual((got.returncode, got.stdout), (want.returncode, want.stdout))

    def test_redis_cli_without_certificate_refused(self):
        argv = ["redis-cli", "-h", tls_test.HOST, "--tls", "--cacert", self.certs.ca, "-p"]
        want = subprocess.run(argv + [str(self.redis_tls_port), "PING"], capture_output=True, timeout=20)
        got = subprocess.run(argv + [str(self.evkv.resp_tls_port), "PING"], capture_output=True, timeout=20)
        self.assertRegex(want.stdout + want.stderr, b"Connection reset by peer|Server closed the connection")
        # Redis closes with the client's bytes unread (a reset), evkv reads them first (a close)
        self.assertRegex(got.stdout + got.stderr, b"^Error: (Connection reset by peer|Server closed the connection)\n$")
        self.assertNotEqual(got.returncode, 0)
        self.evkv_log_wait(self.evkv, r"TLS handshake failed: peer did not return a certificate$", msg=repr(got))

    def test_redis_benchmark(self):
        argv = ["redis-benchmark", "-h", tls_test.HOST, "-p", str(self.evkv.resp_tls_port), "--tls", "--cacert",
                self.certs.ca, "--cert", self.certs.client_crt, "--key", self.certs.client_key, "-t", "get",
                "-n", "4000", "-c", "8", "-P", "16", "--csv"]
        r = subprocess.run(argv, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r'"GET","\d')
        self.assertNotIn(b"rror", r.stdout + r.stderr)

    def test_redis_py(self):
        redis = import_redis_py()
        kw = dict(ssl=True, ssl_ca_certs=self.certs.ca, ssl_certfile=self.certs.client_crt,
                  ssl_keyfile=self.certs.client_key)
        for port in (self.redis_tls_port, self.evkv.resp_tls_port):
            with self.subTest(port=port):
                c = redis.Redis(host=tls_test.HOST, port=port, **kw)
                self.assertEqual(c.get("alpha"), b"1")
                self.assertEqual(c.mget("alpha", "nope", "delta"), [b"1", None, "é".encode()])
                self.assertEqual(len(c.get("gamma")), 200000)
                p = c.pipeline(transaction=False)
                for k in ("alpha", "beta") * 50:
                    p.get(k)
                self.assertEqual(p.execute(), [b"1", b"two"] * 50)
                c.close()
                url = (f"rediss://{tls_test.HOST}:{port}/0?ssl_ca_certs={self.certs.ca}"
                       f"&ssl_certfile={self.certs.client_crt}&ssl_keyfile={self.certs.client_key}")
                c = redis.Redis.from_url(url)
                self.assertEqual(c.get("beta"), b"two")
                c.close()


class GuideTest(tls_test.TlsTestCase):
    """The guide's protocol over TLS."""

    def test_search_over_tls_and_plain(self):
        s = self.start_evkv()
        with t.Conn.wrap(self.tls_connect(s.tls_port)) as c:
            for key in list(t.TABLE)[:3] + ["no such key"]:
                c.send(t.search_request(key))
                self.assertEqual(c.read_answer().raw, t.search_answer(key))
            # pipelined: ten requests in one write, in one record
            keys = list(t.TABLE) * 4
            c.send(b"".join(t.search_request(k) for k in keys))
            for k in keys:
                self.assertEqual(c.read_answer().raw, t.search_answer(k))
        with s.connect() as c:  # the plain port beside it
            key = list(t.TABLE)[0]
            c.send(t.search_request(key))
            self.assertEqual(c.read_answer().raw, t.search_answer(key))

    def test_close_notify_after_an_error(self):
        """A framing error closes the connection the way a server that
        closes first must: the answer, then TLS's close_notify (Python
        reports an unexpected EOF otherwise)."""
        s = self.start_evkv()
        sock = self.tls_connect(s.tls_port)
        with t.Conn.wrap(sock) as c:
            c.send(b"\x00\x05{bad}")
            data = b""
            while True:
                chunk = sock.recv(65536)  # ssl.SSLEOFError here if close_notify never came
                if not chunk:
                    break
                data += chunk
            self.assertIn(b"Error: header is not valid JSON", data)

    def test_tls_only(self):
        s = self.start_evkv(plain=False)
        self.assertRegex(s.stderr(), re.compile(t.LOG_PREFIX + r"listening over TLS only, on 127\.0\.0\.1:\d+ \(", re.M))
        self.assertIsNone(s.port)
        self.assertEqual(self.resp_ask(s.resp_tls_port, command("PING")), b"+PONG\r\n")


class EvkvCliTest(tls_test.TlsTestCase):
    """evkv-cli --tls and its options, and evkvs:// URIs."""

    def cli(self, *args):
        return subprocess.run([t.CLI, *map(str, args)], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)

    def test_evkv_cli(self):
        s = self.start_evkv()
        c = self.certs
        mtls = ["--tls", "--cacert", c.ca, "--cert", c.client_crt, "--key", c.client_key]
        key = list(t.TABLE)[0]
        plain = self.cli("-p", s.port, "search", key)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        for args in ([*mtls, "-p", s.tls_port], [*mtls[1:], "-u", f"evkvs://127.0.0.1:{s.tls_port}"],
                     [*mtls, "--sni", "localhost", "-p", s.tls_port],
                     ["--tls", "--insecure", "--cert", c.client_crt, "--key", c.client_key, "-p", s.tls_port],
                     ["--tls", "--cacertdir", self.rehashed_dir(), "--cert", c.client_crt, "--key", c.client_key,
                      "-p", s.tls_port]):
            with self.subTest(args=args):
                got = self.cli(*args, "search", key)
                self.assertEqual((got.returncode, got.stdout, got.stderr), (0, plain.stdout, b""))
        got = self.cli(*mtls, "-p", s.tls_port, "search", "no such key")
        self.assertEqual(got.returncode, 1, got.stderr)
        # a batch on one TLS connection
        keys = "\n".join(list(t.TABLE) * 20).encode()
        got = subprocess.run([t.CLI, *mtls, "-p", str(s.tls_port)], input=keys, capture_output=True, timeout=30)
        want = subprocess.run([t.CLI, "-p", str(s.port)], input=keys, capture_output=True, timeout=30)
        self.assertEqual((got.returncode, got.stdout), (want.returncode, want.stdout))

    def rehashed_dir(self):
        d = self.path("cas")
        os.makedirs(d, exist_ok=True)
        subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
        shutil.copy(self.certs.ca, d)
        subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
        return d

    def test_refusals(self):
        s = self.start_evkv()
        c = self.certs
        cases = [
            (["--tls", "--cert", c.client_crt, "--key", c.client_key],  # the system's CAs do not know ours
             r"TLS handshake failed: certificate verify failed \(server certificate: (unable to get local issuer "
             r"certificate|self-signed certificate in certificate chain)\)"),
            (["--tls", "--cacert", c.ca, "--cert", c.client_crt, "--key", c.client_key, "--sni", "other.example"],
             r"TLS handshake failed: certificate verify failed \(server certificate: hostname mismatch\)"),
            # TLS 1.3: the refusal comes after the client's handshake, as an
            # alert, or as a reset if the request was on its way
            (["--tls", "--cacert", c.ca],
             r"(TLS: tlsv13 alert certificate required|server closed the connection|Connection reset by peer)$"),
            (["--tls", "--cacert", c.other_ca, "--cert", c.client_crt, "--key", c.client_key],
             r"certificate verify failed"),
        ]
        for args, pattern in cases:
            with self.subTest(args=args):
                got = self.cli(*args, "-p", s.tls_port, "search", "a")
                self.assertEqual(got.returncode, 2)
                self.assertRegex(got.stderr.decode(), "^evkv-cli: .*" + pattern)
        got = self.cli("-p", s.port, "--tls", "--insecure", "ping")  # TLS to the plain port
        self.assertEqual(got.returncode, 2)
        usage = [(["--cacert", c.ca, "ping"], "evkv-cli: --cacert goes with --tls (or an evkvs:// URI)\n"),
                 (["--tls", "-s", "/tmp/x.sock", "ping"],
                  "evkv-cli: --tls is for TCP: a Unix domain socket speaks plain text\n"),
                 (["--tls", "--cert", c.client_crt, "ping"], "evkv-cli: --cert and --key go together\n"),
                 (["--tls", "--cacert", c.dir + "/nope.pem", "ping"], None)]
        for args, message in usage:
            with self.subTest(args=args):
                got = self.cli(*args)
                self.assertEqual(got.returncode, 2)
                if message:
                    self.assertTrue(got.stderr.decode().startswith(message), got.stderr)
                else:
                    self.assertRegex(got.stderr.decode(), r"^evkv-cli: --cacert \S+/nope\.pem: ")


class AccessControlTest(tls_test.TlsTestCase):
    """--aclfile with the TLS ports: RESP sessions over TLS byte for byte as
    a Redis replica's with the same TLS settings and users; evkv-cli and
    evkv-bench logging in over TLS (evkvs://USER:PASSWORD@HOST:PORT,
    --user/--pass), the guide's auth action on the TLS port."""

    USERS = "user default on >defpw ~* +@all\nuser bob on >bobpw %R~b* -@all +@read +ping\n"

    def setUp(self):
        super().setUp()
        data = self.path("table.json")
        with open(data, "w", encoding="utf-8") as f:
            json.dump(TABLE, f, ensure_ascii=False)
        acl = self.path("users.acl")
        with open(acl, "w") as f:  # open while the replica syncs, then the users (ACL LOAD)
            f.write("user default on nopass ~* +@all\n")
        self.redis_tls_port = t.free_port()
        rr = redis_oracle.start_for_test(
            self, {k.encode(): v.encode() for k, v in TABLE.items()},
            replica_args=["--tls-port", str(self.redis_tls_port), *tls_test.REDIS_TLS_ARGS,
                          *tls_certs.server_args(self.certs, "no"), "--aclfile", acl])
        with open(acl, "w") as f:
            f.write(self.USERS)
        self.assertEqual(redis_oracle.ask(rr.replica_port, command("ACL", "LOAD")), b"OK")
        self.evkv = self.start_evkv("--data", data, "--aclfile", acl, auth="no")

    def session(self, port, requests):
        with self.tls_connect(port, self.client_context(None)) as s:
            reader = redis_oracle.ReplyReader(s)
            out = []
            for req in requests:
                s.sendall(req)
                out.append(reader.read_reply())
            return out

    def test_resp_sessions(self):
        requests = [command("GET", "beta"), command("PING"), command("AUTH", "bob", "wrong"),
                    command("AUTH", "bob", "bobpw"), command("GET", "beta"), command("GET", "alpha"),
                    command("MGET", "beta", "alpha"), command("SET", "beta", "x"), command("PING"),
                    command("ACL", "WHOAMI"), command("MULTI"), command("GET", "alpha"), command("EXEC"),
                    command("AUTH", "defpw"), command("GET", "alpha"), command("SET", "alpha", "x"),
                    command("ACL", "WHOAMI")]
        want = self.session(self.redis_tls_port, requests)
        got = self.session(self.evkv.resp_tls_port, requests)
        self.assertTrue(want[0].startswith(b"-NOAUTH"), want[0])
        self.assertTrue(want[5].startswith(b"-NOPERM"), want[5])
        for req, w, g in zip(requests, want, got):
            self.assertEqual(g, w, req)

    def test_evkv_cli(self):
        def cli(*args):
            return subprocess.run([t.CLI, "--cacert", self.certs.ca, *map(str, args)], capture_output=True,
                                  timeout=30, stdin=subprocess.DEVNULL, env=environ)

        environ = {k: v for k, v in os.environ.items() if k != "EVKV_AUTH"}
        port = self.evkv.tls_port
        for args in (["-u", f"evkvs://bob:bobpw@127.0.0.1:{port}"],
                     ["--tls", "-p", port, "--user", "bob", "-a", "bobpw"]):
            with self.subTest(args=args):
                got = cli(*args, "search", "beta")
                self.assertEqual((got.returncode, got.stdout, got.stderr), (0, b"two\n", b""))
                got = cli(*args, "search", "alpha")
                self.assertEqual(got.returncode, 2)
                self.assertIn(b"no permissions to access one of the keys", got.stderr)
        got = cli("-u", f"evkvs://127.0.0.1:{port}", "search", "beta")
        self.assertEqual((got.returncode, got.stderr),
                         (2, b"evkv-cli: Error: authentication required: send the auth action first.\n"))
        got = cli("-u", f"evkvs://bob:wrong@127.0.0.1:{port}", "ping")
        self.assertEqual((got.returncode, got.stderr), (2, b"evkv-cli: auth refused: invalid username-password "
                                                           b"pair or user is disabled.\n"))
        got = cli("-u", f"evkvs://:defpw@127.0.0.1:{port}", "search", "alpha")
        self.assertEqual((got.returncode, got.stdout), (0, b"1\n"))

    def test_evkv_bench(self):
        keys = self.path("b.keys")
        with open(keys, "w") as f:
            f.write("beta\n")
        for args in (["-u", f"evkvs://bob:bobpw@127.0.0.1:{self.evkv.tls_port}", "--keys", keys],
                     ["--tls", "--protocol", "resp", "-p", self.evkv.resp_tls_port, "--user", "bob", "-a", "bobpw",
                      "--keys", keys, "--reconnect"]):
            with self.subTest(args=args):
                argv = [tls_test.BENCH, "--cacert", self.certs.ca, *args, "-n", 300, "-c", 2, "-P", 4, "--timeout",
                        60, "-q"]
                r = subprocess.run([str(a) for a in argv], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertRegex(r.stdout.decode(), r" 300 requests, 0 errors, 0 retried(,|$)")
        r = subprocess.run([tls_test.BENCH, "--cacert", self.certs.ca, "-u",
                            f"evkvs://bob:wrong@127.0.0.1:{self.evkv.tls_port}", "-n", "10", "-q"],
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(b"refused the login: ", r.stderr)


class EvkvBenchTest(tls_test.TlsTestCase):
    """evkv-bench --tls over both protocols; what it refuses."""

    def bench(self, *args):
        return subprocess.run([tls_test.BENCH, *map(str, args)], capture_output=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def test_evkv_bench(self):
        s = self.start_evkv()
        c = self.certs
        mtls = ["--cacert", c.ca, "--cert", c.client_crt, "--key", c.client_key]
        runs = [["--tls", "-p", s.tls_port, "-n", 3000, "-c", 4, "-P", 8],
                ["-u", f"evkvs://127.0.0.1:{s.tls_port}", "-n", 300, "-c", 2, "--reconnect"],
                ["--tls", "--protocol", "resp", "-p", s.resp_tls_port, "-n", 3000, "-c", 4, "-P", 8],
                ["--tls", "-p", s.tls_port, "-n", 300, "-c", 4, "--mget", 50]]
        for args in runs:
            with self.subTest(args=args):
                # a deadline for a server under valgrind: what is checked is the answers
                r = self.bench(*mtls, *args, "--timeout", 60, "-q")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertRegex(r.stdout.decode(), r" \d+ requests, 0 errors, 0 retried(,|$)")

    def test_refusals(self):
        s = self.start_evkv()
        c = self.certs
        r = self.bench("--tls", "--cacert", c.other_ca, "-p", s.tls_port, "-n", 10, "-q")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.decode(), f"evkv-bench: cannot connect to 127.0.0.1:{s.tls_port}: TLS handshake "
                                            "failed: certificate verify failed (server certificate: self-signed "
                                            "certificate in certificate chain)\n")
        r = self.bench("--tls", "--cacert", c.ca, "-p", s.tls_port, "-n", 10, "-q")  # no client certificate
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), r"TLS: tlsv13 alert certificate required|Connection reset by peer")
        for args, message in ((["--cacert", c.ca], "--cacert goes with --tls (or an evkvs:// URI)"),
                              (["--tls", "-s", "/tmp/x.sock"], "--tls is for TCP: a Unix domain socket speaks "
                                                               "plain text"),
                              (["--tls", "--key", c.client_key], "--cert and --key go together")):
            with self.subTest(args=args):
                r = self.bench(*args, "-n", 1)
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stderr.decode(), f"evkv-bench: {message}\nTry 'evkv-bench --help'.\n")


class HAProxyTest(tls_test.TlsTestCase, rc.ClientsTestCase):
    """HAProxy 2.6 between plain-text clients and evkv's TLS ports:
    `ssl verify required` with a client certificate, and its Redis check
    over TLS (check-ssl)."""

    def test_check_ssl(self):
        s = self.start_evkv()
        client_pem, front = self.client_pem(), t.free_port()
        _, _, row = self.start_haproxy(f"""frontend redis
    bind {t.HOST}:{front}
    default_backend evkv
backend evkv
    option redis-check
    server evkv1 {t.HOST}:{s.resp_tls_port} ssl verify required ca-file {self.certs.ca} crt {client_pem} check check-ssl inter 100ms fall 2 rise 1
""")

        def status():
            r = row("evkv")
            return r["status"], r["check_status"], r["last_chk"]

        rc.wait_until(lambda: status()[0] == "UP", f"haproxy marking the server UP over TLS ({status()})")
        self.assertEqual(status(), ("UP", "L7OK", "Redis server is ok"))
        key = list(t.TABLE)[0]
        conn = t.Resp(front)
        self.addCleanup(conn.close)
        direct = t.Resp(s.resp_port)
        self.addCleanup(direct.close)
        self.assertEqual(conn.call("GET", key), direct.call("GET", key))
        self.assertEqual(conn.call("MGET", key, "nokey"), direct.call("MGET", key, "nokey"))
        s.stop()
        rc.wait_until(lambda: status()[0] == "DOWN", f"haproxy marking the server DOWN ({status()})")


class ExporterTest(tls_test.TlsTestCase, rc.ClientsTestCase):
    """prometheus-redis-exporter scraping evkv over rediss:// with a
    client certificate."""

    def test_rediss(self):
        data = self.path("table.json")
        with open(data, "w", encoding="utf-8") as f:
            json.dump(TABLE, f, ensure_ascii=False)
        s = self.start_evkv("--data", data)
        web = t.free_port()
        p, out = self.spawn([rc.program("prometheus-redis-exporter"), "--redis.addr",
                             f"rediss://{t.HOST}:{s.resp_tls_port}", "--tls-ca-cert-file", self.certs.ca,
                             "--tls-client-cert-file", self.certs.client_crt, "--tls-client-key-file",
                             self.certs.client_key, "--web.listen-address", f"{t.HOST}:{web}"], "exporter")
        rc.wait_until(lambda: p.poll() is not None or rc.can_connect(web), "the exporter listening")
        self.assertIsNone(p.poll(), self.output(out))
        with urllib.request.urlopen(f"http://{t.HOST}:{web}/metrics", timeout=rc.STEP_TIMEOUT) as resp:
            lines = set(resp.read().decode().splitlines())
        for line in ("redis_up 1", f'redis_db_keys{{db="db0"}} {len(TABLE)}',
                     'redis_exporter_last_scrape_error{err=""} 0'):
            self.assertIn(line, lines, f"exporter's log:\n{self.output(out)}")


class ClientCertificateTest(tls_test.TlsTestCase):
    """Which client certificates each --tls-auth-clients accepts, asked of
    evkv and Redis with openssl s_client."""

    def verdict(self, port, which):
        pairs = {"none": [], "client": ["-cert", self.certs.client_crt, "-key", self.certs.client_key],
                 "expired": ["-cert", self.certs.expired_crt, "-key", self.certs.expired_key],
                 "other": ["-cert", self.certs.other_crt, "-key", self.certs.other_key]}
        _, out = self.s_client(port, *pairs[which])
        return "accepted" if "+PONG" in out else "refused"

    def test_auth_clients(self):
        expect = {"yes": {"none": "refused", "client": "accepted", "expired": "refused", "other": "refused"},
                  "optional": {"none": "accepted", "client": "accepted", "expired": "refused", "other": "refused"},
                  "no": {"none": "accepted", "client": "accepted", "expired": "accepted", "other": "accepted"}}
        for mode, verdicts in expect.items():
            evkv = self.start_evkv(auth=mode)
            redis = self.start_redis(auth=mode, name=f"redis-{mode}")
            for which, want in verdicts.items():
                with self.subTest(auth=mode, client=which):
                    self.assertEqual(self.verdict(redis.tls_port, which), want, "Redis's verdict")
                    self.assertEqual(self.verdict(evkv.resp_tls_port, which), want)
            evkv.stop()
            if mode != "no":
                self.assertRegex(evkv.stderr(), r"TLS handshake failed: certificate verify failed \(client "
                                                r"certificate: certificate has expired\)")

    def test_refusals_logged(self):
        s = self.start_evkv()
        self.verdict(s.resp_tls_port, "other")
        self.evkv_log_wait(s, r"conn \d+ 127\.0\.0\.1:\d+: TLS handshake failed: certificate verify failed "
                              r"\(client certificate: unable to get local issuer certificate\)$")


class ProtocolVersionTest(tls_test.TlsTestCase):

    def versions(self, port):
        out = {}
        for flag in ("-tls1", "-tls1_1", "-tls1_2", "-tls1_3"):
            # the client's own floor (SECLEVEL) would refuse 1.0 and 1.1 itself
            extra = ["-cipher", "DEFAULT@SECLEVEL=0"] if flag in ("-tls1", "-tls1_1") else []
            _, text = self.s_client(port, flag, "-cert", self.certs.client_crt, "-key", self.certs.client_key,
                                    *extra)
            out[flag] = "+PONG" in text
        return out

    def test_default_protocols(self):
        evkv, redis = self.start_evkv(), self.start_redis()
        want = {"-tls1": False, "-tls1_1": False, "-tls1_2": True, "-tls1_3": True}
        self.assertEqual(self.versions(redis.tls_port), want, "Redis")
        self.assertEqual(self.versions(evkv.resp_tls_port), want)

    def test_tls13_only(self):
        extra = ("--tls-protocols", "TLSv1.3")
        evkv, redis = self.start_evkv(tls_extra=extra), self.start_redis(tls_extra=extra)
        self.assertEqual(self.versions(evkv.resp_tls_port), self.versions(redis.tls_port))
        self.assertEqual(self.versions(evkv.resp_tls_port)["-tls1_2"], False)


class CheckConfigTest(tls_test.TlsTestCase):

    def check(self, *args):
        r = subprocess.run([t.SERVER, "--check-config", "--port", "any", *args], capture_output=True, timeout=20)
        return r.returncode, r.stderr.decode() + r.stdout.decode()

    def test_good(self):
        code, out = self.check("--tls-port", "any", *tls_certs.server_args(self.certs))
        self.assertEqual(code, 0, out)
        code, out = self.check("--port", "0", "--resp-tls-port", "any", *tls_certs.server_args(self.certs, "no"))
        self.assertEqual(code, 0, out)

    def test_bad(self):
        c = self.certs
        cases = [
            (["--tls-cert-file", c.dir + "/nope.crt", "--tls-key-file", c.server_key, "--tls-auth-clients", "no"],
             r"--tls-cert-file \S+/nope\.crt: No such file or directory"),
            (["--tls-cert-file", c.server_crt, "--tls-key-file", c.client_key, "--tls-auth-clients", "no"],
             r"--tls-key-file \S+: key values mismatch \(the key is not the certificate's\)"),
            (["--tls-cert-file", c.server_crt, "--tls-key-file", c.ca, "--tls-auth-clients", "no"],
             r"--tls-key-file \S+/ca\.crt: "),
            ([*tls_certs.server_args(c), "--tls-protocols", "TLSv1.2 SSLv3"],
             r"--tls-protocols: unknown protocol 'SSLv3'"),
            ([*tls_certs.server_args(c), "--tls-ciphers", "NOPE-CIPHER"], r"--tls-ciphers 'NOPE-CIPHER': "),
            (["--tls-key-file", c.server_key], r"a TLS port needs --tls-cert-file and --tls-key-file"),
            (["--tls-cert-file", c.server_crt, "--tls-key-file", c.server_key],
             r"--tls-auth-clients yes needs --tls-ca-cert-file or --tls-ca-cert-dir"),
            ([*tls_certs.server_args(c), "--tls-auth-clients", "maybe"],
             r"--tls-auth-clients must be yes, no or optional, not 'maybe'"),
        ]
        for args, pattern in cases:
            with self.subTest(args=args):
                code, out = self.check("--tls-port", "any", *args)
                self.assertEqual(code, 2, out)
                self.assertRegex(out, "evkv-server: " + pattern)
                # the start refuses it in the same words
                r = subprocess.run([t.SERVER, "--port", "any", "--tls-port", "any", *args], capture_output=True,
                                   timeout=20)
                self.assertEqual(r.returncode, 2)
                self.assertRegex(r.stderr.decode(), pattern)

    def test_same_port(self):
        port = str(t.free_port())
        code, out = self.check("--port", port, "--tls-port", port, *tls_certs.server_args(self.certs))
        self.assertEqual(code, 2)
        self.assertIn(f"--tls-port {port}: the same port as --port", out)


if __name__ == "__main__":
    tls_test.main()

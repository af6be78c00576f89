"""integration.tls_acl: client certificates that name their ACL user
(--tls-auth-clients-user CN), over both protocols:

  - a certificate whose CN is an enabled user starts logged in as it: the
    session that follows is byte for byte what a Redis 7.0 replica with the
    same users answers after AUTH as that user (ACL WHOAMI, NOPERM for a
    command and for a key); the guide's protocol and evkv-cli need no auth;
  - a certificate whose CN is no user, or a disabled user's, starts as the
    unauthenticated "default" (NOAUTH), counted in stats and INFO
    (acl_access_denied_tls_cert) and logged;
  - no certificate (--tls-auth-clients optional), and the option off,
    change nothing;
  - --check-config refuses CN without client certificates, and a bad value.

And the clients that log in over TLS, against an --aclfile server:

  - prometheus-redis-exporter over rediss:// with a password and a client
    certificate (a wrong password: redis_up 0);
  - HAProxy 2.6 with check-ssl and a tcp-check that sends AUTH then PING
    (UP; DOWN for a wrong password), and clients through it;
  - protected mode on the TLS ports: a peer off the loopback (127.0.0.2)
    gets Redis's -DENIED over TLS, byte for byte as a redis-server
    --tls-port with the same settings, and the guide's refusal.
"""

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import evkv_test as t  # noqa: E402
import redis_oracle  # noqa: E402
import tls_certs  # noqa: E402
import test_redis_clients as rc  # noqa: E402
import tls_test  # noqa: E402

command = redis_oracle.command
TABLE = {"alpha": "1", "apple": "2", "beta": "two"}
USERS = ("user default on >defpw ~* +@all\n"
         "user alice on >alicepw ~a* -@all +get +ping +acl\n"
         "user carol off nopass ~* +@all\n")
NOAUTH = b"-NOAUTH Authentication required.\r\n"


def tls_stats(srv):
    """The stats action's "tls" part, asked as the default user."""
    with srv.connect() as conn:
        conn.send(t.json_request({"action": "auth", "value": "defpw"}))
        if t.answer_result(conn.read_answer()) != "ok":
            raise AssertionError("the guide's auth action refused the default user's password")
        conn.send(t.json_request({"action": "stats"}))
        return t.answer_result(conn.read_answer())["tls"]


class CertUserTest(tls_test.TlsTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = tls_certs.client_cert(cls.certs, "alice", "alice")
        cls.nobody = tls_certs.client_cert(cls.certs, "nobody", "nobody")
        cls.carol = tls_certs.client_cert(cls.certs, "carol", "carol")

    def setUp(self):
        super().setUp()
        self.data = self.path("table.json")
        with open(self.data, "w") as f:
            json.dump(TABLE, f)
        self.acl = self.path("users.acl")
        with open(self.acl, "w") as f:
            f.write(USERS)

    def start(self, user="CN", auth="yes"):
        return self.start_evkv("--data", self.data, "--aclfile", self.acl, auth=auth,
                               tls_extra=["--tls-auth-clients-user", user])

    def context(self, pair):
        ctx = self.client_context(None)
        if pair:
            ctx.load_cert_chain(*pair)
        return ctx

    def session(self, port, requests, ctx):
        with self.tls_connect(port, ctx) as s:
            reader = redis_oracle.ReplyReader(s)
            out = []
            for req in requests:
                s.sendall(req)
                out.append(reader.read_reply())
            return out

    def test_resp_as_redis_after_auth(self):
        """Logged in by the certificate, the session is what Redis answers
        once AUTH logged the same user in."""
        acl = self.path("redis.acl")
        with open(acl, "w") as f:  # open while the replica syncs, then the users (ACL LOAD)
            f.write("user default on nopass ~* +@all\n")
        rr = redis_oracle.start_for_test(self, {k.encode(): v.encode() for k, v in TABLE.items()},
                                         replica_args=["--aclfile", acl])
        with open(acl, "w") as f:
            f.write(USERS)
        self.assertEqual(redis_oracle.ask(rr.replica_port, command("ACL", "LOAD")), b"OK")
        requests = [command("ACL", "WHOAMI"), command("GET", "alpha"), command("GET", "beta"),
                    command("MGET", "alpha"), command("PING"), command("AUTH", "default", "defpw"),
                    command("ACL", "WHOAMI"), command("MGET", "beta")]
        with socket.create_connection((t.HOST, rr.replica_port), timeout=t.IO_TIMEOUT) as s:
            reader = redis_oracle.ReplyReader(s)
            s.sendall(command("AUTH", "alice", "alicepw"))
            self.assertEqual(reader.read_reply(), b"+OK\r\n")
            want = []
            for req in requests:
                s.sendall(req)
                want.append(reader.read_reply())
        self.assertEqual(want[0], b"$5\r\nalice\r\n")
        self.assertTrue(want[2].startswith(b"-NOPERM") and want[3].startswith(b"-NOPERM"), want)
        evkv = self.start()
        got = self.session(evkv.resp_tls_port, requests, self.context(self.alice))
        for req, w, g in zip(requests, want, got):
            self.assertEqual(g, w, req)
        self.assertEqual(tls_stats(evkv)["cert_logins"], 1)

    def test_no_user_stays_default(self):
        evkv = self.start()
        requests = [command("GET", "alpha"), command("ACL", "WHOAMI"), command("AUTH", "alice", "alicepw"),
                    command("ACL", "WHOAMI")]
        for name, pair in (("nobody", self.nobody), ("carol", self.carol)):
            with self.subTest(cert=name):
                got = self.session(evkv.resp_tls_port, requests, self.context(pair))
                self.assertEqual(got, [NOAUTH, NOAUTH, b"+OK\r\n", b"$5\r\nalice\r\n"])
                self.evkv_log_wait(evkv, rf"conn \d+ 127\.0\.0\.1:\d+: client certificate CN '{name}' is no "
                                         rf"enabled user: not logged in$")
        tls = tls_stats(evkv)
        self.assertEqual((tls["cert_logins"], tls["cert_no_user"]), (0, 2))
        # this connection's certificate names no one either: the third
        info = self.session(evkv.resp_tls_port, [command("AUTH", "defpw"), command("INFO", "stats")],
                            self.context(self.nobody))[1]
        self.assertIn(b"\r\nacl_access_denied_tls_cert:3\r\n", info)

    def test_guide_protocol(self):
        evkv = self.start()
        with t.Conn.wrap(self.tls_connect(evkv.tls_port, self.context(self.alice))) as c:
            c.send(t.search_request("alpha"))
            self.assertEqual(c.read_answer().raw, t.result_answer("1"))
            c.send(t.search_request("beta"))
            self.assertEqual(c.read_answer().raw, t.result_answer(
                "Error: this user has no permissions to access one of the keys used as arguments."))
        with t.Conn.wrap(self.tls_connect(evkv.tls_port, self.context(self.nobody))) as c:
            c.send(t.search_request("alpha"))
            self.assertEqual(c.read_answer().raw, t.result_answer(
                "Error: authentication required: send the auth action first."))
        env = {k: v for k, v in os.environ.items() if k != "EVKV_AUTH"}
        cli = [t.CLI, "--tls", "-p", str(evkv.tls_port), "--cacert", self.certs.ca, "--cert", self.alice[0],
               "--key", self.alice[1], "search"]
        r = subprocess.run(cli + ["apple"], capture_output=True, timeout=30, stdin=subprocess.DEVNULL, env=env)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"2\n", b""))

    def test_off_and_no_certificate(self):
        """Off (the default), a certificate names no one; under optional, a
        client without one starts as "default", as before."""
        off = self.start_evkv("--data", self.data, "--aclfile", self.acl)
        self.assertEqual(self.session(off.resp_tls_port, [command("GET", "alpha")], self.context(self.alice)),
                         [NOAUTH])
        off = self.start(user="off")
        self.assertEqual(self.session(off.resp_tls_port, [command("GET", "alpha")], self.context(self.alice)),
                         [NOAUTH])
        optional = self.start(auth="optional")
        self.assertEqual(self.session(optional.resp_tls_port, [command("GET", "alpha")], self.context(None)),
                         [NOAUTH])
        self.assertEqual(self.session(optional.resp_tls_port, [command("GET", "alpha")], self.context(self.alice)),
                         [b"$1\r\n1\r\n"])
        tls = tls_stats(optional)
        self.assertEqual((tls["cert_logins"], tls["cert_no_user"]), (1, 0))

    def test_check_config(self):
        base = [t.SERVER, "--check-config", "--tls-port", "any", *tls_certs.server_args(self.certs, "no")]
        r = subprocess.run(base + ["--tls-auth-clients-user", "CN"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"--tls-auth-clients-user CN needs client certificates: --tls-auth-clients yes or optional",
                      r.stderr)
        r = subprocess.run(base + ["--tls-auth-clients-user", "SAN"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"--tls-auth-clients-user", r.stderr)
        self.assertIn(b"CN or off", r.stderr)
        good = [t.SERVER, "--check-config", "--tls-port", "any", *tls_certs.server_args(self.certs, "yes"),
                "--tls-auth-clients-user", "CN"]
        r = subprocess.run(good, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)


class LoginClientsTest(tls_test.TlsTestCase, rc.ClientsTestCase):
    """Programs that log in over TLS with a password and a certificate."""

    def setUp(self):
        super().setUp()
        data = self.path("table.json")
        with open(data, "w") as f:
            json.dump(TABLE, f)
        acl = self.path("users.acl")
        with open(acl, "w") as f:
            f.write(USERS + "user app on >apppw ~* -@all +auth +ping +get\n")
        self.evkv = self.start_evkv("--data", data, "--aclfile", acl)

    def scrape(self, password):
        web = t.free_port()
        p, out = self.spawn([rc.program("prometheus-redis-exporter"), "--redis.addr",
                             f"rediss://{t.HOST}:{self.evkv.resp_tls_port}", "--redis.password", password,
                             "--tls-ca-cert-file", self.certs.ca, "--tls-client-cert-file", self.certs.client_crt,
                             "--tls-client-key-file", self.certs.client_key, "--web.listen-address",
                             f"{t.HOST}:{web}"], f"exporter-{password}")
        rc.wait_until(lambda: p.poll() is not None or rc.can_connect(web), "the exporter listening")
        self.assertIsNone(p.poll(), self.output(out))
        with urllib.request.urlopen(f"http://{t.HOST}:{web}/metrics", timeout=rc.STEP_TIMEOUT) as resp:
            return set(resp.read().decode().splitlines()), out

    def test_exporter_password_and_certificate(self):
        lines, out = self.scrape("defpw")
        for line in ("redis_up 1", f'redis_db_keys{{db="db0"}} {len(TABLE)}',
                     'redis_exporter_last_scrape_error{err=""} 0'):
            self.assertIn(line, lines, f"exporter's log:\n{self.output(out)}")
        lines, out = self.scrape("wrong")
        self.assertIn("redis_up 0", lines, f"exporter's log:\n{self.output(out)}")

    def auth_refusals(self):
        """INFO's acl_access_denied_auth, asked over TLS as "default"."""
        with self.tls_connect(self.evkv.resp_tls_port) as s:
            s.sendall(command("AUTH", "defpw") + command("INFO", "stats"))
            reader = redis_oracle.ReplyReader(s)
            self.assertEqual(reader.read_reply(), b"+OK\r\n")
            return int(re.search(rb"\r\nacl_access_denied_auth:(\d+)\r\n", reader.read_reply()).group(1))

    def test_haproxy_tcp_check_auth(self):
        client_pem, front = self.client_pem(), t.free_port()
        server = (f"{t.HOST}:{self.evkv.resp_tls_port} ssl verify required ca-file {self.certs.ca} crt {client_pem} "
                  f"check check-ssl inter 100ms fall 2 rise 1")
        backends = ""
        # A reply other than +OK leaves HAProxy waiting for one (a
        # `string` match waits for more data): the wrong password's check
        # ends in its timeout (L7TOUT), shortened here.
        for name, password, timeout in (("good", "apppw", "2s"), ("bad", "wrong", "1s")):
            backends += f"""backend {name}
    timeout check {timeout}
    option tcp-check
    tcp-check connect ssl
    tcp-check send AUTH\\ app\\ {password}\\r\\n
    tcp-check expect string +OK
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    server evkv1 {server}
"""
        _, _, row = self.start_haproxy(f"""frontend redis
    bind {t.HOST}:{front}
    default_backend good
{backends}""")

        def status(backend):
            r = row(backend)
            return r["status"], r["check_status"].removeprefix("* ")  # "* ": a check under way

        rc.wait_until(lambda: status("good")[0] == "UP", f"haproxy marking the server UP ({status('good')})")
        rc.wait_until(lambda: status("bad")[0] == "DOWN", f"the wrong password's check DOWN ({status('bad')})")
        self.assertEqual(status("good"), ("UP", "L7OK"))
        # the wrong password reached evkv over TLS and was refused (the
        # check's status is L7TOUT then, or L6TOUT on a box too slow for
        # the handshake within the check's timeout)
        rc.wait_until(lambda: self.auth_refusals() >= 1, "evkv refusing the check's AUTH")
        conn = t.Resp(front)
        self.addCleanup(conn.close)
        self.assertEqual(conn.call("AUTH", "app", "apppw"), b"OK")
        self.assertEqual(conn.call("GET", "beta"), b"two")


def tls_from_other_address(port, ctx, address="127.0.0.2"):
    """A TLS connection to port from address (not loopback to Redis's
    islocalClient): what arrives until the server closes."""
    raw = socket.socket()
    raw.settimeout(t.IO_TIMEOUT)
    raw.bind((address, 0))
    raw.connect((t.HOST, port))
    got = b""
    with ctx.wrap_socket(raw, server_hostname=t.HOST) as s:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (ssl.SSLError, ConnectionResetError):
            pass
    return got


class ProtectedModeTlsTest(tls_test.TlsTestCase):
    """--protected-mode on the TLS ports, as Redis's on its tls-port."""

    def test_denied_over_tls(self):
        for auth, cert in (("no", None), ("yes", "client")):
            with self.subTest(auth=auth):
                ctx = self.client_context(cert)
                evkv = self.start_evkv(auth=auth, tls_extra=["--protected-mode", "yes"])
                redis = self.start_redis(auth=auth, tls_extra=["--protected-mode", "yes"], name=f"redis-{auth}")
                want = tls_from_other_address(redis.tls_port, ctx)
                self.assertTrue(want.startswith(b"-DENIED Redis is running in protected mode"), want)
                self.assertEqual(tls_from_other_address(evkv.resp_tls_port, ctx), want)
                raw = tls_from_other_address(evkv.tls_port, ctx)
                hlen = int.from_bytes(raw[:2], "big")
                header = json.loads(raw[2:2 + hlen])
                result = json.loads(raw[2 + hlen:2 + hlen + header["content-length"]])["result"]
                self.assertTrue(result.startswith("Error: evkv is running in protected mode"), result)
                # the loopback is served over TLS
                self.assertEqual(self.resp_ask(evkv.resp_tls_port, command("PING"), ctx), b"+PONG\r\n")


if __name__ == "__main__":
    tls_test.main()

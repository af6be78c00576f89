"""integration.acl: access control, on the RESP listener beside a real
Redis 7.0.15 with the same users, and on the guide's protocol.

The oracle is a read-only replica (redis_oracle.py) of a master loaded with
the table, as evkv answers as one: once in sync, it is given the same ACL
file evkv starts with (ACL LOAD), or the same requirepass (CONFIG SET).
Each case is a session: its requests go, the same bytes, on a connection
of its own to each server, and every reply is compared byte for byte; a
case ending in a close is read to EOF on both.

Replies that cannot be the same bytes are compared as stated where it is
done: HELLO's "id" (each server numbers its clients), ACL CAT of a
category and ACL LIST's single-command rules (Redis lists commands in its
dict's order, whose hash seed is random per process: compared as sets).

Also: a bad ACL file refuses the start with Redis's own description (the
text a real redis-server logs for the same file); SIGHUP reads the file
again and keeps the old users when it is bad; the clients users have,
authenticating: redis-cli (--user/--pass, -a, REDISCLI_AUTH), redis-py
(username, password), redis-benchmark -a, nutcracker with redis_auth (it
sends AUTH ahead of a client's first command); the stats count refusals.
Protected mode against redis-server's, from 127.0.0.2. The guide's auth
action, and its actions under the users' rules (search as GET, msearch as
MGET, ping as PING, stats as INFO), in proto/PROTOCOL.md's words.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import evkv_test as t
import redis_oracle as ro
from redis_oracle import command as c
from resp_reply import ReplyReader, elements

TABLE = {"a1": "alpha one", "a2": "alpha two", "b1": "beta one", "b2": "beta two", "c1": "gamma",
         "pub:x": "public"}
SECRET = "s3cret pass"  # a space: Redis's file format splits on spaces, AUTH does not


def sha(p):
    return hashlib.sha256(p.encode()).hexdigest()


# The users: every rule of the subset evkv reads, each case of a login.
ACL_FILE = f"""user default on #{sha(SECRET)} ~* &* +@all
user alice on >alicepw ~a* +@all
user bob on >bobpw %R~b* -@all +@read
user carol off >carolpw allkeys +@all
user dave on nopass ~* -@all +@read +ping
user erin on >e1 >e2 resetpass >e3 ~* +@all -get
user fred on #{sha("fredpw")} ~pub* ~a1 -@all +@connection +get
user gina on nopass resetkeys ~c* +@all -@dangerous -config|get
user hank on >h reset on >h2 ~* -@all +mget
"""
OPEN_FILE = "user default on nopass ~* &* +@all\n"
READ_TIMEOUT = 5.0
EOF_TIMEOUT = 2.0


def login(user, password):
    return c("AUTH", user, password)


# (name, requests, closes): requests are multibulk requests' bytes.
CASES = [
    ("noauth before auth", [c("GET", "a1"), c("MGET", "a1", "b1"), c("EXISTS", "a1"), c("PING"), c("ECHO", "x"),
                            c("SELECT", "0"), c("DBSIZE"), c("INFO", "server"), c("CLIENT", "ID"),
                            c("COMMAND", "COUNT"), c("SET", "a1", "x"), c("KEYS", "*"), c("SCAN", "0"),
                            c("ACL", "WHOAMI"), c("ACL", "CAT"), c("MULTI"), c("EXEC"), c("RESET"),
                            c("NOSUCHCOMMAND", "x"), c("GET"), c("CLIENT", "NOSUCH"), c("HELLO"), c("HELLO", "2"),
                            c("HELLO", "2", "SETNAME", "n"), c("HELLO", "x")], False),
    ("auth forms", [c("AUTH", SECRET), c("ACL", "WHOAMI"), c("AUTH", "default", SECRET), c("AUTH", "default", "no"),
                    c("AUTH", "wrong"), c("AUTH", "a", "b", "c"), c("AUTH", "nobody", "x"),
                    c("AUTH", "carol", "carolpw"), c("AUTH", "dave", "anything at all"), c("ACL", "WHOAMI"),
                    c("AUTH", "erin", "e1"), c("AUTH", "erin", "e3"), c("ACL", "WHOAMI"),
                    c("AUTH", "fred", "fredpw"), c("AUTH", "fred", sha("fredpw")), c("ACL", "WHOAMI"),
                    c("AUTH", "hank", "h"), c("AUTH", "hank", "h2"), c("AUTH", "Alice", "alicepw"),
                    c("AUTH", "alice", "alicepw"), c("ACL", "WHOAMI")], False),
    ("hello auth", [c("HELLO", "2", "AUTH", "bob", "nope"), c("HELLO", "2", "AUTH", "bob", "bobpw", "SETNAME", "b"),
                    c("ACL", "WHOAMI"), c("CLIENT", "GETNAME"), c("HELLO", "2", "AUTH", "carol", "carolpw"),
                    c("HELLO", "2", "AUTH", "alice")], False),
    ("bob reads b keys", [login("bob", "bobpw"), c("GET", "b1"), c("GET", "a1"), c("MGET", "b1", "b2"),
                          c("MGET", "b1", "a1", "b2"), c("EXISTS", "a1"), c("EXISTS", "b1"), c("STRLEN", "b1"),
                          c("STRLEN", "a1"), c("GETRANGE", "a1", "0", "1"), c("TYPE", "a1"), c("TTL", "a1"),
                          c("HGET", "a1", "f"), c("LRANGE", "b9", "0", "-1"), c("SET", "b1", "x"),
                          c("DEL", "b1"), c("PING"), c("CONFIG", "GET", "port"), c("CLIENT", "ID"),
                          c("KEYS", "*1"), c("SCAN", "0", "MATCH", "a*", "COUNT", "100"), c("DBSIZE"),
                          c("ACL", "WHOAMI"), c("ACL", "USERS")], False),
    ("alice on a keys", [login("alice", "alicepw"), c("GET", "a2"), c("GET", "b2"), c("SET", "a1", "x"),
                         c("SET", "b1", "x"), c("MSET", "a1", "1", "b1", "2"), c("MSET", "a1", "1", "a2", "2"),
                         c("DEL", "a1", "c1"), c("RENAME", "a1", "b1"), c("COPY", "a1", "a9"),
                         c("LPUSH", "a1", "x"), c("ZUNIONSTORE", "a9", "2", "a1", "b1"),
                         c("ZUNIONSTORE", "a9", "2", "a1", "a2"), c("SINTERCARD", "2", "a1", "c1"),
                         c("XREAD", "STREAMS", "a1", "b1", "0", "0"), c("MGET", "a1", "a2"),
                         c("ACL", "LIST")], False),
    ("erin may not get", [login("erin", "e3"), c("GET", "a1"), c("MGET", "a1"), c("STRLEN", "a1")], False),
    ("fred's patterns", [login("fred", "fredpw"), c("GET", "pub:x"), c("GET", "a1"), c("GET", "a2"),
                         c("MGET", "pub:x"), c("PING"), c("ECHO", "e"), c("CLIENT", "GETNAME"), c("INFO"),
                         c("ACL", "WHOAMI")], False),
    ("gina's rules", [login("gina", "whatever"), c("GET", "c1"), c("GET", "a1"), c("CONFIG", "GET", "port"),
                      c("KEYS", "*"), c("FLUSHALL"), c("ACL", "CAT"), c("ACL", "CAT", "nope"),
                      c("ACL", "CAT", "a", "b"), c("ACL", "WHOAMI")], False),
    ("multi with a refusal", [login("bob", "bobpw"), c("MULTI"), c("GET", "b1"), c("GET", "a1"), c("EXEC"),
                              c("MULTI"), c("PING"), c("EXEC"), c("MULTI"), c("GET", "b1"), c("EXEC")], False),
    ("auth inside multi", [c("MULTI"), login("alice", "alicepw"), c("EXEC"), c("ACL", "WHOAMI")], False),
    ("reset logs out", [login("alice", "alicepw"), c("ACL", "WHOAMI"), c("RESET"), c("ACL", "WHOAMI"),
                        c("GET", "a1"), login("dave", "x"), c("GET", "a1")], False),
    ("many arguments before auth", [b"*11\r\n" + b"$1\r\na\r\n" * 11], True),
    ("a long bulk before auth", [b"*2\r\n$3\r\nGET\r\n$16385\r\n"], True),
    ("long bulks once logged in", [login("alice", "alicepw"), c("ECHO", "x" * 20000),
                                   c("MGET", *["a%d" % i for i in range(12)])], False),
    ("quit before auth", [c("QUIT")], True),
]


class ExecRecheckTest(t.TempDirTestCase):
    """EXEC checks each queued command against its user's rules again, as
    Redis 7.0's execCommand: rules changed between MULTI and EXEC (ACL
    SETUSER on Redis, a reload of the file here) refuse what they no longer
    allow, with Redis's reply, and the rest runs."""

    QUEUED = [c("GET", "a:none"), c("GET", "b:none"), c("MGET", "a:none"), c("PING")]

    def exec_after_change(self, port, change):
        with socket.create_connection((t.HOST, port), timeout=READ_TIMEOUT) as s:
            reader = ReplyReader(s)
            s.sendall(c("MULTI") + b"".join(self.QUEUED))
            replies = [read_reply(reader, s) for _ in range(1 + len(self.QUEUED))]
            self.assertEqual(replies, [b"+OK\r\n"] + [b"+QUEUED\r\n"] * len(self.QUEUED))
            change()
            s.sendall(c("EXEC"))
            return read_reply(reader, s)

    def test_rules_changed_between_multi_and_exec(self):
        workdir = tempfile.mkdtemp(prefix="evkv-exec.", dir=self.dir)
        redis = ro.RedisProcess(workdir, "redis").start()
        self.addCleanup(redis.stop)
        want = self.exec_after_change(
            redis.port, lambda: self.assertEqual(ro.ask(redis.port, c("ACL", "SETUSER", "default", "resetkeys",
                                                                      "~a*", "-mget")), b"OK"))
        self.assertEqual(want.count(b"-NOPERM ACLs rules changed between the moment the transaction was "
                                    b"accumulated and the EXEC call."), 2, want)
        path = self.path("users.acl")
        with open(path, "w") as f:
            f.write("user default on nopass ~* +@all\n")
        srv = self.start_server("--resp-port", "any", "--aclfile", path, "--threads", "1")

        def reload():
            with open(path, "w") as f:
                f.write("user default on nopass ~a* +@all -mget\n")
            srv.send_signal(signal.SIGHUP)
            wait_for(lambda: "reloaded" in srv.stderr(), "the reload")
            # the one worker serves the new users: it has moved every connection to them
            wait_for(lambda: b"~a*" in ro.ask(srv.resp_port, c("ACL", "LIST"))[0], "the new users served")

        self.assertEqual(self.exec_after_change(srv.resp_port, reload), want)
        info = ro.ask(srv.resp_port, c("INFO", "stats")).decode()
        # each refusal counted, as Redis 7.2 counts them
        self.assertIn("acl_access_denied_cmd:1\r\nacl_access_denied_key:1\r\n", info)


def read_reply(reader, sock):
    sock.settimeout(READ_TIMEOUT)
    return reader.read_reply()


def session(port, requests, closes):
    """Sends each request in turn and reads its reply; a session that ends
    in a close is read to EOF after its last request."""
    with socket.create_connection((t.HOST, port), timeout=READ_TIMEOUT) as s:
        reader = ReplyReader(s)
        out = []
        for i, req in enumerate(requests):
            s.sendall(req)
            if closes and i == len(requests) - 1:
                s.settimeout(EOF_TIMEOUT)
                out.append(reader.read_rest())
            else:
                out.append(read_reply(reader, s))
        return out


def hello_id_free(reply):
    """HELLO's map with its "id" value taken out: each server numbers its
    own clients."""
    return re.sub(rb"(\$2\r\nid\r\n):\d+\r\n", rb"\1:ID\r\n", reply)


def cat_sorted(reply):
    """An array's elements as a sorted list (ACL CAT category)."""
    return sorted(elements(reply)) if reply.startswith(b"*") else reply


def scan_sorted(reply):
    """SCAN's keys sorted: both servers walk their own hash order."""
    if not reply.startswith(b"*"):
        return reply
    cursor, keys = elements(reply)
    return cursor, sorted(elements(keys))


def list_normalised(reply):
    """ACL LIST with each user's single-command rules (+cmd, -cmd after the
    categories) as a sorted set: Redis emits them in its dict's order."""
    if not reply.startswith(b"*"):
        return reply
    users = []
    for e in elements(reply):
        line = e.split(b"\r\n")[1]
        words = line.split(b" ")
        single = sorted(w for w in words if w[:1] in (b"+", b"-") and w[1:2] != b"@")
        users.append(([w for w in words if w not in single], single))
    return users


class AclDifferentialTest(t.TempDirTestCase):
    """evkv and a Redis replica with the same users, the same sessions."""

    acl_text = ACL_FILE
    evkv_args = ()

    @classmethod
    def setUpClass(cls):
        cls.dir_ = tempfile.mkdtemp(prefix="evkv-acl.")
        cls.addClassCleanup(shutil.rmtree, cls.dir_, True)
        cls.data = os.path.join(cls.dir_, "table.json")
        with open(cls.data, "w") as f:
            json.dump(TABLE, f)
        cls.aclfile = os.path.join(cls.dir_, "users.acl")
        with open(cls.aclfile, "w") as f:
            f.write(OPEN_FILE)
        cls.rr = ro.start_for_test(cls, TABLE, replica_args=("--aclfile", cls.aclfile))
        cls.configure_oracle()

    @classmethod
    def configure_oracle(cls):
        with open(cls.aclfile, "w") as f:
            f.write(cls.acl_text)
        if ro.ask(cls.rr.replica_port, c("ACL", "LOAD")) != b"OK":
            raise AssertionError("the Redis replica refused ACL LOAD")

    def setUp(self):
        super().setUp()
        args = ["--resp-port", "any", "--data", self.data] + self.server_args()
        self.srv = self.start_server(*args)

    def server_args(self):
        return ["--aclfile", self.aclfile]

    def compare(self, name, requests, closes):
        want = session(self.rr.replica_port, requests, closes)
        got = session(self.srv.resp_port, requests, closes)
        for req, w, g in zip(requests, want, got):
            what = "%s: %r" % (name, req[:80])
            words = [x.upper() for x in re.findall(rb"\r\n([^$*\r\n][^\r\n]*)", req[:200])]
            if words[:1] == [b"HELLO"]:
                w, g = hello_id_free(w), hello_id_free(g)
            if words[:2] == [b"ACL", b"LIST"]:
                w, g = list_normalised(w), list_normalised(g)
            if (words[:2] == [b"ACL", b"CAT"] and len(words) == 3) or words[:1] == [b"KEYS"]:
                w, g = cat_sorted(w), cat_sorted(g)
            if words[:1] == [b"SCAN"]:
                w, g = scan_sorted(w), scan_sorted(g)
            self.assertEqual(g, w, what)

    def test_sessions(self):
        for name, requests, closes in CASES:
            with self.subTest(name):
                self.compare(name, requests, closes)

    def test_acl_cat_read(self):
        """ACL CAT read (and every category): the same commands."""
        for cat in ("read", "write", "keyspace", "connection", "dangerous", "admin", "fast", "slow"):
            self.compare("cat " + cat, [login("dave", "x"), c("ACL", "CAT", cat)], False)

    def test_stats_count_refusals(self):
        s = session(self.srv.resp_port, [c("AUTH", "bob", "x"), c("AUTH", "bob", "y"), login("bob", "bobpw"),
                                         c("GET", "a1"), c("PING"), c("PING")], False)
        self.assertEqual(s[3][:7], b"-NOPERM")
        info = session(self.srv.resp_port, [login("alice", "alicepw"), c("INFO", "stats")], False)[1]
        fields = dict(re.findall(rb"(acl_access_denied_\w+):(\d+)", info))
        self.assertEqual(fields, {b"acl_access_denied_auth": b"2", b"acl_access_denied_cmd": b"2",
                                  b"acl_access_denied_key": b"1", b"acl_access_denied_channel": b"0",
                                  b"acl_access_denied_tls_cert": b"0"})
        resp = guide_stats(self.srv, SECRET)["resp"]
        self.assertEqual((resp["acl_denied_auth"], resp["acl_denied_cmd"], resp["acl_denied_key"]), (2, 2, 1))


class RequirepassDifferentialTest(AclDifferentialTest):
    """--requirepass (here from the config file, out of ps) beside Redis's
    requirepass: the default user's password, the same sessions."""

    acl_text = OPEN_FILE

    @classmethod
    def configure_oracle(cls):
        super().configure_oracle()
        if ro.ask(cls.rr.replica_port, c("CONFIG", "SET", "requirepass", SECRET)) != b"OK":
            raise AssertionError("the Redis replica refused CONFIG SET requirepass")

    def server_args(self):
        conf = self.path("evkv.conf")
        with open(conf, "w") as f:
            f.write("requirepass " + SECRET + "\n")
        return ["-c", conf]

    def test_sessions(self):
        cases = [("noauth", CASES[0][1], False),
                 ("auth", [c("AUTH", "x"), c("AUTH", SECRET), c("ACL", "WHOAMI"), c("GET", "a1"), c("ACL", "LIST"),
                           c("ACL", "USERS"), c("AUTH", "default", SECRET), c("AUTH", "alice", "x")], False),
                 ("hello", [c("HELLO", "2", "AUTH", "default", SECRET), c("GET", "a1")], False)]
        for name, requests, closes in cases:
            with self.subTest(name):
                self.compare(name, requests, closes)

    def test_not_in_ps(self):
        with open("/proc/%d/cmdline" % self.srv.proc.pid, "rb") as f:
            self.assertNotIn(SECRET.encode(), f.read())
        self.assertNotIn(SECRET, self.srv.stderr())

    test_acl_cat_read = None
    test_stats_count_refusals = None


class AclFileTest(t.TempDirTestCase):
    """Bad files, at start and on SIGHUP."""

    BAD = ["user alice on >pw ~a* +nosuchcommand +@nosuch\n",
           "usr alice on\n",
           "user default on #abc\n",
           "user alice on ~* ~a*\n",
           "user alice on\nuser alice off\n",
           "user alice on foo %X~a >ok\n"]

    def redis_reason(self, path):
        """What redis-server says of the ACL file at path: the text after
        'Aborting Redis startup because of ACL errors: '."""
        p = subprocess.run([ro.REDIS_SERVER, "--port", str(t.free_port()), "--bind", t.HOST, "--save", "",
                            "--appendonly", "no",
                            "--aclfile", path, "--dir", self.dir], capture_output=True, timeout=30)
        m = re.search(rb"Aborting Redis startup because of ACL errors: (.*)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        return m.group(1).decode()

    def test_bad_file_refuses_the_start(self):
        for i, text in enumerate(self.BAD):
            with self.subTest(text):
                path = self.path("bad%d.acl" % i)
                with open(path, "w") as f:
                    f.write(text)
                p = subprocess.run([t.SERVER, "--port", "any", "--resp-port", "any", "--aclfile", path],
                                   capture_output=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                err = p.stderr.decode()
                self.assertIn("refusing to start because of ACL errors: " + self.redis_reason(path), err)
                self.assertNotIn(">ok", err)  # a password never shows

    def test_what_evkv_does_not_take(self):
        """Selectors and first-arg rules: refused in evkv's words. (Redis
        7.0.15 takes them; given a "(" no ")" closes, it crashes.)"""
        for rule, why in (("(~a* +get)", "evkv does not take selectors ((...))"),
                          ("(~a*", "Unmatched parenthesis in selector definition."),
                          ("+select|0", "evkv does not take first-arg rules (+command|arg)")):
            with self.subTest(rule):
                path = self.path("users.acl")
                with open(path, "w") as f:
                    f.write("user alice on %s\n" % rule)
                p = subprocess.run([t.SERVER, "--port", "any", "--aclfile", path, "--check-config"],
                                   capture_output=True, timeout=30)
                self.assertEqual(p.returncode, 2)
                self.assertIn(why, p.stderr.decode())

    def test_missing_file(self):
        p = subprocess.run([t.SERVER, "--port", "any", "--aclfile", self.path("none.acl"), "--check-config"],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("Error loading ACLs, opening file '%s': No such file or directory" % self.path("none.acl"),
                      p.stderr.decode())

    def test_reload(self):
        path = self.path("users.acl")
        with open(path, "w") as f:
            f.write("user default on >one ~* +@all\nuser bob on >bobpw ~* +@all\n")
        srv = self.start_server("--resp-port", "any", "--aclfile", path)
        bob = t.Resp(srv.resp_port)
        self.addCleanup(bob.close)
        self.assertEqual(bob.call("AUTH", "bob", "bobpw"), b"OK")
        with open(path, "w") as f:
            f.write("user default on >two ~* +@all\nuser carol on nopass ~c* +@all\n")
        srv.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in srv.stderr(), "the reload")
        conn = t.Resp(srv.resp_port)
        self.addCleanup(conn.close)
        self.assertEqual(str(conn.call("AUTH", "one")),
                         "WRONGPASS invalid username-password pair or user is disabled.")
        self.assertEqual(conn.call("AUTH", "two"), b"OK")
        self.assertEqual(conn.call("ACL", "USERS"), [b"carol", b"default"])
        # bob is gone: his connection is closed, as Redis closes a deleted user's
        with self.assertRaises((EOFError, OSError)):
            bob.call("PING")
        # a bad file keeps the users, and says why
        with open(path, "w") as f:
            f.write("user default on >three ~* +@all +nosuch\n")
        srv.send_signal(signal.SIGHUP)
        wait_for(lambda: srv.stderr().count("reloaded") == 2, "the second reload")
        self.assertIn("Error in applying operation '+nosuch': Unknown command or category name in ACL",
                      srv.stderr())
        self.assertNotIn("three", srv.stderr())
        conn2 = t.Resp(srv.resp_port)
        self.addCleanup(conn2.close)
        self.assertEqual(conn2.call("AUTH", "two"), b"OK")
        self.assertEqual(guide_stats(srv, "two")["table"]["acl_load_failures"], 1)


def from_other_address(port, data=b"", address="127.0.0.2"):
    """Connects to port from address (a loopback address that is not
    127.0.0.1: Redis's islocalClient takes only 127.0.0.1 and ::1), sends
    data, and reads until the server closes."""
    with socket.socket() as s:
        s.settimeout(READ_TIMEOUT)
        s.bind((address, 0))
        s.connect((t.HOST, port))
        try:
            if data:
                s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # no more: the server closes once it has answered
        except OSError:
            pass  # closed already (protected mode): what it sent is still to read
        return ReplyReader(s).read_rest()


class ProtectedModeTest(t.TempDirTestCase):
    """--protected-mode as Redis's: a peer off the loopback, while the
    default user has no password, gets -DENIED and is closed."""

    def redis(self, *args, password=None):
        workdir = tempfile.mkdtemp(prefix="evkv-protected.", dir=self.dir)
        r = ro.RedisProcess(workdir, "redis", *args).start()
        self.addCleanup(r.stop)
        if password is not None and ro.ask(r.port, c("CONFIG", "SET", "requirepass", password)) != b"OK":
            raise AssertionError("redis-server refused CONFIG SET requirepass")
        return r

    def test_denied_as_redis(self):
        acl = self.path("users.acl")
        with open(acl, "w") as f:  # a password for another user: still "no password" for protected mode
            f.write("user default on nopass ~* &* +@all\nuser app on >pw ~* +@all\n")
        for args in ((), ("--aclfile", acl)):
            with self.subTest(args):
                redis = self.redis(*args)
                srv = self.start_server("--resp-port", "any", *args)
                # Redis closes with the PING unread, which may turn its
                # close into a reset; evkv's close lingers (the text is
                # never lost): compared without "<reset>"
                want = from_other_address(redis.port, c("PING")).replace(b"<reset>", b"")
                self.assertTrue(want.startswith(b"-DENIED Redis is running in protected mode"), want)
                self.assertEqual(from_other_address(srv.resp_port, c("PING")), want)
                self.assertEqual(from_other_address(srv.resp_port), from_other_address(redis.port))
                # the loopback is served
                self.assertEqual(ro.ask(srv.resp_port, c("PING")), b"PONG")
                info = ro.ask(srv.resp_port, c("INFO", "stats")).decode()
                self.assertIn("rejected_connections:2\r\n", info)

    def test_guide_protocol_refused(self):
        srv = self.start_server()
        raw = from_other_address(srv.port, t.search_request("morpheus"))
        hlen = int.from_bytes(raw[:2], "big")
        header = json.loads(raw[2:2 + hlen])
        result = json.loads(raw[2 + hlen:2 + hlen + header["content-length"]])["result"]
        self.assertTrue(result.startswith("Error: evkv is running in protected mode"), result)
        self.assertEqual(raw, t.result_answer(result))
        with srv.connect() as conn:  # the loopback is served
            self.assertEqual(conn.exchange(t.search_request("morpheus")), t.search_answer("morpheus"))

    def test_password_or_no_turns_it_off(self):
        pending = t.result_answer("Error: authentication required: send the auth action first.")
        for args, redis_args, password, want_start, guide in ((("--requirepass", "pw"), (), "pw", b"-NOAUTH", pending),
                                                              (("--protected-mode", "no"), ("--protected-mode", "no"),
                                                               None, b"+PONG", t.search_answer("morpheus"))):
            with self.subTest(args):
                redis = self.redis(*redis_args, password=password)
                srv = self.start_server("--resp-port", "any", *args)
                req = c("PING") + c("QUIT")
                want = from_other_address(redis.port, req)
                self.assertTrue(want.startswith(want_start), want)
                self.assertEqual(from_other_address(srv.resp_port, req), want)
                self.assertEqual(from_other_address(srv.port, t.search_request("morpheus")), guide)

    def test_bad_value(self):
        p = subprocess.run([t.SERVER, "--protected-mode", "maybe"], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--protected-mode must be yes or no, not 'maybe'", p.stderr)


class GuideAuthTest(t.TempDirTestCase):
    """The guide's protocol with the same users: the auth action first,
    then each action under its Redis kin's rules and keys."""

    def setUp(self):
        super().setUp()
        acl = self.path("users.acl")
        with open(acl, "w") as f:
            f.write(ACL_FILE)
        data = self.path("table.json")
        with open(data, "w") as f:
            json.dump(TABLE, f)
        self.srv = self.start_server("--data", data, "--aclfile", acl)

    def ask(self, conn, obj):
        return self.result(conn, t.json_request(obj))

    def result(self, conn, request):
        conn.send(request)
        answer = conn.read_answer()
        self.assertEqual(answer.raw, t.result_answer(t.answer_result(answer)))  # the reference's exact bytes
        return t.answer_result(answer)

    def test_auth_then_rules(self):
        pending = "Error: authentication required: send the auth action first."
        wrong = "Error: invalid username-password pair or user is disabled."
        nokey = "Error: this user has no permissions to access one of the keys used as arguments."
        with self.srv.connect() as conn:
            self.assertEqual(self.ask(conn, {"action": "search", "value": "a1"}), pending)
            self.assertEqual(self.ask(conn, {"action": "ping"}), pending)
            self.assertEqual(self.ask(conn, {"action": "msearch", "value": ["a1"]}), pending)
            self.assertEqual(self.result(conn, t.binary_request(b"\x00\x01")), pending)
            self.assertEqual(self.ask(conn, {"action": "auth", "value": "wrong"}), wrong)
            self.assertEqual(self.ask(conn, {"action": "auth", "value": {"user": "bob", "password": "x"}}), wrong)
            self.assertEqual(self.ask(conn, {"action": "auth", "value": {"user": "carol", "password": "carolpw"}}),
                             wrong)
            self.assertEqual(self.ask(conn, {"action": "auth", "value": {"password": 7}}),
                             "Error: 'value' must be the password, or an object with a \"password\" string and "
                             "a \"user\" string.")
            self.assertEqual(self.ask(conn, {"action": "auth"}), "Error: request lacks 'value'.")
            self.assertEqual(self.ask(conn, {"action": "auth", "value": {"user": "bob", "password": "bobpw"}}), "ok")
            self.assertEqual(self.ask(conn, {"action": "search", "value": "b1"}), "beta one")
            self.assertEqual(self.ask(conn, {"action": "search", "value": "a1"}), nokey)
            self.assertEqual(self.ask(conn, {"action": "search", "value": "b9"}), t.miss_text("b9"))
            self.assertEqual(self.ask(conn, {"action": "msearch", "value": ["b1", "b2", "b9"]}),
                             ["beta one", "beta two", None])
            self.assertEqual(self.ask(conn, {"action": "msearch", "value": ["b1", "a1"]}), nokey)
            self.assertEqual(self.ask(conn, {"action": "ping"}),
                             "Error: this user has no permissions to run the 'ping' action.")
            self.assertEqual(self.ask(conn, {"action": "stats"}),
                             "Error: this user has no permissions to run the 'stats' action.")
            self.assertEqual(self.ask(conn, {"action": "nosuch"}), "Error: invalid action 'nosuch'.")
            # the default user's password alone, then fred's patterns
            self.assertEqual(self.ask(conn, {"action": "auth", "value": SECRET}), "ok")
            self.assertEqual(self.ask(conn, {"action": "search", "value": "a1"}), "alpha one")
            self.assertIsInstance(self.ask(conn, {"action": "stats"}), dict)
            self.assertEqual(self.ask(conn, {"action": "auth", "value": {"user": "fred", "password": "fredpw"}}),
                             "ok")
            self.assertEqual(self.ask(conn, {"action": "search", "value": "pub:x"}), "public")
            self.assertEqual(self.ask(conn, {"action": "search", "value": "a1"}), "alpha one")
            self.assertEqual(self.ask(conn, {"action": "search", "value": "a2"}), nokey)
            self.assertEqual(self.ask(conn, {"action": "msearch", "value": ["pub:x"]}),  # +get, not +mget
                             "Error: this user has no permissions to run the 'msearch' action.")
            self.assertEqual(self.ask(conn, {"action": "ping"}), "pong")
        with self.srv.connect() as conn:
            self.ask(conn, {"action": "auth", "value": SECRET})
            stats = self.ask(conn, {"action": "stats"})
        self.assertEqual((stats["requests"]["auth"], stats["errors"]["auth_failed"]), (9, 3))
        self.assertEqual(stats["requests"]["denied"], 10)

    def test_no_access_control(self):
        """A server without users: the reference's requests as ever, and
        auth with a password alone says there is none to give."""
        srv = self.start_server()
        with srv.connect() as conn:
            self.assertEqual(conn.exchange(t.search_request("morpheus")), t.search_answer("morpheus"))
            self.assertEqual(self.ask(conn, {"action": "auth", "value": "x"}),
                             "Error: auth with a password alone, but the default user has no password.")
            self.assertEqual(self.ask(conn, {"action": "auth", "value": {"user": "default", "password": "x"}}), "ok")
            self.assertEqual(conn.exchange(t.search_request("morpheus")), t.search_answer("morpheus"))


def guide_stats(srv, password):
    """The stats action's answer, asked over the guide's protocol as the
    default user."""
    with srv.connect() as conn:
        conn.send(t.json_request({"action": "auth", "value": password}))
        if t.answer_result(conn.read_answer()) != "ok":
            raise AssertionError("the guide's auth action refused the default user's password")
        conn.send(t.json_request({"action": "stats"}))
        return t.answer_result(conn.read_answer())


BENCH = os.environ.get("EVKV_BENCH") or os.path.join(os.path.dirname(t.CLI), "evkv-bench")


class EvkvClientsTest(t.TempDirTestCase):
    """evkv-cli and evkv-bench logging in: --user, -a/--pass, EVKV_AUTH,
    evkv://USER:PASSWORD@HOST:PORT, on both protocols."""

    def setUp(self):
        super().setUp()
        acl = self.path("users.acl")
        with open(acl, "w") as f:
            f.write(ACL_FILE)
        data = self.path("table.json")
        with open(data, "w") as f:
            json.dump(TABLE, f)
        self.srv = self.start_server("--data", data, "--aclfile", acl, "--resp-port", "any")
        self.port = str(self.srv.port)

    def run_program(self, argv, env=None):
        environ = {k: v for k, v in os.environ.items() if k != "EVKV_AUTH"}
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                              env=dict(environ, **(env or {})))

    def cli(self, *args, env=None):
        return self.run_program([t.CLI, "-h", t.HOST, "-p", self.port] + list(args), env)

    def test_cli(self):
        p = self.cli("search", "a1")
        self.assertEqual((p.returncode, p.stderr), (2, b"evkv-cli: Error: authentication required: send the "
                                                        b"auth action first.\n"))
        for how, env in ((["-a", SECRET], None), (["--pass", SECRET], None), ([], {"EVKV_AUTH": SECRET}),
                         (["--user", "bob", "--pass", "bobpw"], None)):
            with self.subTest(how=how, env=env):
                p = self.cli(*how, "search", "b1", env=env)
                self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"beta one\n", b""))
        uri = "evkv://bob:bobpw@%s:%s" % (t.HOST, self.port)
        p = self.run_program([t.CLI, "-u", uri, "search", "b2"])
        self.assertEqual((p.returncode, p.stdout), (0, b"beta two\n"))
        p = self.run_program([t.CLI, "-u", "evkv://bob:wrong@%s:%s" % (t.HOST, self.port), "--pass", "bobpw",
                              "search", "b2"])  # --pass wins over the URI's
        self.assertEqual((p.returncode, p.stdout), (0, b"beta two\n"))
        p = self.cli("--user", "bob", "-a", "bobpw", "search", "a1")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"no permissions to access one of the keys", p.stderr)
        p = self.cli("-a", "wrong", "ping")
        self.assertEqual((p.returncode, p.stderr), (2, b"evkv-cli: auth refused: invalid username-password pair "
                                                        b"or user is disabled.\n"))
        p = self.cli("--user", "bob", "ping")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--user needs a password", p.stderr)
        # a batch: one login per connection, every key answered in order
        p = subprocess.run([t.CLI, "-h", t.HOST, "-p", self.port, "-a", SECRET], input=b"a1\nc1\n",
                           capture_output=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, b"alpha one\ngamma\n"))

    def test_bench(self):
        resp = str(self.srv.resp_port)
        data, akeys = self.path("table.json"), self.path("a.keys")
        with open(akeys, "w") as f:
            f.write("a1\na2\n")
        target = ["-h", t.HOST, "-p", self.port]
        for args, env in ((target + ["-a", SECRET], None),
                          (["-h", t.HOST, "-p", resp, "--protocol", "resp", "-a", SECRET], None),
                          (["-h", t.HOST, "-p", resp, "--protocol", "resp", "--mget", "3"], {"EVKV_AUTH": SECRET}),
                          (target + ["--user", "alice", "-a", "alicepw", "--reconnect", "--keys", akeys], None),
                          (["-u", "evkv://alice:alicepw@%s:%s" % (t.HOST, self.port), "--mget", "2", "--keys", akeys],
                           None)):
            with self.subTest(args=args, env=env):
                extra = [] if "--keys" in args else ["--data", data]
                p = self.run_program([BENCH, "-n", "500", "-c", "3", "-P", "4", "-q"] + extra + args, env)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn(b" 0 errors", p.stdout)
        for args in ([t.HOST, self.port, "evkv"], [t.HOST, resp, "resp"]):
            with self.subTest(args=args):
                p = self.run_program([BENCH, "-h", args[0], "-p", args[1], "--protocol", args[2], "-n", "500", "-c",
                                      "3", "-q", "-a", "wrong"])
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn(b"refused the login: ", p.stderr)
                self.assertIn(b"invalid username-password pair or user is disabled", p.stderr)
        stats = guide_stats(self.srv, SECRET)
        self.assertGreaterEqual(stats["errors"]["auth_failed"], 1)  # the guide's wrong password
        # only the requests the refused runs had sent behind their logins
        self.assertLessEqual(stats["requests"]["denied"], 3)


def wait_for(cond, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("no %s within %d s" % (what, timeout))
        time.sleep(0.05)


class ClientsTest(t.TempDirTestCase):
    """The programs Redis users have, logging in to evkv."""

    def setUp(self):
        super().setUp()
        data = self.path("table.json")
        with open(data, "w") as f:
            json.dump(TABLE, f)
        acl = self.path("users.acl")
        with open(acl, "w") as f:
            f.write(ACL_FILE)
        self.srv = self.start_server("--resp-port", "any", "--data", data, "--aclfile", acl)
        self.port = str(self.srv.resp_port)

    def run_program(self, argv, env=None):
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                              env=dict(os.environ, HOME=self.dir, **(env or {})))

    def test_redis_cli(self):
        cli = [shutil.which("redis-cli"), "-h", t.HOST, "-p", self.port]
        p = self.run_program(cli + ["--user", "alice", "--pass", "alicepw", "--no-auth-warning", "GET", "a1"])
        self.assertEqual((p.stdout, p.stderr), (b"alpha one\n", b""))
        p = self.run_program(cli + ["--user", "alice", "--pass", "alicepw", "--no-auth-warning", "GET", "b1"])
        self.assertIn(b"NOPERM this user has no permissions to access one of the keys", p.stdout)
        p = self.run_program(cli + ["-a", SECRET, "--no-auth-warning", "GET", "b2"])
        self.assertEqual(p.stdout, b"beta two\n")
        p = self.run_program(cli + ["GET", "b2"], env={"REDISCLI_AUTH": SECRET})
        self.assertEqual(p.stdout, b"beta two\n")
        p = self.run_program(cli + ["GET", "b2"])
        self.assertEqual(p.stdout.strip(), b"NOAUTH Authentication required.")
        p = self.run_program(cli + ["-a", "wrong", "--no-auth-warning", "GET", "b2"])
        self.assertIn(b"WRONGPASS", p.stdout + p.stderr)

    def test_redis_py(self):
        try:
            import redis
        except ImportError:  # the interpreter CTest found may be another than Debian's (pyenv)
            sys.path.append("/usr/lib/python3/dist-packages")
            import redis
        r = redis.Redis(host=t.HOST, port=self.srv.resp_port, username="bob", password="bobpw")
        self.addCleanup(r.close)
        self.assertEqual(r.get("b1"), b"beta one")
        self.assertEqual(r.mget("b1", "b2"), [b"beta one", b"beta two"])
        with self.assertRaises(redis.exceptions.NoPermissionError):
            r.get("a1")
        with self.assertRaises(redis.exceptions.NoPermissionError):
            r.acl_whoami()
        bad = redis.Redis(host=t.HOST, port=self.srv.resp_port, username="bob", password="nope")
        self.addCleanup(bad.close)
        with self.assertRaisesRegex(redis.exceptions.RedisError, "^WRONGPASS invalid username-password pair"):
            bad.get("b1")
        d = redis.Redis(host=t.HOST, port=self.srv.resp_port, password=SECRET)
        self.addCleanup(d.close)
        self.assertEqual(d.get("c1"), b"gamma")
        self.assertEqual(d.acl_whoami(), "default")

    def test_redis_benchmark(self):
        p = self.run_program([shutil.which("redis-benchmark"), "-h", t.HOST, "-p", self.port, "-a", SECRET,
                              "-n", "2000", "-c", "4", "-t", "get", "-q", "--csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'"GET"', p.stdout)
        # every GET answered, none refused: the stats say so
        resp = guide_stats(self.srv, SECRET)["resp"]
        self.assertGreaterEqual(resp["commands"], 2000)
        self.assertEqual((resp["acl_denied_auth"], resp["acl_denied_cmd"], resp["acl_denied_key"]), (0, 0, 0))

    def test_nutcracker(self):
        listen = t.free_port()
        cfg = self.path("nutcracker.yml")
        with open(cfg, "w") as f:
            f.write(f"""evkv:
  listen: {t.HOST}:{listen}
  hash: fnv1a_64
  distribution: ketama
  redis: true
  redis_auth: {SECRET}
  timeout: 5000
  servers:
   - {t.HOST}:{self.port}:1 evkv1
""")
        self.start_nutcracker(cfg, listen)
        # the client authenticates to nutcracker, which sends AUTH to evkv
        # pipelined ahead of the first command it forwards
        conn = t.Resp(listen)
        self.addCleanup(conn.close)
        self.assertEqual(conn.call("AUTH", SECRET), b"OK")
        self.assertEqual(conn.call("GET", "a1"), b"alpha one")
        self.assertEqual(conn.call("MGET", "a1", "b1", "zz"), [b"alpha one", b"beta one", None])


if __name__ == "__main__":
    t.main()

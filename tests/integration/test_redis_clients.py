"""integration.redis_clients: real Redis software, unmodified, from Debian 12,
against evkv's RESP listener (--resp-port):

  redis-cli        one-shot commands, and its prompt on a pseudo-terminal
  redis-benchmark  GET, one request at a time and pipelined (-P 16)
  redis-py         get, mget, exists, both kinds of pipeline, info(), writes
  HAProxy 2.6      in front of evkv with `option redis-check`: UP, then DOWN
  nutcracker       (twemproxy) over two evkv servers: an MGET split over both
  redis_exporter   (prometheus-redis-exporter): redis_up, redis_db_keys

Each answer is checked against what a read-only Redis 7.0 replica serving
the same table answers. The programs come from Debian packages (scripts/test
installs them); a program missing fails its test. Every program runs on
ephemeral ports of 127.0.0.1 with bounded waits, and is stopped at cleanup.

EVKV_RESP_STANDIN=redis runs the tests against a real Redis 7.0 read-only
replica (a master loaded with the table, and a replica of it) instead of
evkv: the tests' own expectations checked against the reference.

What each program sends, besides the commands it is asked to run (seen
between these programs and a Redis 7.0.15 replica):
  redis-cli        one-shot: the command alone. At its prompt: COMMAND DOCS
                   first (on an error, COMMAND; on an error again it prompts
                   all the same); quit and Ctrl-D send nothing.
  redis-benchmark  CONFIG GET save and CONFIG GET appendonly on a connection
                   of their own (an error: "WARNING: Could not fetch server
                   CONFIG" on stderr), then GET key:__rand_int__.
  redis-py 4.3     nothing of its own; a transaction is MULTI, the commands,
                   EXEC in one write (a write queued answers -READONLY, and
                   EXEC -EXECABORT Transaction discarded because of previous
                   errors.).
  HAProxy          *1 PING on a new connection per check, wants +PONG.
  nutcracker 0.5   splits MGET into one `mget` (lower case) per server;
                   answers PING itself; closes the connection on INFO.
  redis_exporter   per scrape, on a new connection: CLIENT SETNAME
                   redis_exporter, CONFIG GET *, INFO ALL, LATENCY LATEST,
                   SLOWLOG LEN, SLOWLOG GET 1. Only INFO ALL is needed for
                   redis_up 1; an error to CLIENT SETNAME or LATENCY LATEST
                   is logged with level=error.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import evkv_test as t

STANDIN = os.environ.get("EVKV_RESP_STANDIN", "")
STEP_TIMEOUT = 10.0  # seconds any one wait takes at most
READONLY = b"READONLY You can't write against a read only replica."

# The table, as a JSON data file: the guide's keys, many plain ones, and
# values that are not strings (answered as their JSON, as json.dumps writes
# it), the empty string, and the key redis-benchmark asks for.
TABLE = dict(t.TABLE)
TABLE.update({f"user:{i:04d}": f"value of user {i} " + "x" * (i % 50) for i in range(300)})
TABLE.update({
    "json:list": [1, 2, 3],
    "json:object": {"name": "neo", "ships": ["Nebuchadnezzar"], "chosen": True, "age": None},
    "json:number": 42,
    "json:float": 1.5,
    "json:null": None,
    "json:looks-like-json": "[1, 2]",
    "empty": "",
    "key:__rand_int__": "xxx",
})


def value_bytes(v):
    """What GET answers for a value of the table: the string, or the JSON."""
    return (v if isinstance(v, str) else json.dumps(v)).encode("utf-8")


def program(name):
    """The path of an installed program; fails the test when it is missing."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not path:
        raise AssertionError(f"{name} is not installed (scripts/test installs its Debian package: "
                             f"see EVKV_EXTRA_PACKAGES there)")
    return path


def import_redis_py():
    """redis-py (python3-redis). The interpreter CTest found may be another
    Python 3 than Debian's (pyenv): Debian's pure-Python package is then
    looked for in /usr/lib/python3/dist-packages too."""
    try:
        import redis
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import redis
        except ImportError:
            raise AssertionError("redis-py is not installed (Debian package python3-redis; "
                                 "scripts/test installs it)") from None
    return redis


def wait_until(cond, what, timeout=STEP_TIMEOUT, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        r = cond()
        if r:
            return r
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def can_connect(port):
    try:
        socket.create_connection((t.HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def info_fields(text):
    """INFO's text as a dict of its name:value lines."""
    return dict(line.split(":", 1) for line in text.decode().split("\r\n")
                if line and not line.startswith("#") and ":" in line)


# ---- the servers under test ----

class Evkv:
    """evkv-server with a RESP listener on a free port (--resp-port any)."""

    def __init__(self, case, data_path):
        self.srv = case.start_server("--resp-port", "any", "--data", data_path)
        if not self.srv.resp_port:
            raise AssertionError("evkv-server logged no 'listening for Redis clients on' line "
                                 f"with --resp-port any; stderr:\n{self.srv.stderr()}")
        self.resp_port = self.srv.resp_port
        self.case = case

    def requests(self):
        """RESP requests answered so far: resp.requests in the answer to the
        stats action of evkv's own protocol."""
        with self.srv.connect() as c:
            c.send(t.json_request({"action": "stats"}))
            stats = t.answer_result(c.read_answer())
        if "resp" not in stats:
            raise AssertionError(f"evkv's stats have no resp section: {stats}")
        return stats["resp"]["requests"]

    def stop(self):
        self.case.assertEqual(self.srv.stop(), 0, self.srv.stderr())


class RedisReplica:
    """A stand-in for evkv: a Redis master loaded with the table and a
    read-only replica of it, whose port is resp_port."""

    def __init__(self, case, table):
        redis_server = program("redis-server")
        self.dir = tempfile.mkdtemp()
        case.addCleanup(shutil.rmtree, self.dir, True)
        self.procs = []
        self.infos = 0
        case.addCleanup(self.kill)
        master = self._start(redis_server, "master", "--repl-diskless-sync-delay", "0")
        conn = t.Resp(master)
        try:
            conn.sock.sendall(b"".join(t.resp_command("SET", k, value_bytes(v)) for k, v in table.items()))
            for k in table:
                reply = conn.reply()
                if reply != b"OK":
                    raise AssertionError(f"the Redis master answered SET {k!r} with {reply!r}")
        finally:
            conn.close()
        self.resp_port = self._start(redis_server, "replica", "--replicaof", t.HOST, str(master))

        def synced():
            c = t.Resp(self.resp_port)
            try:
                link = info_fields(c.call("INFO", "replication")).get("master_link_status")
                return link == "up" and c.call("DBSIZE") == len(table)
            except (t.RespError, EOFError):
                return False
            finally:
                c.close()

        wait_until(synced, "the Redis replica in sync with its master")

    def _start(self, redis_server, name, *args):
        port = t.free_port()
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen([redis_server, "--bind", t.HOST, "--port", str(port), "--save", "",
                              "--appendonly", "no", "--dir", self.dir] + list(args),
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(p)
        wait_until(lambda: p.poll() is None and can_connect(port), f"redis-server ({name}) listening")
        return port

    def requests(self):
        """Commands processed so far, less the INFOs this method sent."""
        c = t.Resp(self.resp_port)
        try:
            n = int(info_fields(c.call("INFO", "stats"))["total_commands_processed"]) - self.infos
            self.infos += 1
            return n
        finally:
            c.close()

    def stop(self):
        p = self.procs[-1]
        p.terminate()
        p.wait(STEP_TIMEOUT)

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


class ClientsTestCase(t.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.data = self.path("table.json")
        with open(self.data, "w", encoding="utf-8") as f:
            json.dump(TABLE, f, ensure_ascii=False)

    def start_target(self):
        """evkv (or, with EVKV_RESP_STANDIN=redis, a Redis replica) serving TABLE."""
        if STANDIN == "redis":
            return RedisReplica(self, TABLE)
        return Evkv(self, self.data)

    def spawn(self, argv, name):
        """Starts a long-running program, its output to a file of the temp
        dir; stopped (SIGTERM, then SIGKILL) at cleanup. Returns
        (process, output_path)."""
        out_path = self.path(name + ".out")
        with open(out_path, "wb") as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

        self.addCleanup(stop)
        return p, out_path

    def show_stat(self, sock_path):
        """HAProxy's `show stat` over its stats socket: {(proxy, server): row}."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(t.IO_TIMEOUT)
        try:
            s.connect(sock_path)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        lines = data.decode().splitlines()
        names = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(names, line.split(","))) for line in lines[1:] if line]
        return {(row["pxname"], row["svname"]): row for row in rows}

    def start_haproxy(self, body):
        """HAProxy in the foreground (-db) on the global and defaults
        sections every test shares (an admin socket in the temp dir; tcp
        mode; 2 s to connect and to check, 10 s idle) followed by body,
        the frontends and backends; stopped at cleanup. Returns, once
        HAProxy has its socket, (process, its output's path, row):
        row(backend, server="evkv1") is that server's row of `show stat`
        (status, check_status, last_chk...)."""
        stats, cfg = self.path("haproxy.sock"), self.path("haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
    stats socket {stats} mode 600 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout check 2s
{body}""")
        p, out = self.spawn([program("haproxy"), "-db", "-f", cfg], "haproxy")
        wait_until(lambda: p.poll() is not None or os.path.exists(stats), "haproxy's stats socket")
        self.assertIsNone(p.poll(), self.output(out))
        return p, out, lambda backend, server="evkv1": self.show_stat(stats)[(backend, server)]

    def output(self, path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def run_program(self, argv, timeout=30, **kw):
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, **kw)


# ---- redis-cli ----

class RedisCliTest(ClientsTestCase):

    def cli(self, port, *args):
        p = self.run_program([program("redis-cli"), "-h", t.HOST, "-p", str(port)] + list(args),
                             env=dict(os.environ, HOME=self.dir))
        self.assertEqual(p.stderr, b"", args)
        return p

    def test_one_shot_commands(self):
        srv = self.start_target()
        port = srv.resp_port
        # With stdout not a terminal, redis-cli prints replies raw.
        for key in ("morpheus", "\U0001f436", "json:object", "json:number", "empty"):
            p = self.cli(port, "GET", key)
            self.assertEqual((p.returncode, p.stdout), (0, value_bytes(TABLE[key]) + b"\n"), key)
        p = self.cli(port, "GET", "no such key")
        self.assertEqual((p.returncode, p.stdout), (0, b"\n"))
        p = self.cli(port, "--raw", "MGET", "ring", "nokey", "json:list")
        self.assertEqual(p.stdout, value_bytes(TABLE["ring"]) + b"\n\n" + b"[1, 2, 3]\n")
        p = self.cli(port, "--no-raw", "MGET", "user:0001", "nokey", "json:looks-like-json", "empty")
        self.assertEqual(p.stdout, b'1) "value of user 1 x"\n2) (nil)\n3) "[1, 2]"\n4) ""\n')
        p = self.cli(port, "--no-raw", "EXISTS", "user:0001", "nokey", "ring")
        self.assertEqual(p.stdout, b"(integer) 2\n")
        p = self.cli(port, "--no-raw", "DBSIZE")
        self.assertEqual(p.stdout, b"(integer) %d\n" % len(TABLE))
        # a write: the replica's error
        p = self.cli(port, "--no-raw", "SET", "morpheus", "x")
        self.assertEqual(p.stdout, b"(error) " + READONLY + b"\n")
        p = self.cli(port, "SET", "morpheus", "x")
        self.assertEqual(p.stdout, READONLY + b"\n\n")
        p = self.cli(port, "GET", "morpheus")
        self.assertEqual(p.stdout, value_bytes(TABLE["morpheus"]) + b"\n")

    def spawn_pty(self, port):
        """redis-cli at its prompt on a pseudo-terminal (TERM=dumb: the
        terminal echoes the line, redis-cli reads it whole)."""
        master, slave = os.openpty()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.dir, "TERM": "dumb",
               "LC_ALL": "C.UTF-8", "REDISCLI_HISTFILE": os.path.join(self.dir, "history")}
        p = subprocess.Popen([program("redis-cli"), "-h", t.HOST, "-p", str(port)], stdin=slave,
                             stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)

        def close():
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)

        self.addCleanup(close)
        p.master = master
        p.buf = b""
        return p

    def read_until(self, p, marker, eof=False):
        deadline = time.monotonic() + STEP_TIMEOUT
        while eof or marker not in p.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"redis-cli: no {marker!r} within {STEP_TIMEOUT} s; output: {p.buf!r}")
            r, _, _ = select.select([p.master], [], [], left)
            if r:
                try:
                    data = os.read(p.master, 65536)
                except OSError:  # EIO: the terminal's other end is closed
                    data = b""
                if not data:
                    if eof:
                        break
                    raise AssertionError(f"redis-cli closed the terminal; output: {p.buf!r}")
                p.buf += data
        if eof:
            out, p.buf = p.buf, b""
            return out
        i = p.buf.index(marker) + len(marker)
        out, p.buf = p.buf[:i], p.buf[i:]
        return out

    def test_interactive(self):
        srv = self.start_target()
        prompt = f"{t.HOST}:{srv.resp_port}> ".encode()
        for how in ("quit", "eof"):
            p = self.spawn_pty(srv.resp_port)
            # At start it asks COMMAND DOCS for its hints, then prompts.
            self.assertEqual(self.read_until(p, prompt), prompt, how)
            os.write(p.master, b"GET user:0007\r")
            self.assertEqual(self.read_until(p, prompt),
                             b'GET user:0007\r\n"value of user 7 xxxxxxx"\r\n' + prompt)
            os.write(p.master, b"MGET json:list nokey\r")
            self.assertEqual(self.read_until(p, prompt),
                             b'MGET json:list nokey\r\n1) "[1, 2, 3]"\r\n2) (nil)\r\n' + prompt)
            os.write(p.master, b"quit\r" if how == "quit" else b"\x04")
            self.read_until(p, b"", eof=True)
            self.assertEqual(p.wait(STEP_TIMEOUT), 0, how)


# ---- redis-benchmark ----

class RedisBenchmarkTest(ClientsTestCase):

    def test_get(self):
        srv = self.start_target()
        for pipeline in ("1", "16"):
            before = srv.requests()
            p = self.run_program([program("redis-benchmark"), "-h", t.HOST, "-p", str(srv.resp_port),
                                  "-t", "get", "-n", "20000", "-c", "10", "-P", pipeline, "-q"],
                                 timeout=20)
            out = p.stdout.decode("utf-8", "replace")
            self.assertEqual(p.returncode, 0, f"-P {pipeline}: {out}\n{p.stderr!r}")
            m = re.search(r"(?:^|\r|\n)GET: ([0-9.]+) requests per second", out)
            self.assertTrue(m, f"-P {pipeline}: {out!r}")
            self.assertGreater(float(m.group(1)), 0)
            self.assertNotIn("WARNING", out + p.stderr.decode("utf-8", "replace"))
            # the 20000 GETs (and the CONFIG GETs it asks at start)
            self.assertGreaterEqual(srv.requests() - before, 20000, f"-P {pipeline}")


# ---- redis-py ----

class RedisPyTest(ClientsTestCase):

    def test_redis_py(self):
        redis = import_redis_py()
        srv = self.start_target()
        r = redis.Redis(host=t.HOST, port=srv.resp_port, socket_timeout=t.IO_TIMEOUT)
        self.addCleanup(r.close)
        self.assertTrue(r.ping())
        self.assertEqual(r.get("morpheus"), value_bytes(TABLE["morpheus"]))
        self.assertIsNone(r.get("nokey"))
        keys = sorted(TABLE) + ["nokey", "user:9999"]
        self.assertEqual(r.mget(keys), [value_bytes(TABLE[k]) if k in TABLE else None for k in keys])
        self.assertEqual(r.exists("ring", "nokey", "ring", "empty"), 3)
        self.assertEqual(r.exists("nokey"), 0)
        self.assertEqual(r.dbsize(), len(TABLE))
        # string values and JSON values
        self.assertEqual(json.loads(r.get("json:object")), TABLE["json:object"])
        self.assertEqual(r.get("json:number"), b"42")
        self.assertEqual(r.get("json:null"), b"null")
        self.assertEqual(r.get("json:looks-like-json"), b"[1, 2]")
        self.assertEqual(r.get("empty"), b"")
        self.assertEqual(r.strlen("morpheus"), len(value_bytes(TABLE["morpheus"])))
        self.assertEqual(r.type("ring"), b"string")
        self.assertEqual(r.ttl("ring"), -1)
        rd = redis.Redis(host=t.HOST, port=srv.resp_port, socket_timeout=t.IO_TIMEOUT,
                         decode_responses=True)
        self.addCleanup(rd.close)
        self.assertEqual(rd.get("\U0001f436"), TABLE["\U0001f436"])
        # pipelines: MULTI/EXEC (the default), and plain
        for transaction in (True, False):
            pipe = r.pipeline(transaction=transaction)
            pipe.get("ring").get("nokey").mget("user:0001", "nokey").exists("ring", "user:0002")
            pipe.get("json:list")
            self.assertEqual(pipe.execute(),
                             [value_bytes(TABLE["ring"]), None, [value_bytes(TABLE["user:0001"]), None], 2,
                              b"[1, 2, 3]"], f"transaction={transaction}")
        # INFO, parsed by redis-py
        info = r.info()
        self.assertEqual(info["db0"], {"keys": len(TABLE), "expires": 0, "avg_ttl": 0})
        # role: not checked (evkv's INFO says role:master, a replica's slave)
        self.assertIn("redis_version", info)
        # writes
        with self.assertRaises(redis.exceptions.ReadOnlyError) as cm:
            r.set("morpheus", "x")
        self.assertEqual(str(cm.exception), READONLY.decode().split(" ", 1)[1])
        with self.assertRaises(redis.exceptions.ReadOnlyError):
            r.delete("ring")
        # the error in a transaction aborts it at EXEC, as a replica does
        pipe = r.pipeline()
        pipe.get("ring").set("ring", "x")
        with self.assertRaises(redis.exceptions.ReadOnlyError):
            pipe.execute()
        self.assertEqual(r.get("ring"), value_bytes(TABLE["ring"]))


# ---- HAProxy ----

class HAProxyTest(ClientsTestCase):

    def test_redis_check(self):
        srv = self.start_target()
        front = t.free_port()
        p, out, row = self.start_haproxy(f"""frontend redis
    bind {t.HOST}:{front}
    default_backend evkv
backend evkv
    option redis-check
    server evkv1 {t.HOST}:{srv.resp_port} check inter 100ms fall 2 rise 1
""")

        def status():
            r = row("evkv")
            return r["status"], r["check_status"], r["last_chk"]

        wait_until(lambda: status()[0] == "UP", f"haproxy marking the server UP ({status()})")
        self.assertEqual(status(), ("UP", "L7OK", "Redis server is ok"))
        conn = t.Resp(front)
        self.addCleanup(conn.close)
        self.assertEqual(conn.call("GET", "morpheus"), value_bytes(TABLE["morpheus"]))
        self.assertEqual(conn.call("MGET", "ring", "nokey"), [value_bytes(TABLE["ring"]), None])
        conn.close()
        srv.stop()
        wait_until(lambda: status()[0] == "DOWN", f"haproxy marking the server DOWN ({status()})")
        self.assertIsNone(p.poll(), self.output(out))


# ---- nutcracker (twemproxy) ----

class NutcrackerTest(ClientsTestCase):

    def test_mget_over_two_servers(self):
        servers = [self.start_target(), self.start_target()]
        listen = t.free_port()
        cfg = self.path("nutcracker.yml")
        with open(cfg, "w") as f:
            f.write(f"""evkv:
  listen: {t.HOST}:{listen}
  hash: fnv1a_64
  distribution: ketama
  redis: true
  timeout: 5000
  servers:
   - {t.HOST}:{servers[0].resp_port}:1 evkv1
   - {t.HOST}:{servers[1].resp_port}:1 evkv2
""")
        self.start_nutcracker(cfg, listen)
        before = [s.requests() for s in servers]
        conn = t.Resp(listen)
        self.addCleanup(conn.close)
        keys = sorted(TABLE) + [f"missing:{i}" for i in range(20)]
        self.assertEqual(conn.call("MGET", *keys),
                         [value_bytes(TABLE[k]) if k in TABLE else None for k in keys])
        self.assertEqual(conn.call("GET", "\U0001f436"), value_bytes(TABLE["\U0001f436"]))
        self.assertEqual(conn.call("EXISTS", "ring"), 1)
        err = conn.call("SET", "ring", "x")
        self.assertIsInstance(err, t.RespError)
        self.assertEqual(str(err), READONLY.decode())
        # nutcracker sends each server one mget of its keys
        after = [s.requests() for s in servers]
        for i in (0, 1):
            self.assertGreater(after[i], before[i], f"server {i + 1} got no part of the MGET")


# ---- prometheus-redis-exporter ----

class ExporterTest(ClientsTestCase):

    def test_metrics(self):
        exporter = program("prometheus-redis-exporter")
        srv = self.start_target()
        web = t.free_port()
        p, out = self.spawn([exporter, "--redis.addr", f"redis://{t.HOST}:{srv.resp_port}",
                             "--web.listen-address", f"{t.HOST}:{web}"], "exporter")
        wait_until(lambda: p.poll() is not None or can_connect(web), "the exporter listening")
        self.assertIsNone(p.poll(), self.output(out))
        with urllib.request.urlopen(f"http://{t.HOST}:{web}/metrics", timeout=STEP_TIMEOUT) as resp:
            metrics = resp.read().decode()
        lines = set(metrics.splitlines())
        for line in ("redis_up 1", f'redis_db_keys{{db="db0"}} {len(TABLE)}',
                     'redis_db_keys_expiring{db="db0"} 0', 'redis_exporter_last_scrape_error{err=""} 0'):
            self.assertIn(line, lines, f"exporter's log:\n{self.output(out)}")
        self.assertRegex(metrics, r'(?m)^redis_instance_info\{.*redis_version="7\.0\.\d+".*\} 1$')
        self.assertNotIn("level=error", self.output(out))


if __name__ == "__main__":
    t.main()

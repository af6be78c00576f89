"""
redis_oracle.py: a real Redis master and read-only replicas holding a given
table, for tests that compare evkv's RESP answers with Redis's.

    with redis_oracle.ReplicatedRedis({b"key": b"value"}, replicas=1) as rr:
        rr.master_port, rr.replica_ports[0]

Starts redis-server (Debian's 7.0) as a master on an ephemeral port of
127.0.0.1 with no persistence (--save '' --appendonly no, --dir a temporary
directory, --daemonize no, its log in a file there), loads it with the table
(pipelined multibulk SETs on one socket), then starts each replica with
--replicaof and waits until its INFO replication says
master_link_status:up and its DBSIZE is the table's size. Every wait is
bounded (OracleError when one runs out, with the servers' logs). stop()
(or leaving the with block, or the test's cleanup: see start_for_test)
terminates the servers, then kills any still running after a grace, and
removes the directory; the servers are also killed with SIGKILL if this
Python process dies first (PR_SET_PDEATHSIG), so none outlives a test run.

RedisCluster(table, masters=3, replicas=1) makes a real Redis Cluster the
same way (each node's bus port, port + 10000, free too) with `redis-cli
--cluster create ... --cluster-yes`, waits until every node says
cluster_state:ok, knows every node and lists every replica in CLUSTER
SLOTS, and SETs each key on its slot's master; its replicas in sync.

Also for those tests: command(*args) encodes a multibulk request,
ReplyReader reads whole RESP2 replies from a socket, decode() and encode()
turn a reply's bytes into Python values and back (all three from
resp_reply.py, the tests' one reply reader), ask(port, request) sends one
request on a new connection and decodes its reply.

Standard library only. available() says whether redis-server is installed
(REDIS_SERVER in the environment names another binary).
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from resp_reply import ReplyError, ReplyReader, decode, encode  # noqa: F401 (this module's API)

HOST = "127.0.0.1"
REDIS_SERVER = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
START_TIMEOUT = 10.0  # seconds for a server to answer PING
SYNC_TIMEOUT = 30.0  # seconds for a replica to be up and hold the whole table
STOP_TIMEOUT = 5.0  # seconds for a server to exit on SIGTERM before SIGKILL
IO_TIMEOUT = 10.0


class OracleError(Exception):
    """A Redis server that did not start, load or sync in time."""


def available():
    """Whether a redis-server binary is there to run."""
    return bool(REDIS_SERVER) and os.access(REDIS_SERVER, os.X_OK)


def _die_with_parent():
    # preexec_fn: SIGKILL this child when the process that started it dies
    # (prctl PR_SET_PDEATHSIG, 1); on failure the child still runs, and the
    # normal cleanup stops it.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _as_bytes(x):
    return x if isinstance(x, (bytes, bytearray)) else str(x).encode("utf-8")


def command(*args):
    """One multibulk request of args (bytes, str or int)."""
    args = [_as_bytes(a) for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def ask(port, request, timeout=IO_TIMEOUT):
    """Sends request on a new connection and returns the decoded reply."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(request)
        return decode(ReplyReader(s).read_reply())


class RedisProcess:
    """One redis-server on an ephemeral port, its directory and log in
    workdir/name."""

    def __init__(self, workdir, name, *extra, cluster=False):
        self.name = name
        self.cluster = cluster  # its cluster bus, port + 10000, must be free too
        self.dir = os.path.join(workdir, name)
        os.mkdir(self.dir)
        self.log_path = os.path.join(self.dir, "redis.log")
        self.port = None
        self.proc = None
        self._log = open(self.log_path, "wb")
        self._extra = [str(a) for a in extra]

    def start(self, timeout=START_TIMEOUT):
        """Starts the server on a free port; returns once it answers PING."""
        deadline = time.monotonic() + timeout
        for _attempt in range(5):  # a port taken between the probe and the bind: another one
            self.port = free_cluster_port() if self.cluster else _free_port()
            argv = [REDIS_SERVER, "--port", str(self.port), "--bind", HOST, "--save", "",
                    "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
                    "--logfile", "", "--dbfilename", "dump.rdb"] + self._extra
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            while self.proc.poll() is None:
                try:
                    if ask(self.port, b"PING\r\n", timeout=1.0) == b"PONG":
                        return self
                except (OSError, EOFError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise OracleError("%s did not answer PING within %.0f s; log:\n%s"
                                      % (self.name, timeout, self.log()))
                time.sleep(0.01)
            if "Address already in use" not in self.log():
                break
        raise OracleError("%s exited with %s; log:\n%s" % (self.name, self.proc.returncode, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def info(self, section):
        """INFO section as a dict of field -> text."""
        text = ask(self.port, command("INFO", section))
        out = {}
        for line in text.decode("utf-8", "replace").split("\r\n"):
            if line and not line.startswith("#") and ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def stop(self, timeout=STOP_TIMEOUT):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


_ports_given = set()


def _free_port():
    """A free port of 127.0.0.1 this process was not given before (two
    binds in a row can get the same one)."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise OracleError("no free port this process was not given already")


def free_cluster_port():
    """A port of 127.0.0.1 free now, with port + 10000 (a cluster node's
    bus) free too; under 55536, as Redis Cluster wants."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port > 55535:
            port = 20000 + port % 30000
        if port in _ports_given or port + 10000 in _ports_given:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind((HOST, port))
                b.bind((HOST, port + 10000))
            _ports_given.update((port, port + 10000))
            return port
        except OSError:
            continue
    raise OracleError("no free port with a free cluster bus port")


def load(port, table, batch=1000):
    """SETs every key of table (bytes or str -> bytes or str) on the server
    at port, pipelined in batches; checks each reply is +OK."""
    items = list(table.items())
    with socket.create_connection((HOST, port), timeout=IO_TIMEOUT) as s:
        reader = ReplyReader(s)
        for i in range(0, len(items), batch):
            chunk = items[i:i + batch]
            s.sendall(b"".join(command("SET", k, v) for k, v in chunk))
            for k, _ in chunk:
                reply = reader.read_reply()
                if reply != b"+OK\r\n":
                    raise OracleError("SET %r: %r" % (k, reply))


class ReplicatedRedis:
    """A master holding table and `replicas` read-only replicas of it, all
    up to date once start() returns."""

    def __init__(self, table, replicas=1, master_args=(), replica_args=()):
        self.table = {_as_bytes(k): _as_bytes(v) for k, v in table.items()}
        self.n_replicas = replicas
        self.master_args = list(master_args)
        self.replica_args = list(replica_args)
        self.workdir = None
        self.master = None
        self.replicas = []

    @property
    def master_port(self):
        return self.master.port

    @property
    def replica_ports(self):
        return [r.port for r in self.replicas]

    @property
    def replica_port(self):
        """The first replica's port."""
        return self.replicas[0].port

    def start(self, timeout=SYNC_TIMEOUT):
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout):
        if not available():
            raise OracleError("no redis-server (apt-get install redis-server, or set REDIS_SERVER)")
        self.workdir = tempfile.mkdtemp(prefix="evkv-redis-oracle.")
        # Diskless full syncs with no delay: a replica is up as soon as it
        # connects, rather than after the default 5 s of waiting for others.
        self.master = RedisProcess(self.workdir, "master", "--repl-diskless-sync", "yes",
                                   "--repl-diskless-sync-delay", "0", *self.master_args).start()
        load(self.master.port, self.table)
        for i in range(self.n_replicas):
            r = RedisProcess(self.workdir, "replica%d" % (i + 1), "--replicaof", HOST, self.master.port,
                             "--replica-read-only", "yes", *self.replica_args)
            self.replicas.append(r.start())
        deadline = time.monotonic() + timeout
        for r in self.replicas:
            while True:
                if (r.info("replication").get("master_link_status") == "up"
                        and ask(r.port, b"DBSIZE\r\n") == len(self.table)):
                    break
                if time.monotonic() > deadline:
                    raise OracleError("%s not in sync within %.0f s; its log:\n%s\nthe master's log:\n%s"
                                      % (r.name, timeout, r.log(), self.master.log()))
                time.sleep(0.02)
        return self

    def stop(self):
        for p in self.replicas + ([self.master] if self.master else []):
            p.stop()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def start_for_test(testcase, table, replicas=1, **kw):
    """Starts a ReplicatedRedis for a unittest.TestCase (setUp or
    setUpClass's cls) and has it stopped at the test's (class's) cleanup.
    Fails when redis-server is missing (scripts/test installs it)."""
    if not available():
        raise AssertionError("no redis-server: scripts/test installs it (apt-get install redis-server)")
    rr = ReplicatedRedis(table, replicas=replicas, **kw)
    if isinstance(testcase, type):
        testcase.addClassCleanup(rr.stop)
    else:
        testcase.addCleanup(rr.stop)
    return rr.start()


class RedisCluster:
    """A real Redis Cluster of `masters` masters with `replicas` replicas
    each, made by `redis-cli --cluster create` on free ports (with their
    bus ports, port + 10000, free too), holding table once start()
    returns: every node says cluster_state:ok and knows every other, and
    each replica holds its master's keys. stop() as ReplicatedRedis's."""

    def __init__(self, table, masters=3, replicas=1):
        self.table = {_as_bytes(k): _as_bytes(v) for k, v in table.items()}
        self.n = masters * (1 + replicas)
        self.replicas_per_master = replicas
        self.workdir = None
        self.nodes = []

    @property
    def ports(self):
        return [n.port for n in self.nodes]

    def start(self, timeout=SYNC_TIMEOUT):
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait(self, what, ok, timeout):
        deadline = time.monotonic() + timeout
        while not ok():
            if time.monotonic() > deadline:
                raise OracleError("%s not within %.0f s; the logs:\n%s"
                                  % (what, timeout, "\n".join(n.log() for n in self.nodes)))
            time.sleep(0.05)

    def _start(self, timeout):
        if not available():
            raise OracleError("no redis-server (apt-get install redis-server, or set REDIS_SERVER)")
        self.workdir = tempfile.mkdtemp(prefix="evkv-redis-cluster.")
        for i in range(self.n):
            node = RedisProcess(self.workdir, "node%d" % (i + 1), "--cluster-enabled", "yes",
                                "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
                                "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", cluster=True)
            self.nodes.append(node.start())
        cli = shutil.which("redis-cli")
        if not cli:
            raise OracleError("no redis-cli (apt-get install redis-tools)")
        out = subprocess.run([cli, "--cluster", "create"] + ["%s:%d" % (HOST, p) for p in self.ports]
                             + ["--cluster-replicas", str(self.replicas_per_master), "--cluster-yes"],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        if out.returncode != 0:
            raise OracleError("redis-cli --cluster create: %s" % out.stdout.decode() + out.stderr.decode())

        def state_ok():
            for n in self.nodes:
                nodes = ask(n.port, command("CLUSTER", "NODES")).decode()
                slaves = sum(" slave " in line.replace(",", " ") for line in nodes.splitlines())
                if (b"cluster_state:ok" not in ask(n.port, command("CLUSTER", "INFO"))
                        or len(nodes.splitlines()) != self.n or "handshake" in nodes or "fail" in nodes
                        or slaves != self.n - self.n // (1 + self.replicas_per_master)):
                    return False
            return True

        self._wait("cluster_state:ok on every node", state_ok, timeout)
        self._load()
        masters = [n for n in self.nodes if n.info("replication").get("role") == "master"]
        total = sum(ask(m.port, b"DBSIZE\r\n") for m in masters)
        if total != len(self.table):
            raise OracleError("the masters hold %d keys, not %d" % (total, len(self.table)))

        def replicas_synced():
            for n in self.nodes:
                rep = n.info("replication")
                if rep.get("role") == "slave":
                    master = [m for m in masters if m.port == int(rep["master_port"])][0]
                    if rep.get("master_link_status") != "up" or \
                            ask(n.port, b"DBSIZE\r\n") != ask(master.port, b"DBSIZE\r\n"):
                        return False
            return True

        self._wait("every replica in sync", replicas_synced, timeout)

        def slots_list_replicas():
            # CLUSTER SLOTS lists a replica once gossip has told of its
            # replication offset (isReplicaAvailable)
            want = 3 + self.replicas_per_master
            return all(len(r) == want for n in self.nodes for r in ask(n.port, command("CLUSTER", "SLOTS")))

        self._wait("every replica in every node's CLUSTER SLOTS", slots_list_replicas, timeout)
        return self

    def _load(self, batch=1000):
        """Each key SET on the master of its slot (CLUSTER KEYSLOT and
        CLUSTER SLOTS, asked of the first node)."""
        port = self.nodes[0].port
        slots = ask(port, command("CLUSTER", "SLOTS"))
        owner = {}
        for r in slots:
            for s in range(r[0], r[1] + 1):
                owner[s] = r[2][1]
        keys = list(self.table)
        by_port = {}
        with socket.create_connection((HOST, port), timeout=IO_TIMEOUT) as s:
            reader = ReplyReader(s)
            for i in range(0, len(keys), batch):
                chunk = keys[i:i + batch]
                s.sendall(b"".join(command("CLUSTER", "KEYSLOT", k) for k in chunk))
                for k in chunk:
                    by_port.setdefault(owner[decode(reader.read_reply())], {})[k] = self.table[k]
        for p, table in by_port.items():
            load(p, table, batch)

    def stop(self):
        for n in self.nodes:
            n.stop()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

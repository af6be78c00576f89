"""integration.cluster: scripts/cluster up starts 2 shards x 2 replicas of
evkv behind a real HAProxy (a frontend per shard and protocol) and a real
nutcracker over the shards; every key of the table is found through
nutcracker (MGET) and through its shard's guide-protocol frontend, with
its value, before and after a replica is killed; scripts/cluster down then
leaves none of the recorded processes running. up --tls: the same over
TLS only (certificates made by openssl), through HAProxy's TLS frontends
with evkv-cli --tls and redis-cli --tls, plain text and certificate-less
clients refused, a killed replica marked DOWN by checks over TLS. Usage
errors exit 2 and
start nothing. Two ups at once into one DIR start one cluster; a DIR with
spaces and quotes works, one HAProxy cannot use is refused before anything
starts; status and down skip pids lines that name no process of the
cluster's, and never signal them."""

import fcntl
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time

import evkv_test as t
from evkv_test import Resp, RespError

SCRIPT = os.path.join(t.HERE, "..", "..", "scripts", "cluster")
KEYS = 20000
UP_TIMEOUT = 120
ATTEMPTS = 5  # a client's retries, for requests a killed replica lost


def alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# A kill for the script under test (bash takes it from the environment as
# BASH_FUNC_kill%%) that signals only "kill -SIGNAL PID" with PID a whole
# number from 1 to 4194304, refuses anything else, and logs each call: a
# test of malformed pids lines never risks kill -1 or a process group,
# whatever pid the script gives kill.
SAFE_KILL = r"""() {
  if [ $# -eq 2 ] && [[ $1 =~ ^-[A-Z0-9]+$ ]] && [[ $2 =~ ^[1-9][0-9]{0,6}$ ]] && [ "$2" -le 4194304 ]; then
    echo "kill $*" >>"$EVKV_TEST_KILL_LOG"
    builtin kill "$@"
  else
    echo "REFUSED kill $*" >>"$EVKV_TEST_KILL_LOG"
    return 1
  fi
}"""


def processes_of(cdir):
    """The pids of the processes with CDIR in their command line."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if cdir.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def start_time(pid):
    """The process's start time, field 22 of /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


class ClusterTest(t.TempDirTestCase):

    def cluster(self, *args, timeout=UP_TIMEOUT, env=None):
        """scripts/cluster ARGS, in a session of its own (a kill 0 it made
        would reach only itself), with env added to the environment."""
        full = {**os.environ, **(env or {})}
        full.setdefault("EVKV_SERVER", t.SERVER)
        return subprocess.run([SCRIPT, *args], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, env=full, start_new_session=True)

    def port_was_taken(self):
        logs = os.path.join(self.cdir, "logs")
        for name in os.listdir(logs) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), errors="replace") as f:
                if "in use" in f.read():
                    return True
        return False

    def up(self, cdir=None, keys=KEYS, extra=()):
        """scripts/cluster up --shards 2 --replicas 2 --keys KEYS (and
        extra) into CDIR (self.path("cluster")); sets self.ends (the
        endpoints), and self.table and self.keys (its data set)."""
        self.cdir = cdir or self.path("cluster")
        self.addCleanup(self.cluster, "down", "--dir", self.cdir)
        for attempt in range(3):
            r = self.cluster("up", "--shards", "2", "--replicas", "2", "--keys", str(keys), "--dir", self.cdir,
                             *extra)
            # The free ports up picks can be taken by another program (a
            # test running beside this one) before its servers bind them:
            # up then stops what it started and exits 1; so go again.
            if r.returncode != 1 or attempt == 2 or not self.port_was_taken():
                break
            shutil.rmtree(self.cdir)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.read_endpoints(r.stdout, keys, tls="--tls" in extra)
        return r

    def read_endpoints(self, stdout, keys, tls=False):
        ends = {}
        for line in stdout.splitlines():
            # HAProxy's socket path is DIR's, which may hold spaces.
            m = re.fullmatch(r"haproxy stats (.*) pid (\d+)", line)
            words = ["haproxy", "stats", m[1], "pid", m[2]] if m else line.split()
            ends[words[0]] = dict(zip(words[1::2], words[2::2]))
        names = ["haproxy", "shard1", "shard2", "shard1-r1", "shard1-r2", "shard2-r1", "shard2-r2"]
        names += ["tls-client", "tls-server"] if tls else ["nutcracker"]
        self.assertEqual(sorted(ends), sorted(names), stdout)
        self.ends = ends
        data = os.path.join(self.cdir, f"data-n{keys}-v100-s1.tsv")
        with open(data, encoding="utf-8") as f:
            self.table = dict(line.rstrip("\n").split("\t", 1) for line in f)
        self.assertEqual(len(self.table), keys)
        self.keys = list(self.table)

    @staticmethod
    def port(address):
        return int(address.rsplit(":", 1)[1])

    def with_retries(self, what, fn):
        for attempt in range(ATTEMPTS):
            try:
                return fn()
            except (OSError, EOFError, ConnectionError, RespError) as e:
                if attempt == ATTEMPTS - 1:
                    raise AssertionError(f"{what}: {e!r} after {ATTEMPTS} attempts") from e
                time.sleep(0.5)

    def assert_all_through_nutcracker(self, batch=200):
        port = self.port(self.ends["nutcracker"]["resp"])
        conn = [Resp(port)]

        def mget(part):
            try:
                got = conn[0].call("MGET", *part)
            except (OSError, ConnectionError):
                conn[0].close()
                conn[0] = Resp(port)
                raise
            if isinstance(got, RespError):
                raise got
            return got

        try:
            for start in range(0, len(self.keys), batch):
                part = self.keys[start:start + batch]
                got = self.with_retries("MGET through nutcracker", lambda: mget(part))
                want = [self.table[k].encode() for k in part]
                if got != want:
                    bad = [(k, g) for k, g, w in zip(part, got, want) if g != w]
                    self.fail(f"{len(bad)} of {len(part)} keys wrong through nutcracker, e.g. {bad[:3]}")
        finally:
            conn[0].close()

    def found_through_guide(self, shard, batch=200):
        """The keys shard's guide frontend finds, each checked: its value,
        or the miss answer."""
        port = self.port(self.ends[shard]["guide"])
        found = set()

        def search(part):
            with t.Conn(port) as c:
                c.send(b"".join(t.search_request(k) for k in part))
                return [t.answer_result(a) for a in c.read_answers(len(part))]

        for start in range(0, len(self.keys), batch):
            part = self.keys[start:start + batch]
            results = self.with_retries(f"{shard}'s guide frontend", lambda: search(part))
            for k, res in zip(part, results):
                if res == self.table[k]:
                    found.add(k)
                else:
                    self.assertEqual(res, t.miss_text(k), f"{shard}: {k}")
        return found

    def assert_all_through_guide(self):
        one, two = self.found_through_guide("shard1"), self.found_through_guide("shard2")
        self.assertFalse(one & two, "a key kept by both shards")
        self.assertEqual(len(one | two), len(self.keys), "keys found by neither shard")
        self.assertGreater(len(one), len(self.keys) // 4)
        self.assertGreater(len(two), len(self.keys) // 4)

    def recorded_pids(self):
        with open(os.path.join(self.cdir, "pids")) as f:
            return {line.split()[0]: int(line.split()[1]) for line in f}

    def checked_pid(self, name):
        """name's pid from DIR/pids, checked before the test signals it: a
        positive pid whose process still has the start time and program
        recorded (never a group, nor a pid reused)."""
        with open(os.path.join(self.cdir, "pids")) as f:
            (line,) = [l for l in f if l.split()[0] == name]
        _, pid, start, exe = line.rstrip("\n").split(" ", 3)
        pid = int(pid)
        self.assertGreater(pid, 0, line)
        self.assertTrue(alive(pid), f"{line.strip()}: not running")
        self.assertEqual(start_time(pid), start, line)
        self.assertEqual(os.readlink(f"/proc/{pid}/exe"), exe, line)
        return pid

    def test_up_kill_a_replica_down(self):
        self.up()
        pids = self.recorded_pids()
        self.assertEqual(sorted(pids), ["haproxy", "nutcracker", "shard1-r1", "shard1-r2", "shard2-r1", "shard2-r2"])
        self.assertTrue(all(alive(p) for p in pids.values()), pids)
        for name in ("haproxy.cfg", "nutcracker.yml"):
            with open(os.path.join(self.cdir, name)) as f:
                self.assertIn("#", f.read())
        st = self.cluster("status", "--dir", self.cdir)
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)

        self.assert_all_through_nutcracker()
        self.assert_all_through_guide()

        os.kill(self.checked_pid("shard1-r1"), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while alive(pids["shard1-r1"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assert_all_through_nutcracker()
        self.assert_all_through_guide()
        st = self.cluster("status", "--dir", self.cdir)
        self.assertEqual(st.returncode, 1, st.stdout + st.stderr)
        self.assertIn("shard1-r1 pid", st.stdout)
        self.assertIn("NOT running", st.stdout)

        down = self.cluster("down", "--dir", self.cdir, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        left = {n: p for n, p in pids.items() if alive(p)}
        self.assertEqual(left, {}, "still running after down")
        self.assertFalse(os.path.exists(os.path.join(self.cdir, "pids")))
        st = self.cluster("status", "--dir", self.cdir)
        self.assertEqual(st.returncode, 1, st.stdout + st.stderr)

    def haproxy_states(self):
        """{(backend, server): status} from HAProxy's show stat."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        with s:
            s.connect(self.ends["haproxy"]["stats"])
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        rows = [l.split(",") for l in data.decode().splitlines() if l and not l.startswith("#")]
        return {(r[0], r[1]): r[17] for r in rows if len(r) > 17 and r[1] not in ("FRONTEND", "BACKEND")}

    def tls_found(self, tls, shard):
        """The keys shard's TLS frontends find, through evkv-cli --tls (the
        guide's protocol, every key on its stdin) and redis-cli --tls
        (MGET of every key), each with the client certificate; each key
        checked (its value, or the miss answer, or nil) and the two
        clients agreeing."""
        files = ["--tls", "--cacert", tls["cacert"], "--cert", tls["cert"], "--key", tls["key"]]
        guide, resp = (self.port(self.ends[shard][k]) for k in ("guide-tls", "resp-tls"))

        def run(argv, stdin=None, ok=(0,)):
            r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
            if r.returncode not in ok:
                raise ConnectionError(f"{argv[0]} exit {r.returncode}: {r.stderr.strip()}")
            return r.stdout.splitlines()

        lines = self.with_retries(f"evkv-cli --tls, {shard}", lambda: run(
            [t.CLI, *files, "-h", t.HOST, "-p", str(guide)], "\n".join(self.keys) + "\n", ok=(1,)))
        self.assertEqual(len(lines), len(self.keys), f"{shard}: evkv-cli printed {lines[:3]}...")
        found = set()
        for k, line in zip(self.keys, lines):
            if line == self.table[k]:
                found.add(k)
            else:
                self.assertEqual(line, t.miss_text(k), f"{shard}: {k}")
        values = self.with_retries(f"redis-cli --tls, {shard}", lambda: run(
            ["redis-cli", *files, "-h", t.HOST, "-p", str(resp), "MGET", *self.keys]))
        self.assertEqual(values, [self.table[k] if k in found else "" for k in self.keys], shard)
        return found

    def assert_all_over_tls(self, tls):
        one, two = self.tls_found(tls, "shard1"), self.tls_found(tls, "shard2")
        self.assertFalse(one & two, "a key kept by both shards")
        self.assertEqual(len(one | two), len(self.keys), "keys found by neither shard")
        self.assertGreater(len(one), len(self.keys) // 4)
        self.assertGreater(len(two), len(self.keys) // 4)

    def test_tls_up_kill_a_replica_down(self):
        """up --tls: certificates made with openssl (keys 0600), 2 shards x
        2 TLS-only replicas behind HAProxy (TLS both sides, check-ssl), no
        nutcracker. Every key is found through the shards' frontends with
        evkv-cli --tls and redis-cli --tls and the client certificate; a
        plain-text client, and a TLS client without a certificate, get
        nothing, from the frontends and from the replicas. A replica
        SIGKILLed is marked DOWN by HAProxy's checks over TLS (the other
        stays UP) while every key is still served; down stops all."""
        r = self.up(keys=2000, extra=["--tls"])
        self.assertIn("--tls --cacert", r.stderr)  # the command lines users get
        tls = self.ends["tls-client"]
        pids = self.recorded_pids()
        self.assertEqual(sorted(pids), ["haproxy", "shard1-r1", "shard1-r2", "shard2-r1", "shard2-r2"])
        for name in ("ca.key", "server.key", "client.key", "server.pem", "client.pem"):
            mode = stat.S_IMODE(os.stat(os.path.join(self.cdir, "tls", name)).st_mode)
            self.assertEqual(mode, 0o600, name)
        st = self.cluster("status", "--dir", self.cdir)
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        self.assertIn(f"tls-client cacert {tls['cacert']} cert {tls['cert']} key {tls['key']}", st.stdout)
        self.assertIn("redis-cli --tls --cacert", st.stdout)
        # HAProxy had every replica UP before up returned: its checks
        # reached the TLS-only replicas over TLS, with the certificate.
        self.assertEqual(set(self.haproxy_states().values()), {"UP"})

        self.assert_all_over_tls(tls)
        key = self.keys[0]
        for name in ("shard1", "shard1-r1"):
            for proto in ("resp-tls", "guide-tls"):
                port = self.port(self.ends[name][proto])
                with socket.create_connection((t.HOST, port), timeout=5) as plain:
                    plain.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key.encode())
                                  if proto == "resp-tls" else t.search_request(key))
                    try:
                        got = plain.recv(4096)
                    except ConnectionResetError:
                        got = b""
                    self.assertEqual(got, b"", f"{name} {proto}: plain text answered")
            nocert = subprocess.run(["redis-cli", "--tls", "--cacert", tls["cacert"], "-h", t.HOST, "-p",
                                     str(self.port(self.ends[name]["resp-tls"])), "GET", key],
                                    capture_output=True, text=True, timeout=30)
            self.assertNotEqual(nocert.returncode, 0, f"{name}: served a client without a certificate")
            self.assertNotIn(self.table[key], nocert.stdout)

        os.kill(self.checked_pid("shard1-r1"), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = self.haproxy_states()
            if states[("shard1-guide", "shard1-r1")] == states[("shard1-resp", "shard1-r1")] == "DOWN":
                break
            time.sleep(0.2)
        self.assertEqual({k: v for k, v in states.items() if v != "UP"},
                         {("shard1-guide", "shard1-r1"): "DOWN", ("shard1-resp", "shard1-r1"): "DOWN"})
        self.assert_all_over_tls(tls)

        down = self.cluster("down", "--dir", self.cdir, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        self.assertEqual({n: p for n, p in pids.items() if alive(p)}, {}, "still running after down")
        self.assertFalse(os.path.exists(os.path.join(self.cdir, "pids")))

    def test_two_ups_at_once_into_one_dir(self):
        """Two ups started together into one DIR: one starts the cluster,
        the other exits 2 with the reason, and the cluster serves every
        key. Later, an up into the DIR of the running cluster exits 2; the
        lock is free once up is done (no process of the cluster holds it),
        and while something holds it, down and up exit 2 and leave the
        cluster running."""
        self.cdir = self.path("cluster")
        self.addCleanup(self.cluster, "down", "--dir", self.cdir, timeout=60)
        args = ["up", "--shards", "2", "--replicas", "2", "--keys", "2000", "--dir", self.cdir]
        env = {**os.environ, "EVKV_SERVER": os.environ.get("EVKV_SERVER", t.SERVER)}
        for attempt in range(3):
            procs = [subprocess.Popen([SCRIPT, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
                     for _ in range(2)]
            runs = [(p.returncode, out, err) for p in procs for out, err in [p.communicate(timeout=UP_TIMEOUT)]]
            codes = sorted(code for code, _, _ in runs)
            # A free port up picked can be taken meanwhile (see up()).
            if codes != [1, 2] or attempt == 2 or not self.port_was_taken():
                break
            self.cluster("down", "--dir", self.cdir, timeout=60)
            shutil.rmtree(self.cdir)
        self.assertEqual(codes, [0, 2], runs)
        (_, out, _), = [run for run in runs if run[0] == 0]
        (_, _, refusal), = [run for run in runs if run[0] == 2]
        self.assertRegex(refusal, "another scripts/cluster up or down is running|a cluster already runs")
        self.read_endpoints(out, 2000)
        pids = self.recorded_pids()
        self.assertEqual(len(pids), 6, pids)
        self.assert_all_through_nutcracker()
        self.assert_all_through_guide()

        again = self.cluster(*args)
        self.assertEqual(again.returncode, 2, again.stdout + again.stderr)
        self.assertIn("a cluster already runs", again.stderr)

        fd = os.open(os.path.join(self.cdir, "lock"), os.O_RDWR)
        self.addCleanup(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a process of the cluster holds it
        for cmd in (["down", "--dir", self.cdir], args):
            r = self.cluster(*cmd, timeout=60)
            self.assertEqual(r.returncode, 2, f"{cmd}: {r.stdout} {r.stderr}")
            self.assertIn("another scripts/cluster up or down is running", r.stderr)
        fcntl.flock(fd, fcntl.LOCK_UN)
        self.assertEqual([n for n, p in pids.items() if not alive(p)], [], "stopped though refused")
        self.assertEqual(self.recorded_pids(), pids)
        self.assert_all_through_nutcracker()

        down = self.cluster("down", "--dir", self.cdir, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        self.assertEqual({n: p for n, p in pids.items() if alive(p)}, {}, "still running after down")

    def test_a_failed_start_leaves_nothing_running(self):
        """A replica that cannot listen (its port taken) fails up, with
        exit status 1, and up stops everything it had started: no process
        of the cluster's is left, whatever stage it had reached."""
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind((t.HOST, 0))
        busy.listen()
        base = busy.getsockname()[1] - 4  # shard1-r1's guide port is base + 4
        cdir = self.path("failed")
        r = self.cluster("up", "--shards", "2", "--replicas", "2", "--keys", "500", "--dir", cdir,
                         "--base-port", str(base))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("stopping what started", r.stderr)
        self.assertEqual(processes_of(cdir), [], "processes of the failed cluster still run")

    def test_a_dir_with_spaces_and_quotes_and_the_longest_dir(self):
        """A DIR with spaces, quotes and other characters HAProxy's
        config treats specially, as long as up takes (it says how long in
        its refusal of a longer one), gets a cluster that serves every
        key; one byte longer, or a DIR with '$', ',' or a newline, is
        refused with exit status 2 before anything is made or started."""
        def refused(cdir, reason):
            r = self.cluster("up", "--keys", "100", "--dir", cdir)
            self.assertEqual(r.returncode, 2, f"{cdir!r}: {r.stdout} {r.stderr}")
            self.assertIn(reason, r.stderr, cdir)
            self.assertFalse(os.path.exists(cdir), f"{cdir!r}: made though refused")
            self.assertEqual(processes_of(cdir), [], f"{cdir!r}: processes started though refused")
            return r.stderr

        limit = int(re.search(r"at most (\d+) bytes", refused(self.path("x" * 200), "bytes long"))[1])
        odd = self.path("a dir 'with' \"quotes\" #x \\ é ")
        pad = limit - len(odd.encode())
        self.assertGreaterEqual(pad, 0, f"the temporary directory is too long for a DIR of {limit} bytes")
        odd += "x" * pad
        refused(odd + "x", "bytes long")
        for name in ("dollar$HOME", "comma,x", "new\nline"):
            refused(self.path(name), "holds")

        self.up(odd, keys=2000)
        self.assertEqual(len(odd.encode()), limit)
        self.assertEqual(self.ends["haproxy"]["stats"], os.path.join(odd, "haproxy.sock"))
        self.assertTrue(stat.S_ISSOCK(os.stat(self.ends["haproxy"]["stats"]).st_mode))
        self.assert_all_through_nutcracker()
        self.assert_all_through_guide()
        st = self.cluster("status", "--dir", odd)
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        pids = self.recorded_pids()
        down = self.cluster("down", "--dir", odd, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        self.assertEqual({n: p for n, p in pids.items() if alive(p)}, {}, "still running after down")

    def test_malformed_and_foreign_pid_records(self):
        """status and down act only on pids lines that are NAME PID START
        PROGRAM with PID from 1 up and the process still that program:
        every other line (fields missing, a pid that is not a positive
        whole number, negative, zero, huge, a start time or program that
        does not match: a foreign or reused pid) is skipped and said so,
        and its process, if any, survives down. The script runs with a
        kill that refuses anything but one positive pid (and logs each
        call), so that a wrong line never reaches kill -1 or a group."""
        cdir = self.path("records")
        os.mkdir(cdir)
        kill_log = self.path("kills")
        env = {"BASH_FUNC_kill%%": SAFE_KILL, "EVKV_TEST_KILL_LOG": kill_log}
        guard = subprocess.run(["bash", "-c", "type -t kill"], capture_output=True, text=True,
                               env={**os.environ, **env})
        self.assertEqual(guard.stdout.strip(), "function", "the test's guarded kill is not in effect")

        def sleeper():
            p = subprocess.Popen(["sleep", "300"])
            self.addCleanup(p.wait)
            self.addCleanup(p.kill)
            return p, start_time(p.pid), os.readlink(f"/proc/{p.pid}/exe")

        foreign, fstart, fexe = sleeper()
        mine, mstart, mexe = sleeper()
        # A program rebuilt while it runs: /proc/PID/exe reads "EXE
        # (deleted)"; the same pid and start time still make it ours.
        rebuilt_exe = self.path("rebuilt-sleep")
        shutil.copy(mexe, rebuilt_exe)
        rebuilt = subprocess.Popen([rebuilt_exe, "300"])
        self.addCleanup(rebuilt.wait)
        self.addCleanup(rebuilt.kill)
        rstart = start_time(rebuilt.pid)
        os.unlink(rebuilt_exe)
        self.assertEqual(os.readlink(f"/proc/{rebuilt.pid}/exe"), rebuilt_exe + " (deleted)")
        dead = subprocess.Popen(["true"])
        dead.wait()
        other_start = start_time(1)
        self.assertNotEqual(other_start, fstart)
        f = foreign.pid
        bad = [
            "x y", "lonely", "neg -1", f"neg2 -1 {fstart} {fexe}", "zero 0", f"zero2 0 {fstart} {fexe}",
            f"huge 99999999999999999999 {fstart} {fexe}", f"wrap 4294967295 {fstart} {fexe}",
            f"over 4194305 {fstart} {fexe}", f"lead0 0{f} {fstart} {fexe}", f"plus +{f} {fstart} {fexe}",
            f"group -{f} {fstart} {fexe}", f"nonnum abc {fstart} {fexe}", f"nostart {f} ? {fexe}",
            f"nostart2 {f} {fexe}", f"relative {f} {fstart} sleep", f"extra {f} {fstart} {fexe} extra",
            f"foreign {f} {fstart} {t.SERVER}", f"reused {f} {other_start} {fexe}",
        ]
        good = f"mine {mine.pid} {mstart} {mexe}"
        good2 = f"rebuilt {rebuilt.pid} {rstart} {rebuilt_exe}"
        gone = f"dead {dead.pid} {other_start} {fexe}"
        lines = [*bad[:10], good, gone, good2, *bad[10:]]
        with open(os.path.join(cdir, "pids"), "w") as fh:
            fh.write("\n".join(lines) + "\n")

        def assert_each_bad_line_skipped(out):
            for n, line in enumerate(lines, 1):
                if line in (good, good2, gone):
                    continue
                name = line.split()[0]
                said = [l for l in out.splitlines()
                        if f"pids line {n} skipped," in l or f"{name} pid " in l and "skipped" in l]
                self.assertTrue(said, f"line {n} ({line!r}) not said to be skipped:\n{out}")

        st = self.cluster("status", "--dir", cdir, env=env)
        self.assertEqual(st.returncode, 1, st.stdout + st.stderr)
        running = [l for l in st.stdout.splitlines() if re.search(r" pid \S* running", l)]
        self.assertEqual(running, [f"mine pid {mine.pid} running ({mexe})",
                                   f"rebuilt pid {rebuilt.pid} running ({rebuilt_exe})"], st.stdout)
        self.assertIn(f"dead pid {dead.pid} NOT running", st.stdout)
        assert_each_bad_line_skipped(st.stdout)

        down = self.cluster("down", "--dir", cdir, env=env, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        assert_each_bad_line_skipped(down.stderr)
        self.assertEqual(mine.wait(timeout=15), -signal.SIGTERM)
        self.assertEqual(rebuilt.wait(timeout=15), -signal.SIGTERM)
        self.assertIsNone(foreign.poll(), "down signalled a process that is not the cluster's")
        self.assertTrue(alive(foreign.pid))
        with open(kill_log) as fh:
            kills = fh.read().splitlines()
        self.assertEqual(kills, [f"kill -TERM {rebuilt.pid}", f"kill -TERM {mine.pid}"],
                         "kill called other than on the processes of ours (last line first)")
        self.assertFalse(os.path.exists(os.path.join(cdir, "pids")))

    def test_redis_cluster_mode(self):
        """up --mode redis-cluster: 3 masters x 2 nodes from one commented
        map, no proxy; redis-py's RedisCluster finds every key with its
        value from any node, redis-cli -c follows -MOVED from a replica;
        status, then down stops every node."""
        from test_redis_clients import import_redis_py
        import_redis_py()
        from redis.cluster import ClusterNode, RedisCluster
        self.cdir = self.path("rc")
        self.addCleanup(self.cluster, "down", "--dir", self.cdir)
        for attempt in range(3):
            r = self.cluster("up", "--mode", "redis-cluster", "--shards", "3", "--replicas", "2", "--keys", "3000",
                             "--dir", self.cdir)
            if r.returncode != 1 or attempt == 2 or not self.port_was_taken():
                break
            shutil.rmtree(self.cdir)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        ends = {w[0]: dict(zip(w[1::2], w[2::2])) for w in map(str.split, r.stdout.splitlines())}
        names = [f"shard{s}-r{i}" for s in (1, 2, 3) for i in (1, 2)]
        self.assertEqual(sorted(ends), sorted(names + ["redis-cluster"]), r.stdout)
        self.assertEqual(sorted(self.recorded_pids()), names)  # no proxy
        with open(ends["redis-cluster"]["map"]) as f:
            text = f.read()
        self.assertIn("# ", text)
        self.assertEqual([l.split()[0] for l in text.splitlines() if not l.startswith("#")],
                         [ends[n]["id"] for n in names])
        with open(os.path.join(self.cdir, "data-n3000-v100-s1.tsv"), encoding="utf-8") as f:
            table = dict(line.rstrip("\n").split("\t", 1) for line in f)
        for start in ("shard1-r1", "shard3-r2"):
            rc = RedisCluster(startup_nodes=[ClusterNode(t.HOST, self.port(ends[start]["resp"]))],
                              decode_responses=True)
            self.addCleanup(rc.close)
            keys = sorted(table)
            self.assertEqual(rc.mget_nonatomic(keys), [table[k] for k in keys])
        key = next(k for k in sorted(table) if rc.keyslot(k) <= 5460)
        out = subprocess.run(["redis-cli", "-c", "-p", str(self.port(ends["shard2-r2"]["resp"])), "GET", key],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, table[key] + "\n")
        st = self.cluster("status", "--dir", self.cdir)
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        pids = self.recorded_pids()
        down = self.cluster("down", "--dir", self.cdir, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        self.assertEqual({n: p for n, p in pids.items() if alive(p)}, {}, "still running after down")

    def test_redis_cluster_mode_over_tls(self):
        """up --mode redis-cluster --tls: TLS-only nodes whose map names
        their TLS RESP ports; redis-py's RedisCluster over TLS with the
        client certificate finds every key, redis-cli -c --tls follows
        -MOVED; a plain-text client gets nothing from a node; down stops
        every node."""
        from test_redis_clients import import_redis_py
        import_redis_py()
        from redis.cluster import ClusterNode, RedisCluster
        self.cdir = self.path("rctls")
        self.addCleanup(self.cluster, "down", "--dir", self.cdir)
        for attempt in range(3):
            r = self.cluster("up", "--mode", "redis-cluster", "--tls", "--shards", "2", "--replicas", "2", "--keys",
                             "1000", "--dir", self.cdir)
            if r.returncode != 1 or attempt == 2 or not self.port_was_taken():
                break
            shutil.rmtree(self.cdir)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        ends = {w[0]: dict(zip(w[1::2], w[2::2])) for w in map(str.split, r.stdout.splitlines())}
        names = [f"shard{s}-r{i}" for s in (1, 2) for i in (1, 2)]
        self.assertEqual(sorted(ends), sorted(names + ["redis-cluster", "tls-client", "tls-server"]), r.stdout)
        with open(ends["redis-cluster"]["map"]) as f:
            mapped = [l.split()[1].split("@")[0] for l in f if not l.startswith("#")]
        self.assertEqual(mapped, [ends[n]["resp-tls"] for n in names])
        tls = ends["tls-client"]
        with open(os.path.join(self.cdir, "data-n1000-v100-s1.tsv"), encoding="utf-8") as f:
            table = dict(line.rstrip("\n").split("\t", 1) for line in f)
        rc = RedisCluster(startup_nodes=[ClusterNode(t.HOST, self.port(ends["shard2-r2"]["resp-tls"]))],
                          decode_responses=True, ssl=True, ssl_ca_certs=tls["cacert"], ssl_certfile=tls["cert"],
                          ssl_keyfile=tls["key"])
        self.addCleanup(rc.close)
        keys = sorted(table)
        self.assertEqual(rc.mget_nonatomic(keys), [table[k] for k in keys])
        key = next(k for k in keys if rc.keyslot(k) < 8192)
        out = subprocess.run(["redis-cli", "-c", "--tls", "--cacert", tls["cacert"], "--cert", tls["cert"], "--key",
                              tls["key"], "-p", str(self.port(ends["shard2-r2"]["resp-tls"])), "GET", key],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, table[key] + "\n")
        with socket.create_connection((t.HOST, self.port(ends["shard1-r1"]["resp-tls"])), timeout=5) as plain:
            plain.sendall(b"PING\r\n")
            try:
                got = plain.recv(4096)
            except ConnectionResetError:
                got = b""
            self.assertEqual(got, b"", "a node answered plain text")
        pids = self.recorded_pids()
        down = self.cluster("down", "--dir", self.cdir, timeout=60)
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        self.assertEqual({n: p for n, p in pids.items() if alive(p)}, {}, "still running after down")

    def test_usage_errors(self):
        d = self.path("never")
        for args in ([], ["sideways"], ["up", "--shards", "0"], ["up", "--replicas", "x"],
                     ["up", "--keys"], ["up", "--keys", "10", "--data", self.path("x.tsv")],
                     ["up", "--data", self.path("missing.tsv")], ["up", "--base-port", "80"],
                     ["up", "--bogus", "1"], ["down", "--shards", "2"], ["status", "--keys", "5"],
                     ["up", "--mode", "mesh"], ["up", "--mode"], ["down", "--mode", "proxies"],
                     ["down", "--tls"], ["status", "--tls"], ["up", "--tls", "--shards", "0"]):
            r = self.cluster(*args, "--dir", d) if args else self.cluster()
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout} {r.stderr}")
            self.assertIn("see --help", r.stderr, args)
        self.assertFalse(os.path.exists(d), "a usage error created the directory")
        h = self.cluster("--help")
        self.assertEqual(h.returncode, 0)
        self.assertIn("Exit status", h.stdout)


if __name__ == "__main__":
    t.main()

"""
evkv_test.py: shared helpers for evkv's integration tests.

Every test starts the real evkv-server on an ephemeral port of 127.0.0.1
(--port any, the port read back from the start line on stderr) and talks to
it over real sockets. Requests are encoded exactly as the "Socket
Programming in Python" guide's app-client encodes them, and expected
answers are computed the way its app-server computes them, so a byte-exact
comparison checks evkv against the reference, not against itself.

The binaries come from the environment (CTest sets them):
  EVKV_SERVER  path to evkv-server
  EVKV_CLI     path to evkv-cli
  EVKV_SERVER_WRAPPER  a command to run the server under (optional)
  EVKV_TSAN    1 when the programs are built with ThreadSanitizer (scripts/test
               sets it): the checks of the server's memory are skipped
Run by hand, they default to ../../build/{server,client}/ from this file.
"""

import collections
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import resp_reply

HERE = os.path.dirname(os.path.abspath(__file__))
_BUILD = os.path.join(HERE, "..", "..", "build")
SERVER = os.environ.get("EVKV_SERVER") or os.path.join(_BUILD, "server", "evkv-server")
CLI = os.environ.get("EVKV_CLI") or os.path.join(_BUILD, "client", "evkv-cli")

# ThreadSanitizer keeps shadow memory of several bytes for each byte the
# program uses, and does not give it back when the program frees memory:
# the server's resident size says nothing about its own use then.
TSAN = os.environ.get("EVKV_TSAN") == "1"

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0  # seconds any single socket operation may take
STOP_TIMEOUT = 15.0  # the server's own drain grace is 5 s

# A log line on stderr starts with an ISO-8601 UTC timestamp.
LOG_PREFIX = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z evkv-server: "
# The address: 127.0.0.1:PORT, [::1]:PORT or unix:PATH; none (--port 0)
# when the server listens only for Redis clients, or only over TLS.
START_RE = re.compile(LOG_PREFIX + r"listening (?:on (\S+?)(?::(\d+))?|for Redis clients only|"
                      r"over TLS only, on \S+) \((.*)\)$", re.M)
# The RESP listener's line (--resp-port / --resp-unix), logged before the
# start line: "listening for Redis clients on 127.0.0.1:PORT".
RESP_START_RE = re.compile(LOG_PREFIX + r"listening for Redis clients on (\S+?)(?::(\d+))?$", re.M)
STOP_RE = re.compile(LOG_PREFIX + r"stopped on (SIGTERM|SIGINT) after (\d+) requests$", re.M)

def _wire_words():
    """proto/wire.h's words, as the server and the clients use them: the
    miss text, the binary answer's prefix and the built-in table."""
    import codecs
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto", "wire.h")
    with open(path, encoding="ascii") as f:
        text = f.read()

    def c_string(body):
        return codecs.escape_decode(body.encode("ascii"))[0].decode("utf-8")

    words = {m.group(1): c_string(m.group(2))
             for m in re.finditer(r'^#define (WIRE_\w+) +"((?:[^"\\]|\\.)*)"$', text, re.M)}
    table = {c_string(k): json.loads(c_string(v))
             for k, v in re.findall(r'X\("((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)"\)', text)}
    return words, table


_WIRE, TABLE = _wire_words()  # TABLE: the built-in table, key -> value
MISS_PREFIX, MISS_SUFFIX = _WIRE["WIRE_MISS_PREFIX"], _WIRE["WIRE_MISS_SUFFIX"]
BINARY_PREFIX = _WIRE["WIRE_BINARY_PREFIX"]
MOVED_PREFIX, MOVED_SUFFIX = _WIRE["WIRE_MOVED_PREFIX"], _WIRE["WIRE_MOVED_SUFFIX"]
CLUSTERDOWN_PREFIX, CLUSTERDOWN_SUFFIX = _WIRE["WIRE_CLUSTERDOWN_PREFIX"], _WIRE["WIRE_CLUSTERDOWN_SUFFIX"]


def miss_text(key):
    """What a search for key that finds nothing answers."""
    return MISS_PREFIX + key + MISS_SUFFIX

CLIENT_BINARY_TYPE = "binary/custom-client-binary-type"
SERVER_BINARY_TYPE = "binary/custom-server-binary-type"


# ---- encoding, as the guide's libclient.py / libserver.py do it ----

def json_encode(obj):
    """The reference's _json_encode(obj, "utf-8")."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def message(content, content_type, content_encoding, byteorder=None, content_length=None):
    """The reference's _create_message: protoheader + JSON header + content."""
    header = json_encode({
        "byteorder": byteorder or sys.byteorder,
        "content-type": content_type,
        "content-encoding": content_encoding,
        "content-length": len(content) if content_length is None else content_length,
    })
    return struct.pack(">H", len(header)) + header + content


def raw_frame(header_obj_or_bytes, content=b""):
    """A frame with an arbitrary header (an object, or bytes as they are)."""
    if isinstance(header_obj_or_bytes, (bytes, bytearray)):
        header = bytes(header_obj_or_bytes)
    else:
        header = json_encode(header_obj_or_bytes)
    return struct.pack(">H", len(header)) + header + content


def search_request(value, action="search"):
    """A text/json request, as app-client.py builds one for "search"."""
    return message(json_encode({"action": action, "value": value}), "text/json", "utf-8")


def json_request(obj):
    """A text/json request whose content is any JSON value."""
    return message(json_encode(obj), "text/json", "utf-8")


def binary_request(data):
    """A binary request, as app-client.py builds one for other actions."""
    return message(bytes(data), CLIENT_BINARY_TYPE, "binary")


def result_answer(result):
    """The reference server's text/json answer {"result": result}."""
    return message(json_encode({"result": result}), "text/json", "utf-8")


def search_answer(key, table=TABLE):
    """The reference server's answer to searching key in table."""
    if key in table:
        return result_answer(table[key])
    return result_answer(miss_text(key))


def binary_answer(data):
    """The reference server's answer to a binary request with content data."""
    return message(BINARY_PREFIX.encode() + bytes(data)[:10], SERVER_BINARY_TYPE, "binary")


def split_requests(buf):
    """The whole guide-protocol requests at the start of buf, as a list of
    their decoded JSON contents, and the bytes after them."""
    requests = []
    while len(buf) >= 2:
        hlen = struct.unpack(">H", buf[:2])[0]
        if len(buf) < 2 + hlen:
            break
        header = json.loads(buf[2:2 + hlen])
        end = 2 + hlen + header["content-length"]
        if len(buf) < end:
            break
        requests.append(json.loads(buf[2 + hlen:end]))
        buf = buf[end:]
    return requests, buf


def answer_and_close_after(k, table=TABLE, partial=False):
    """A fake_server handler that answers the searches of a pipelined
    stream as a server of table does, and closes the connection once it
    has answered k of them; with partial, it also sends the first half of
    the next request's answer before closing."""
    def handle(s):
        with s:
            buf, answered, pending = b"", 0, []
            while answered < k or (partial and not pending):
                data = s.recv(65536)
                if not data:
                    return
                requests, buf = split_requests(buf + data)
                out = b""
                for r in requests:
                    if answered < k:
                        out += search_answer(r["value"], table)
                        answered += 1
                    else:
                        pending.append(r)
                s.sendall(out)
            if partial:
                answer = search_answer(pending[0]["value"], table)
                s.sendall(answer[:len(answer) // 2])
            s.shutdown(socket.SHUT_WR)

    return handle


# An answer bigger than the server's default limit for a request's content
# (1 MiB), which a client must still take in.
BIG_VALUE_LEN = 2_000_000


def big_value():
    """BIG_VALUE_LEN bytes of ASCII in which a lost or shifted byte shows."""
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    return (chars * (BIG_VALUE_LEN // len(chars) + 1))[:BIG_VALUE_LEN]



def write_big_table(directory):
    """Writes big.tsv into directory, with "big" -> big_value() and
    "small" -> "x". Returns (path, table)."""
    table = {"big": big_value(), "small": "x"}
    path = os.path.join(directory, "big.tsv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{k}\t{v}\n" for k, v in table.items()))
    return path, table


_ports_given = set()


def free_port():
    """A port nobody listened on a moment ago, and not one this process was
    given before: the kernel may hand the same free port to two binds in a
    row, and a test picking 25 ports for 25 servers must get 25."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise AssertionError("no free port this process was not given already")


def listens_on(pid, port):
    """Whether process pid holds the socket listening on 127.0.0.1:port.
    A port that accepts connections may be another program's: one whose
    own bind failed (the port was taken between free_port and its start,
    by a server's ephemeral `--port any`, say) must not be taken for it."""
    want = f"{socket.inet_aton(HOST)[::-1].hex().upper()}:{port:04X}"
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[1] == want and cols[3] == "0A":  # TCP_LISTEN
                inodes.add(f"socket:[{cols[9]}]")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            pass
    return False


def ipv6_loopback():
    """Whether ::1 can be listened on here."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def rss_kib(pid, field="VmRSS"):
    """Resident memory of process pid, in KiB; field="VmHWM" for its peak.
    Raises ProcessLookupError once the process is ending: one that has let
    its memory go (exiting, or a zombie not yet waited for) has no Vm lines
    left, whatever its State line says by then."""
    try:
        with open(f"/proc/{pid}/status") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise ProcessLookupError(f"process {pid} has ended") from None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise ProcessLookupError(f"process {pid} has no {field}: it is ending ({lines[2] if len(lines) > 2 else '?'})")


def _server_is_slowed():
    """Whether the server runs under another program (valgrind) or is
    built with a sanitizer: each makes it several times slower."""
    if TSAN or os.environ.get("EVKV_SERVER_WRAPPER"):
        return True
    try:
        with open(SERVER, "rb") as f:
            program = f.read()
    except OSError:
        return False
    return b"__asan_init" in program or b"__tsan_init" in program


# How long a server may take to load its table and listen: the tests' tables
# load in 2 s at most, but ten times slower under ThreadSanitizer, which
# took 16 s for 1,000,000 keys on a busy machine.
SLOWED = _server_is_slowed()
START_TIMEOUT = 60.0 if SLOWED else 10.0


def rss_is_the_servers():
    """Whether a server's resident size measures its own memory: not when
    it runs under another program (EVKV_SERVER_WRAPPER: valgrind), nor
    when it is built with a sanitizer, whose shadow memory and quarantine
    grow with what the program touched and do not shrink with it."""
    return not _server_is_slowed()


def file_in_use(pid, path):
    """Whether process pid has path open or mapped now."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                    return True
            except OSError:
                pass
        with open(f"/proc/{pid}/maps") as f:
            return any(line.rstrip("\n").endswith(" " + path) for line in f)
    except (FileNotFoundError, ProcessLookupError):
        return False


def bytes_read(pid):
    """The bytes process pid has read with read(2) and the like so far
    (rchar), or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def wait_for_load(pid, path, since=0, done=lambda: False, timeout=60):
    """Waits until process pid loads path: it has the file open or mapped,
    or has read as many bytes as the file holds beyond the `since` bytes it
    had read before (a server reads a data file into memory in a few
    milliseconds: the poll may miss the moment it is open). Stops early when
    done() is true (the load's outcome is already known). Returns True if
    the file was seen open."""
    size = os.path.getsize(path)
    deadline = time.monotonic() + timeout
    while True:
        if file_in_use(pid, path):
            return True
        if bytes_read(pid) - since >= size or done():
            return False
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} did not load {path} within {timeout} s")
        time.sleep(0.0002)


# ---- a small RESP2 client, independent of the programs under test ----

def resp_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespError(Exception):
    pass


def _resp_value(v):
    """A decoded reply with its errors, at any depth, as RespError."""
    if isinstance(v, resp_reply.ReplyError):
        return RespError(v.decode("utf-8", "replace"))
    if isinstance(v, list):
        return [_resp_value(x) for x in v]
    return v


class Resp:
    """One RESP connection: call() sends a command and reads its reply
    (bulk strings and statuses as bytes, nil as None, an error as a
    RespError), read as resp_reply.py reads it."""

    def __init__(self, port, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.reader = resp_reply.ReplyReader(self.sock)

    def close(self):
        self.sock.close()

    def reply(self):
        return _resp_value(resp_reply.decode(self.reader.read_reply()))

    def pipeline(self, commands):
        """Sends commands (resp_command's bytes) at once; their replies."""
        self.sock.sendall(b"".join(commands))
        return [self.reply() for _ in commands]

    def call(self, *args):
        return self.pipeline([resp_command(*args)])[0]



# ---- the server ----

class Server:
    """One evkv-server process. stderr and stdout go to temporary files, so
    the server can never block on a full pipe."""

    def __init__(self, *args, argv=None, preexec_fn=None):
        self.stderr_file = tempfile.TemporaryFile()
        self.stdout_file = tempfile.TemporaryFile()
        if argv is None:
            argv = ["--host", HOST, "--port", "any"] + list(args)
        # EVKV_SERVER_WRAPPER runs the server under another program, such
        # as valgrind (scripts/test does): "valgrind -q --error-exitcode=99".
        self.argv = os.environ.get("EVKV_SERVER_WRAPPER", "").split() + [SERVER] + list(argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.stdout_file,
                                     stderr=self.stderr_file, preexec_fn=preexec_fn)
        self.port = None
        self.address = None  # as the start line gives it: 127.0.0.1, [::1], unix:PATH (None: no such listener)
        self.resp_port = None  # the RESP listener's port (--resp-port), if any
        self.resp_address = None  # and its address, as for address
        self.source = None

    @staticmethod
    def _contents(f):
        # pread, not seek and read: the server writes through a descriptor
        # that shares this file's offset, so a seek(0) here would make a
        # line it writes at that moment overwrite the start of the file.
        fd = f.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")

    def stderr(self):
        return self._contents(self.stderr_file)

    def stdout(self):
        return self._contents(self.stdout_file)

    def wait_started(self, timeout=START_TIMEOUT):
        """Waits for the start line; returns the port."""
        deadline = time.monotonic() + timeout
        while True:
            m = START_RE.search(self.stderr())
            if m:
                self.address = m.group(1)
                self.port = int(m.group(2)) if m.group(2) else None
                self.source = m.group(3)
                r = RESP_START_RE.search(self.stderr())
                if r:
                    self.resp_address = r.group(1)
                    self.resp_port = int(r.group(2)) if r.group(2) else None
                return self.port
            if self.proc.poll() is not None:
                raise AssertionError(f"evkv-server exited with {self.proc.returncode} before "
                                     f"listening; stderr:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"no start line within {timeout} s; stderr:\n{self.stderr()}")
            time.sleep(0.01)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"evkv-server still running {timeout} s later; stderr:\n"
                                 f"{self.stderr()}")

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig and returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close_files(self):
        self.stderr_file.close()
        self.stdout_file.close()

    def connect(self, timeout=IO_TIMEOUT):
        if self.address.startswith("unix:"):
            return Conn(self.port, timeout, address=self.address[len("unix:"):])
        if self.address.startswith("["):
            return Conn(self.port, timeout, address=(self.address[1:-1], self.port))
        return Conn(self.port, timeout)


Answer = collections.namedtuple("Answer", "raw header content")


def answer_result(answer):
    """The "result" of a text/json answer."""
    assert answer.header["content-type"] == "text/json", answer
    return json.loads(answer.content.decode("utf-8"))["result"]


class Conn:
    """A client connection with an incremental answer reader."""

    def __init__(self, port, timeout=IO_TIMEOUT, address=None):
        """Connects to HOST:port, or to address: a (host, port) pair or the
        path of a Unix domain socket."""
        if isinstance(address, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        else:
            self.sock = socket.create_connection(address or (HOST, port), timeout=timeout)
        self.buf = bytearray()

    @classmethod
    def wrap(cls, sock):
        """A Conn on a socket connected already (with options set first)."""
        c = cls.__new__(cls)
        c.sock = sock
        c.buf = bytearray()
        return c

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_in_background(self, data):
        """sendall(data) in one call from a thread, so a large pipeline can
        be read while it is written. Returns the thread; join it."""
        errors = []

        def run():
            try:
                self.sock.sendall(data)
            except OSError as e:  # pragma: no cover - reported by join_sender
                errors.append(e)

        t = threading.Thread(target=run, daemon=True)
        t.errors = errors
        t.start()
        return t

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError(f"connection closed with {len(self.buf)} of {n} bytes buffered: "
                               f"{bytes(self.buf[:200])!r}")
            self.buf += chunk

    def read_answer(self):
        """Reads exactly one message; returns an Answer."""
        self._fill(2)
        (hlen,) = struct.unpack(">H", self.buf[:2])
        self._fill(2 + hlen)
        header = json.loads(bytes(self.buf[2:2 + hlen]).decode("utf-8"))
        total = 2 + hlen + header["content-length"]
        self._fill(total)
        raw = bytes(self.buf[:total])
        del self.buf[:total]
        return Answer(raw, header, raw[2 + hlen:])

    def read_answers(self, n):
        return [self.read_answer() for _ in range(n)]

    def read_exactly(self, n):
        self._fill(n)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def exchange(self, request):
        """Sends one request, returns its answer's raw bytes."""
        self.send(request)
        return self.read_answer().raw

    def at_eof(self):
        """True if the peer closed (recv returns b'') with nothing more
        buffered; raises if more bytes arrive."""
        if self.buf:
            raise AssertionError(f"unexpected bytes before EOF: {bytes(self.buf[:200])!r}")
        chunk = self.sock.recv(1 << 16)
        if chunk:
            raise AssertionError(f"expected EOF, got {chunk[:200]!r}")
        return True


def send_and_close_rudely(port, data):
    """Connects, sends data, and resets the connection (SO_LINGER 0)."""
    s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    if data:
        s.sendall(data)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def guide_client_exchange(port, request):
    """What app-client.py does: connect, send one request, read one whole
    answer with recv(4096), close. Returns the answer's bytes."""
    s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    try:
        s.sendall(request)
        buf = b""
        need = None
        while need is None or len(buf) < need:
            data = s.recv(4096)
            if not data:
                raise EOFError(f"peer closed after {buf!r}")
            buf += data
            if need is None and len(buf) >= 2:
                (hlen,) = struct.unpack(">H", buf[:2])
                if len(buf) >= 2 + hlen:
                    header = json.loads(buf[2:2 + hlen].decode("utf-8"))
                    need = 2 + hlen + header["content-length"]
        return buf
    finally:
        s.close()


# ---- the test case base ----

class ServerTestCase(unittest.TestCase):
    """A TestCase that starts servers and, at cleanup, stops each one with
    SIGTERM and checks that it exited 0 with a stop line."""

    maxDiff = 4000

    def start_server(self, *args, argv=None):
        srv = Server(*args, argv=argv)
        self.addCleanup(self._cleanup_server, srv)
        srv.wait_started()
        return srv

    def _cleanup_server(self, srv):
        try:
            if srv.proc.poll() is None:
                rc = srv.stop()
                self.assertEqual(rc, 0, f"evkv-server exit status on SIGTERM; stderr:\n{srv.stderr()}")
                self.assertRegex(srv.stderr(), STOP_RE)
        finally:
            srv.kill()
            srv.close_files()

    def fake_server(self, handle=None):
        """A listening socket on HOST standing in for a misbehaving server:
        each connection accepted is appended to the list returned and, when
        handle is given, passed to handle(sock) on a thread of its own (a
        timeout of IO_TIMEOUT set; OSError ignored). Closed at cleanup.
        Returns (port, accepted)."""
        lsock = socket.socket()
        lsock.bind((HOST, 0))
        lsock.listen(8)
        lsock.settimeout(0.1)
        stop = threading.Event()
        accepted = []

        def serve(s):
            s.settimeout(IO_TIMEOUT)
            try:
                handle(s)
            except OSError:
                pass

        def run():
            while not stop.is_set():
                try:
                    s, _ = lsock.accept()
                except (socket.timeout, OSError):
                    continue
                accepted.append(s)
                if handle:
                    threading.Thread(target=serve, args=(s,), daemon=True).start()

        th = threading.Thread(target=run, daemon=True)
        th.start()

        def cleanup():
            stop.set()
            th.join()
            for s in accepted:
                s.close()
            lsock.close()

        self.addCleanup(cleanup)
        return lsock.getsockname()[1], accepted

    def connect(self, srv):
        c = srv.connect()
        self.addCleanup(c.close)
        return c

    def assert_search(self, conn, key, table=TABLE):
        """Searches key on conn and checks the answer byte for byte."""
        self.assertEqual(conn.exchange(search_request(key)), search_answer(key, table))

    def assert_error_answer(self, answer):
        """Checks that answer is a well-formed text/json error answer,
        encoded as the reference encodes it; returns the result text."""
        self.assertEqual(answer.header["content-type"], "text/json")
        self.assertEqual(answer.header["content-encoding"], "utf-8")
        result = answer_result(answer)
        self.assertIsInstance(result, str)
        self.assertTrue(result.startswith("Error: "), result)
        self.assertGreater(len(result), len("Error: "))
        self.assertEqual(answer.raw, result_answer(result))
        return result


def start_on_free_ports(n, start, attempts=3):
    """Picks n distinct free ports of HOST and calls start(ports), which
    starts servers that must listen on them (a cluster map names its
    nodes' ports before they start). Another program may take a port
    between the pick and the bind: start then fails with "Address already
    in use", and it goes again on other ports. Returns (ports, what start
    returned)."""
    for attempt in range(attempts):
        ports = set()
        while len(ports) < n:
            ports.add(free_port())
        ports = sorted(ports)
        try:
            return ports, start(ports)
        except AssertionError as e:
            if "in use" not in str(e) or attempt == attempts - 1:
                raise


def nutcracker_path():
    """Where nutcracker (twemproxy) is; fails the test when it is not."""
    path = shutil.which("nutcracker") or shutil.which("nutcracker", path="/usr/sbin:/sbin")
    if not path:
        raise AssertionError("nutcracker is not installed (Debian's package nutcracker)")
    return path


class TempDirTestCase(ServerTestCase):
    """A ServerTestCase with a temporary directory, self.dir, removed at
    cleanup; self.path(name) names a file in it."""

    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        self.dir = d.name

    def path(self, name):
        return os.path.join(self.dir, name)

    def start_nutcracker(self, cfg, listen, timeout=10.0):
        """Starts nutcracker (twemproxy) on the YAML file cfg, whose pool
        listens on HOST:listen, its log and pid file in self.dir; stopped
        at cleanup. Returns the process once it holds that port itself (see
        listens_on), or fails with its log (which says "Address already in
        use" when the port was taken between free_port and its start)."""
        log = self.path(f"nutcracker-{listen}.log")
        p = subprocess.Popen([nutcracker_path(), "-c", cfg, "-s", str(free_port()), "-a", HOST, "-o", log,
                              "-p", self.path(f"nutcracker-{listen}.pid")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.addCleanup(stop)
        deadline = time.monotonic() + timeout
        while p.poll() is None and not listens_on(p.pid, listen):
            if time.monotonic() > deadline:
                raise AssertionError(f"nutcracker not listening on {listen} within {timeout} s")
            time.sleep(0.02)
        if p.poll() is not None:
            with open(log, errors="replace") as f:
                raise AssertionError(f"nutcracker exited with {p.returncode}: {f.read()}")
        return p


def main():
    if not os.access(SERVER, os.X_OK):
        sys.exit(f"evkv-server not found at {SERVER} (set EVKV_SERVER)")
    unittest.main(verbosity=2)

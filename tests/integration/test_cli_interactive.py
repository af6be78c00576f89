"""integration.cli_interactive: evkv-cli's interactive mode, and ping
--latency on a terminal, driven through a pseudo-terminal.

evkv-cli runs with the pty's slave as stdin, stdout (and usually stderr)
and as its controlling terminal, in a session of its own, as it would in
a terminal emulator; TERM=dumb keeps libedit's output plain. The test
waits for each prompt before typing, so what comes back is libedit's
echo of the line, then the answer, then the next prompt: each is checked
byte for byte (the terminal writes "\\n" as "\\r\\n").

EVKV_CLI_WRAPPER runs evkv-cli under another program, such as valgrind
("valgrind -q --leak-check=full --error-exitcode=99 --log-file=...").
"""

import errno
import fcntl
import json
import os
import re
import select
import shlex
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import termios
import threading
import time
import unittest

import evkv_test as t

WRAPPER = shlex.split(os.environ.get("EVKV_CLI_WRAPPER", ""))
# A slow wrapper (valgrind) needs more time for each step.
STEP_TIMEOUT = 60.0 if WRAPPER else 10.0
# A step that moves megabytes through the terminal.
BIG_STEP_TIMEOUT = 3 * STEP_TIMEOUT

HELP = ("Commands:\n"
        "  search KEY   look KEY up (KEY is the rest of the line, spaces included)\n"
        "  ping         check that the server answers: pong\n"
        "  stats        the server's counters\n"
        "  help         this help\n"
        "  quit, exit   leave (Ctrl-D too)\n")


# The prompt while evkv-cli holds no connection, as redis-cli shows it.
NOT_CONNECTED = b"not connected> "


def crlf(text):
    """text as the terminal shows it: UTF-8, each newline as CR LF."""
    return text.replace("\n", "\r\n").encode("utf-8")


def _make_controlling_tty():
    # In the child, after setsid(): stdin (the pty slave) becomes the
    # controlling terminal, so that Ctrl-C raises SIGINT as in a terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    """evkv-cli on a pseudo-terminal."""

    def __init__(self, args, env=None, stderr=None, command=None):
        """Runs evkv-cli args (or the command line `command`)."""
        self.master, slave = os.openpty()
        # A wide terminal: no line of these tests wraps.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
        full_env.update({"TERM": "dumb", "LC_ALL": "C.UTF-8"})
        full_env.pop("EVKV_HISTFILE", None)
        full_env.update(env or {})
        for k in [k for k, v in full_env.items() if v is None]:
            del full_env[k]
        argv = command or WRAPPER + [t.CLI] + [str(a) for a in args]
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                     stderr=slave if stderr is None else stderr, env=full_env,
                                     start_new_session=True, preexec_fn=_make_controlling_tty, close_fds=True)
        os.close(slave)
        # A bytearray: appending to it costs what is appended, where bytes
        # would copy all that came before at every read (a 2 MB answer
        # comes in some 600 reads).
        self.buf = bytearray()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def _read_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.master], [], [], left)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError as e:  # EIO: the slave side is closed
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            raise EOFError(f"evkv-cli closed the terminal; output so far: {self.shown()}")
        self.buf += data
        return True

    def shown(self, limit=2000):
        """What has come and not been read yet, for a message: at most its
        last limit bytes."""
        if len(self.buf) <= limit:
            return repr(bytes(self.buf))
        return f"{len(self.buf)} bytes, ending {bytes(self.buf[-limit:])!r}"

    def read_until(self, marker, timeout=STEP_TIMEOUT):
        """Reads until marker (bytes) has come; returns everything up to and
        including it, and keeps what follows. Each read's bytes are searched
        once (with the marker's length before them), not all that came
        before again."""
        deadline = time.monotonic() + timeout
        searched = 0
        while (i := self.buf.find(marker, searched)) < 0:
            searched = max(0, len(self.buf) - len(marker) + 1)
            if not self._read_some(deadline):
                raise AssertionError(f"no {marker!r} within {timeout} s; output: {self.shown()}")
        i += len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def read_until_past_echo(self, marker, echo=b"^C", settle=0.2, timeout=STEP_TIMEOUT):
        """Reads until marker, then whatever else comes within settle
        seconds, and returns it all with the terminal's echo of a control
        key (as "^C") taken out, which must be there at most once. The
        terminal signals the program before it echoes the key, and the echo
        can wait in the terminal: the program, woken on another core, may
        write first (its "\\n" after a Ctrl-C, or its whole last line, then
        "^C"), and a program that switches the terminal to raw mode at once
        may see the echo never come (both seen here, rarely)."""
        out = self.read_until(marker, timeout)
        deadline = time.monotonic() + settle
        while self._read_some(deadline):
            pass
        out += bytes(self.buf)
        del self.buf[:]
        if out.count(echo) > 1:
            raise AssertionError(f"{echo!r} echoed {out.count(echo)} times: {out!r}")
        return out.replace(echo, b"")

    def read_to_eof(self, timeout=STEP_TIMEOUT):
        deadline = time.monotonic() + timeout
        try:
            while self._read_some(deadline):
                pass
            raise AssertionError(f"evkv-cli still running {timeout} s later; output: {self.shown()}")
        except EOFError:
            pass
        out, self.buf = bytes(self.buf), bytearray()
        return out

    def send(self, data):
        os.write(self.master, data)

    def wait_editing(self, timeout=STEP_TIMEOUT):
        """Waits until libedit has the terminal in its editing mode (no echo
        by the terminal). libedit writes the prompt first and switches
        after: a line typed in between would be echoed twice, by the
        terminal and by libedit."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.master)[3] & termios.ECHO:
            if time.monotonic() > deadline:
                raise AssertionError(f"the terminal is still echoing {timeout} s after the prompt")
            time.sleep(0.005)

    def type(self, data):
        """Types data at the prompt."""
        self.wait_editing()
        self.send(data)

    def wait(self, timeout=STEP_TIMEOUT):
        return self.proc.wait(timeout)


class InteractiveTestCase(t.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(t.CLI, os.X_OK):
            raise AssertionError(f"evkv-cli not found at {t.CLI} (set EVKV_CLI)")

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        # A HOME of our own: no ~/.editrc, no real ~/.evkv_history touched.
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)

    def spawn(self, args, env=None, stderr=None, prompt=None, first=b""):
        """Starts evkv-cli and reads up to its first prompt, which must come
        right after first (bytes)."""
        full_env = {"HOME": self.home}
        full_env.update(env or {})
        pty = Pty(args, full_env, stderr)
        self.addCleanup(pty.close)
        pty.prompt = prompt.encode() if prompt else None
        if pty.prompt:
            self.assertEqual(pty.read_until(pty.prompt), first + pty.prompt)
        return pty

    def spawn_for(self, srv, env=None, extra_args=(), **kw):
        return self.spawn(["-h", t.HOST, "-p", srv.port] + list(extra_args), env,
                          prompt=f"evkv {t.HOST}:{srv.port}> ", **kw)

    def command(self, pty, line, connected=True, timeout=STEP_TIMEOUT):
        """Types line and Enter; returns what came back before the next prompt,
        after the echo of the line. That prompt is pty.prompt, or with
        connected=False, NOT_CONNECTED (the connection was let go)."""
        pty.type(line.encode("utf-8") + b"\r")
        prompt = pty.prompt if connected else NOT_CONNECTED
        out = pty.read_until(prompt, timeout)
        echo = line.encode("utf-8") + b"\r\n"
        self.assertTrue(out.startswith(echo), out)
        return out[len(echo):-len(prompt)]

    def assert_command(self, pty, line, output, connected=True, timeout=STEP_TIMEOUT):
        self.assertEqual(self.command(pty, line, connected, timeout), crlf(output), line)

    def assert_quit(self, pty, how="quit"):
        if how == "eof":
            pty.type(b"\x04")
            out = pty.read_to_eof()
            self.assertEqual(out, b"^D\r\n")  # libedit's echo, then evkv-cli ends the line
        else:
            pty.type(how.encode() + b"\r")
            out = pty.read_to_eof()
            self.assertEqual(out, how.encode() + b"\r\n")
        self.assertEqual(pty.wait(), 0)


class InteractiveTest(InteractiveTestCase):

    def test_session(self):
        srv = self.start_server()
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assert_command(pty, "search nope", t.miss_text("nope") + "\n")
        self.assert_command(pty, "search two words ", t.miss_text("two words ") + "\n")
        self.assert_command(pty, "search \U0001f436", t.TABLE["\U0001f436"] + "\n")
        self.assert_command(pty, "  SEARCH   ring", t.TABLE["ring"] + "\n")
        self.assert_command(pty, "search a\"b\\c", "No match for 'a\"b\\c'.\n")
        self.assert_command(pty, "ping", "pong\n")
        self.assert_command(pty, "", "")
        self.assert_command(pty, "   ", "")
        self.assert_command(pty, "frobnicate the key", "evkv-cli: unknown command 'frobnicate': type help for the "
                                                       "commands\n")
        self.assert_command(pty, "search", "evkv-cli: search needs a KEY: search KEY\n")
        self.assert_command(pty, "search   ", "evkv-cli: search needs a KEY: search KEY\n")
        self.assert_command(pty, "ping now", "evkv-cli: ping takes no argument\n")
        self.assert_command(pty, "help", HELP)
        out = self.command(pty, "stats").decode("utf-8")
        self.assertTrue(out.endswith("\r\n"), out)
        text = out.replace("\r\n", "\n")
        stats = json.loads(text)
        self.assertEqual(text, json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
        self.assertEqual(stats["version"], "0.1.0")
        self.assertEqual(list(stats)[:4], ["version", "pid", "uptime_seconds", "threads"])
        self.assertEqual(stats["requests"]["search"], 6)
        self.assertEqual(stats["requests"]["ping"], 1)
        self.assertEqual((stats["hits"], stats["misses"]), (3, 3))
        # The whole session is one connection.
        self.assertEqual(stats["connections"]["total"], 1)
        self.assert_quit(pty, "quit")

    def test_exit_and_eof(self):
        srv = self.start_server()
        for how in ("exit", "QUIT", "eof"):
            with self.subTest(how=how):
                pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
                self.assert_command(pty, "ping", "pong\n")
                self.assert_quit(pty, how)
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        self.assert_command(pty, "quit now", "evkv-cli: quit takes no argument\n")
        self.assert_quit(pty, "eof")

    def test_tab_completes_command_names(self):
        srv = self.start_server()
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        redraw = b"\r" + pty.prompt  # libedit redraws the line after a completion
        for typed, line, output in ((b"se\tmorpheus", b"search morpheus", t.TABLE["morpheus"] + "\n"),
                                    (b"PI\t", b"ping ", "pong\n"),
                                    (b"  he\t", b"  help ", HELP)):
            with self.subTest(typed=typed):
                pty.type(typed + b"\r")
                out = pty.read_until(b"\r\n" + crlf(output) + pty.prompt)
                self.assertEqual(out, typed.split(b"\t")[0] + redraw + line + b"\r\n" + crlf(output) + pty.prompt)
        # Nothing starts so, or not the first word: the bell, no change.
        for typed in (b"x", b"search s"):
            with self.subTest(typed=typed):
                pty.type(typed + b"\t\r")
                out = pty.read_until(pty.prompt)
                self.assertTrue(out.startswith(typed + b"\x07\r\n"), out)
        self.assert_quit(pty)

    def test_tab_lists_the_candidates(self):
        """Tab after a prefix more than one command starts with lists them
        under the line, then redraws the prompt and the line as typed,
        which can still be finished."""
        srv = self.start_server()
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        for typed, listed, rest, output in (
                (b"s", b"search  stats", b"earch morpheus", t.TABLE["morpheus"] + "\n"),
                (b"  S", b"search  stats", b"EARCH ring", t.TABLE["ring"] + "\n"),
                (b"", b"search  ping  stats  help  quit  exit", b"ping", "pong\n")):
            with self.subTest(typed=typed):
                pty.type(typed + b"\t")
                out = pty.read_until(pty.prompt + typed)
                self.assertEqual(out, typed + b"\r\n" + listed + b"\r\r\n" + pty.prompt + typed)
                pty.type(rest + b"\r")
                self.assertEqual(pty.read_until(pty.prompt), rest + b"\r\n" + crlf(output) + pty.prompt)
        self.assert_quit(pty)

    def test_ctrl_c_ends_the_session(self):
        srv = self.start_server()
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        pty.type(b"search half typed\x03")
        self.assertEqual(pty.wait(), 0)

    def test_sigterm_ends_evkv_cli_alone(self):
        """SIGTERM to evkv-cli at its prompt ends it (by that signal), not
        the shell that runs it in the same process group."""
        srv = self.start_server()
        script = f'"$0" -h {t.HOST} -p {srv.port}; echo "after $?"'
        pty = Pty([], {"EVKV_HISTFILE": "", "TERM": "dumb"}, command=["sh", "-c", script, t.CLI])
        self.addCleanup(pty.close)
        pty.read_until(f"evkv {t.HOST}:{srv.port}> ".encode())
        with open(f"/proc/{pty.proc.pid}/task/{pty.proc.pid}/children") as f:
            (cli_pid,) = [int(p) for p in f.read().split()]
        os.kill(cli_pid, signal.SIGTERM)
        out = pty.read_until(b"after 143")
        self.assertIn(b"after 143", out)
        self.assertEqual(pty.wait(), 0)

    def test_control_characters_are_escaped_on_a_terminal(self):
        """A value that would clear the screen or retitle the window is shown
        with its control characters as \\xNN (tab and newline as they are)."""
        table = {"evil": "a\x1b[2Jb\x1b]0;title\x07c\u009bd\te\x7ff", "ok": "caf\u00e9 \U0001f436"}
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
            json.dump(table, f)
        self.addCleanup(os.unlink, f.name)
        srv = self.start_server("--data", f.name)
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        self.assert_command(pty, "search evil", "a\\x1b[2Jb\\x1b]0;title\\x07c\\xc2\\x9bd\te\\x7ff\n")
        self.assert_command(pty, "search ok", table["ok"] + "\n")
        self.assert_quit(pty)

    def test_json(self):
        srv = self.start_server()
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""}, ["--json"])
        self.assert_command(pty, "search morpheus", t.json_encode({"result": t.TABLE["morpheus"]}).decode() + "\n")
        self.assert_command(pty, "search nope", '{"result": "No match for \'nope\'."}\n')
        self.assert_command(pty, "ping", '{"result": "pong"}\n')
        out = self.command(pty, "stats")
        self.assertTrue(out.startswith(b'{"result": {"version": "0.1.0", '), out)
        self.assertTrue(out.endswith(b"}}\r\n"), out)
        self.assertNotIn(b"\r\n", out[:-2])
        self.assert_quit(pty, "eof")

    def test_errors_go_to_stderr(self):
        srv = self.start_server()
        with tempfile.TemporaryFile() as err:
            pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""}, stderr=err)
            self.assert_command(pty, "bogus", "")
            self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
            self.assert_quit(pty)
            err.seek(0)
            self.assertEqual(err.read(), b"evkv-cli: unknown command 'bogus': type help for the commands\n")

    def test_ipv6_prompt(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback here")
        srv = self.start_server(argv=["--host", "::1", "--port", "any"])
        for args in (["-h", "::1", "-p", srv.port], ["-u", f"evkv://[::1]:{srv.port}"]):
            with self.subTest(args=args):
                pty = self.spawn(args, {"EVKV_HISTFILE": ""}, prompt=f"evkv [::1]:{srv.port}> ")
                self.assert_command(pty, "search ring", t.TABLE["ring"] + "\n")
                self.assert_quit(pty)

    def test_unix_socket_prompt(self):
        path = os.path.join(self.tmp, "evkv.sock")
        srv = self.start_server(argv=["--unix", path])
        self.assertEqual(srv.address, "unix:" + path)
        pty = self.spawn(["-s", path], {"EVKV_HISTFILE": ""}, prompt=f"evkv unix:{path}> ")
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assert_command(pty, "ping", "pong\n")
        self.assert_quit(pty)


class InteractiveBigAnswerTest(InteractiveTestCase):

    def test_answer_over_1_mib(self):
        """The prompt takes a 2,000,000-byte value as the other modes do,
        within the same --max-answer limit."""
        path, table = t.write_big_table(self.tmp)
        srv = self.start_server("--data", path)
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        # 2 MB through the terminal: some 0.3 s here, but 1.8 MB of it took
        # over 10 s once on a machine loaded with builds and other suites.
        self.assert_command(pty, "search big", table["big"] + "\n", timeout=BIG_STEP_TIMEOUT)
        self.assert_command(pty, "search small", "x\n")
        self.assert_quit(pty)
        content_len = len(t.json_encode({"result": table["big"]}))
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""}, extra_args=["--max-answer", content_len - 1])
        self.assert_command(pty, "search big", f"evkv-cli: bad answer from the server: content-length {content_len} "
                                               f"exceeds the limit of {content_len - 1} bytes (--max-answer raises "
                                               f"it)\n", connected=False)
        self.assert_command(pty, "search small", "x\n")
        self.assert_quit(pty)


class InteractiveHistoryTest(InteractiveTestCase):

    def setUp(self):
        super().setUp()
        self.srv = self.start_server()

    def test_history_file(self):
        hist = os.path.join(self.tmp, "hist")
        pty = self.spawn_for(self.srv, {"EVKV_HISTFILE": hist})
        for line in ("search morpheus", "ping", "ping", "   ", "bogus", "search two words"):
            self.command(pty, line)
        self.assert_quit(pty)
        # One command a line, as typed; a repeat of the last one is not kept
        # twice, blank lines not at all; quit is a command too.
        with open(hist, encoding="utf-8") as f:
            self.assertEqual(f.read(), "search morpheus\nping\nbogus\nsearch two words\nquit\n")
        self.assertEqual(stat.S_IMODE(os.stat(hist).st_mode), 0o600)

        # The next session starts with it: Ctrl-P twice brings back
        # "search two words".
        pty = self.spawn_for(self.srv, {"EVKV_HISTFILE": hist})
        pty.type(b"\x10\x10\r")
        out = pty.read_until(b"\r\nNo match for 'two words'.\r\n" + pty.prompt)
        self.assertTrue(out.endswith(b"search two words\r\nNo match for 'two words'.\r\n" + pty.prompt), out)
        self.assert_command(pty, "search \U0001f436", t.TABLE["\U0001f436"] + "\n")
        # Written after each command, not only at the end.
        with open(hist, encoding="utf-8") as f:
            self.assertEqual(f.read(), "search morpheus\nping\nbogus\nsearch two words\nquit\nsearch two words\n"
                                       "search \U0001f436\n")
        self.assert_quit(pty, "eof")

    def test_history_in_home(self):
        pty = self.spawn_for(self.srv)
        self.assert_command(pty, "ping", "pong\n")
        self.assert_quit(pty, "eof")
        with open(os.path.join(self.home, ".evkv_history"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "ping\n")

    def test_no_history_file(self):
        # EVKV_HISTFILE empty: none, even with a HOME.
        pty = self.spawn_for(self.srv, {"EVKV_HISTFILE": ""})
        self.assert_command(pty, "ping", "pong\n")
        self.assert_quit(pty)
        self.assertEqual(os.listdir(self.home), [])

    def test_history_file_not_writable_is_skipped_silently(self):
        for env in ({"HOME": None}, {"HOME": ""}, {"HOME": os.path.join(self.tmp, "no", "such", "dir")},
                    {"EVKV_HISTFILE": os.path.join(self.tmp, "no-dir", "hist")}):
            with self.subTest(env=env):
                pty = self.spawn_for(self.srv, env)
                self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
                self.assert_quit(pty)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["home"])
        self.assertEqual(os.listdir(self.home), [])


class InteractiveReconnectTest(InteractiveTestCase):

    def test_server_restarted(self):
        srv = self.start_server()
        port = srv.port
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assertEqual(srv.stop(), 0)
        # The same port, a new server: the old connection is gone, and the
        # next command goes out on a new one without a word.
        srv2 = self.start_server(argv=["--host", t.HOST, "--port", str(port)])
        self.assert_command(pty, "search ring", t.TABLE["ring"] + "\n")
        self.assert_command(pty, "ping", "pong\n")
        # Down: the error, and the prompt again.
        self.assertEqual(srv2.stop(), 0)
        refused = f"evkv-cli: cannot connect to {t.HOST} port {port}: Connection refused\n"
        self.assert_command(pty, "ping", refused, connected=False)
        self.assert_command(pty, "search morpheus", refused, connected=False)
        self.start_server(argv=["--host", t.HOST, "--port", str(port)])
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assert_quit(pty)

    def test_idle_timeout(self):
        srv = self.start_server("--idle-timeout", "1")
        pty = self.spawn_for(srv, {"EVKV_HISTFILE": ""})
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        time.sleep(1.8)  # the server closes the idle connection
        self.assert_command(pty, "search ring", t.TABLE["ring"] + "\n")
        self.assert_quit(pty)

    def test_server_down_at_start(self):
        port = t.free_port()
        refused = f"evkv-cli: cannot connect to {t.HOST} port {port}: Connection refused\n"
        pty = self.spawn(["-h", t.HOST, "-p", port], {"EVKV_HISTFILE": ""}, prompt="not connected> ",
                         first=crlf(refused))
        pty.prompt = f"evkv {t.HOST}:{port}> ".encode()
        self.assert_command(pty, "ping", refused, connected=False)
        self.assert_command(pty, "help", HELP, connected=False)
        self.start_server(argv=["--host", t.HOST, "--port", str(port)])
        self.assert_command(pty, "ping", "pong\n")
        self.assert_quit(pty)

    def closing_server(self):
        """A server that answers the first request of each connection and
        closes the connection when the second one comes, without answering.
        Returns the port and the list of connections accepted."""
        request = t.search_request("morpheus")

        def handle(s):
            with s:
                for n in (1, 2):
                    buf = b""
                    while len(buf) < len(request):
                        data = s.recv(65536)
                        if not data:
                            return
                        buf += data
                    if n == 1:
                        s.sendall(t.search_answer("morpheus"))

        return self.fake_server(handle)

    def test_closed_while_asking_is_retried_once(self):
        port, accepted = self.closing_server()
        pty = self.spawn(["-h", t.HOST, "-p", port], {"EVKV_HISTFILE": ""}, prompt=f"evkv {t.HOST}:{port}> ")
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        # The second request closes the first connection: asked again on a
        # second one, where it is the first request and is answered.
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assertEqual(len(accepted), 2)
        # Third: the second connection closes; the retry on a third works.
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assertEqual(len(accepted), 3)
        self.assert_quit(pty)

    def test_closed_at_once_is_not_retried_forever(self):
        # A server that closes every connection as soon as a request comes.
        def handle(s):
            with s:
                s.recv(65536)

        port, accepted = self.fake_server(handle)
        pty = self.spawn(["-h", t.HOST, "-p", port, "--retries", 0], {"EVKV_HISTFILE": ""},
                         prompt=f"evkv {t.HOST}:{port}> ")
        # The connection made at the start is closed: asked again once, on
        # a new connection, which is closed too: the error.
        self.assert_command(pty, "ping", "evkv-cli: the server closed the connection\n", connected=False)
        self.assertEqual(len(accepted), 2)
        # A new connection that fails is not tried again.
        self.assert_command(pty, "ping", "evkv-cli: the server closed the connection\n", connected=False)
        self.assertEqual(len(accepted), 3)
        self.assert_quit(pty)

    def test_closed_at_once_is_retried_as_asked(self):
        """--retries 2: a request is sent on the connection it finds, then
        twice more on new ones, then the error."""
        def handle(s):
            with s:
                s.recv(65536)

        port, accepted = self.fake_server(handle)
        pty = self.spawn(["-h", t.HOST, "-p", port, "--retries", 2], {"EVKV_HISTFILE": ""},
                         prompt=f"evkv {t.HOST}:{port}> ")
        self.assert_command(pty, "ping", "evkv-cli: the server closed the connection\n", connected=False)
        self.assertEqual(len(accepted), 3)
        self.assert_command(pty, "search morpheus", "evkv-cli: the server closed the connection\n", connected=False)
        self.assertEqual(len(accepted), 6)
        self.assert_quit(pty)

    def test_closed_after_a_half_answer_is_retried(self):
        """Half an answer, then the close: the answer is lost, the request
        asked again on a new connection, where it is answered."""
        connections = []

        def handle(s):
            connections.append(s)
            if len(connections) == 1:
                t.answer_and_close_after(0, partial=True)(s)
            else:
                t.answer_and_close_after(1000)(s)

        port, accepted = self.fake_server(handle)
        pty = self.spawn(["-h", t.HOST, "-p", port], {"EVKV_HISTFILE": ""}, prompt=f"evkv {t.HOST}:{port}> ")
        self.assert_command(pty, "search morpheus", t.TABLE["morpheus"] + "\n")
        self.assertEqual(len(accepted), 2)
        self.assert_command(pty, "search ring", t.TABLE["ring"] + "\n")
        self.assertEqual(len(accepted), 2)
        self.assert_quit(pty)

    def test_timeout_keeps_the_prompt(self):
        lsock = socket.socket()
        lsock.bind((t.HOST, 0))
        lsock.listen(8)
        self.addCleanup(lsock.close)
        port = lsock.getsockname()[1]
        pty = self.spawn(["-t", "0.5", "-h", t.HOST, "-p", port], {"EVKV_HISTFILE": ""},
                         prompt=f"evkv {t.HOST}:{port}> ")
        self.assert_command(pty, "search morpheus", "evkv-cli: timed out after 500 ms waiting for an answer\n",
                            connected=False)
        self.assert_command(pty, "help", HELP, connected=False)
        self.assert_quit(pty)


    def silent_server(self):
        """A server that reads requests and never answers. Returns its port,
        the connections accepted, and an Event set when a request has
        come."""
        came = threading.Event()

        def handle(s):
            while s.recv(65536):
                came.set()

        port, accepted = self.fake_server(handle)
        return port, accepted, came

    def test_ctrl_c_abandons_a_request(self):
        """Ctrl-C while a request waits for its answer abandons it at once
        (not after --timeout), and its connection, and the prompt comes
        back; a line typed ahead meanwhile is dropped with it, as the
        terminal drops it. The next command goes out on a new connection."""
        port, accepted, came = self.silent_server()
        pty = self.spawn(["-t", "300", "-h", t.HOST, "-p", port], {"EVKV_HISTFILE": ""},
                         prompt=f"evkv {t.HOST}:{port}> ")
        pty.type(b"search morpheus\r")
        self.assertTrue(came.wait(STEP_TIMEOUT))
        pty.send(b"ping\r")  # typed ahead, echoed by the terminal
        time.sleep(0.2)
        pty.send(b"\x03")
        out = pty.read_until_past_echo(NOT_CONNECTED)  # within STEP_TIMEOUT, far below -t 300
        self.assertEqual(out, b"search morpheus\r\nping\r\n\r\nevkv-cli: interrupted\r\n" + NOT_CONNECTED)
        self.assertEqual(len(accepted), 1)
        # SIGINT from elsewhere does the same (no "^C" from the terminal).
        came.clear()
        pty.type(b"ping\r")
        self.assertTrue(came.wait(STEP_TIMEOUT))
        self.assertEqual(len(accepted), 2)
        pty.proc.send_signal(signal.SIGINT)
        out = pty.read_until(NOT_CONNECTED)
        self.assertEqual(out, b"ping\r\n\r\nevkv-cli: interrupted\r\n" + NOT_CONNECTED)
        # Nothing was run of the line typed ahead.
        self.assertEqual(len(accepted), 2)
        pty.prompt = NOT_CONNECTED
        self.assert_command(pty, "help", HELP, connected=False)
        self.assert_quit(pty)

    def test_timeout_bounds_the_whole_answer(self):
        """A server that trickles its answer a byte every 0.25 s (for over a
        minute) gets -t 1 for the whole answer, not for each byte."""
        answer = t.result_answer("x" * 250)

        def handle(s):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while s.recv(65536):
                for i in range(len(answer)):
                    s.sendall(answer[i:i + 1])
                    time.sleep(0.25)

        port, _ = self.fake_server(handle)
        pty = self.spawn(["-t", "1", "-h", t.HOST, "-p", port], {"EVKV_HISTFILE": ""},
                         prompt=f"evkv {t.HOST}:{port}> ")
        # assert_command waits STEP_TIMEOUT (10 s; 60 s under a wrapper) at most.
        self.assert_command(pty, "search morpheus", "evkv-cli: timed out after 1000 ms waiting for an answer\n",
                            connected=False)
        self.assert_command(pty, "ping", "evkv-cli: timed out after 1000 ms waiting for an answer\n",
                            connected=False)
        self.assert_quit(pty)


class LatencyOnTerminalTest(InteractiveTestCase):

    def test_refreshing_line_until_sigint(self):
        srv = self.start_server()
        pty = self.spawn(["-h", t.HOST, "-p", srv.port, "ping", "--latency"])
        # The line is redrawn in place ("\r", erase the line), at most every
        # 0.1 s; wait for a few redraws, then Ctrl-C.
        for _ in range(3):
            pty.read_until(b" samples)")
        pty.send(b"\x03")
        # The final line, and the terminal's "^C" before it, after it or
        # not at all (see read_until_past_echo); a round trip under way
        # when it comes completes, and may redraw once more.
        out = pty.read_to_eof()
        self.assertEqual(pty.wait(), 0)
        self.assertLessEqual(out.count(b"^C"), 1, out)
        out = out.replace(b"^C", b"")
        redraw = rb"\r\x1b\[2Kmin: \d+\.\d\d, max: \d+\.\d\d, avg: \d+\.\d\d \(\d+ samples\)"
        final = (rb"\r\x1b\[2Kmin: \d+\.\d\d, avg: \d+\.\d\d, p50: \d+\.\d\d, p99: \d+\.\d\d, max: \d+\.\d\d "
                 rb"\((\d+) samples\)\r\n")
        m = re.fullmatch(rb"(?:" + redraw + rb")*" + final, out)
        self.assertTrue(m, out)
        self.assertGreater(int(m.group(1)), 3)

    def test_count_on_terminal(self):
        srv = self.start_server()
        pty = self.spawn(["-h", t.HOST, "-p", srv.port, "ping", "--latency", "-n", "5", "-i", "0.15"])
        out = pty.read_to_eof()
        self.assertEqual(pty.wait(), 0)
        lines = out.split(b"\r\x1b[2K")
        self.assertEqual(lines[0], b"")
        # One redraw per sample (0.15 s apart), then the final line.
        self.assertEqual(len(lines), 7, out)
        for i, line in enumerate(lines[1:6], 1):
            self.assertRegex(line, rb"^min: \d+\.\d\d, max: \d+\.\d\d, avg: \d+\.\d\d \(%d samples\)$" % i)
        self.assertRegex(lines[6], rb"^min: \d+\.\d\d, avg: \d+\.\d\d, p50: \d+\.\d\d, p99: \d+\.\d\d, "
                                   rb"max: \d+\.\d\d \(5 samples\)\r\n$")


if __name__ == "__main__":
    t.main()

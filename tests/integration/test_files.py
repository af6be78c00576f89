"""integration.files: the data, config and log files an operator may get
wrong. A FIFO (or anything but a regular file) where a data or config file
should be is refused with a clear error, at start, in --check-config and on
a reload, without the server ever blocking on it; a FIFO log file with no
reader is refused too. A data file truncated or rewritten while it loads
fails that load (or, when the change came after the file was read, the load
stands): the server never dies of it. A UTF-8 byte-order mark at the start
of a data file is skipped."""

import os
import re
import shutil
import signal
import time

import evkv_test as t

RELOADED_RE = re.compile(t.LOG_PREFIX + r"reloaded: (\d+) keys? from (\S+), loaded in", re.M)
FAILED_RE = re.compile(t.LOG_PREFIX + r"error: reload failed: (.*); still serving (.*)$", re.M)

# Far more than anything here takes, even under valgrind: a wedged server
# fails the test instead of hanging it.
WAIT = 60.0

# The big file of the truncation tests: 2,000,000 lines, long enough to load
# that a change made once the server has it open lands while it is read or
# parsed.
BIG_LINES = 2000000


def write_tsv(path, table):
    """Writes table to path as TSV, atomically (a rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(f"{k}\t{v}\n" for k, v in table.items()))
    os.replace(tmp, path)


def big_value(i):
    return f"big value {i}"


def write_big_tsv(path):
    """BIG_LINES lines, key-0000000 to key-1999999."""
    with open(path, "w") as f:
        for start in range(0, BIG_LINES, 100000):
            f.write("".join(f"key-{i:07d}\t{big_value(i)}\n" for i in range(start, start + 100000)))


class FilesTest(t.TempDirTestCase):

    def fifo(self, name):
        path = self.path(name)
        if os.path.lexists(path):
            os.unlink(path)
        os.mkfifo(path)
        return path

    def run_server(self, *argv):
        """Runs evkv-server (under EVKV_SERVER_WRAPPER, if set) with argv
        as they are, until it exits; WAIT seconds at most. Returns (status,
        stdout, stderr)."""
        srv = t.Server(argv=list(argv))
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        rc = srv.wait_exit(WAIT)
        return rc, srv.stdout(), srv.stderr()

    def wait_log(self, srv, pattern, count=1):
        """Waits until pattern (a regex or a string) is in the log count
        times; the server must stay up meanwhile."""
        deadline = time.monotonic() + WAIT
        while True:
            text = srv.stderr()
            n = len(pattern.findall(text)) if isinstance(pattern, re.Pattern) else text.count(pattern)
            if n >= count:
                return text
            self.assertIsNone(srv.proc.poll(), f"the server died; stderr:\n{text}")
            self.assertLess(time.monotonic(), deadline, f"waited for {pattern!r}; stderr:\n{text}")
            time.sleep(0.01)

    def stats(self, conn):
        conn.send(t.json_request({"action": "stats"}))
        return t.answer_result(conn.read_answer())["table"]

    def stop_cleanly(self, srv):
        self.assertEqual(srv.stop(timeout=WAIT), 0, srv.stderr())
        self.assertRegex(srv.stderr(), t.STOP_RE)

    # ---- a FIFO where a regular file belongs ----

    def test_fifo_data_file_at_start_and_in_check_config(self):
        for name in ("f.tsv", "f.json"):
            fifo = self.fifo(name)
            for argv in (["--check-config", "--data", fifo], ["--port", "any", "--data", fifo]):
                with self.subTest(argv=argv):
                    rc, out, err = self.run_server(*argv)
                    self.assertEqual(rc, 2, err)
                    self.assertIn(f"{fifo}: not a regular file (a FIFO)", err)
                    self.assertNotIn("listening", err)

    def test_fifo_config_file_at_start_and_in_check_config(self):
        fifo = self.fifo("evkv.conf")
        for argv in (["--check-config", "-c", fifo], ["-c", fifo, "--port", "any"]):
            with self.subTest(argv=argv):
                rc, out, err = self.run_server(*argv)
                self.assertEqual(rc, 2, err)
                self.assertIn(f"cannot read config file {fifo}: not a regular file (a FIFO)", err)

    def test_fifo_log_file_with_no_reader(self):
        fifo = self.fifo("evkv.log")
        for argv in (["--check-config", "--log-file", fifo], ["--log-file", fifo, "--port", "any"]):
            with self.subTest(argv=argv):
                rc, out, err = self.run_server(*argv)
                self.assertEqual(rc, 2, err)
                self.assertIn(f"cannot open log file {fifo}: no process reads the FIFO", err)

    def test_fifo_log_file_with_a_reader(self):
        """A FIFO someone reads is a fine log file: the lines arrive."""
        fifo = self.fifo("evkv.log")
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, rfd)
        srv = t.Server("--log-file", fifo)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        got, deadline = b"", time.monotonic() + WAIT
        while b"listening on" not in got:
            self.assertIsNone(srv.proc.poll(), srv.stderr())
            self.assertLess(time.monotonic(), deadline, got)
            try:
                got += os.read(rfd, 4096)
            except BlockingIOError:
                time.sleep(0.01)
        self.assertEqual(srv.stop(timeout=WAIT), 0, srv.stderr())

    def test_reload_with_fifos_for_the_data_then_the_config_file(self):
        """The data file, then the config file, replaced by a FIFO: each
        reload fails, is logged and counted, and nothing blocks: the server
        answers, reloads again when asked and stops on SIGTERM."""
        data, conf = self.path("data.tsv"), self.path("evkv.conf")
        table = {"a": "from the data file"}
        write_tsv(data, table)
        with open(conf, "w") as f:
            f.write(f"data {data}\n")
        srv = self.start_server("-c", conf)
        conn = self.connect(srv)

        self.fifo("data.tsv")
        for n in (1, 2):  # the second: the first reload did not wedge the loader
            srv.send_signal(signal.SIGHUP)
            self.wait_log(srv, FAILED_RE, n)
            self.assert_search(conn, "a", table)
            self.assertEqual(self.stats(conn)["reload_failures"], n)
        why, still = FAILED_RE.findall(srv.stderr())[-1]
        self.assertEqual(why, f"{data}: not a regular file (a FIFO)")
        self.assertTrue(still.startswith(f"1 key from {data}"), still)

        write_tsv(data, table)
        self.fifo("evkv.conf")
        srv.send_signal(signal.SIGHUP)
        self.wait_log(srv, f"error: reload: cannot read config file {conf}: not a regular file (a FIFO); "
                           "nothing changed")
        self.assert_search(conn, "a", table)
        st = self.stats(conn)
        self.assertEqual((st["reloads"], st["reload_failures"]), (0, 3))
        self.stop_cleanly(srv)

    def test_reload_with_a_fifo_log_file(self):
        """A config file whose log-file becomes a FIFO with no reader: the
        log stays where it was and the reload goes on."""
        conf, log = self.path("evkv.conf"), self.path("first.log")
        fifo = self.fifo("evkv.log")
        with open(conf, "w") as f:
            f.write(f"log-file {log}\n")
        srv = t.Server("-c", conf)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)

        def log_text():
            try:
                with open(log) as f:
                    return f.read()
            except FileNotFoundError:
                return ""

        def wait_for(text):
            deadline = time.monotonic() + WAIT
            while text not in log_text():
                self.assertIsNone(srv.proc.poll(), srv.stderr())
                self.assertLess(time.monotonic(), deadline, f"waited for {text!r}; log:\n{log_text()}")
                time.sleep(0.01)

        wait_for("listening on")
        with open(conf, "w") as f:
            f.write(f"log-file {fifo}\n")
        srv.send_signal(signal.SIGHUP)
        wait_for("reloaded: 3 keys")
        self.assertIn(f"error: reload: cannot open log file {fifo}: no process reads the FIFO; the log stays here",
                      log_text())
        self.assertEqual(srv.stop(timeout=WAIT), 0, log_text())
        self.assertRegex(log_text(), t.STOP_RE)


    # ---- a data file that changes while it loads ----

    def big_file(self):
        """The path of a fresh copy of the big file (made once per test)."""
        master = self.path("big.master")
        if not os.path.exists(master):
            write_big_tsv(master)
        path = self.path("big.tsv")
        shutil.copyfile(master, path + ".tmp")
        os.replace(path + ".tmp", path)
        return path

    def test_reload_of_a_file_changed_while_it_loads(self):
        """A reload of a 2,000,000-line file truncated, or rewritten in
        place as cp does, once the server has it open: the server survives;
        either the load fails (logged and counted, the old table served) or
        the change came after the file was read and the whole file loaded.
        Never a part of it, never a crash."""
        small = {"a": "the old table"}
        data = self.path("data.tsv")
        write_tsv(data, small)
        srv = self.start_server("--data", data)
        conn = self.connect(srv)
        outcome_re = re.compile(t.LOG_PREFIX + r"(error: reload failed|reloaded): ", re.M)
        outcomes = []
        failures = reloads = 0
        for change in ("truncate", "rewrite", "truncate", "rewrite"):
            os.replace(self.big_file(), data)
            seen = len(outcome_re.findall(srv.stderr()))
            since = t.bytes_read(srv.proc.pid)
            srv.send_signal(signal.SIGHUP)
            t.wait_for_load(srv.proc.pid, data, since, lambda: len(outcome_re.findall(srv.stderr())) > seen)
            if change == "truncate":
                os.truncate(data, 0)
            else:
                with open(data, "w") as f:  # O_TRUNC, then the new bytes
                    f.write(f"a\t{small['a']}\n")
            text = self.wait_log(srv, outcome_re, seen + 1)
            if len(FAILED_RE.findall(text)) > failures:
                failures += 1
                why = FAILED_RE.findall(text)[-1][0]
                self.assertRegex(why, "^" + re.escape(data) + r": changed while it was read \(.+\)$")
                outcomes.append(f"{change}: failed ({why})")
                self.assert_search(conn, "a", small)
                self.assert_search(conn, "key-1999999", small)
            else:
                reloads += 1
                keys, path = RELOADED_RE.findall(text)[-1]
                self.assertEqual(path, data)
                # The whole file as it was, or (when the poll above was late:
                # a wrapper's own reads count in /proc's rchar) as the change
                # left it: never a part.
                after = "0" if change == "truncate" else "1"
                self.assertIn(keys, (str(BIG_LINES), after), "a part of the file was loaded")
                if keys == str(BIG_LINES):
                    outcomes.append(f"{change}: loaded before the change")
                    self.assert_search(conn, "key-0000000", {"key-0000000": big_value(0)})
                    self.assert_search(conn, "key-1999999", {"key-1999999": big_value(1999999)})
                else:
                    outcomes.append(f"{change}: loaded after the change")
                    self.assert_search(conn, "key-1999999", small if change == "rewrite" else {})
                # back to the small table for the next round
                write_tsv(data, small)
                srv.send_signal(signal.SIGHUP)
                self.wait_log(srv, RELOADED_RE, reloads + 1)
                reloads += 1
                self.assert_search(conn, "a", small)
            st = self.stats(conn)
            self.assertEqual((st["reloads"], st["reload_failures"]), (reloads, failures), outcomes)
        print("outcomes:", "; ".join(outcomes))
        self.stop_cleanly(srv)

    def test_start_with_a_file_truncated_while_it_loads(self):
        """The first load, at start: the server exits 2 naming the file
        (or, when the truncation came after the file was read, it serves
        the whole file); it never dies of a signal."""
        data = self.big_file()
        srv = t.Server("--data", data)
        self.addCleanup(srv.close_files)
        self.addCleanup(srv.kill)
        t.wait_for_load(srv.proc.pid, data, done=lambda: srv.proc.poll() is not None or
                        t.START_RE.search(srv.stderr()) is not None)
        os.truncate(data, 0)
        deadline = time.monotonic() + WAIT
        while srv.proc.poll() is None and not t.START_RE.search(srv.stderr()):
            self.assertLess(time.monotonic(), deadline, srv.stderr())
            time.sleep(0.01)
        if srv.proc.poll() is not None:
            self.assertEqual(srv.proc.returncode, 2, srv.stderr())
            self.assertRegex(srv.stderr(), t.LOG_PREFIX + "error: " + re.escape(data) +
                             r": changed while it was read \(.+\)$")
            print("outcome: exit 2")
        else:
            srv.wait_started()
            # All of it, or (when the poll above was late: a sanitizer's
            # own reads count in /proc's rchar) none of it, read after the
            # truncation; never a part.
            self.assertRegex(srv.source, rf"^({BIG_LINES}|0) keys? from {re.escape(data)},")
            if srv.source.startswith(str(BIG_LINES)):
                self.assert_search(self.connect(srv), "key-1999999", {"key-1999999": big_value(1999999)})
            self.stop_cleanly(srv)
            print("outcome: loaded before or after the change")


    # ---- a UTF-8 byte-order mark ----

    def test_byte_order_mark_is_skipped(self):
        """Files saved as Windows' Notepad saves them: the mark is not part
        of the first key (TSV), nor an error (JSON)."""
        table = {"alpha": "first", "beta": "second"}
        tsv, js = self.path("bom.tsv"), self.path("bom.json")
        with open(tsv, "w", encoding="utf-8-sig", newline="") as f:
            f.write("alpha\tfirst\r\nbeta\tsecond\r\n")
        with open(js, "w", encoding="utf-8-sig") as f:
            f.write('{"alpha": "first",\n "beta": "second"}\n')
        for path in (tsv, js):
            with self.subTest(path=path):
                rc, out, err = self.run_server("--check-config", "--data", path)
                self.assertEqual((rc, err), (0, ""))
                self.assertIn(f"2 keys from {path}", out)
                srv = self.start_server("--data", path)
                conn = self.connect(srv)
                self.assert_search(conn, "alpha", table)
                self.assert_search(conn, "beta", table)
                self.assert_search(conn, "\ufeffalpha", table)  # a miss
        # an error names the line and column it would without the mark
        errors = []
        for name, encoding in (("bad.json", "utf-8"), ("bad-bom.json", "utf-8-sig")):
            with open(self.path(name), "w", encoding=encoding) as f:
                f.write('{"alpha": "first",\n "beta" "second"}\n')
            rc, out, err = self.run_server("--check-config", "--data", self.path(name))
            self.assertEqual(rc, 2, err)
            errors.append(err.replace(self.path(name), "FILE"))
        self.assertIn("FILE: line 2, column ", errors[0])
        self.assertEqual(errors[1], errors[0])


if __name__ == "__main__":
    t.main()

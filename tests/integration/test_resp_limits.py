"""integration.resp_limits: what one Redis client cannot do to the server:
make it hold a request, a MULTI queue or a stop's answers without bound,
spin on a pattern, or keep the memory of a big reply once it is sent.
Each bound is checked by the server's resident memory (a generous margin:
the attacks grew it by gigabytes; a small one for memory given back) or by
the answer."""

import signal
import socket
import time

import evkv_test as t

MIB = 1024 * 1024
MAX_CONTENT = 1024 * 1024  # the default --max-content
GROWTH_KIB = 256 * 1024  # what the server may grow by under one attack
# What the server may keep of two 100 MB replies once they are sent: what
# malloc keeps of the small blocks the requests took (the parse of an
# msearch, the output buffers' bookkeeping) and of the two worker threads'
# arenas. Well under one reply: a buffer kept would be 100 MB or more.
RETURN_MARGIN_KIB = 8 * 1024


def read_until_eof(sock, limit=1 << 20):
    data = b""
    while len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class RespLimitsTest(t.TempDirTestCase):

    def start(self, *args, keys=0):
        argv = ["--resp-port", "any", "--threads", "1"] + list(args)
        if keys:
            path = self.path("table.tsv")
            with open(path, "w") as f:
                f.write("".join(f"key:{i:06d}\tvalue {i}\n" for i in range(keys)))
            argv += ["--data", path]
        srv = self.start_server(*argv)
        sock = socket.create_connection((t.HOST, srv.resp_port), timeout=t.IO_TIMEOUT)
        self.addCleanup(sock.close)
        return srv, sock

    def test_an_endless_request_is_refused(self):
        """*2147483647 then 1 MiB bulks, sent as fast as the server takes
        them: refused once the request passes --max-content, with an error
        reply, before the bulk's bytes arrive; then closed."""
        srv, sock = self.start()
        before = t.rss_kib(srv.proc.pid)
        bulk = b"$%d\r\n" % MAX_CONTENT + b"x" * MAX_CONTENT + b"\r\n"
        sock.sendall(b"*2147483647\r\n")
        sent = 0
        try:
            for _ in range(64):
                sock.sendall(bulk)
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_until_eof(sock)
        limit = MAX_CONTENT + 4096
        self.assertEqual(reply, b"-ERR Protocol error: request over %d bytes\r\n" % limit)
        self.assertLess(sent, 64)
        self.assertLess(t.rss_kib(srv.proc.pid) - before, GROWTH_KIB)
        # the server goes on serving
        with socket.create_connection((t.HOST, srv.resp_port), timeout=t.IO_TIMEOUT) as other:
            other.sendall(t.resp_command("GET", "morpheus"))
            self.assertTrue(other.recv(100).startswith(b"$"))

    def test_the_multi_queue_is_bounded(self):
        """MULTI, then ECHOs of 1 KiB until one is refused (the queue would
        pass --max-content): the refusal says why, EXEC aborts, and the
        connection goes on."""
        srv, sock = self.start()
        before = t.rss_kib(srv.proc.pid)
        f = sock.makefile("rb")
        sock.sendall(t.resp_command("MULTI"))
        self.assertEqual(f.readline(), b"+OK\r\n")
        echo = t.resp_command("ECHO", "e" * 1024)
        queued = 0
        while True:
            sock.sendall(echo * 64)
            replies = [f.readline() for _ in range(64)]
            queued += replies.count(b"+QUEUED\r\n")
            refused = [r for r in replies if r != b"+QUEUED\r\n"]
            if refused:
                break
            self.assertLess(queued, 100000)
        self.assertEqual(refused[0], b"-ERR MULTI queue over %d bytes: the transaction will abort\r\n"
                         % (MAX_CONTENT + 4096))
        self.assertGreater(queued, 500)
        sock.sendall(t.resp_command("EXEC") + t.resp_command("PING"))
        self.assertEqual(f.readline(), b"-EXECABORT Transaction discarded because of previous errors.\r\n")
        self.assertEqual(f.readline(), b"+PONG\r\n")
        self.assertLess(t.rss_kib(srv.proc.pid) - before, GROWTH_KIB)

    def test_a_stop_answers_under_backpressure(self):
        """A client pipelines KEYS * (about 300 KB of answer each) and reads
        nothing. Running, the server pauses it at --max-output; at SIGTERM
        it answers what arrived as the client takes it, not all at once: its
        memory stays bounded through the stop, which the grace period ends."""
        srv, sock = self.start("--max-output", str(MIB), keys=20000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        data = t.resp_command("KEYS", "*") * 3000
        sent = 0
        deadline = time.monotonic() + 5
        while sent < len(data) and time.monotonic() < deadline:
            try:
                sent += sock.send(data[sent:])
            except BlockingIOError:
                time.sleep(0.01)
        time.sleep(0.5)
        before = t.rss_kib(srv.proc.pid)
        srv.send_signal(signal.SIGTERM)
        peak = before
        while srv.proc.poll() is None:
            try:
                peak = max(peak, t.rss_kib(srv.proc.pid))
            except ProcessLookupError:
                break  # it ended between the two looks
            time.sleep(0.02)
        self.assertEqual(srv.wait_exit(), 0, srv.stderr())
        self.assertGreater(sent, 100 * len(t.resp_command("KEYS", "*")), "the client sent too little to tell")
        self.assertLess(peak - before, GROWTH_KIB)

    def test_a_pattern_of_a_million_stars(self):
        """KEYS and SCAN MATCH take a run of stars as one star (collapsed
        once a request, not skipped again for every key): the same keys."""
        srv, sock = self.start(keys=20000)
        f = sock.makefile("rb")

        def keys(pattern):
            sock.sendall(t.resp_command("KEYS", pattern))
            n = int(f.readline()[1:])
            return sorted(f.readline() and f.readline()[:-2] for _ in range(n))

        self.assertEqual(keys(b"*" * 1000000 + b"x"), [])
        ones = keys(b"*1")
        self.assertEqual(len(ones), 2000)
        self.assertEqual(keys(b"*" * 1000000 + b"1"), ones)
        self.assertEqual(keys(b"key:00**0**1"), keys(b"key:00*0*1"))
        self.assertEqual(keys(b"key:00000\\*"), [])

    def test_scan_count_is_bounded(self):
        """SCAN COUNT a million walks 10,000 keys' worth a call: a big
        table takes more calls, and the walk still returns every key."""
        srv, sock = self.start(keys=30000)
        f = sock.makefile("rb")
        cursor, seen, calls = b"0", [], 0
        while True:
            sock.sendall(t.resp_command("SCAN", cursor, "COUNT", 1000000))
            self.assertEqual(f.readline(), b"*2\r\n")
            f.readline()
            cursor = f.readline()[:-2]
            n = int(f.readline()[1:])
            self.assertLessEqual(n, 10000)
            seen += [f.readline() and f.readline()[:-2] for _ in range(n)]
            calls += 1
            if cursor == b"0":
                break
        self.assertGreaterEqual(calls, 3)
        self.assertEqual(sorted(seen), [b"key:%06d" % i for i in range(30000)])

    def test_inline_requests_obey_max_content(self):
        """With --max-content 1000, inline requests are bounded as
        multibulk ones, with the same errors: a request over 1000 + 4096
        bytes (an ECHO of 60,000 bytes, an MGET of 30,000 keys) is refused
        as soon as that many bytes are in, before its end arrives; an
        argument over 1000 bytes in a shorter line as an invalid bulk
        length. Each refusal closes the connection."""
        srv, sock = self.start("--max-content", "1000")

        def reply(data):
            """The first line of the reply to data, and whether the
            connection then closes."""
            with socket.create_connection((t.HOST, srv.resp_port), timeout=t.IO_TIMEOUT) as s:
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                f = s.makefile("rb")
                line = f.readline()
                return line if line.startswith(b"-") and f.read() == b"" else line + b" (not closed)"

        over = b"-ERR Protocol error: request over %d bytes\r\n" % (1000 + 4096)
        invalid = b"-ERR Protocol error: invalid bulk length\r\n"
        echo, mget = [b"ECHO", b"e" * 60000], [b"MGET"] + [b"k"] * 30000
        cases = [
            ("multibulk ECHO of 60,000", t.resp_command(*echo), invalid),  # refused at its $60000
            ("inline ECHO of 60,000", b" ".join(echo) + b"\r\n", over),
            ("inline ECHO of 60,000, no end", b" ".join(echo), over),
            ("multibulk MGET of 30,000", t.resp_command(*mget), over),
            ("inline MGET of 30,000", b" ".join(mget) + b"\r\n", over),
            ("multibulk ECHO of 1001", t.resp_command("ECHO", b"e" * 1001), invalid),
            ("inline ECHO of 1001", b"ECHO " + b"e" * 1001 + b"\r\n", invalid),
            ("inline ECHO of 1001, quoted", b'ECHO "' + b"\\x65" * 1001 + b'"\r\n', invalid),
        ]
        for name, request, want in cases:
            with self.subTest(name):
                self.assertEqual(reply(request), want)
        # within the limits, inline requests are answered as before
        sock.sendall(b"ECHO " + b"e" * 1000 + b"\r\nMGET " + b"k " * 2000 + b"\r\n")
        f = sock.makefile("rb")
        self.assertEqual(f.readline(), b"$1000\r\n")
        self.assertEqual(f.readline(), b"e" * 1000 + b"\r\n")
        self.assertEqual(f.readline(), b"*2000\r\n")
        self.assertEqual([f.readline() for _ in range(2000)], [b"$-1\r\n"] * 2000)

    def test_memory_given_back_after_big_replies(self):
        """An MGET over RESP and an msearch over the guide's protocol of
        12 MB each, then of 100 MB each, every reply checked: once both
        clients are gone, the server's resident memory comes back to within
        RETURN_MARGIN_KIB of what it was after the table was loaded and
        both protocols had answered a small request (it stayed 200 MB over;
        Redis 7.0 comes back to 12-16 MB in the same test)."""
        if not t.rss_is_the_servers():
            self.skipTest("the server runs under valgrind or a sanitizer: its resident size is not its own")
        values = {f"big{i}": (f"{i}" + "0123456789abcdefghijklmnopqrstuvwxyz" * 29128)[:MIB] for i in range(10)}
        path = self.path("big.tsv")
        with open(path, "w") as f:
            f.write("".join(f"{k}\t{v}\n" for k, v in values.items()))
        srv, sock = self.start("--data", path, "--threads", "2")
        sock.close()
        resp, guide = t.Resp(srv.resp_port), srv.connect()
        self.assertEqual(resp.call("GET", "big3"), values["big3"].encode())
        self.assert_search(guide, "big3", values)
        baseline = t.rss_kib(srv.proc.pid)

        # 12 MB first: glibc would then keep blocks of up to that size in
        # its arenas (see memory_setup in server/main.c)
        for n in (12, 100):
            keys = [f"big{i % 10}" for i in range(n)]
            want = [values[k] for k in keys]
            self.assertEqual([v.decode() for v in resp.call("MGET", *keys)], want)
            guide.send(t.search_request(keys, action="msearch"))
            self.assertEqual(t.answer_result(guide.read_answer()), want)
            time.sleep(1.5)  # a sweep
        peak = t.rss_kib(srv.proc.pid, "VmHWM")
        resp.close()
        guide.close()
        deadline = time.monotonic() + 20
        rss = t.rss_kib(srv.proc.pid)
        while rss > baseline + RETURN_MARGIN_KIB and time.monotonic() < deadline:
            time.sleep(0.25)
            rss = t.rss_kib(srv.proc.pid)
        self.assertGreater(peak - baseline, 100 * 1024, "the replies never made the server grow: nothing measured")
        self.assertLessEqual(rss - baseline, RETURN_MARGIN_KIB,
                             f"resident memory: {baseline} KiB before, {peak} KiB at the peak, {rss} KiB 20 s later")


if __name__ == "__main__":
    t.main()

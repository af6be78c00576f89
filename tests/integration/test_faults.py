"""integration.faults: bad input and broken clients.

Framing lost: one text/json "Error: ..." answer, then the connection
closes. Framing intact: an "Error: ..." answer and the connection goes on.
Throughout, a control client on its own connection keeps getting correct
answers, and clients that vanish mid-frame hurt nobody.
"""

import json
import socket
import struct
import time

import evkv_test as t

SEARCH_CONTENT = t.json_encode({"action": "search", "value": "morpheus"})


def header(**overrides):
    """A valid header for SEARCH_CONTENT, with keys replaced (a value of
    None removes the key)."""
    h = {"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8",
         "content-length": len(SEARCH_CONTENT)}
    for k, v in overrides.items():
        k = k.replace("_", "-")
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    return h


# Frames whose framing is lost, each with what the error must mention.
FRAMING_LOST = {
    "header not JSON": (t.raw_frame(b"hello, world"), None),
    "header truncated JSON": (t.raw_frame(b'{"byteorder": "little", "content-type"'), None),
    "header not UTF-8": (t.raw_frame(b'{"byteorder": "\xff\xfe"}'), None),
    "header is an array": (t.raw_frame([1, 2, 3]), None),
    "header is a string": (t.raw_frame("text/json"), None),
    "header is a number": (t.raw_frame(b"42"), None),
    "header is null": (t.raw_frame(b"null"), None),
    "header empty object": (t.raw_frame({}), None),
    "header length 0": (b"\x00\x00", None),
    "missing byteorder": (t.raw_frame(header(byteorder=None), SEARCH_CONTENT), "byteorder"),
    "missing content-type": (t.raw_frame(header(content_type=None), SEARCH_CONTENT), "content-type"),
    "missing content-encoding": (t.raw_frame(header(content_encoding=None), SEARCH_CONTENT),
                                 "content-encoding"),
    "missing content-length": (t.raw_frame(header(content_length=None), SEARCH_CONTENT),
                               "content-length"),
    "content-type not a string": (t.raw_frame(header(content_type=["text/json"]), SEARCH_CONTENT),
                                  "content-type"),
    "byteorder not little or big": (t.raw_frame(header(byteorder="middle"), SEARCH_CONTENT), "byteorder"),
    "content-length negative": (t.raw_frame(header(content_length=-1), SEARCH_CONTENT), "content-length"),
    "content-length string": (t.raw_frame(header(content_length="41"), SEARCH_CONTENT), "content-length"),
    "content-length float": (t.raw_frame(header(content_length=41.0), SEARCH_CONTENT), "content-length"),
    "content-length true": (t.raw_frame(header(content_length=True), SEARCH_CONTENT), "content-length"),
    "content-length null": (t.raw_frame(header(content_length=[]), SEARCH_CONTENT), "content-length"),
    "content-length over default limit": (t.raw_frame(header(content_length=1024 * 1024 + 1)), None),
    "content-length huge": (t.raw_frame(header(content_length=2 ** 62)), None),
    "content-length 2**64": (t.raw_frame(header(content_length=2 ** 64)), None),
    "text/json latin-1": (t.raw_frame(header(content_encoding="latin-1"), SEARCH_CONTENT), "latin-1"),
    "text/json utf-16": (t.raw_frame(header(content_encoding="utf-16"), SEARCH_CONTENT), "utf-16"),
    "text/json binary encoding": (t.raw_frame(header(content_encoding="binary"), SEARCH_CONTENT), None),
    "header length over default max": (struct.pack(">H", 8193), None),
    "header length 65535": (struct.pack(">H", 65535), None),
}

# Frames whose framing is intact but whose content is unusable.
FRAMING_INTACT = {
    "content not JSON": b"{not json",
    "content empty": b"",
    "content truncated JSON": b'{"action": "search", "value": "morph',
    "content trailing garbage": b'{"action": "search", "value": "morpheus"} x',
    "content not UTF-8": b'{"action": "search", "value": "\xff\xfe"}',
    "content duplicate keys": b'{"action": "search", "value": "ring", "value": "morpheus"}',
    "content is an array": b'["search", "morpheus"]',
    "content is a string": b'"search"',
    "content is a number": b"12",
    "content is null": b"null",
    "action missing": b'{"value": "morpheus"}',
    "action not a string": b'{"action": 1, "value": "morpheus"}',
    "action null": b'{"action": null, "value": "morpheus"}',
    "action a list": b'{"action": ["search"], "value": "morpheus"}',
    "value missing": b'{"action": "search"}',
    "value not a string": b'{"action": "search", "value": 5}',
    "value null": b'{"action": "search", "value": null}',
    "value an object": b'{"action": "search", "value": {"k": "morpheus"}}',
    "value a list": b'{"action": "search", "value": ["morpheus"]}',
}


class FaultsTest(t.ServerTestCase):

    def setUp(self):
        self.srv = self.start_server()
        self.control = self.connect(self.srv)
        self.check_control()

    def tearDown(self):
        self.check_control()

    def check_control(self):
        self.assert_search(self.control, "morpheus")
        self.assert_search(self.control, "nope")
        self.assertEqual(self.control.exchange(t.binary_request(b"double12")), t.binary_answer(b"double12"))

    def assert_framing_lost(self, frame, mention=None, what=""):
        with self.srv.connect() as c:
            c.send(frame)
            answer = c.read_answer()
            result = self.assert_error_answer(answer)
            if mention:
                self.assertIn(mention, result, what)
            self.assertTrue(c.at_eof(), what)
        return result

    def assert_framing_intact(self, content, what=""):
        with self.srv.connect() as c:
            c.send(t.message(content, "text/json", "utf-8"))
            result = self.assert_error_answer(c.read_answer())
            # The same connection goes on.
            self.assert_search(c, "morpheus")
            # Also when the bad request is pipelined between good ones.
            c.send(t.search_request("ring") + t.message(content, "text/json", "utf-8")
                   + t.search_request("\U0001f436"))
            self.assertEqual(c.read_answer().raw, t.search_answer("ring"))
            self.assertEqual(self.assert_error_answer(c.read_answer()), result, what)
            self.assertEqual(c.read_answer().raw, t.search_answer("\U0001f436"))
        return result

    def test_framing_lost(self):
        for what, (frame, mention) in FRAMING_LOST.items():
            with self.subTest(what):
                self.assert_framing_lost(frame, mention, what)
                self.check_control()

    def test_framing_lost_after_good_requests(self):
        # Answers to the good requests before the bad frame still arrive.
        with self.srv.connect() as c:
            c.send(t.search_request("ring") + t.binary_request(b"xy") + t.raw_frame(b"oops")
                   + t.search_request("morpheus"))
            self.assertEqual(c.read_answer().raw, t.search_answer("ring"))
            self.assertEqual(c.read_answer().raw, t.binary_answer(b"xy"))
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())

    def test_missing_each_required_key(self):
        for key in ("byteorder", "content-type", "content-encoding", "content-length"):
            with self.subTest(key):
                h = header()
                del h[key]
                result = self.assert_framing_lost(t.raw_frame(h, SEARCH_CONTENT), key)
                self.assertIn(key, result)

    def test_over_limit_rejected_before_the_content_arrives(self):
        # Only the header is sent: the error must not wait for the content.
        with self.srv.connect() as c:
            c.send(t.raw_frame(header(content_length=1024 * 1024 + 1)))
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())

    def test_header_too_long_rejected_before_the_header_arrives(self):
        with self.srv.connect() as c:
            c.send(struct.pack(">H", 60000) + b"{")
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())

    def test_framing_intact(self):
        for what, content in FRAMING_INTACT.items():
            with self.subTest(what):
                self.assert_framing_intact(content, what)
                self.check_control()

    def test_framing_intact_error_texts(self):
        self.assertIn("action", self.assert_framing_intact(b'{"value": "morpheus"}'))
        self.assertIn("value", self.assert_framing_intact(b'{"action": "search"}'))
        self.assertIn("value", self.assert_framing_intact(b'{"action": "search", "value": 5}'))
        self.assertIn("action", self.assert_framing_intact(b'{"action": 1, "value": "x"}'))
        self.assertIn("JSON", self.assert_framing_intact(b"{not json"))

    def test_many_framing_intact_errors_on_one_connection(self):
        c = self.connect(self.srv)
        data = b""
        for content in FRAMING_INTACT.values():
            data += t.message(content, "text/json", "utf-8") + t.search_request("ring")
        c.send(data)
        for what in FRAMING_INTACT:
            self.assert_error_answer(c.read_answer())
            self.assertEqual(c.read_answer().raw, t.search_answer("ring"), what)

    def test_error_answers_are_printable(self):
        # Error texts quote client input; they must stay valid, escaped JSON.
        frame = t.raw_frame(b'{"byteorder": "\x01\x02\xc3\xa9\xff\n\x00')
        result = self.assert_framing_lost(frame)
        self.assertNotIn("\x00", result)

    def test_disconnect_mid_frame(self):
        req = t.search_request("morpheus")
        hlen = struct.unpack(">H", req[:2])[0]
        cuts = {
            "one byte of protoheader": req[:1],
            "protoheader only": req[:2],
            "half a header": req[:2 + hlen // 2],
            "header, no content": req[:2 + hlen],
            "half a content": req[:len(req) - 20],
            "a whole request and half another": req + req[:30],
            "half a binary content": t.binary_request(b"x" * 1000)[:-500],
        }
        for what, data in cuts.items():
            with self.subTest(what):
                other = self.connect(self.srv)
                other.send(req[:10])  # another client, itself mid-frame
                c = t.Conn(self.srv.port)
                c.send(data)
                time.sleep(0.02)
                c.close()
                t.send_and_close_rudely(self.srv.port, data)
                other.send(req[10:])
                self.assertEqual(other.read_answer().raw, t.search_answer("morpheus"), what)
                self.check_control()

    def test_disconnect_mid_frame_repeatedly(self):
        req = t.search_request("ring")
        for i in range(200):
            cut = 1 + i % (len(req) - 1)
            if i % 2:
                t.send_and_close_rudely(self.srv.port, req[:cut])
            else:
                c = t.Conn(self.srv.port)
                c.send(req[:cut])
                c.close()
        self.check_control()

    def test_disconnect_before_reading_answers(self):
        for _ in range(20):
            t.send_and_close_rudely(self.srv.port, t.search_request("morpheus") * 100)
        self.check_control()

    def test_connect_and_close_without_sending(self):
        for _ in range(50):
            socket.create_connection((t.HOST, self.srv.port), timeout=t.IO_TIMEOUT).close()
        self.check_control()

    def test_garbage_streams(self):
        import random
        rnd = random.Random(7)
        for i in range(50):
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 400)))
            with self.srv.connect() as c:
                c.send(junk)
                c.sock.shutdown(socket.SHUT_WR)
                # Whatever the server makes of it, it answers in frames
                # and then closes; it never hangs or dies.
                try:
                    while True:
                        c.read_answer()
                except EOFError:
                    pass
                except ConnectionResetError:
                    pass
        self.check_control()


class LimitsTest(t.ServerTestCase):
    """--max-content and --max-header."""

    def test_max_content(self):
        srv = self.start_server("--max-content", "100")
        control = self.connect(srv)
        with srv.connect() as c:
            ok = t.binary_request(b"b" * 100)
            self.assertEqual(c.exchange(ok), t.binary_answer(b"b" * 100))
            key = "k" * (100 - len(t.json_encode({"action": "search", "value": ""})))
            req = t.search_request(key)
            self.assertEqual(len(req) - 2 - struct.unpack(">H", req[:2])[0], 100)
            self.assertEqual(c.exchange(req), t.search_answer(key))
        for req in (t.binary_request(b"b" * 101), t.search_request(key + "k")):
            with srv.connect() as c:
                c.send(req)
                result = self.assert_error_answer(c.read_answer())
                self.assertIn("100", result)
                self.assertTrue(c.at_eof())
            self.assert_search(control, "morpheus")

    def test_max_content_zero(self):
        srv = self.start_server("--max-content", "0")
        with srv.connect() as c:
            self.assertEqual(c.exchange(t.binary_request(b"")), t.binary_answer(b""))
            c.send(t.binary_request(b"x"))
            self.assert_error_answer(c.read_answer())
            self.assertTrue(c.at_eof())

    def test_default_max_content_is_one_mib(self):
        srv = self.start_server()
        data = bytes(range(256)) * 4096
        self.assertEqual(len(data), 1024 * 1024)
        with srv.connect() as c:
            sender = c.send_in_background(t.binary_request(data))
            self.assertEqual(c.read_answer().raw, t.binary_answer(data))
            sender.join(t.IO_TIMEOUT)

    def test_max_header(self):
        srv = self.start_server("--max-header", "100")
        control = self.connect(srv)
        content = b"xyz"

        def frame_with_header_len(n):
            h = {"byteorder": "big", "content-type": "b", "content-encoding": "b",
                 "content-length": len(content), "p": ""}
            base = len(t.json_encode(h))
            self.assertLessEqual(base, n)
            h["p"] = "p" * (n - base)
            f = t.raw_frame(h, content)
            self.assertEqual(struct.unpack(">H", f[:2])[0], n)
            return f

        small = t.raw_frame({"byteorder": "little", "content-type": "a", "content-encoding": "b",
                             "content-length": 3}, content)
        with srv.connect() as c:
            self.assertEqual(c.exchange(small), t.binary_answer(content))
            self.assertEqual(c.exchange(frame_with_header_len(100)), t.binary_answer(content))
        # The default request header (103 bytes for morpheus) is too long now.
        for frame in (frame_with_header_len(101), t.search_request("morpheus"), struct.pack(">H", 101)):
            with srv.connect() as c:
                c.send(frame)
                result = self.assert_error_answer(c.read_answer())
                self.assertIn("100", result)
                self.assertTrue(c.at_eof())
            self.assertEqual(control.exchange(small), t.binary_answer(content))

    def test_max_header_65535(self):
        srv = self.start_server("--max-header", "65535")
        h = {"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8",
             "content-length": len(SEARCH_CONTENT), "pad": ""}
        h["pad"] = "p" * (65535 - len(t.json_encode(h)))
        frame = t.raw_frame(h, SEARCH_CONTENT)
        self.assertEqual(frame[:2], b"\xff\xff")
        with srv.connect() as c:
            self.assertEqual(c.exchange(frame), t.search_answer("morpheus"))

    def test_bad_limit_values(self):
        for args in (["--max-header", "70000"], ["--max-header", "-1"], ["--max-header", "abc"],
                     ["--max-content", "-5"], ["--max-content", "1k"], ["--max-content", ""]):
            with self.subTest(args):
                srv = t.Server(*args)
                try:
                    self.assertEqual(srv.wait_exit(), 2, srv.stderr())
                    self.assertTrue(srv.stderr().strip())
                finally:
                    srv.kill()
                    srv.close_files()


if __name__ == "__main__":
    t.main()

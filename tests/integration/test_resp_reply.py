#!/usr/bin/env python3
"""
test_resp_reply.py: the tests' RESP2 reply reader (resp_reply.py, which
evkv_test.Resp, redis_oracle and scripts/gen-resp-commands read with)
against the cases of tests/unit/resp-reply-cases.txt, which the C reader
(proto/resp_reply.c, unit.resp_reply) must read the same way: what each
well-formed reply reads as, from whole bytes and from bytes arriving one
at a time, and where and why each malformed one fails. No server.
"""

import os
import unittest

import resp_reply

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "resp-reply-cases.txt")


def unescape(text):
    r"""The bytes text stands for (escapes \r \n \\ \xHH)."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == "\\" and text[i + 1] == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif c == "\\":
            out += {"r": b"\r", "n": b"\n", "\\": b"\\"}[text[i + 1]]
            i += 2
        else:
            out += c.encode("latin-1")
            i += 1
    return bytes(out)


def load_cases():
    """(good, bad): [(bytes, text)], [(bytes, shown_at, errstr)]."""
    good, bad, reply = [], [], None
    with open(CASES, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("< "):
                reply = unescape(line[2:])
            elif line.startswith("> "):
                good.append((reply, unescape(line[2:])))
            elif line.startswith("! "):
                shown_at, errstr = line[2:].split(" ", 1)
                bad.append((reply, int(shown_at), unescape(errstr).decode("latin-1")))
    return good, bad


def render(raw, pos=0):
    """The reply at raw[pos:] as the cases write it: (text, end)."""
    kind, value, end = resp_reply._item(raw, pos)
    if kind == b"*" and value is not None:
        parts = []
        for _ in range(value):
            text, end = render(raw, end)
            parts.append(text)
        return b"[" + b",".join(parts) + b"]", end
    if value is None:
        return (b"nil" if kind == b"$" else b"nil-array"), end
    names = {b"+": b"status:", b"-": b"error:", b":": b"int:", b"$": b"bulk:"}
    return names[kind] + (b"%d" % value if kind == b":" else value), end


class Trickle:
    """A socket that gives its bytes one at a time."""

    def __init__(self, data):
        self.data = data

    def recv(self, n):
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk


class RespReplyTest(unittest.TestCase):
    good, bad = load_cases()

    def test_the_cases_are_read(self):
        self.assertGreaterEqual((len(self.good), len(self.bad)), (10, 10))

    def test_good(self):
        for raw, want in self.good:
            with self.subTest(raw=raw):
                self.assertEqual(render(raw), (want, len(raw)))
                self.assertEqual(resp_reply.reply_end(raw), len(raw))
                self.assertEqual(resp_reply.reply_end(raw + b"+next\r\n"), len(raw))
                for k in range(len(raw)):
                    self.assertIsNone(resp_reply.reply_end(raw[:k]), k)
                reader = resp_reply.ReplyReader(Trickle(raw + b"+next\r\n"))
                self.assertEqual(reader.read_reply(), raw)
                self.assertEqual(reader.read_reply(), b"+next\r\n")
                if b"status:" not in want and b"nil-array" not in want:  # decode() makes those a bulk, a nil
                    self.assertEqual(resp_reply.encode(resp_reply.decode(raw)), raw)

    def test_bad(self):
        for raw, shown_at, errstr in self.bad:
            with self.subTest(raw=raw):
                for k in range(len(raw) + 1):
                    if k < shown_at:
                        self.assertIsNone(resp_reply.reply_end(raw[:k]), k)
                        continue
                    with self.assertRaises(ValueError) as cm:
                        resp_reply.reply_end(raw[:k])
                    self.assertEqual(str(cm.exception), errstr)
                with self.assertRaises(ValueError) as cm:
                    resp_reply.ReplyReader(Trickle(raw)).read_reply()
                self.assertEqual(str(cm.exception), errstr)

    def test_decode(self):
        raw = b"*4\r\n+OK\r\n-ERR x\r\n*2\r\n:1\r\n$-1\r\n*-1\r\n"
        self.assertEqual(resp_reply.decode(raw), [b"OK", b"ERR x", [1, None], None])
        self.assertIsInstance(resp_reply.decode(raw)[1], resp_reply.ReplyError)
        self.assertEqual(resp_reply.elements(raw), [b"+OK\r\n", b"-ERR x\r\n", b"*2\r\n:1\r\n$-1\r\n", b"*-1\r\n"])
        with self.assertRaisesRegex(ValueError, "trailing bytes"):
            resp_reply.decode(b":1\r\n:2\r\n")
        with self.assertRaisesRegex(ValueError, "an incomplete reply"):
            resp_reply.decode(b"*2\r\n:1\r\n")

    def test_line_limit(self):
        """A line's end must come within LINE_MAX bytes, however the bytes
        arrive (the C reader's bound)."""
        n = resp_reply.LINE_MAX
        at_limit = b"+" + b"s" * (n - 3) + b"\r\n"
        self.assertEqual(resp_reply.reply_end(at_limit), n)
        self.assertIsNone(resp_reply.reply_end(at_limit[:-1]))
        over = b"+" + b"s" * (n - 2) + b"\r\n"
        self.assertIsNone(resp_reply.reply_end(over[:n - 2]))
        for k in (n - 1, n + 1):
            with self.assertRaisesRegex(ValueError, "^a reply line longer than 65536 bytes$"):
                resp_reply.reply_end(over[:k])

    def test_eof(self):
        reader = resp_reply.ReplyReader(Trickle(b"$5\r\nab"))
        with self.assertRaises(EOFError):
            reader.read_reply()
        self.assertEqual(bytes(reader.buf), b"$5\r\nab")  # what came of the reply, for the message


if __name__ == "__main__":
    unittest.main()

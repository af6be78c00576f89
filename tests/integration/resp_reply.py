"""
resp_reply.py: RESP2 replies read back, for the tests (evkv_test.Resp,
redis_oracle) and scripts/gen-resp-commands, which imports it from here.
The C reader is proto/resp_reply.c; both take what Redis writes and
nothing looser, with the same bounds and error texts: a type byte, a line
ended by "\\r\\n" within LINE_MAX bytes, counts and lengths as Redis writes
them (no '+', no leading zero, no blank; -1 for nil, at most MAX_LEN), a
bulk's bytes followed by "\\r\\n". A malformed reply raises ValueError.

    reply_end(buf, pos=0)   the end of the whole reply at buf[pos:], or None
                            if it is not all there
    decode(raw)             one whole reply as Python values: bytes (a bulk
                            or a status), ReplyError (an error), int, None
                            (nil bulk or nil array), list
    elements(raw)           the raw bytes of each element of an array reply
    encode(value)           a value decode() gave, back to bytes
    ReplyReader(sock)       read_reply(): the raw bytes of the next whole
                            reply; read_rest(): everything until the peer
                            closes

Standard library only.
"""

import re
import socket

LINE_MAX = 64 * 1024  # longest line, its "\r\n" included (RESP_REPLY_LINE_MAX)
MAX_LEN = 1 << 30  # largest bulk length or array count (RESP_REPLY_MAX_LEN)

# util.c's string2ll: an optional '-', no leading zero, at most 20 characters.
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)\Z")


class ReplyError(bytes):
    """An error reply, as decode() gives it (the text after '-')."""


def _number(text):
    if len(text) > 20 or not _NUMBER.match(text):
        return None
    n = int(text)
    return n if -(1 << 63) <= n < (1 << 63) else None


def _item(buf, pos):
    """The reply at buf[pos:], or an array's header: (kind, value, end),
    where value is an array's count (None for a nil array); None if its
    bytes are not all there. ValueError if they are not RESP2."""
    n = len(buf) - pos
    if n == 0:
        return None
    kind = buf[pos:pos + 1]
    if kind not in (b"+", b"-", b":", b"$", b"*"):
        c = kind[0]
        shown = "'%c'" % c if 0x20 <= c < 0x7F else "byte \\x%02x" % c
        raise ValueError("not a RESP2 reply: it starts with " + shown)
    cr = buf.find(b"\r", pos + 1, pos + min(n, LINE_MAX - 1))
    if cr < 0:
        if n >= LINE_MAX - 1:
            raise ValueError("a reply line longer than %d bytes" % LINE_MAX)
        return None
    if cr + 1 >= len(buf):
        return None
    if buf[cr + 1:cr + 2] != b"\n":
        raise ValueError("a reply line's '\\r' not followed by '\\n'")
    text, end = bytes(buf[pos + 1:cr]), cr + 2
    if kind == b"+":
        return kind, text, end
    if kind == b"-":
        return kind, ReplyError(text), end
    num = _number(text)
    if kind == b":":
        if num is None:
            raise ValueError("bad integer reply: '%s'" % text[:24].decode("latin-1"))
        return kind, num, end
    if num is None or not -1 <= num <= MAX_LEN:
        what = "bulk length" if kind == b"$" else "array count"
        raise ValueError("bad %s in a reply: '%s'" % (what, text[:24].decode("latin-1")))
    if num < 0:
        return kind, None, end
    if kind == b"*":
        return kind, num, end
    if len(buf) < end + num + 2:
        return None
    if buf[end + num:end + num + 2] != b"\r\n":
        raise ValueError('a bulk of %d bytes not followed by "\\r\\n"' % num)
    return kind, bytes(buf[end:end + num]), end + num + 2


def _scan(buf, pos, pending):
    """Reads pending replies from buf[pos:], an array's elements adding to
    them; returns (pos, pending) where the bytes ran out, or (end, 0)."""
    while pending:
        item = _item(buf, pos)
        if item is None:
            break
        kind, value, pos = item
        pending -= 1
        if kind == b"*" and value is not None:
            pending += value
    return pos, pending


def reply_end(buf, pos=0):
    """The end of the whole reply at buf[pos:], or None if it is not all
    there."""
    end, pending = _scan(buf, pos, 1)
    return None if pending else end


def _decode(raw, pos):
    item = _item(raw, pos)
    if item is None:
        raise ValueError("an incomplete reply: %r" % bytes(raw[pos:pos + 100]))
    kind, value, pos = item
    if kind != b"*" or value is None:
        return value, pos
    items = []
    for _ in range(value):
        v, pos = _decode(raw, pos)
        items.append(v)
    return items, pos


def decode(raw):
    """The Python value of one whole raw RESP2 reply: bytes for a bulk or
    a status, ReplyError for an error, int, None, list."""
    value, end = _decode(raw, 0)
    if end != len(raw):
        raise ValueError("trailing bytes after a reply: %r" % raw[end:end + 100])
    return value


def elements(raw):
    """The raw bytes of each element of the array reply raw."""
    kind, count, pos = _item(raw, 0)
    if kind != b"*" or count is None:
        raise ValueError("not an array reply: %r" % raw[:100])
    out = []
    for _ in range(count):
        end = reply_end(raw, pos)
        out.append(raw[pos:end])
        pos = end
    return out


def encode(value):
    """The RESP2 bytes of a value decode() gave."""
    if isinstance(value, ReplyError):
        return b"-" + value + b"\r\n"
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, bool):
        raise TypeError("bool")
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, (bytes, bytearray)):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, list):
        return b"*%d\r\n" % len(value) + b"".join(encode(v) for v in value)
    raise TypeError(type(value))


class ReplyReader:
    """Reads whole RESP2 replies from a socket. buf holds what came and is
    not yet returned, from the start of the reply being read."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("connection closed after %r" % bytes(self.buf[:200]))
        self.buf += chunk

    def read_reply(self):
        """The raw bytes of the next whole reply (EOFError if the peer
        closes first). Each read resumes where the last one stopped, so a
        big reply arriving in pieces is scanned once."""
        pos, pending = 0, 1
        while True:
            pos, pending = _scan(self.buf, pos, pending)
            if not pending:
                break
            self._fill()
        raw = bytes(self.buf[:pos])
        del self.buf[:pos]
        return raw

    def read_rest(self):
        """Everything until the peer closes (with what came before it and
        b"<timeout>" if the socket's timeout runs out first, b"<reset>" if
        the peer resets the connection)."""
        data = bytes(self.buf)
        self.buf.clear()
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return data + b"<timeout>"
            except ConnectionResetError:
                return data + b"<reset>"
            if not chunk:
                return data
            data += chunk

#!/usr/bin/env python3
"""The RESP request reader beside a real Redis.

    tests/integration/resp_differential.py RESP_READ [--random N] [--seed S] [--redis-server PATH] [--verbose]

Starts a redis-server (Debian's, 7.0 for the texts proto/resp.h matches) on
a free port of 127.0.0.1 with no persistence, sends it each case below on
a connection of its own, and records what it answers: the replies, and
whether it closed the connection (it does after a protocol error). The
same bytes go through RESP_READ (build/tests/unit/resp_read --eval), whole
and in pieces of 1 and 7 bytes; its answers must be Redis's byte for byte.

The requests are EVAL "return ARGV" 0 ARGS..., which Redis answers with
the array of ARGS as it read them, and PING: so an argument vector, quoting
and escapes included, is compared, not just a status. --random N adds N
streams made at random (seed S): inline EVALs of words drawn from quotes,
backslashes, hex digits and blanks, and multibulk EVALs with a few of their
bytes changed; a stream in which the reader finds some other request
(a change can make one) is left out, as Redis's answer to it is not
predicted here. Exits 0 when every case matches, 1 otherwise, 77 when
redis-server is missing.
"""
import argparse
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

EVAL = [b"EVAL", b"return ARGV", b"0"]
EV = b'EVAL "return ARGV" 0'


def bulk(a):
    return b"$%d\r\n%s\r\n" % (len(a), a)


def mb(*args):
    """A multibulk EVAL request returning args."""
    argv = EVAL + list(args)
    return b"*%d\r\n" % len(argv) + b"".join(bulk(a) for a in argv)


def il(words, end=b"\r\n"):
    """An inline EVAL request: words as Redis's inline syntax writes them."""
    return EV + b" " + words + end


BIG = 64 * 1024
HEAD = b"*4\r\n" + b"".join(bulk(a) for a in EVAL)  # the count, then EVAL's 3 arguments

CASES = [
    ("multibulk", mb(b"a")),
    ("multibulk binary", mb(b"a\0\r\nb", b"")),
    ("pipelined", mb(b"a") + b"PING\r\n" + mb(b"b", b"c")),
    ("count 0 skipped", b"*0\r\n" + mb(b"x")),
    ("count -1 skipped", b"*-1\r\nPING\r\n"),
    ("count -5 skipped", b"*-5\r\nPING\r\n"),
    ("count LLONG_MIN skipped", b"*-9223372036854775808\r\nPING\r\n"),
    ("count line end unchecked", b"*4\rX" + HEAD[4:] + bulk(b"a")),
    ("bulk line end unchecked", HEAD + b"$1\rXa\r\n"),
    ("bulk end unchecked", HEAD + b"$1\r\naXY"),
    ("incomplete", HEAD + b"$5\r\nab"),
    ("count line needs 2 bytes", b"*1\r"),
    ("a NUL hides the count's end", b"*1\0\r\n$4\r\nPING\r\n"),
    ("a NUL hides a bulk count's end", b"*1\r\n$4\0\r\nPING\r\n"),
    ("invalid multibulk length", b"*x\r\n"),
    ("multibulk length +1", b"*+1\r\n"),
    ("multibulk length 01", b"*01\r\n"),
    ("multibulk length -0", b"*-0\r\n"),
    ("multibulk length empty", b"*\r\n"),
    ("multibulk length blank", b"* 1\r\n"),
    ("multibulk length over INT_MAX", b"*2147483648\r\n"),
    ("multibulk length INT_MAX", b"*2147483647\r\n$4\r\nPING\r\n"),
    ("multibulk length over long long", b"*9223372036854775808\r\n"),
    ("multibulk length of 21 characters", b"*-00000000000000000001\r\n"),
    ("expected $", b"*1\r\n+OK\r\n"),
    ("expected $, got \\r", b"*1\r\n\r\n"),
    ("expected $, got \\n", b"*2\r\n$1\r\na\r\n\n$1\r\n"),
    ("expected $, got 0xff", b"*1\r\n\xff\r\n"),
    ("expected $ after a bulk", b"*2\r\n$4\r\nPING\r\n*1\r\n"),
    ("expected $ after a request", b"PING\r\n*1\r\n:1\r\n"),
    ("invalid bulk length", b"*1\r\n$x\r\n"),
    ("bulk length -1", b"*1\r\n$-1\r\n"),
    ("bulk length empty", b"*1\r\n$\r\n"),
    ("bulk length with data", b"*1\r\n$3foo\r\n"),
    ("bulk length over 512 MB", b"*1\r\n$536870913\r\n"),
    ("bulk length 512 MB", b"*1\r\n$536870912\r\nab"),
    ("inline", il(b"a b")),
    ("inline lone \\n", il(b"a", b"\n")),
    ("inline blanks", b"  " + EV + b" \t a  \r\n"),
    ("inline \\r inside", il(b"a\rb")),
    ("inline \\r\\r\\n", il(b"a\r")),
    ("inline \\v and \\f", il(b"a\vb \vc\f")),
    ("empty lines skipped", b"\r\n\n  \r\n\t\n\v\nPING\r\n"),
    ("inline then multibulk", b"PING\r\n" + mb(b"z")),
    ("high bytes", il(b"\xc3\xa9\xff")),
    ("a NUL hides the inline end", b"PING\r\nGET a\0b\r\nPING\r\n"),
    ("a NUL starts a request", b"\0PING\r\n"),
    ("double quotes", il(b'"a b" ""')),
    ("double quote escapes", il(b'"\\n\\r\\t\\b\\a\\\\\\"\\q\\\'\\0"')),
    ("hex escapes", il(b'"\\x41\\x6a\\xFF\\x00z"')),
    ("short hex escapes", il(b'"\\x4" "\\xg0" "\\x"')),
    ("single quotes", il(b"'a \"b\\n' 'it\\'s' '\\x41' ''")),
    ("quotes inside a word", il(b"ab\"c d\" x'y'")),
    ("closing quote then \\v", il(b'"a"\vb')),
    ("closing quote then \\t", il(b"'a'\tb")),
    ("unclosed double quote", il(b'"a')),
    ("unclosed single quote", il(b"'a", b"\n")),
    ("closing quote then a letter", il(b'"a"b')),
    ("closing single quote then a quote", il(b"'a''b'")),
    ("escaped closing quote", il(b'"a\\"')),
    ("backslash at the end", il(b'"a\\')),
    ("requests before an error", b"PING\r\n" + il(b'"x') + b"PING\r\n"),
    ("inline of 64 KiB", il(b"a" * (BIG - len(EV) - 2))),
    ("inline over 64 KiB, no end", b"a" * (BIG + 1)),
    ("inline of 64 KiB, no end", b"a" * BIG),
    ("inline with a NUL over 64 KiB", b"GET a\0b\r\n" + b"x" * BIG),
    ("mbulk count over 64 KiB", b"*" * (BIG + 1)),
    ("mbulk count of 64 KiB", b"*" + b"1" * (BIG - 1) + b"\r\n"),
    ("bulk count over 64 KiB", b"*1\r\n" + b"$" * (BIG + 1)),
]


def random_inline(rng):
    alphabet = [b"a", b"x", b"4", b"1", b"g", b"n", b'"', b"'", b"\\", b"\\x", b" ", b"\t", b"\v", b"\f", b"\r"]
    words = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 16)))
    return il(words, rng.choice([b"\r\n", b"\n"]))


def random_multibulk(rng):
    args = [bytes(rng.choice(b"ab\r\n$*0") for _ in range(rng.randrange(0, 4))) for _ in range(rng.randrange(1, 4))]
    tail = bytearray(b"".join(bulk(a) for a in args))
    for _ in range(rng.randrange(0, 3)):
        if tail:
            tail[rng.randrange(len(tail))] = rng.choice(b"\r\n$*0-9x \0")
    return b"*%d\r\n" % (len(args) + 3) + HEAD[4:] + bytes(tail)


def random_cases(n, seed):
    rng = random.Random(seed)
    for i in range(n):
        parts = [rng.choice([random_inline, random_multibulk, lambda r: b"PING\r\n"])(rng) for _ in range(rng.randrange(1, 4))]
        yield "random %d (seed %d)" % (i, seed), b"".join(parts)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_redis(port, data, quiet=0.3):
    """Sends data on a new connection; returns (reply bytes, closed)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        s.settimeout(quiet)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return got, False
            if not chunk:
                return got, True
            got += chunk


def ask_reader(resp_read, data, piece):
    args = [resp_read, "--eval"] + ([str(piece)] if piece else [])
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("resp_read")
    ap.add_argument("--redis-server", default=shutil.which("redis-server"))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--random", type=int, default=0, metavar="N")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not args.redis_server:
        print("resp-differential: no redis-server (apt-get install redis-server); skipped", file=sys.stderr)
        return 77

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="evkv-redis.")
    redis = subprocess.Popen(
        [args.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if ask_redis(port, b"PING\r\n", 0.05)[0] == b"+PONG\r\n":
                    break
            except OSError:
                time.sleep(0.05)
        else:
            print("resp-differential: redis-server did not start", file=sys.stderr)
            return 1
        version = ask_redis(port, b"INFO server\r\n", 0.1)[0].split(b"redis_version:")[1].split(b"\r\n")[0]
        print("resp-differential: redis-server %s on port %d" % (version.decode(), port))

        failed = compared = 0
        for name, data in CASES + list(random_cases(args.random, args.seed)):
            if b"!other\r\n" in ask_reader(args.resp_read, data, 0):
                continue
            compared += 1
            reply, closed = ask_redis(port, data, 0.1 if name.startswith("random") else 0.3)
            problems = []
            for piece in (0, 1, 7):
                ours = ask_reader(args.resp_read, data, piece)
                if ours != reply:
                    problems.append("in pieces of %s: reader %r" % (piece or "all", ours[:300]))
            if reply.endswith(b"\r\n") and reply.rsplit(b"\r\n", 2)[-2].startswith(b"-ERR Protocol error") != closed:
                problems.append("closed=%s after that reply" % closed)
            if problems:
                failed += 1
                print("DIFFERS %s: redis %r (closed=%s)" % (name, reply[:300], closed))
                for p in problems:
                    print("    " + p)
            elif args.verbose:
                print("same    %s: %r%s" % (name, reply[:120], " (closed)" if closed else ""))
        print("resp-differential: %d of %d cases differ" % (failed, compared))
        return 1 if failed else 0
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""integration.resp_replica: evkv's RESP listener answers as a read-only
Redis 7.0 replica holding the same table answers, byte for byte.

One evkv-server (--resp-port any --data FILE, FILE a JSON object) and one
redis-server replica (redis_oracle.py: a master loaded with the same
table, string values as their UTF-8 bytes, other values as their JSON
text as Python's json.dumps writes it, which is what evkv stores) are
started per test class. Each input goes to both on a connection of its
own, the same bytes, and what comes back is compared:

  - hand-written cases for every command evkv serves, in each argument
    form and error path, writes, MULTI, inline syntax, pipelines;
  - malformed protocol: both answer the same error and close (read to EOF);
  - requests made at random from a seed, whole, cut at random points,
    and all of them pipelined on one connection.

A case says how many replies it gets; after them a marker request
(ECHO) is sent and its reply compared too, so a stray extra byte shows.
A case whose connection is closed (QUIT, protocol errors) is read to EOF.

Replies that cannot be the same bytes are compared by their shape, each
difference stated where it is checked: CLIENT ID and HELLO's "id" (each
server numbers its own clients), RANDOMKEY (a key of the table), SCAN
(cursors and order: a whole iteration gives the same keys), INFO (evkv's
fields are Redis's fields), COMMAND and COMMAND COUNT/INFO/DOCS without
names (evkv lists its own commands: each entry as Redis's), CONFIG GET
(the replica's port, directory, replicaof... are its own), HELLO 3
(evkv speaks RESP2 only and refuses it as Redis refuses HELLO 4).
Differences evkv makes on purpose (proto/PROTOCOL.md) are checked as that
file states them: one database (SELECT 1..15 refused as a replica refuses
SELECT 16; CONFIG GET databases says 1), CONFIG GET knows a few
parameters, INFO has an "# Evkv" section.

EVKV_RESP_ORACLE_SELFTEST=1 puts a second replica of the same master in
evkv's place: every comparison must then hold, which checks this test.
EVKV_RESP_SEED picks the random requests' seed (default 1), EVKV_RESP_RANDOM
their number (default 300).
"""

import json
import os
import random
import socket
import sys
import tempfile
import time
import unittest

import evkv_test as t
import redis_oracle as ro
from redis_oracle import command as c, decode

SELFTEST = os.environ.get("EVKV_RESP_ORACLE_SELFTEST") == "1"
SEED = int(os.environ.get("EVKV_RESP_SEED", "1"))
N_RANDOM = int(os.environ.get("EVKV_RESP_RANDOM", "300"))
READ_TIMEOUT = 2.0  # seconds a reply may take before a side counts as silent
EOF_TIMEOUT = 1.0  # seconds for a close expected after a reply
MAX_TIMEOUTS = 10  # evkv's silences after which a class stops asking it
QUIET = 0.3  # seconds of silence that end a case left waiting for more input

READONLY = b"-READONLY You can't write against a read only replica.\r\n"
MARKER = c("ECHO", "evkv-replica-marker")

# The table, as a JSON data file holds it.
TABLE = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
    "caf\u00e9": "cr\u00e8me br\u00fbl\u00e9e \u65e5\u672c",
    "key with spaces": "value with spaces",
    'say "hi"': 'a "quoted" value',
    "it's": "single ' quote",
    "back\\slash": "a\\b\\\\c",
    "tab\tkey": "tab\tvalue",
    "nl\r\nkey": "crlf\r\nvalue",
    "ctl\x01key": "ctl \x01\x02\x1b\x7f bytes",
    "nul value": "a\x00b\x00",
    "empty": "",
    "": "the empty key",
    "long": "0123456789abcdef" * 1000,
    "int": 42,
    "negative": -7,
    "float": 1.5,
    "float big": 1e100,
    "float small": 1e-07,
    "true": True,
    "false": False,
    "null": None,
    "list": [1, "two", 3.0, None, True, [], {}, "\u00e9"],
    "object": {"a": {"b": [1, {"c": "d"}]}, "e": [], "\u00e9": "\U0001f436"},
}
# Enough plain keys for a SCAN to take several calls.
TABLE.update({"key:%02d" % i: "value %d" % i for i in range(60)})


def redis_value(v):
    """What evkv answers for a value: a string's UTF-8 bytes, or the JSON
    text of anything else, as json.dumps writes it."""
    if isinstance(v, str):
        return v.encode("utf-8")
    return json.dumps(v, ensure_ascii=False).encode("utf-8")


REDIS_TABLE = {k.encode("utf-8"): redis_value(v) for k, v in TABLE.items()}
KEYS = sorted(REDIS_TABLE)
MISSING = [b"missing", b"MORPHEUS", b"morpheus ", b"\xff\xfe", b"key:60", b"caf\xc3"]

# Commands evkv serves, with what their COMMAND INFO / DOCS must be.
SERVED = ["get", "mget", "exists", "strlen", "type", "ttl", "pttl", "dbsize", "randomkey", "scan", "ping",
          "echo", "select", "quit", "client", "hello", "multi", "exec", "discard", "command", "config", "info",
          "role", "slowlog", "latency", "hget", "hmget", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hstrlen",
          "llen", "lindex", "lrange", "scard", "smembers", "sismember", "smismember", "zcard", "zscore"]
# Commands with subcommands: Redis lists those in the order of a hash
# table seeded at random at its start, so two replicas differ.
CONTAINERS = ["client", "command", "config", "slowlog", "latency"]
# Subcommands evkv serves: their own COMMAND INFO / DOCS entries.
SERVED_SUBS = ["client|id", "client|getname", "client|setname", "client|help", "command|count", "command|info",
               "command|docs", "command|help", "config|get", "config|help", "slowlog|get", "slowlog|len",
               "slowlog|reset", "latency|latest", "latency|history", "latency|reset"]
# Writes (a few of each family), each with arguments of a valid arity.
WRITES = [
    ("SET", b"k", b"v"), ("SET", b"morpheus", b"x", b"EX", b"10"), ("SETNX", b"k", b"v"), ("SETEX", b"k", b"10", b"v"),
    ("PSETEX", b"k", b"10", b"v"), ("MSET", b"a", b"1", b"b", b"2"), ("MSETNX", b"a", b"1"), ("APPEND", b"ring", b"x"),
    ("SETRANGE", b"k", b"0", b"v"), ("GETSET", b"k", b"v"), ("GETDEL", b"morpheus"), ("GETEX", b"k", b"PERSIST"),
    ("DEL", b"morpheus"), ("DEL", b"a", b"b", b"c"), ("UNLINK", b"k"), ("INCR", b"int"), ("DECR", b"k"),
    ("INCRBY", b"k", b"5"), ("DECRBY", b"k", b"5"), ("INCRBYFLOAT", b"float", b"0.5"), ("EXPIRE", b"morpheus", b"10"),
    ("PEXPIRE", b"k", b"10"), ("EXPIREAT", b"k", b"1"), ("PEXPIREAT", b"k", b"1"), ("PERSIST", b"k"),
    ("RENAME", b"a", b"b"), ("RENAMENX", b"a", b"b"), ("COPY", b"a", b"b"), ("MOVE", b"k", b"1"),
    ("FLUSHALL",), ("FLUSHALL", b"ASYNC"), ("FLUSHDB",), ("SWAPDB", b"0", b"1"), ("LPUSH", b"l", b"a"),
    ("RPUSH", b"l", b"a", b"b"), ("LPOP", b"l"), ("LSET", b"l", b"0", b"x"), ("HSET", b"h", b"f", b"v"),
    ("HDEL", b"h", b"f"), ("HINCRBY", b"h", b"f", b"1"), ("SADD", b"s", b"m"), ("SREM", b"s", b"m"), ("SPOP", b"s"),
    ("ZADD", b"z", b"1", b"m"), ("ZINCRBY", b"z", b"1", b"m"), ("ZREM", b"z", b"m"), ("XADD", b"x", b"*", b"f", b"v"),
    ("PFADD", b"p", b"a"), ("SETBIT", b"k", b"1", b"1"), ("BITOP", b"AND", b"d", b"a"), ("RESTORE", b"k", b"0", b"x"),
    ("SORT", b"l", b"STORE", b"d"), ("BLPOP", b"l", b"0"), ("LMOVE", b"a", b"b", b"LEFT", b"RIGHT"),
    ("GEOADD", b"g", b"1", b"2", b"m"), ("SINTERSTORE", b"d", b"s"), ("SET", b"", b""),
]
# Unknown to Redis: each gets its "unknown command" error.
UNKNOWN = [b"FOO", b"GETT", b"get2", b"xyzzy", b"\xc3\xa9", b"G\x00ET", b"SE T", b"'", b"12345", b"\x01"]


def cases_input(data):
    return b"".join(data) if isinstance(data, list) else data


def ask(port, data, replies, pieces=None):
    """Sends data on a new connection (in pieces, when given: lengths, with
    TCP_NODELAY and a moment between them) and reads its replies: with
    replies a count, that many replies, then MARKER's; with replies None,
    everything until the peer closes; with replies ("partial", n), n
    replies, then what more comes until the connection is silent for QUIET
    seconds (the input ends inside a request). Returns the list of
    raw replies read (the last element b"<EOF>", b"<timeout>" or the
    marker's reply)."""
    s = socket.create_connection((t.HOST, port), timeout=READ_TIMEOUT)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if pieces:
                at = 0
                for n in pieces:
                    s.sendall(data[at:at + n])
                    at += n
                    time.sleep(0.0005)
                s.sendall(data[at:])
            else:
                s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed after a QUIT or a protocol error: what it sent is still there to read
        reader = ro.ReplyReader(s)
        out = []
        try:
            if replies is None:
                s.settimeout(EOF_TIMEOUT)
                rest = reader.read_rest()
                return [rest] if rest.endswith((b"<timeout>", b"<reset>")) else [rest, b"<EOF>"]
            if isinstance(replies, tuple):  # ("partial", n)
                out = [reader.read_reply() for _ in range(replies[1])]
                s.settimeout(QUIET)
                rest = reader.read_rest()
                if rest.endswith(b"<timeout>"):
                    return out + [rest[:-len(b"<timeout>")], b"<silent>"]
                return out + [rest, b"<EOF>"]
            for _ in range(replies):
                out.append(reader.read_reply())
            s.sendall(MARKER)
            out.append(reader.read_reply())
        except (EOFError, ConnectionResetError):
            out.append(bytes(reader.buf) + b"<EOF>")
        except socket.timeout:
            out.append(bytes(reader.buf) + b"<timeout>")
        return out
    finally:
        s.close()


def split_points(rng, n):
    """Random piece lengths cutting n bytes in 1 to 3 places."""
    if n < 2:
        return None
    cuts = sorted(set(rng.randrange(1, n) for _ in range(rng.randrange(1, 4))))
    return [b - a for a, b in zip([0] + cuts, cuts)]


def inline_word(arg):
    """arg as a word of an inline request: bare when it can be, else in
    double quotes with escapes (sdssplitargs reads them back to arg)."""
    if arg and all(33 <= b < 127 and b not in b"\"'\\" for b in arg):
        return arg
    out = bytearray(b'"')
    for b in arg:
        if b == 0x22 or b == 0x5c:
            out += b"\\" + bytes([b])
        elif 32 <= b < 127:
            out.append(b)
        else:
            out += b"\\x%02x" % b
    return bytes(out + b'"')


def inline(*args, end=b"\r\n"):
    return b" ".join(inline_word(ro._as_bytes(a)) for a in args) + end


# ---- the hand-written cases: (name, data, replies) ----
# data is bytes or a list of requests (then replies defaults to its length).

def hand_cases():
    k = "key with spaces"
    cases = [
        # GET
        ("GET each key", [c("GET", key) for key in KEYS]),
        ("GET missing keys", [c("GET", key) for key in MISSING]),
        ("GET arity", [c("GET"), c("GET", "a", "b"), c("get", "a", "b", "c")]),
        ("GET case", [c("get", "morpheus"), c("GeT", "morpheus"), c("gET", "ring")]),
        ("GET key case matters", [c("GET", "Morpheus")]),
        ("GET inline", [inline("GET", "morpheus"), inline("GET", k), inline("GET", 'say "hi"'),
                        inline("GET", "it's"), inline("GET", "back\\slash"), inline("GET", "\U0001f436")]),
        ("GET inline single quotes", [b"GET 'it\\'s'\r\n", b"GET 'say \"hi\"'\r\n", b"GET 'back\\slash'\r\n"]),
        ("GET inline escapes", [b'GET "caf\\xc3\\xa9"\r\n', b'GET "tab\\tkey"\r\n', b'GET "nl\\r\\nkey"\r\n',
                                b'GET "ctl\\x01key"\r\n', b'GET "\\m\\o\\rpheus"\r\n', b'GET ""\r\n']),
        ("GET inline LF only", [b"GET morpheus\n", b"GET ring\n"]),
        ("GET inline blanks", [b"  GET \t morpheus  \r\n", b"GET\tring\r\n"]),
        ("GET inline empty lines", b"\r\n\r\n\n  \r\nGET ring\r\n\n", 1),
        ("empty multibulk skipped", b"*0\r\n*-1\r\n" + c("GET", "ring"), 1),
        # MGET
        ("MGET", [c("MGET", "morpheus"), c("MGET", *KEYS), c("MGET", "morpheus", "missing", "", "int", "list"),
                  c("MGET", "a", "a", "morpheus", "morpheus")]),
        ("MGET arity", [c("MGET"), inline("mget")]),
        # EXISTS
        ("EXISTS", [c("EXISTS", "morpheus"), c("EXISTS", "missing"), c("EXISTS", *KEYS),
                    c("EXISTS", "morpheus", "morpheus", "missing", "ring"), c("exists", "")]),
        ("EXISTS arity", [c("EXISTS")]),
        # STRLEN, TYPE, TTL, PTTL
        ("STRLEN", [c("STRLEN", key) for key in KEYS[:30] + MISSING]),
        ("STRLEN arity", [c("STRLEN"), c("STRLEN", "a", "b")]),
        ("TYPE", [c("TYPE", "morpheus"), c("TYPE", "list"), c("TYPE", "missing"), c("type", "")]),
        ("TYPE arity", [c("TYPE"), c("TYPE", "a", "b")]),
        ("TTL", [c("TTL", "morpheus"), c("TTL", "missing"), c("ttl", "int")]),
        ("TTL arity", [c("TTL"), c("TTL", "a", "b")]),
        ("PTTL", [c("PTTL", "morpheus"), c("PTTL", "missing"), c("pTtL", "object")]),
        ("PTTL arity", [c("PTTL"), c("PTTL", "a", "b")]),
        # DBSIZE
        ("DBSIZE", [c("DBSIZE"), inline("dbsize")]),
        ("DBSIZE arity", [c("DBSIZE", "x")]),
        # RANDOMKEY and SCAN errors (their results: see StructureTest)
        ("RANDOMKEY arity", [c("RANDOMKEY", "x")]),
        ("SCAN errors", [c("SCAN"), c("SCAN", "x"), c("SCAN", "0", "COUNT"),
                         c("SCAN", "0", "COUNT", "0"), c("SCAN", "0", "COUNT", "x"), c("SCAN", "0", "COUNT", "-1"),
                         c("SCAN", "0", "MATCH"), c("SCAN", "0", "TYPE"), c("SCAN", "0", "FOO", "bar"),
                         c("SCAN", "0", "FOO"), c("SCAN", "18446744073709551616"), c("SCAN", "1.5")]),
        # PING, ECHO
        ("PING", [c("PING"), c("PING", "hello"), c("PING", ""), c("ping", "\x00\xff"), inline("PING"),
                  inline("PING", "a b")]),
        ("PING arity", [c("PING", "a", "b")]),
        ("ECHO", [c("ECHO", "hello"), c("ECHO", ""), c("ECHO", bytes(range(256))), c("echo", "\r\n")]),
        ("ECHO arity", [c("ECHO"), c("ECHO", "a", "b")]),
        # SELECT
        ("SELECT 0", [c("SELECT", "0"), c("GET", "morpheus")]),
        ("SELECT errors", [c("SELECT", "16"), c("SELECT", "-1"), c("SELECT", "x"), c("SELECT", ""),
                           c("SELECT", "00"), c("SELECT", " 0"), c("SELECT", "99999999999999999999"),
                           c("SELECT"), c("SELECT", "0", "1")]),
        # QUIT
        ("QUIT", [c("QUIT")], None),
        ("QUIT inline then more", b"PING\r\nQUIT\r\nPING\r\n", None),
        ("QUIT with an argument", [c("QUIT", "x")], None),
        # CLIENT
        ("CLIENT SETNAME GETNAME", [c("CLIENT", "GETNAME"), c("CLIENT", "SETNAME", "evkv-test"),
                                    c("CLIENT", "GETNAME"), c("client", "setname", ""), c("CLIENT", "GETNAME")]),
        ("CLIENT SETNAME bad names", [c("CLIENT", "SETNAME", "a b"), c("CLIENT", "SETNAME", "a\nb"),
                                      c("CLIENT", "SETNAME", "\xc3\xa9"), c("CLIENT", "SETNAME", "a\x7f"),
                                      c("CLIENT", "GETNAME")]),
        ("CLIENT arity", [c("CLIENT"), c("CLIENT", "SETNAME"), c("CLIENT", "SETNAME", "a", "b"),
                          c("CLIENT", "GETNAME", "x"), c("CLIENT", "ID", "x")]),
        ("CLIENT SETINFO", [c("CLIENT", "SETINFO", "lib-name", "x"), c("CLIENT", "SETINFO", "lib-ver", "1.0"),
                            c("CLIENT", "SETINFO"), c("CLIENT", "SETINFO", "foo", "x")]),
        ("CLIENT unknown subcommand", [c("CLIENT", "FOO"), c("CLIENT", "foo", "bar"), c("CLIENT", "")]),
        # HELLO errors (its reply: see StructureTest)
        ("HELLO errors", [c("HELLO", "x"), c("HELLO", "1"), c("HELLO", "4"), c("HELLO", "-1"),
                          c("HELLO", "2", "FOO"), c("HELLO", "2", "SETNAME"), c("HELLO", "2", "AUTH", "a"),
                          c("HELLO", "2", "SETNAME", "a b"), c("HELLO", "2", "AUTH", "nosuchuser", "x")]),
        # MULTI / EXEC / DISCARD
        ("MULTI EXEC", [c("MULTI"), c("GET", "morpheus"), c("MGET", "ring", "x"), c("PING"), c("EXEC"),
                        c("GET", "ring")]),
        ("MULTI empty EXEC", [c("MULTI"), c("EXEC")]),
        ("MULTI DISCARD", [c("MULTI"), c("GET", "morpheus"), c("DISCARD"), c("GET", "ring")]),
        ("EXEC DISCARD without MULTI", [c("EXEC"), c("DISCARD"), c("exec", "x"), c("discard", "x")]),
        ("MULTI nested", [c("MULTI"), c("MULTI"), c("GET", "ring"), c("EXEC")]),
        ("MULTI arity", [c("MULTI", "x"), c("MULTI"), c("MULTI", "x"), c("EXEC")]),
        ("MULTI unknown command EXECABORT", [c("MULTI"), c("GET", "ring"), c("FOO"), c("GET", "ring"), c("EXEC"),
                                             c("GET", "ring")]),
        ("MULTI wrong arity EXECABORT", [c("MULTI"), c("GET"), c("EXEC")]),
        ("MULTI write EXECABORT", [c("MULTI"), c("SET", "a", "b"), c("GET", "ring"), c("EXEC")]),
        ("MULTI write DISCARD", [c("MULTI"), c("DEL", "a"), c("DISCARD"), c("EXEC")]),
        ("MULTI runtime errors", [c("MULTI"), c("SELECT", "99"), c("SCAN", "x"), c("GET", "ring"), c("EXEC")]),
        ("MULTI SELECT", [c("MULTI"), c("SELECT", "0"), c("GET", "ring"), c("SELECT", "99"), c("EXEC")]),
        ("WATCH", [c("WATCH", "morpheus"), c("UNWATCH"), c("WATCH", "a", "b"), c("MULTI"), c("GET", "ring"),
                   c("EXEC"), c("WATCH"), c("MULTI"), c("WATCH", "a"), c("EXEC")]),
        ("MULTI with queued control commands", [c("MULTI"), c("CLIENT", "SETNAME", "x"), c("CLIENT", "GETNAME"),
                                                c("ECHO", "e"), c("DBSIZE"), c("EXISTS", "ring"), c("TTL", "ring"),
                                                c("EXEC")]),
        ("MULTI QUIT", [c("MULTI"), c("GET", "ring"), c("QUIT")], None),
        ("MULTI inline", b"MULTI\r\nGET ring\r\nEXEC\r\n", 3),
        ("MULTI left open", [c("MULTI"), c("GET", "ring")]),
        # COMMAND with names: each served command as Redis describes it
        ("COMMAND INFO each", [c("COMMAND", "INFO", name) for name in SERVED if name not in CONTAINERS]),
        ("COMMAND DOCS each", [c("COMMAND", "DOCS", name) for name in SERVED if name not in CONTAINERS]),
        ("COMMAND INFO each subcommand", [c("COMMAND", "INFO", name) for name in SERVED_SUBS]),
        ("COMMAND DOCS each subcommand", [c("COMMAND", "DOCS", name) for name in SERVED_SUBS]),
        ("COMMAND INFO several", [c("COMMAND", "INFO", "get", "MGET", "nosuch", "Ping"),
                                  c("COMMAND", "INFO", "nosuch")]),
        ("COMMAND DOCS several", [c("COMMAND", "DOCS", "GET", "nosuch", "echo"), c("COMMAND", "DOCS", "nosuch")]),
        ("COMMAND errors", [c("COMMAND", "FOO"), c("COMMAND", "count", "x"), c("COMMAND", "GETKEYS"),
                            c("command", "")]),
        # CONFIG GET of parameters a replica set up here has as Redis's defaults
        ("CONFIG GET", [c("CONFIG", "GET", "maxmemory"), c("CONFIG", "GET", "timeout"),
                        c("CONFIG", "GET", "TIMEOUT"), c("config", "get", "nosuch"), c("CONFIG", "GET", "save"),
                        c("CONFIG", "GET", "appendonly"), c("CONFIG", "GET", "maxmemory-policy"),
                        c("CONFIG", "GET", "replica-read-only"), c("CONFIG", "GET", "slave-read-only")]),
        ("CONFIG errors", [c("CONFIG"), c("CONFIG", "GET"), c("CONFIG", "FOO"), c("CONFIG", "SET"),
                           c("CONFIG", "SET", "timeout")]),
        # INFO: sections with nothing in them
        ("INFO keyspace", [c("INFO", "keyspace"), c("info", "KEYSPACE")]),
        ("INFO nothing", [c("INFO", "nosuchsection")]),
        # AUTH, as a Redis whose user "default" has no password
        ("AUTH", [c("AUTH", "pw"), c("AUTH", "default", "x"), c("AUTH", "nosuch", "x"), c("AUTH"),
                  c("AUTH", "a", "b", "c")]),
        # reads of other types: as for absent keys, WRONGTYPE for a key held
        ("reads of other types", [c("HGET", "missing", "f"), c("HGET", "morpheus", "f"), c("LLEN", "missing"),
                                  c("LRANGE", "ring", "0", "-1"), c("SMEMBERS", "missing"), c("ZSCORE", "int", "m"),
                                  c("HGETALL", "missing"), c("SCARD", "list"), c("HGET", "a")]),
        # HELP texts, RESET, GETRANGE/SUBSTR (served too)
        ("HELP", [c("CLIENT", "HELP"), c("COMMAND", "HELP"), c("CONFIG", "HELP"), c("client", "help", "x")]),
        ("RESET", [c("CLIENT", "SETNAME", "x"), c("MULTI"), c("RESET"), c("CLIENT", "GETNAME"), c("EXEC"),
                   c("RESET", "x")]),
        ("GETRANGE", [c("GETRANGE", "morpheus", "0", "4"), c("GETRANGE", "morpheus", "-5", "-1"),
                      c("GETRANGE", "morpheus", "100", "200"), c("GETRANGE", "morpheus", "x", "1"),
                      c("SUBSTR", "list", "1", "3"), c("GETRANGE", "missing", "0", "1"),
                      c("GETRANGE", "\U0001f436", "0", "0"), c("GETRANGE", "a", "0")]),
        ("MULTI of 1000", [c("MULTI")] + [c("GET", "ring")] * 1000 + [c("EXEC")]),
        ("EXEC after EXECABORT", [c("MULTI"), c("FOO"), c("EXEC"), c("EXEC")]),
        ("MULTI refused commands", [c("MULTI"), c("HELLO", "x"), c("CLIENT", "SETNAME", "a b"), c("SELECT", "x"),
                                    c("EXEC")]),
        ("a long client name", [c("CLIENT", "SETNAME", "n" * 100000), c("CLIENT", "GETNAME")]),
        ("ECHO of 1 MiB", [c("ECHO", "y" * (1 << 20))]),
        # unknown commands
        ("unknown commands", [c(name) for name in UNKNOWN]),
        ("unknown commands with args", [c("FOO", "a", "b"), c("GETT", "morpheus"), c("FOO", "x" * 200),
                                        c("FOO", "a\r\nb", "c d"), c("X" * 300), c("FOO", "a" * 200, "b" * 200),
                                        c("FOO", *["a%d" % i for i in range(50)]), c("FOO", "\x00\xff", "")]),
        ("unknown inline", [b"FOO bar baz\r\n", b'FOO "a b" \'c\'\r\n', b"\xc3\xa9 x\r\n"]),
        ("empty command name", [c(""), c("", "x")]),
        # writes
        ("writes", [c(*w) for w in WRITES]),
        ("writes lower case", [c(*([w[0].lower()] + list(w[1:]))) for w in WRITES[:20]]),
        ("writes wrong arity", [c("SET"), c("SET", "a"), c("DEL"), c("INCR"), c("INCR", "a", "b"), c("EXPIRE", "a"),
                                c("MSET", "a"), c("FLUSHALL", "a", "b", "c"), c("HSET", "h", "f"), c("APPEND", "a")]),
        ("writes inline", [b"SET a b\r\n", b"DEL morpheus\r\n", b"flushall\r\n", b'SET "a b" \'c\'\r\n']),
        ("writes then reads", [c("SET", "morpheus", "x"), c("DEL", "ring"), c("GET", "morpheus"),
                               c("EXISTS", "ring"), c("DBSIZE")]),
        ("writes with bad options", [c("SET", "a", "b", "FOO"), c("SET", "a", "b", "EX", "x"), c("FLUSHALL", "FOO"),
                                     c("GETEX", "a", "FOO"), c("EXPIRE", "a", "x")]),
        # pipelines
        ("pipeline", [c("GET", "morpheus"), inline("PING"), c("MGET", "ring", "x"), c("SET", "a", "b"), c("FOO"),
                      b"ECHO e\n", c("EXISTS", "ring"), c("DBSIZE")]),
        ("pipeline of 500", [c("GET", KEYS[i % len(KEYS)]) if i % 3 else inline("STRLEN", KEYS[i % len(KEYS)])
                             for i in range(500)]),
        ("a big value", [c("GET", "long"), c("MGET", "long", "long")]),
        ("a big argument", [c("ECHO", "x" * 100000), c("GET", "y" * 70000)]),
        ("inline of 64 KiB minus one", [b"ECHO " + b"x" * (64 * 1024 - 8) + b"\r\n"]),
        # input that ends in the middle of a request: what is answered before
        ("incomplete multibulk", c("GET", "ring") + b"*2\r\n$3\r\nGET\r\n$4\r\nri", ("partial", 1)),
        ("incomplete inline", c("GET", "ring") + b"GET ring", ("partial", 1)),
    ]
    return cases


# ---- malformed protocol: (name, data); each answered and closed ----

BIG = 64 * 1024
MALFORMED = [
    ("invalid multibulk length", b"*x\r\n"),
    ("multibulk length +1", b"*+1\r\n"),
    ("multibulk length over INT_MAX", b"*2147483648\r\n"),
    ("multibulk length empty", b"*\r\n"),
    ("multibulk length blank", b"* 1\r\n"),
    ("expected $", b"*1\r\n+OK\r\n"),
    ("expected $ got a digit", b"*2\r\n$3\r\nGET\r\n4\r\nring\r\n"),
    ("expected $ got CR", b"*1\r\n\r\n"),
    ("invalid bulk length", b"*1\r\n$x\r\n"),
    ("bulk length -1", b"*1\r\n$-1\r\n"),
    ("bulk length over 512 MB", b"*1\r\n$536870913\r\n"),
    ("bulk length empty", b"*2\r\n$3\r\nGET\r\n$\r\n"),
    ("too big inline", b"a" * (BIG + 1)),
    ("too big inline after a request", b"PING\r\n" + b"GET " + b"a" * BIG),
    ("too big mbulk count", b"*" + b"1" * (BIG + 1)),
    ("too big bulk count", b"*1\r\n$" + b"1" * (BIG + 1)),
    ("unbalanced double quote", b'GET "morpheus\r\n'),
    ("unbalanced single quote", b"GET 'morpheus\r\n"),
    ("closing quote then a letter", b'GET "a"b\r\n'),
    ("escaped closing quote", b'GET "a\\"\r\n'),
    ("requests before an error", c("GET", "morpheus") + b"PING\r\n" + b"*1\r\n$x\r\n" + c("GET", "ring")),
    ("an error inside MULTI", c("MULTI") + c("GET", "ring") + b"*1\r\n+x\r\n"),
    ("a NUL hides the line end", b"GET a\x00b\r\n" + b"x" * BIG),
    # Redis drops a connection that looks like HTTP, without a reply.
    ("POST", b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    ("Host:", b"host: x\r\n" + c("GET", "ring")),
]


# ---- random requests ----

def random_arg(rng):
    r = rng.random()
    if r < 0.35:
        return rng.choice(KEYS)
    if r < 0.5:
        return rng.choice(MISSING)
    if r < 0.6:
        return rng.choice([b"", b"0", b"1", b"-1", b"10", b"x", b"COUNT", b"MATCH", b"*", b"EX", b"NX"])
    n = rng.choice([1, 2, 5, 20, 300])
    alphabet = rng.choice([b"abc", b"\"' \\", bytes(range(256)), b"\r\n\t $*"])
    return bytes(rng.choice(alphabet) for _ in range(n))


def case_variant(rng, name):
    name = name.encode() if isinstance(name, str) else name
    r = rng.random()
    if r < 0.6:
        return name
    if r < 0.8:
        return name.lower()
    return bytes(ch ^ 0x20 if rng.random() < 0.5 and chr(ch).isalpha() else ch for ch in name)


# Commands drawn at random, with their usual argument counts. The ones that
# cannot give the same bytes (RANDOMKEY, SCAN, INFO, CLIENT ID, HELLO,
# COMMAND without names) and QUIT are left out; SELECT only of database 0.
RANDOM_COMMANDS = [
    ("GET", (0, 1, 1, 1, 2)), ("MGET", (0, 1, 2, 5)), ("EXISTS", (0, 1, 3)), ("STRLEN", (0, 1, 1, 2)),
    ("TYPE", (0, 1, 2)), ("TTL", (0, 1, 2)), ("PTTL", (0, 1, 2)), ("DBSIZE", (0, 0, 1)), ("PING", (0, 1, 2)),
    ("ECHO", (0, 1, 1, 2)), ("SET", (0, 1, 2, 3)), ("DEL", (0, 1, 2)), ("INCR", (0, 1)), ("EXPIRE", (1, 2, 3)),
    ("FLUSHALL", (0, 1)), ("HSET", (2, 3)), ("APPEND", (1, 2)), ("LPUSH", (1, 2)),
]


def random_request(rng):
    """One request: (bytes). Multibulk or, when its words allow, inline."""
    r = rng.random()
    if r < 0.55:
        name, counts = rng.choice(RANDOM_COMMANDS)
        args = [random_arg(rng) for _ in range(rng.choice(counts))]
        argv = [case_variant(rng, name)] + args
    elif r < 0.65:
        argv = [case_variant(rng, rng.choice(["MULTI", "EXEC", "DISCARD"]))]
        if rng.random() < 0.1:
            argv.append(b"x")
    elif r < 0.72:
        argv = [case_variant(rng, "CLIENT"), case_variant(rng, rng.choice(["SETNAME", "GETNAME", "FOO", "SETINFO"]))]
        argv += [random_arg(rng) for _ in range(rng.choice((0, 1, 1, 2)))]
    elif r < 0.77:
        argv = [case_variant(rng, "SELECT"), rng.choice([b"0", b"16", b"x", b"", b"-1"])]
    elif r < 0.82:
        argv = [case_variant(rng, "COMMAND"), case_variant(rng, rng.choice(["INFO", "DOCS", "FOO"])),
                case_variant(rng, rng.choice([n for n in SERVED if n not in CONTAINERS] + ["nosuch"]))]
    elif r < 0.86:
        argv = [case_variant(rng, "CONFIG"), case_variant(rng, rng.choice(["GET", "FOO"])),
                rng.choice([b"appendonly", b"timeout", b"nosuch", b"maxmemory"])]
    else:
        argv = [rng.choice(UNKNOWN + [random_arg(rng)])] + [random_arg(rng) for _ in range(rng.randrange(3))]
    inlinable = argv[0] and all(b"\x00" not in a and b"\n" not in a for a in argv)
    if inlinable and rng.random() < 0.3:
        return inline(*argv, end=rng.choice([b"\r\n", b"\n"]))
    return c(*argv)


def random_cases(seed, n):
    rng = random.Random(seed)
    return [[random_request(rng) for _ in range(rng.choice((1, 1, 2, 3, 5)))] for _ in range(n)]


# Where evkv differs from a replica on purpose (proto/PROTOCOL.md): one
# database. Checked in StructureTest.test_one_database.
DELIBERATE_CONFIG = {} if SELFTEST else {b"databases": b"1"}


# ---- replies put in an order of their own ----

def canon_command_entry(entry):
    """A COMMAND INFO entry with its subcommands (the 10th element) sorted
    by name: Redis lists them in its hash table's order."""
    if not isinstance(entry, list):
        return entry
    entry = list(entry)
    if len(entry) >= 10 and isinstance(entry[9], list):
        entry[9] = sorted((canon_command_entry(e) for e in entry[9]), key=lambda e: e[0])
    return entry


def canon_docs(flat):
    """A COMMAND DOCS reply (name, doc, name, doc...) as a dict, and each
    doc's subcommands as a dict too."""
    out = {}
    for name, doc in zip(flat[::2], flat[1::2]):
        doc = list(doc)
        for i in range(0, len(doc), 2):
            if doc[i] == b"subcommands":
                doc[i + 1] = canon_docs(doc[i + 1])
        out[name] = doc
    return out


def canon_config(flat):
    """A CONFIG GET reply as a dict: Redis lists what a pattern matches in
    its hash table's order."""
    assert len(flat) % 2 == 0, flat
    return dict(zip(flat[::2], flat[1::2]))


# ---- the servers ----

class ReplicaTestCase(t.TempDirTestCase):
    """Starts, for the class, the replica and evkv (or, in self-test, a
    second replica) with TABLE; self.evkv and self.redis are their ports."""

    @classmethod
    def setUpClass(cls):
        rr = ro.start_for_test(cls, REDIS_TABLE, replicas=2 if SELFTEST else 1)
        cls.redis = rr.replica_ports[0]
        if SELFTEST:
            cls.evkv = rr.replica_ports[1]
            return
        d = tempfile.TemporaryDirectory()
        cls.addClassCleanup(d.cleanup)
        path = os.path.join(d.name, "table.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(TABLE, f, ensure_ascii=False, indent=1)
        srv = t.Server("--resp-port", "any", "--data", path)
        try:
            srv.wait_started()
        except BaseException:
            srv.kill()
            srv.close_files()
            raise
        cls.addClassCleanup(cls._stop_evkv, srv)
        if srv.resp_port is None:
            raise AssertionError("no RESP listener in evkv-server's log:\n" + srv.stderr())
        cls.evkv = srv.resp_port
        cls.evkv_server = srv

    @staticmethod
    def _stop_evkv(srv):
        try:
            if srv.proc.poll() is not None:
                raise AssertionError("evkv-server exited during the tests with status %s; stderr:\n%s"
                                     % (srv.proc.returncode, srv.stderr()))
            rc = srv.stop()
            if rc != 0 or not t.STOP_RE.search(srv.stderr()):
                raise AssertionError("evkv-server exit status %s on SIGTERM; stderr:\n%s" % (rc, srv.stderr()))
        finally:
            srv.kill()
            srv.close_files()

    timeouts = 0

    def both(self, data, replies, pieces=None):
        """(redis's replies, evkv's) to data."""
        if ReplicaTestCase.timeouts >= MAX_TIMEOUTS:
            self.fail("evkv was silent %d times already: not asked again" % MAX_TIMEOUTS)
        want, got = ask(self.redis, data, replies, pieces), ask(self.evkv, data, replies, pieces)
        if got and got[-1].endswith(b"<timeout>") and not want[-1].endswith(b"<timeout>"):
            ReplicaTestCase.timeouts += 1
        return want, got

    def check_oracle(self, name, want, replies):
        """A case's count of replies must be right for Redis: its replies
        then end with the marker's (or QUEUED, in a MULTI left open)."""
        if isinstance(replies, int):
            self.assertIn(want[-1], (ro.encode(b"evkv-replica-marker"), b"+QUEUED\r\n"),
                          "%s: Redis did not answer %d replies and the marker: %r" % (name, replies, want[-3:]))

    def assert_same(self, name, data, replies, pieces=None):
        want, got = self.both(data, replies, pieces)
        self.check_oracle(name, want, replies)
        if want != got:
            diffs = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
            detail = "".join("\n  reply %d: redis %r\n           evkv  %r" % (i, w[:300], g[:300])
                             for i, w, g in diffs[:5])
            if len(want) != len(got):
                detail += "\n  redis gave %d replies, evkv %d" % (len(want), len(got))
            self.fail("%s: input %r%s" % (name, data[:300], detail))

    def request(self, port, *argv):
        """One request's decoded reply on a new connection."""
        return decode(ask(port, c(*argv), 1)[0])

    def requests(self, port, reqs):
        return [decode(r) for r in ask(port, b"".join(reqs), len(reqs))[:-1]]


class HandWrittenTest(ReplicaTestCase):
    """Every hand-written case, whole, and cut in pieces."""

    def test_cases(self):
        for name, data, *rest in hand_cases():
            replies = rest[0] if rest else len(data)
            with self.subTest(name):
                self.assert_same(name, cases_input(data), replies)

    def test_cases_in_pieces(self):
        rng = random.Random(SEED)
        for name, data, *rest in hand_cases():
            replies = rest[0] if rest else len(data)
            data = cases_input(data)
            if len(data) > 4096:
                continue
            with self.subTest(name):
                self.assert_same(name + " (in pieces)", data, replies, split_points(rng, len(data)))

    def test_cases_one_byte_at_a_time(self):
        for name, data in [("GET", c("GET", "morpheus")), ("inline", b'GET "caf\\xc3\\xa9"\r\n'),
                           ("MULTI", c("MULTI") + c("FOO") + c("EXEC"))]:
            with self.subTest(name):
                self.assert_same(name, data, 1 if name != "MULTI" else 3, [1] * (len(data) - 1))

    def test_malformed(self):
        for name, data in MALFORMED:
            with self.subTest(name):
                self.assert_same(name, data, None)

    @unittest.skipIf(SELFTEST, "a replica answers as a replica")
    def test_http_line_after_a_request(self):
        """A request "POST" or "Host:" (HTTP sent to the port) closes the
        connection with no reply to it, in both. Redis also drops the
        replies still buffered for the requests before it in the same
        read; evkv sends them first (PROTOCOL.md): nothing a client sent
        is lost."""
        ring = ro.encode(TABLE["ring"].encode())
        for data in (c("GET", "ring") + b"Host: x\r\n", b"GET ring\r\nPOST / HTTP/1.1\r\n"):
            with self.subTest(data=data):
                want, got = self.both(data, None)
                self.assertEqual((b"".join(want[:-1]), want[-1]), (b"", b"<EOF>"), "Redis closes, answering nothing")
                self.assertEqual((b"".join(got[:-1]), got[-1]), (ring, b"<EOF>"), "evkv answers the GET, then closes")

    def test_malformed_in_pieces(self):
        rng = random.Random(SEED + 1)
        for name, data in MALFORMED:
            if len(data) > BIG:
                continue  # how long a line Redis takes depends on how it arrived
            with self.subTest(name):
                self.assert_same(name + " (in pieces)", data, None, split_points(rng, len(data)))


class RandomTest(ReplicaTestCase):
    """Requests made at random from SEED."""

    N = N_RANDOM

    def test_random_whole_and_in_pieces(self):
        rng = random.Random(SEED + 2)
        failures = []
        for i, reqs in enumerate(random_cases(SEED, self.N)):
            data = b"".join(reqs)
            for pieces in (None, split_points(rng, len(data))):
                want, got = self.both(data, len(reqs), pieces)
                self.check_oracle("random %d" % i, want, len(reqs))
                if want != got:
                    j = next((j for j, (w, g) in enumerate(zip(want, got)) if w != g), min(len(want), len(got)))
                    failures.append("random %d (seed %d)%s: input %r\n  reply %d: redis %r\n           evkv  %r"
                                    % (i, SEED, " in pieces %s" % pieces if pieces else "", data[:300], j,
                                       want[j][:300] if j < len(want) else None, got[j][:300] if j < len(got) else None))
        if failures:
            self.fail("%d of %d differ:\n%s" % (len(failures), 2 * self.N, "\n".join(failures[:10])))

    def test_random_pipelined(self):
        cases = random_cases(SEED, self.N)
        data = b"".join(b"".join(reqs) for reqs in cases)
        n = sum(len(reqs) for reqs in cases)
        want, got = self.both(data, n)
        self.check_oracle("pipelined", want, n)
        diffs = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
        if diffs or len(want) != len(got):
            self.fail("%d of %d replies differ, the first: %s" % (len(diffs), n + 1, diffs[:3]))


REDIS_7_2_STATS = {"acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key",
                   "acl_access_denied_channel", "acl_access_denied_tls_cert"}  # the last one Redis 8.6's


class StructureTest(ReplicaTestCase):
    """Replies that cannot be the same bytes, compared by their shape."""

    def both_decoded(self, *argv):
        return self.request(self.redis, *argv), self.request(self.evkv, *argv)

    def test_client_id(self):
        # Each server numbers its own connections: an integer, above 0.
        for port in (self.redis, self.evkv):
            replies = self.requests(port, [c("CLIENT", "ID"), c("client", "id")])
            for r in replies:
                self.assertIsInstance(r, int)
                self.assertGreater(r, 0)
            self.assertEqual(replies[0], replies[1], "one connection, one id")

    def hello_masked(self, port, reqs):
        out = []
        for r in self.requests(port, reqs):
            if isinstance(r, list):
                self.assertEqual(r[6], b"id")
                self.assertIsInstance(r[7], int)
                r[7] = "ID"  # the connection's id: each server its own
            out.append(r)
        return out

    def test_hello(self):
        for reqs in ([c("HELLO")], [c("HELLO", "2")], [c("hello", "2", "SETNAME", "x"), c("CLIENT", "GETNAME")],
                     [c("HELLO", "2", "AUTH", "default", "x")], [c("HELLO", "2", "SETNAME", "a", "SETNAME", "b"),
                                                                 c("CLIENT", "GETNAME")]):
            with self.subTest(reqs):
                self.assertEqual(self.hello_masked(self.redis, reqs), self.hello_masked(self.evkv, reqs))

    @unittest.skipIf(SELFTEST, "the replica speaks RESP3")
    def test_hello_3_refused(self):
        # evkv speaks RESP2 only: it refuses HELLO 3 as Redis refuses HELLO 4,
        # and the connection stays in RESP2.
        want = ask(self.redis, c("HELLO", "4") + c("GET", "morpheus"), 2)
        got = ask(self.evkv, c("HELLO", "3") + c("GET", "morpheus"), 2)
        self.assertEqual(got, want)

    def test_randomkey(self):
        # A key of the table (the replica's choice is its own).
        for port in (self.redis, self.evkv):
            for r in self.requests(port, [c("RANDOMKEY")] * 20):
                self.assertIn(r, REDIS_TABLE)
        multi = [c("MULTI"), c("RANDOMKEY"), c("EXEC")]
        for port in (self.redis, self.evkv):
            r = self.requests(port, multi)
            self.assertEqual(r[:2], [b"OK", b"QUEUED"])
            self.assertIn(r[2][0], REDIS_TABLE)

    def scan_all(self, port, *options):
        """The keys of a whole SCAN iteration, and how many calls it took."""
        keys, cursor, calls = [], b"0", 0
        while True:
            r = self.request(port, "SCAN", cursor, *options)
            self.assertIsInstance(r, list, r)
            self.assertEqual(len(r), 2, r)
            cursor, batch = r
            self.assertTrue(cursor.isdigit(), cursor)
            self.assertIsInstance(batch, list)
            keys += batch
            calls += 1
            self.assertLess(calls, 10000)
            if cursor == b"0":
                return keys, calls

    def test_scan(self):
        # Cursors and order are each server's own: a whole iteration gives
        # every key that matches, once each here (no rehashing meanwhile).
        for options in ([], ["COUNT", "3"], ["COUNT", "1000"], ["MATCH", "key:*"], ["MATCH", "*\u00e9*"],
                        ["match", "key:?5", "count", "2"], ["TYPE", "string"], ["TYPE", "hash"], ["TYPE", "nosuchtype"],
                        ["MATCH", "nomatch*", "COUNT", "1000"],
                        ["MATCH", "nomatch"], ["MATCH", "[mr]*"], ["MATCH", "*\\\\*"]):
            with self.subTest(options):
                want, _ = self.scan_all(self.redis, *options)
                got, calls = self.scan_all(self.evkv, *options)
                self.assertEqual(sorted(got), sorted(want))
                self.assertEqual(len(got), len(set(got)))
        _, calls = self.scan_all(self.evkv)
        self.assertGreater(calls, 1, "a SCAN of %d keys with COUNT 10 in one call" % len(KEYS))

    def info_sections(self, text):
        sections, current = {}, None
        for line in text.decode("utf-8").split("\r\n"):
            if line.startswith("# "):
                current = sections.setdefault(line[2:].lower(), {})
            elif line:
                self.assertIsNotNone(current, line)
                self.assertIn(":", line)
                k, v = line.split(":", 1)
                current[k] = v
        return sections

    def test_info(self):
        # evkv claims some of Redis's fields: each in the section Redis has
        # it in, its value of the same kind; keyspace alike.
        for argv in (["INFO"], ["INFO", "all"], ["INFO", "everything"], ["INFO", "server"], ["INFO", "default"],
                     ["info", "Server", "clients"], ["INFO", "stats"], ["INFO", "replication"], ["INFO", "memory"]):
            with self.subTest(argv):
                want, got = self.both_decoded(*argv)
                self.assertIsInstance(got, bytes, got)
                self.assertTrue(got.endswith(b"\r\n"), got[-50:])
                ws, gs = self.info_sections(want), self.info_sections(got)
                gs.pop("evkv", None)  # evkv's own section (proto/PROTOCOL.md)
                self.assertLessEqual(set(gs), set(ws))
                for section, fields in gs.items():
                    # Redis 7.2's access-control counters, in its stats
                    # section as there (proto/PROTOCOL.md): 7.0.15 has none
                    later = REDIS_7_2_STATS if section == "stats" else set()
                    self.assertLessEqual(set(fields) - later, set(ws[section]), section)
                    for k, v in fields.items():
                        # A number in Redis's is a number in evkv's (ids
                        # such as run_id, master_replid are evkv's own).
                        if k in later:
                            self.assertTrue(v.isdigit(), "%s: %r" % (k, v))
                        elif ws[section][k].lstrip("-").replace(".", "", 1).isdigit():
                            self.assertTrue(v.lstrip("-").replace(".", "", 1).isdigit(),
                                            "%s: evkv %r, redis %r" % (k, v, ws[section][k]))
                if "keyspace" in gs:
                    self.assertEqual(gs["keyspace"], ws["keyspace"])
                if "server" in gs:
                    for k in ("redis_version", "redis_mode"):
                        if k in gs["server"]:
                            self.assertEqual(gs["server"][k], ws["server"][k])

    def test_info_arity(self):
        # INFO takes any number of sections: no arity error.
        self.assertEqual(*[self.requests(p, [c("INFO", "nosuch", "nosuch2")]) for p in (self.redis, self.evkv)])

    def commands_by_name(self, reply):
        return {entry[0]: entry for entry in reply}

    def test_command_info_and_docs_of_containers(self):
        # The same entries, subcommands in an order of their own.
        for name in CONTAINERS:
            with self.subTest(name):
                want, got = self.both_decoded("COMMAND", "INFO", name)
                self.assertIsInstance(got, list, got)
                self.assertEqual([canon_command_entry(e) for e in got], [canon_command_entry(e) for e in want])
                want, got = self.both_decoded("COMMAND", "DOCS", name)
                self.assertIsInstance(got, list, got)
                self.assertEqual(canon_docs(got), canon_docs(want))

    def test_config_get_patterns(self):
        # What a pattern matches comes in the hash table's order.
        for argv in (["maxmemory*"], ["*max*"], ["DATABASES", "time?ut"], ["proto-*", "client-*"], ["slave-*"]):
            with self.subTest(argv):
                want, got = self.both_decoded("CONFIG", "GET", *argv)
                self.assertIsInstance(got, list, got)
                gmap, wmap = canon_config(got), canon_config(want)
                self.assertEqual(len(gmap) * 2, len(got))
                # evkv knows a few parameters (proto/PROTOCOL.md): those it
                # reports are Redis's, with Redis's values.
                for k, v in gmap.items():
                    self.assertIn(k, wmap)
                    if k.lower() in DELIBERATE_CONFIG:
                        self.assertEqual(v, DELIBERATE_CONFIG[k.lower()], k)
                    elif k not in self.INSTANCE_CONFIG:
                        self.assertEqual(v, wmap[k], k)

    def test_command(self):
        # evkv lists its own commands: each entry as Redis's entry for it,
        # COMMAND COUNT their number, COMMAND INFO with no name all of them.
        want, got = self.both_decoded("COMMAND")
        self.assertIsInstance(got, list, got)
        wmap = {k: canon_command_entry(e) for k, e in self.commands_by_name(want).items()}
        gmap = {k: canon_command_entry(e) for k, e in self.commands_by_name(got).items()}
        self.assertEqual(len(gmap), len(got))
        for name in SERVED:
            self.assertIn(name.encode(), gmap)
        for name, entry in gmap.items():
            self.assertEqual(entry, wmap.get(name), name)
        count = self.request(self.evkv, "COMMAND", "COUNT")
        self.assertEqual(count, len(got))
        self.assertEqual(self.request(self.redis, "COMMAND", "COUNT"), len(want))
        info = self.request(self.evkv, "COMMAND", "INFO")
        self.assertEqual({k: canon_command_entry(e) for k, e in self.commands_by_name(info).items()}, gmap)

    def test_command_docs(self):
        # COMMAND DOCS with no name: evkv's commands, each as Redis has it.
        want, got = self.both_decoded("COMMAND", "DOCS")
        self.assertIsInstance(got, list, got)
        wmap, gmap = canon_docs(want), canon_docs(got)
        self.assertEqual(len(gmap) * 2, len(got))
        for name in SERVED:
            self.assertIn(name.encode(), gmap)
        for name, doc in gmap.items():
            self.assertEqual(doc, wmap.get(name), name)

    # Parameters whose values are the replica's own (its port, directory,
    # replicaof, the persistence this test turned off...).
    INSTANCE_CONFIG = {b"port", b"bind", b"dir", b"replicaof", b"slaveof", b"save", b"appendonly", b"logfile",
                       b"dbfilename", b"pidfile", b"daemonize", b"repl-diskless-sync", b"repl-diskless-sync-delay",
                       b"maxclients", b"unixsocket", b"tls-port", b"supervised", b"replica-read-only",
                       b"slave-read-only", b"bind-source-addr", b"appenddirname", b"appendfilename", b"io-threads"}

    def test_config_get_all(self):
        # The parameters evkv reports are Redis's, with Redis's default
        # values but for the instance's own.
        want, got = self.both_decoded("CONFIG", "GET", "*")
        self.assertIsInstance(got, list, got)
        wmap = dict(zip(want[::2], want[1::2]))
        gmap = dict(zip(got[::2], got[1::2]))
        self.assertEqual(len(gmap) * 2, len(got))
        for name, value in gmap.items():
            self.assertIn(name, wmap)
            if name in DELIBERATE_CONFIG:
                self.assertEqual(value, DELIBERATE_CONFIG[name], name)
            elif name not in self.INSTANCE_CONFIG:
                self.assertEqual(value, wmap[name], name)

    @unittest.skipIf(SELFTEST, "the replica has 16 databases")
    def test_one_database(self):
        # evkv has one database (proto/PROTOCOL.md): SELECT 1 to 15 are answered
        # as a replica answers SELECT 16, and CONFIG GET databases says 1.
        for n in ("1", "15"):
            want = ask(self.redis, c("SELECT", "16") + c("GET", "morpheus") + c("DBSIZE"), 3)
            got = ask(self.evkv, c("SELECT", n) + c("GET", "morpheus") + c("DBSIZE"), 3)
            self.assertEqual(got, want)
        want = ask(self.redis, c("MULTI") + c("SELECT", "16") + c("GET", "ring") + c("EXEC"), 4)
        got = ask(self.evkv, c("MULTI") + c("SELECT", "1") + c("GET", "ring") + c("EXEC"), 4)
        self.assertEqual(got, want)
        self.assertEqual(self.request(self.evkv, "CONFIG", "GET", "databases"), [b"databases", b"1"])


class TsvTest(ReplicaTestCase):
    """evkv loading a TSV file of the same string entries gives the same
    GET and MGET bytes as the replica."""

    def test_tsv(self):
        if SELFTEST:
            port = self.evkv
        else:
            rows = [(k, v) for k, v in TABLE.items()
                    if isinstance(v, str) and not any(ch in k + v for ch in "\t\r\n")]
            path = self.path("table.tsv")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write("".join("%s\t%s\n" % row for row in rows))
            srv = self.start_server("--resp-port", "any", "--data", path)
            port = srv.resp_port
        keys = [k.encode("utf-8") for k, v in TABLE.items()
                if isinstance(v, str) and not any(ch in k + v for ch in "\t\r\n")]
        reqs = [c("GET", k) for k in keys] + [c("MGET", *keys), c("STRLEN", "ctl\x01key")]
        want = ask(self.redis, b"".join(reqs), len(reqs))
        got = ask(port, b"".join(reqs), len(reqs))
        self.assertEqual(got, want)


if __name__ == "__main__":
    if not SELFTEST and not os.access(t.SERVER, os.X_OK):
        sys.exit("evkv-server not found at %s (set EVKV_SERVER)" % t.SERVER)
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus: corpus/<harness>/<seed>.

The seeds are regression inputs (bugs the fuzzers found, see REGRESSIONS),
PROTOCOL.md's examples (requests and answers, parsed from its
"What the reference sends, exactly" block: b'...' literals as they are, the
"... <content>" shorthand completed with the reference header) and the
bad frames of ../unit/frames/bad/*/input. Each harness gets them in its own
input format (see fuzz_common.h): for fuzz_decoder and fuzz_differential a
prefix byte choosing how the stream is split, then the stream (or, framed,
its headers and contents with 0xff between them); for
fuzz_handler a content-type choice byte, then a request's content.
Redis requests (RESP_COMMANDS, RESP_SESSIONS: every command evkv serves,
with good and bad arguments, refused writes, MULTI flows, QUIT and HTTP
lines), as multibulk and inline requests, go to fuzz_resp_commands and to
fuzz_conn in its RESP mode.

    tests/fuzz/make-corpus.py [PATH/TO/PROTOCOL.md]

Without an argument PROTOCOL.md is looked for next to this tree (in a
parent directory, or its docs/ or shared/). It rewrites corpus/ next to
this script; the generated files are committed, kept small, so that
scripts/fuzz needs no Python.
"""
import ast
import glob
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
BAD = os.path.join(HERE, "..", "unit", "frames", "bad")


def find_protocol():
    d = HERE
    while True:
        for sub in ("proto", "", "docs", "shared"):
            p = os.path.join(d, sub, "PROTOCOL.md")
            if os.path.isfile(p):
                return p
        parent = os.path.dirname(d)
        if parent == d:
            sys.exit("make-corpus.py: PROTOCOL.md not found; give its path")
        d = parent


def frame(content_type, content_encoding, content):
    """A message as the reference client or server writes it."""
    header = (
        '{"byteorder": "little", "content-type": "%s", "content-encoding": "%s", '
        '"content-length": %d}' % (content_type, content_encoding, len(content))
    ).encode()
    return len(header).to_bytes(2, "big") + header + content


def split_frame(msg):
    """(content type is text/json, content) of one whole message."""
    n = int.from_bytes(msg[:2], "big")
    return b'"content-type": "text/json"' in msg[2 : 2 + n], msg[2 + n :]


def pieces(stream):
    """A stream of whole messages as fuzz_frames' pieces: each header and
    content without its protoheader, 0xff between them."""
    out = []
    while stream:
        n = int.from_bytes(stream[:2], "big")
        header = stream[2 : 2 + n]
        cl = json.loads(header)["content-length"]
        out += [header, stream[2 + n : 2 + n + cl]]
        stream = stream[2 + n + cl :]
    return b"\xff".join(out)


def protocol_examples(path):
    """[(name, message bytes)] from PROTOCOL.md's exact-bytes block."""
    text = open(path, encoding="utf-8").read()
    start = text.index("## What the reference sends, exactly")
    block = text[start:].split("```")[1]
    out = []
    for n, line in enumerate(block.splitlines()):
        m = re.match(r"^(request|answer):\s+(.*)$", line)
        if not m:
            continue
        kind, rest = m.groups()
        lit = re.match(r"b'(?:[^'\\]|\\.)*'", rest)
        if lit:
            msg = ast.literal_eval(lit.group(0))
        elif rest.startswith("... "):
            # "... CONTENT" or "... "content-length": N}CONTENT", then
            # an optional comment after two or more spaces
            shown = re.split(r"\s{2,}", rest[4:])[0]
            want = None
            cl = re.match(r'"content-length": (\d+)\}(.*)$', shown)
            if cl:
                want, shown = int(cl.group(1)), cl.group(2)
            content = shown.encode()
            if want is not None and want != len(content):
                sys.exit("make-corpus.py: line %r: content-length %d, content %d bytes" % (line, want, len(content)))
            msg = frame("text/json", "utf-8", content)
        else:
            continue
        out.append(("%s-%02d" % (kind, n), msg))
    if len(out) < 8:
        sys.exit("make-corpus.py: only %d examples found in %s" % (len(out), path))
    return out


def bad_frames():
    out = []
    for d in sorted(glob.glob(os.path.join(BAD, "*"))):
        with open(os.path.join(d, "input"), "rb") as f:
            out.append(("bad-" + os.path.basename(d), f.read()))
    return out


# Inputs that found bugs, kept as seeds so that every run tries them first.
REGRESSIONS = {
    # the full header parser compared byteorder and content-encoding as C
    # strings: "little\u0000x" was "little", "utf-8\u0000latin-1" UTF-8
    "byteorder-nul": b'{"byteorder": "little\\u0000x", "content-type": "binary", '
    b'"content-encoding": "binary", "content-length": 1}',
    "utf-8-nul": b'{"byteorder": "little", "content-type": "text/json", '
    b'"content-encoding": "utf-8\\u0000latin-1", "content-length": 2}',
    # jansson (2.14, asserts on) aborts when its token buffer cannot grow:
    # the parse budget (parse_cost.c) runs out at the 16th "A" (the spaces tune it)
    "jansson-abort": b"[" * 549 + b" " * 5 + b"A" * 18 + b" ",
    # and it overruns its buffers (out-of-bounds read and write) when the
    # budget runs out inside a string: the closing quote is never saved
    "jansson-overflow": b"[" * 549 + b" " * 4 + b'"' + b"A" * 20 + b'"',
}


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# Prefixes of fuzz_decoder's and fuzz_differential's input: the first byte
# is (flags << 3) | number of size bytes; each size byte is a fragment
# size - 1. Flags: bits 0-1 the limits, bit 2 (fuzz_decoder) no fast path.
WHOLE = b"\x00"
BYTE_AT_A_TIME = b"\x01\x00"
SPLIT_7_17 = b"\x02\x06\x10"
SMALL_LIMITS = bytes([1 << 3])
EXACT_LIMITS = bytes([3 << 3])
NO_FAST_PATH = bytes([4 << 3])
FRAMED = bytes([16 << 3])  # FUZZ_FLAG_FRAMED: protoheaders computed
RESP_FLAG = 8 << 3  # FUZZ_FLAG_RESP (fuzz_conn): the connection speaks RESP

# fuzz_handler's choice byte: bits 0-2 the content type (0 text/json,
# 1 binary/custom-client-binary-type), bit 3 jansson only, bit 4 an error
# answer too.
TEXT_JSON, BINARY, FULL_PARSER, ERROR_TOO = 0, 1, 8, 16


# fuzz_resp's seeds: RESP streams, Redis's multibulk and inline requests
# and its protocol errors. Flag bit 2 (RESERVE) feeds through reserve/commit.
RESERVE = bytes([4 << 3])
RESP_STREAMS = {
    "resp-get": b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
    "resp-mget-binary": b"*4\r\n$4\r\nMGET\r\n$3\r\na\x00b\r\n$0\r\n\r\n$2\r\n\r\n\r\n",
    "resp-skipped-counts": b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n",
    "resp-inline": b"GET a\r\nPING\n\r\n  \r\nECHO \"a b\\x41\\n\" 'it\\'s'\r\n",
    "resp-inline-unbalanced": b"GET \"a\"b\r\n",
    "resp-bad-count": b"*-0\r\n",
    "resp-bad-dollar": b"*1\r\n:1\r\n",
    "resp-bad-bulk-length": b"*1\r\n$-1\r\n",
    "resp-nul": b"PING\r\nGET a\x00b\r\n",
}


def resp_seeds():
    for name, stream in RESP_STREAMS.items():
        write("fuzz_resp", name, WHOLE + stream)
    everything = b"".join(v for k, v in RESP_STREAMS.items() if k in ("resp-get", "resp-mget-binary", "resp-inline"))
    write("fuzz_resp", "resp-pipelined-byte-at-a-time", BYTE_AT_A_TIME + everything)
    write("fuzz_resp", "resp-pipelined-split-7-17", SPLIT_7_17 + everything)
    write("fuzz_resp", "resp-pipelined-small-limits", SMALL_LIMITS + everything)
    write("fuzz_resp", "resp-pipelined-reserve", bytes([RESERVE[0] | 2, 6, 16]) + everything)


# Redis commands, as lists of arguments: every command evkv serves, with
# valid and invalid arguments, and the writes and reads of other types that
# it refuses. fuzz_resp_commands and fuzz_conn's RESP mode get them as
# multibulk and as inline requests, alone and in sessions.
RESP_COMMANDS = [
    ["GET", "plain"], ["GET", "esc"], ["GET", "num"], ["GET", "list"], ["GET", "obj"], ["GET", "ring"],
    ["GET", "nokey"], ["GET"], ["GET", "a", "b"], ["get", "\x00"],
    ["MGET", "plain", "nokey", "esc", "obj"], ["MGET"],
    ["EXISTS", "plain", "plain", "nokey"], ["EXISTS"],
    ["STRLEN", "esc"], ["STRLEN", "obj"], ["STRLEN", "nokey"],
    ["GETRANGE", "esc", "0", "-1"], ["GETRANGE", "plain", "-5", "100"], ["GETRANGE", "obj", "x", "1"],
    ["GETRANGE", "esc", "9223372036854775807", "-9223372036854775808"], ["SUBSTR", "plain", "2", "4"],
    ["TYPE", "plain"], ["TYPE", "nokey"], ["TTL", "plain"], ["PTTL", "nokey"], ["DBSIZE"], ["DBSIZE", "x"],
    ["RANDOMKEY"], ["SCAN", "0"], ["SCAN", "0", "MATCH", "*a*", "COUNT", "2"], ["SCAN", "0", "TYPE", "string"],
    ["SCAN", "18446744073709551615", "COUNT", "0"], ["SCAN", "x"], ["KEYS", "*"], ["KEYS", "h\\?x"],
    ["KEYS", "[a-z]*[^x]"], ["KEYS", "[\\"], ["PING"], ["PING", "hello"], ["PING", "a", "b"], ["ECHO", "hi"],
    ["ECHO"], ["SELECT", "0"], ["SELECT", "1"], ["SELECT", "x"], ["AUTH", "pw"], ["AUTH", "default", "pw"],
    ["CLIENT", "ID"], ["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", "me"], ["CLIENT", "SETNAME", "a b"],
    ["CLIENT", "HELP"], ["CLIENT", "LIST"], ["CLIENT", "NOPE"], ["CLIENT"], ["HELLO"], ["HELLO", "2"],
    ["HELLO", "3"], ["HELLO", "2", "AUTH", "default", "x", "SETNAME", "n"], ["HELLO", "x"],
    ["COMMAND"], ["COMMAND", "COUNT"], ["COMMAND", "INFO", "get", "set", "nope"], ["COMMAND", "DOCS", "get"],
    ["COMMAND", "DOCS"], ["COMMAND", "HELP"], ["COMMAND", "GETKEYS", "get", "a"],
    ["CONFIG", "GET", "maxmemory"], ["CONFIG", "GET", "*"], ["CONFIG", "GET", "save", "appendonly"],
    ["CONFIG", "SET", "a", "b"], ["CONFIG", "HELP"], ["CONFIG", "RESETSTAT"], ["INFO"], ["INFO", "server"],
    ["INFO", "keyspace", "stats"], ["INFO", "all"], ["INFO", "everything"], ["ROLE"], ["SLOWLOG", "GET"],
    ["SLOWLOG", "GET", "10"], ["SLOWLOG", "LEN"], ["SLOWLOG", "RESET"], ["LATENCY", "LATEST"],
    ["LATENCY", "HISTORY", "command"], ["LATENCY", "RESET"], ["LATENCY", "DOCTOR"],
    ["SET", "a", "b"], ["DEL", "plain"], ["INCR", "num"], ["SET", "a"], ["FLUSHALL"],
    ["HGET", "plain", "f"], ["HGET", "nokey", "f"], ["HMGET", "nokey", "a", "b"], ["HGETALL", "obj"],
    ["LLEN", "list"], ["LRANGE", "nokey", "0", "-1"], ["LRANGE", "list", "0", "x"], ["LINDEX", "list", "0"],
    ["SMEMBERS", "nokey"], ["SMISMEMBER", "nokey", "a", "b"], ["ZSCORE", "nokey", "m"], ["ZCARD", "obj"],
    ["SUBSCRIBE", "ch"], ["EVAL", "return 1", "0"], ["NOPE", "a", "b"], ["UNWATCH"], ["WATCH", "plain"],
]
RESP_SESSIONS = {
    "multi-exec": [["MULTI"], ["GET", "plain"], ["MGET", "esc", "nokey"], ["PING"], ["EXEC"]],
    "multi-discard": [["MULTI"], ["GET", "plain"], ["DISCARD"], ["EXEC"], ["DISCARD"]],
    "multi-nested": [["MULTI"], ["MULTI"], ["GET", "plain"], ["EXEC"]],
    "multi-write": [["MULTI"], ["SET", "a", "b"], ["GET", "plain"], ["EXEC"]],
    "multi-bad-arity": [["MULTI"], ["GET"], ["EXEC"]],
    "multi-unknown": [["MULTI"], ["NOPE"], ["EXEC", "x"], ["EXEC"]],
    "multi-watch": [["WATCH", "plain"], ["MULTI"], ["WATCH", "a"], ["UNWATCH"], ["EXEC"]],
    "multi-no-multi": [["MULTI"], ["SUBSCRIBE", "a"], ["HELLO"], ["EXEC"]],
    "multi-reset": [["CLIENT", "SETNAME", "x"], ["MULTI"], ["GET", "a"], ["RESET"], ["CLIENT", "GETNAME"], ["EXEC"]],
    "multi-quit": [["MULTI"], ["GET", "plain"], ["QUIT"], ["PING"]],
    "multi-everything": [["MULTI"], ["COMMAND", "COUNT"], ["INFO", "keyspace"], ["SCAN", "0"], ["KEYS", "*"],
                         ["CLIENT", "SETNAME", "q"], ["CLIENT", "GETNAME"], ["SELECT", "0"], ["EXEC"]],
    "quit": [["PING"], ["QUIT"], ["PING"]],
    "post": [["PING"], ["POST", "/", "HTTP/1.1"], ["PING"]],
    "host": [["Host:", "example.com"], ["PING"]],
    "names": [["CLIENT", "SETNAME", "n1"], ["HELLO", "2", "SETNAME", "n2"], ["CLIENT", "GETNAME"], ["RESET"],
              ["CLIENT", "GETNAME"]],
}


def multibulk(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode("latin-1")
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def inline(args):
    """An inline request: an argument with blanks, quotes or NULs in double quotes, escaped."""
    words = []
    for a in args:
        if a and not set(a) & set(" '\"\\\x00"):
            words.append(a)
        else:
            words.append('"%s"' % a.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", "\\x00"))
    return (" ".join(words) + "\r\n").encode("latin-1")


def resp_command_seeds():
    for i, args in enumerate(RESP_COMMANDS):
        name = "cmd-%03d-%s" % (i, args[0].lower() if args else "empty")
        for harness, prefix in (("fuzz_resp_commands", WHOLE), ("fuzz_conn", bytes([RESP_FLAG]))):
            write(harness, name, prefix + multibulk(args))
            write(harness, name + "-inline", prefix + inline(args))
    for name, reqs in RESP_SESSIONS.items():
        stream = b"".join(multibulk(a) for a in reqs)
        mixed = b"".join((inline if i % 2 else multibulk)(a) for i, a in enumerate(reqs))
        for harness, flags in (("fuzz_resp_commands", 0), ("fuzz_conn", RESP_FLAG)):
            write(harness, "session-" + name, bytes([flags]) + stream)
            write(harness, "session-" + name + "-mixed", bytes([flags]) + mixed)
            write(harness, "session-" + name + "-split", bytes([flags | 2, 0, 6]) + stream)
    everything = b"".join(multibulk(a) for a in RESP_COMMANDS)
    for harness, flags in (("fuzz_resp_commands", 0), ("fuzz_conn", RESP_FLAG)):
        write(harness, "pipelined-all-commands", bytes([flags]) + everything)
        write(harness, "pipelined-all-commands-split", bytes([flags | 2, 3, 200]) + everything)
    write("fuzz_resp_commands", "info-figures", bytes([1 << 3]) + multibulk(["INFO", "all"]))
    for name, stream in RESP_STREAMS.items():
        write("fuzz_conn", name, bytes([RESP_FLAG]) + stream)
        write("fuzz_resp_commands", name, WHOLE + stream)


def tls_seeds():
    """fuzz_tls: RESP sessions over a real handshake (RESP_FLAG), the same
    with a ciphertext byte flipped (and FRAMED), split into small records,
    and raw bytes to the TLS port: plain text, a guide request, nothing."""
    for name, reqs in RESP_SESSIONS.items():
        stream = b"".join(multibulk(a) for a in reqs)
        write("fuzz_tls", "session-" + name, bytes([RESP_FLAG]) + stream)
        write("fuzz_tls", "session-" + name + "-split", bytes([RESP_FLAG | 2, 0, 6]) + stream)
    everything = b"".join(multibulk(a) for a in RESP_COMMANDS)
    write("fuzz_tls", "pipelined-all-commands", bytes([RESP_FLAG]) + everything)
    write("fuzz_tls", "pipelined-all-commands-flipped", bytes([RESP_FLAG | FRAMED[0]]) + b"\x30" + everything)
    write("fuzz_tls", "raw-plain-text", bytes([0]) + multibulk(["PING"]))
    write("fuzz_tls", "raw-guide-request", bytes([1, 0]) + frame("text/json", "utf-8", b'{"action": "ping"}'))
    write("fuzz_tls", "raw-nothing", bytes([0]))


def datafile_seeds():
    """fuzz_datafile: TSV (first byte 0) and JSON (1) data files, plain and
    with what makes entries outgrow their bytes (escapes), CRLF, a BOM,
    blank lines, duplicates and errors."""
    tsv = {
        "plain": b"a\t1\nkey:000000001\tsome value\n",
        "escapes": b"q\t\"x\\y\x01\"\r\n\nk\t\xc3\xa9t\xc3\xa9\t2\nlast\tno newline",
        "bom": b"\xef\xbb\xbfa\tb\r\n",
        "duplicate": b"a\t1\nb\t2\na\t3\n",
        "duplicate-then-error": b"a\t1\nb\t2\na\t3\nno tab\n",
        "no-tab": b"a\t1\nnotab\n",
        "bad-utf8": b"a\t\xff\n",
    }
    json_files = {
        "plain": b'{"a": "1", "b": "two"}',
        "values": b'{\n "n": 1.5e3, "o": {"x": [1, null]}, "e": "\\u00e9\\n", "k\\t": true\n}\n',
        "duplicate": b'{"a": 1, "a": 2}',
        "broken": b'{"a": "1", "b" 2}',
        "not-object": b'[1, 2]',
    }
    for name, text in tsv.items():
        write("fuzz_datafile", "tsv-" + name, b"\x00" + text)
    for name, text in json_files.items():
        write("fuzz_datafile", "json-" + name, b"\x01" + text)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else find_protocol()
    examples = protocol_examples(path)
    bad = bad_frames()
    shutil.rmtree(CORPUS, ignore_errors=True)
    datafile_seeds()

    for name, text in REGRESSIONS.items():
        for harness in ("fuzz_decoder", "fuzz_differential", "fuzz_conn"):
            if name.startswith("jansson-"):  # as a header, and as a request's content
                write(harness, "regress-" + name + "-header", WHOLE + len(text).to_bytes(2, "big") + text)
                write(harness, "regress-" + name + "-content", WHOLE + frame("text/json", "utf-8", text))
            else:
                write(harness, "regress-" + name, FRAMED + text + b"\xff" + b"{}"[: json.loads(text)["content-length"]])
        if name.startswith("jansson-"):
            write("fuzz_handler", "regress-" + name, bytes([TEXT_JSON]) + text)

    requests = b"".join(m for name, m in examples if name.startswith("request"))
    everything = b"".join(m for _, m in examples)
    for harness in ("fuzz_decoder", "fuzz_differential", "fuzz_conn"):
        for name, msg in examples + bad:
            write(harness, name, WHOLE + msg)
        write(harness, "pipelined-requests", WHOLE + requests)
        write(harness, "pipelined-byte-at-a-time", BYTE_AT_A_TIME + everything)
        write(harness, "pipelined-split-7-17", SPLIT_7_17 + everything)
        write(harness, "pipelined-small-limits", SMALL_LIMITS + everything)
        write(harness, "pipelined-exact-limits", EXACT_LIMITS + everything)
        if harness == "fuzz_decoder":
            write(harness, "pipelined-no-fast-path", NO_FAST_PATH + everything)
        for name, msg in examples:
            write(harness, "framed-" + name, FRAMED + pieces(msg))
        write(harness, "framed-pipelined", FRAMED + pieces(everything))

    for name, msg in examples:
        is_json, content = split_frame(msg)
        if is_json:
            write("fuzz_handler", name, bytes([TEXT_JSON]) + content)
            write("fuzz_handler", name + "-jansson", bytes([TEXT_JSON | FULL_PARSER]) + content)
        else:
            write("fuzz_handler", name, bytes([BINARY]) + content)
    for name, key in (("ring", "ring"), ("dog", "\U0001f436"), ("nul", "a\\u0000b"), ("cafe", "caf\u00e9")):
        content = ('{"action": "search", "value": "%s"}' % key).encode()
        write("fuzz_handler", "search-" + name, bytes([TEXT_JSON]) + content)
    write("fuzz_handler", "no-value", bytes([TEXT_JSON]) + b'{"action": "search"}')
    for name, content in (("msearch", '{"action": "msearch", "value": ["morpheus", "nope", "\U0001f436"]}'),
                          ("msearch-empty", '{"action": "msearch", "value": []}'),
                          ("msearch-string", '{"action": "msearch", "value": "\U0001f436"}'),
                          ("msearch-mixed", '{"action": "msearch", "value": ["ring", 7]}'),
                          ("msearch-no-value", '{"action": "msearch"}')):
        write("fuzz_handler", name, bytes([TEXT_JSON]) + content.encode())
    write("fuzz_handler", "not-an-object", bytes([TEXT_JSON]) + b'["search", "ring"]')
    write("fuzz_handler", "error-answer", bytes([BINARY | ERROR_TOO]) + b"request lacks 'action'")
    resp_seeds()
    resp_command_seeds()
    tls_seeds()


if __name__ == "__main__":
    main()

"""integration.protocol: answers byte for byte as the reference server's."""

import json
import socket
import sys
import time
import unittest

import evkv_test as t

MAX_CONTENT = 1024 * 1024  # the default --max-content
# The most memory a request's parse may take with it (PROTOCOL.md, Framing).
PARSE_MEMORY = 64 * 1024 + 48 * MAX_CONTENT


class ExamplesTest(t.ServerTestCase):
    """Every example of PROTOCOL.md, on one connection kept open."""

    def setUp(self):
        self.srv = self.start_server()
        self.conn = self.connect(self.srv)

    def test_start_line_names_the_builtin_table(self):
        self.assertIn("3 keys", self.srv.source)

    def test_morpheus(self):
        self.assert_search(self.conn, "morpheus")

    def test_nope(self):
        self.assertEqual(self.conn.exchange(t.search_request("nope")),
                         t.result_answer(t.miss_text("nope")))

    def test_invalid_action_double(self):
        self.assertEqual(self.conn.exchange(t.search_request("x", action="double")),
                         t.result_answer("Error: invalid action 'double'."))

    def test_binary_double12(self):
        self.assertEqual(self.conn.exchange(t.binary_request(b"double12")),
                         t.binary_answer(b"double12"))

    def test_escaped_key(self):
        key = 'a"b\\c\n'
        answer = self.conn.exchange(t.search_request(key))
        self.assertEqual(answer, t.result_answer(t.miss_text(key)))
        self.assertIn(b'{"result": "No match for \'a\\"b\\\\c\\n\'."}', answer)

    def test_dog_key(self):
        self.assert_search(self.conn, "\U0001f436")

    def test_ring(self):
        self.assert_search(self.conn, "ring")

    def test_empty_binary_request(self):
        self.assertEqual(self.conn.exchange(t.binary_request(b"")), t.binary_answer(b""))
        self.assertTrue(t.binary_answer(b"").endswith(t.BINARY_PREFIX.encode()))

    def test_binary_longer_than_ten_bytes(self):
        data = bytes(range(256)) * 4
        self.assertEqual(self.conn.exchange(t.binary_request(data)), t.binary_answer(data))

    def test_binary_with_other_content_types(self):
        # Only exactly "text/json" is JSON; anything else is binary.
        for ctype in ("application/json", "TEXT/JSON", "text/json ", "", "text/jsonx"):
            content = b'{"action": "search", "value": "morpheus"}'
            req = t.message(content, ctype, "utf-8")
            self.assertEqual(self.conn.exchange(req), t.binary_answer(content), ctype)

    def test_all_examples_on_one_connection(self):
        for key in ("morpheus", "nope", 'a"b\\c\n', "\U0001f436", "ring"):
            self.assert_search(self.conn, key)
        self.assertEqual(self.conn.exchange(t.binary_request(b"double12")),
                         t.binary_answer(b"double12"))
        self.assertEqual(self.conn.exchange(t.binary_request(b"")), t.binary_answer(b""))


@unittest.skipUnless(sys.byteorder == "little", "PROTOCOL.md's literals are little-endian")
class LiteralBytesTest(t.ServerTestCase):
    """The literal bytes printed in PROTOCOL.md."""

    MORPHEUS_REQUEST = (b'\x00g{"byteorder": "little", "content-type": "text/json", '
                        b'"content-encoding": "utf-8", "content-length": 41}'
                        b'{"action": "search", "value": "morpheus"}')
    MORPHEUS_ANSWER = (b'\x00g{"byteorder": "little", "content-type": "text/json", '
                       b'"content-encoding": "utf-8", "content-length": 43}'
                       b'{"result": "Follow the white rabbit. \xf0\x9f\x90\xb0"}')
    DOUBLE12_REQUEST = (b'\x00~{"byteorder": "little", "content-type": "binary/custom-client-binary-type", '
                        b'"content-encoding": "binary", "content-length": 8}double12')
    DOUBLE12_ANSWER = (b'\x00\x7f{"byteorder": "little", "content-type": '
                       b'"binary/custom-server-binary-type", "content-encoding": "binary", '
                       b'"content-length": 35}First 10 bytes of request: double12')

    def setUp(self):
        self.srv = self.start_server()
        self.conn = self.connect(self.srv)

    def test_helpers_agree_with_the_literals(self):
        self.assertEqual(t.search_request("morpheus"), self.MORPHEUS_REQUEST)
        self.assertEqual(t.search_answer("morpheus"), self.MORPHEUS_ANSWER)
        self.assertEqual(t.binary_request(b"double12"), self.DOUBLE12_REQUEST)
        self.assertEqual(t.binary_answer(b"double12"), self.DOUBLE12_ANSWER)

    def test_morpheus_literal(self):
        self.assertEqual(self.conn.exchange(self.MORPHEUS_REQUEST), self.MORPHEUS_ANSWER)

    def test_double12_literal(self):
        self.assertEqual(self.conn.exchange(self.DOUBLE12_REQUEST), self.DOUBLE12_ANSWER)

    def test_other_answer_literals(self):
        self.conn.send(t.search_request("nope"))
        self.assertTrue(self.conn.read_answer().raw.endswith(
            b'"content-length": 34}{"result": "No match for \'nope\'."}'))
        self.conn.send(t.search_request("x", action="double"))
        self.assertTrue(self.conn.read_answer().raw.endswith(
            b'"content-length": 45}{"result": "Error: invalid action \'double\'."}'))


class KeysTest(t.ServerTestCase):
    """Unusual keys come back escaped exactly as Python's json escapes them."""

    def setUp(self):
        self.srv = self.start_server()
        self.conn = self.connect(self.srv)

    def test_control_character_lowercase_hex(self):
        answer = self.conn.exchange(t.search_request("\x01"))
        self.assertEqual(answer, t.result_answer(t.miss_text("\x01")))
        self.assertIn(b"\\u0001", answer)

    def test_every_control_character(self):
        for c in range(0x20):
            self.assert_search(self.conn, chr(c))
        key = "".join(chr(c) for c in range(0x20)) + "\x7f"
        answer = self.conn.exchange(t.search_request(key))
        self.assertEqual(answer, t.search_answer(key))
        for esc in (b"\\u001f", b"\\u001b", b"\\u000b", b"\\b", b"\\f", b"\\n", b"\\r", b"\\t"):
            self.assertIn(esc, answer)

    def test_nul_in_key(self):
        self.assert_search(self.conn, "a\x00b")

    def test_slash_and_unicode_separators_not_escaped(self):
        key = "a/b\u2028\u2029\u00e9\ufeff"
        answer = self.conn.exchange(t.search_request(key))
        self.assertEqual(answer, t.search_answer(key))
        self.assertIn("a/b\u2028".encode("utf-8"), answer)

    def test_non_ascii_keys(self):
        for key in ("\u00e9t\u00e9", "\u65e5\u672c\u8a9e", "\U0001f436\U0001f436", "\u0645\u0631\u062d\u0628\u0627",
                    "\U0010ffff", "\ud7ff\ue000"):
            self.assert_search(self.conn, key)

    def test_empty_key(self):
        self.assertEqual(self.conn.exchange(t.search_request("")), t.result_answer(t.miss_text("")))

    def test_long_key(self):
        key = "k\u00e9y" * 50000  # 200 kB of UTF-8, under the 1 MiB limit
        self.assert_search(self.conn, key)

    def test_near_misses(self):
        for key in ("Morpheus", "morpheus ", " morpheus", "morpheu", "morpheus\x00", "rin", "\U0001f437"):
            self.assert_search(self.conn, key)

    def test_request_with_ascii_escapes_finds_the_key(self):
        # A client with ensure_ascii=True writes the dog as a surrogate pair.
        content = json.dumps({"action": "search", "value": "\U0001f436"}).encode("ascii")
        self.assertIn(b"\\ud83d\\udc36", content)
        req = t.message(content, "text/json", "utf-8")
        self.assertEqual(self.conn.exchange(req), t.search_answer("\U0001f436"))

    def test_request_content_with_other_whitespace_and_order(self):
        content = b'\n { "value" :"ring" ,\t"action":"search" }\r\n'
        req = t.message(content, "text/json", "utf-8")
        self.assertEqual(self.conn.exchange(req), t.search_answer("ring"))

    def test_extra_request_keys_ignored(self):
        req = t.json_request({"action": "search", "value": "morpheus", "extra": [1, 2]})
        self.assertEqual(self.conn.exchange(req), t.search_answer("morpheus"))

    def test_invalid_actions_echo_the_action(self):
        for action in ("", "Search", "SEARCH", "search ", "\U0001f436", 'q"\\\x02'):
            req = t.search_request("morpheus", action=action)
            self.assertEqual(self.conn.exchange(req),
                             t.result_answer(f"Error: invalid action '{action}'."), repr(action))


class MsearchTest(t.TempDirTestCase):
    """msearch: many keys in one request, each answered as search would
    answer it (its value's JSON text), null for a miss, in order."""

    def test_built_in_table(self):
        conn = self.connect(self.start_server())
        keys = ["morpheus", "nope", "\U0001f436", "ring", "", "morpheus"]
        want = [t.TABLE.get(k) for k in keys]
        self.assertEqual(conn.exchange(t.search_request(keys, action="msearch")), t.result_answer(want))
        self.assertEqual(conn.exchange(t.search_request([], action="msearch")), t.result_answer([]))

    def test_values_of_every_kind(self):
        """Numbers, lists, objects, true/false/null and strings with escapes
        come back as search gives them: the exact bytes, not re-encoded."""
        table = {"n": 1.5e300, "l": [1, "two", None], "o": {"a": {"b": []}}, "t": True, "z": None,
                 "s": 'quote" back\\ tab\t \u00e9 \U0001f600'}
        path = self.path("kinds.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(table, f, ensure_ascii=False)
        conn = self.connect(self.start_server("--data", path))
        keys = sorted(table) + ["missing"]
        conn.send(t.search_request(keys, action="msearch"))
        answer = conn.read_answer()
        singles = []
        for k in sorted(table):
            conn.send(t.search_request(k))
            singles.append(conn.read_answer())
        self.assertEqual(t.answer_result(answer), [t.answer_result(a) for a in singles] + [None])
        # byte for byte: each element is the text search puts after {"result": 
        content = answer.content
        for single in singles:
            self.assertIn(single.content[len(b'{"result": '):-1], content)
        self.assertTrue(content.endswith(b", null]}"), content)

    def test_errors(self):
        conn = self.connect(self.start_server())
        lacks = t.result_answer("Error: request lacks 'value'.")
        not_list = t.result_answer("Error: 'value' must be a list of strings.")
        self.assertEqual(conn.exchange(t.json_request({"action": "msearch"})), lacks)
        for value in ("morpheus", 7, None, {"a": "b"}, ["ring", 7], [["ring"]], ["ring", None]):
            with self.subTest(value=value):
                self.assertEqual(conn.exchange(t.search_request(value, action="msearch")), not_list)
        # the connection is still good, and stats count msearch and its keys
        # (a refused one counts as a bad request)
        conn.send(t.search_request(["ring", "nope", "nope"], action="msearch"))
        conn.read_answer()
        conn.send(t.json_request({"action": "stats"}))
        stats = t.answer_result(conn.read_answer())
        self.assertEqual(stats["requests"]["msearch"], 1)
        self.assertEqual(stats["requests"]["bad_request"], 8)
        self.assertEqual((stats["hits"], stats["misses"]), (1, 2))

    def test_many_keys_pipelined(self):
        conn = self.connect(self.start_server())
        keys = [random_key(i) for i in range(2000)] + list(t.TABLE)
        requests = [keys[i:i + 100] for i in range(0, len(keys), 100)]
        conn.send(b"".join(t.search_request(r, action="msearch") for r in requests))
        for r in requests:
            self.assertEqual(conn.read_answer().raw, t.result_answer([t.TABLE.get(k) for k in r]))

    def test_as_many_keys_as_the_limit_holds(self):
        """The memory a request's parse may take is bounded by
        --max-content, not by the request's own length: with the default
        limits, msearches of 10,000 keys and of as many short keys as 1 MiB
        holds are answered, key by key; a list of empty objects filling
        1 MiB (jansson would take over 80 MB for it) is refused unparsed,
        and the connection goes on."""
        table = {f"k{i}": f"v{i}" for i in range(10000)}
        path = self.path("short.tsv")
        with open(path, "w") as f:
            f.write("".join(f"{k}\t{v}\n" for k, v in table.items()))
        conn = self.connect(self.start_server("--data", path))

        def msearch(keys, content=None):
            if content is None:
                content = t.json_encode({"action": "msearch", "value": keys})
            self.assertLessEqual(len(content), MAX_CONTENT)
            conn.send(t.message(content, "text/json", "utf-8"))
            return t.answer_result(conn.read_answer())

        keys = list(table)
        self.assertEqual(msearch(keys), [table[k] for k in keys])
        # "k0", "k1", ... with misses past k9999, as many as fill 1 MiB
        keys, size = [], len(t.json_encode({"action": "msearch", "value": []}))
        while size + len(f'"k{len(keys) % 15000}", ') <= MAX_CONTENT:
            size += len(f'"k{len(keys) % 15000}", ')
            keys.append(f"k{len(keys) % 15000}")
        self.assertGreater(len(keys), 100000)
        self.assertEqual(msearch(keys), [table.get(k) for k in keys])
        # the lightest keys, compact: 1 MiB to the byte
        head, tail = b'{"action":"msearch","value":[', b'""]}'
        count = (MAX_CONTENT - len(head) - len(tail)) // 3
        content = head + b'"",' * count + tail
        content += b" " * (MAX_CONTENT - len(content))
        self.assertEqual(msearch(None, content), [None] * (count + 1))
        # what blows jansson up is still refused before it runs
        content = b'{"action": "msearch", "value": [' + b"{}, " * (MAX_CONTENT // 4 - 16) + b"{}]}"
        refused = f"Error: content is not valid JSON: too complex to parse within {PARSE_MEMORY} bytes of memory."
        self.assertEqual(msearch(None, content), refused)
        self.assert_search(conn, "k42", table)



def random_key(i):
    return "".join(chr(0x20 + (i * 7919 + j * 104729) % 0x2fff) for j in range(i % 13))


class HeaderVariantsTest(t.ServerTestCase):
    """Headers the reference accepts are accepted."""

    def setUp(self):
        self.srv = self.start_server()
        self.conn = self.connect(self.srv)

    def test_big_endian_byteorder(self):
        req = t.message(t.json_encode({"action": "search", "value": "ring"}), "text/json", "utf-8",
                        byteorder="big")
        self.assertEqual(self.conn.exchange(req), t.search_answer("ring"))

    def test_keys_in_other_order_and_extra_keys(self):
        content = t.json_encode({"action": "search", "value": "morpheus"})
        header = {"content-length": len(content), "x-extra": {"a": [1]},
                  "content-encoding": "utf-8", "content-type": "text/json", "byteorder": "little"}
        self.assertEqual(self.conn.exchange(t.raw_frame(header, content)), t.search_answer("morpheus"))

    def test_compact_header(self):
        content = t.json_encode({"action": "search", "value": "morpheus"})
        header = json.dumps({"byteorder": "little", "content-type": "text/json",
                             "content-encoding": "utf-8", "content-length": len(content)},
                            separators=(",", ":")).encode()
        self.assertEqual(self.conn.exchange(t.raw_frame(header, content)), t.search_answer("morpheus"))

    def test_binary_encoding_is_not_checked(self):
        req = t.message(b"double12", t.CLIENT_BINARY_TYPE, "latin-1")
        self.assertEqual(self.conn.exchange(req), t.binary_answer(b"double12"))

    def test_answers_carry_host_byteorder(self):
        self.conn.send(t.search_request("morpheus"))
        self.assertEqual(self.conn.read_answer().header["byteorder"], sys.byteorder)


class ConnectionsTest(t.ServerTestCase):
    """Connection handling: the guide's client, many clients, dribbled bytes."""

    def setUp(self):
        self.srv = self.start_server()

    def test_guide_client_200_times(self):
        for i in range(200):
            if i % 3 == 0:
                req, want = t.search_request("morpheus"), t.search_answer("morpheus")
            elif i % 3 == 1:
                req, want = t.binary_request(b"double12"), t.binary_answer(b"double12")
            else:
                key = f"key{i}"
                req, want = t.search_request(key), t.search_answer(key)
            self.assertEqual(t.guide_client_exchange(self.srv.port, req), want, f"exchange {i}")

    def test_guide_client_server_closes_nothing_first(self):
        # The connection stays open after an answer: a second request works.
        with self.srv.connect() as c:
            for _ in range(3):
                self.assert_search(c, "ring")

    def test_half_close_after_request(self):
        with self.srv.connect() as c:
            c.send(t.search_request("morpheus") + t.binary_request(b"abc"))
            c.sock.shutdown(socket.SHUT_WR)
            self.assertEqual(c.read_answer().raw, t.search_answer("morpheus"))
            self.assertEqual(c.read_answer().raw, t.binary_answer(b"abc"))
            self.assertTrue(c.at_eof())

    def test_many_concurrent_clients(self):
        conns = [self.connect(self.srv) for _ in range(64)]
        for round_ in range(3):
            for i, c in enumerate(conns):
                c.send(t.search_request(f"k{i}.{round_}") + t.search_request("ring"))
            for i, c in enumerate(reversed(conns)):
                i = len(conns) - 1 - i
                self.assertEqual(c.read_answer().raw, t.search_answer(f"k{i}.{round_}"))
                self.assertEqual(c.read_answer().raw, t.search_answer("ring"))

    def test_bytes_dribbled_one_at_a_time(self):
        c = self.connect(self.srv)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = t.search_request("\U0001f436") + t.binary_request(b"double12") + t.search_request("nope")
        for i in range(len(data)):
            c.send(data[i:i + 1])
            if i < 60:
                time.sleep(0.002)  # make sure the first frame arrives in pieces
        self.assertEqual(c.read_answer().raw, t.search_answer("\U0001f436"))
        self.assertEqual(c.read_answer().raw, t.binary_answer(b"double12"))
        self.assertEqual(c.read_answer().raw, t.search_answer("nope"))

    def test_frame_split_at_every_boundary(self):
        c = self.connect(self.srv)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = t.search_request("morpheus")
        for cut in (1, 2, 3, len(req) - 42, len(req) - 41, len(req) - 1):
            c.send(req[:cut])
            time.sleep(0.02)
            c.send(req[cut:])
            self.assertEqual(c.read_answer().raw, t.search_answer("morpheus"), f"cut at {cut}")


class StricterThanReferenceTest(t.ServerTestCase):
    """Requests the reference server answers normally but evkv refuses, as
    proto/PROTOCOL.md says: jansson's parser is stricter than Python's json module.
    The answer must name the problem, and the connection must go on."""

    def setUp(self):
        self.srv = self.start_server()
        self.conn = self.connect(self.srv)

    def assert_refused_then_usable(self, req, why):
        self.conn.send(req)
        result = self.assert_error_answer(self.conn.read_answer())
        self.assertIn("content is not valid JSON", result)
        self.assertIn(why, result)
        self.assert_search(self.conn, "ring")

    def test_nul_in_an_ignored_object_key(self):
        req = t.json_request({"action": "search", "value": "ring", "x\x00": 1})
        self.assert_refused_then_usable(req, "NUL byte in object key")

    def test_integer_beyond_int64_in_an_ignored_key(self):
        req = t.json_request({"action": "search", "value": "ring", "extra": 2 ** 70})
        self.assert_refused_then_usable(req, "too big integer")


if __name__ == "__main__":
    t.main()

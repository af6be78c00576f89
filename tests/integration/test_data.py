"""integration.data: --data with JSON and TSV files, and bad data files."""

import json
import os
import socket
import tempfile
import unittest

import evkv_test as t

# Values of every JSON type. The answer content must be exactly
# json.dumps({"result": value}, ensure_ascii=False), Python's way of writing
# numbers included.
JSON_TABLE = {
    "string": "plain",
    "unicode": "\U0001f43e caf\u00e9 \u65e5\u672c",
    "escapes": "tab\there \"quoted\" back\\slash\nnl \x01\x1f \x7f /",
    "empty string": "",
    "int": 42,
    "zero": 0,
    "negative": -7,
    "int64 max": 9223372036854775807,
    "int64 min": -9223372036854775808,
    "float": 1.5,
    "float tenth": 0.1,
    "float whole": 2.0,
    "float negative": -0.25,
    "float negative zero": -0.0,
    "float big": 1e100,
    "float small": 1e-07,
    "float 1e16": 1e16,
    "float 1e15": 123456789012345.6,
    "float 1e-5": 0.00001234,
    "float 1e-4": 0.0001234,
    "float max": 1.7976931348623157e308,
    "float min": 5e-324,
    "float pi": 3.141592653589793,
    "true": True,
    "false": False,
    "null": None,
    "array": [1, "two", 3.0, None, True, [], {}],
    "nested": {"a": {"b": [1, {"c": "d"}]}, "e": [], "\u00e9": "\U0001f436"},
    "empty object": {},
    "\U0001f436": "dog",
    "": "the empty key",
    "key with \"quotes\" and \\": "q",
    "ctl\x01key": "c",
    "nul in value": "n\x00v",
    "morpheus2": "Follow the white rabbit. \U0001f430",
}


class DataFileTest(t.ServerTestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, data):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def test_json_file_values_of_every_type(self):
        path = self.write("table.json", json.dumps(JSON_TABLE, ensure_ascii=False, indent=2))
        srv = self.start_server("--data", path)
        self.assertIn(str(len(JSON_TABLE)), srv.source)
        c = self.connect(srv)
        for key, value in JSON_TABLE.items():
            with self.subTest(key=key):
                want = t.message(t.json_encode({"result": value}), "text/json", "utf-8")
                self.assertEqual(c.exchange(t.search_request(key)), want)
        # The built-in table is replaced, not extended.
        for key in ("morpheus", "ring", "missing"):
            self.assert_search(c, key, JSON_TABLE)

    def test_json_file_written_with_ascii_escapes(self):
        path = self.write("ascii.json", json.dumps(JSON_TABLE))  # \uXXXX escapes
        srv = self.start_server("--data", path)
        c = self.connect(srv)
        for key in ("unicode", "\U0001f436", "nested", "nul in value", "float pi"):
            self.assert_search(c, key, JSON_TABLE)

    def test_json_file_pipelined(self):
        path = self.write("table.json", json.dumps(JSON_TABLE))
        srv = self.start_server("--data", path)
        c = self.connect(srv)
        keys = list(JSON_TABLE) * 20 + ["absent"]
        c.send(b"".join(t.search_request(k) for k in keys))
        for k in keys:
            self.assertEqual(c.read_answer().raw, t.search_answer(k, JSON_TABLE))

    def test_json_format_option(self):
        path = self.write("table.data", json.dumps({"k": [1, 2]}))
        srv = self.start_server("--data", path, "--format", "json")
        with srv.connect() as c:
            self.assertEqual(c.exchange(t.search_request("k")), t.result_answer([1, 2]))

    def test_tsv_file(self):
        lines = [
            "alpha\tone",
            "",
            "beta\tvalue\twith a tab",
            "gamma\t",
            "number\t42",
            "json-looking\t{\"a\": 1}",
            "\U0001f436\t\U0001f43e Playing ball! \U0001f3d0",
            "spaces in key\t  spaces in value  ",
            "quote\"back\\\tq\"b\\",
            "crlf\tvalue before CR\r",
            "last\tno final newline",
        ]
        path = self.write("table.tsv", "\n".join(lines))
        table = {
            "alpha": "one",
            "beta": "value\twith a tab",
            "gamma": "",
            "number": "42",
            "json-looking": "{\"a\": 1}",
            "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
            "spaces in key": "  spaces in value  ",
            "quote\"back\\": "q\"b\\",
            "crlf": "value before CR",
            "last": "no final newline",
        }
        srv = self.start_server("--data", path)
        self.assertIn(f"{len(table)} keys", srv.source)
        c = self.connect(srv)
        for key in list(table) + ["morpheus", "alpha\tone", "crlf\r"]:
            with self.subTest(key=key):
                self.assert_search(c, key, table)

    def test_tab_extension_and_format_option(self):
        path = self.write("t.tab", "k\tv\n")
        srv = self.start_server("--data", path)
        with srv.connect() as c:
            self.assert_search(c, "k", {"k": "v"})
        path = self.write("t.txt", "k2\tv2\n")
        srv = self.start_server("-d", path, "-f", "tsv")
        with srv.connect() as c:
            self.assert_search(c, "k2", {"k2": "v2"})

    def test_large_tsv_file(self):
        n = 50000
        path = self.write("big.tsv", "".join(f"key{i}\tvalue {i} \u00e9\n" for i in range(n)))
        srv = self.start_server("--data", path)
        self.assertIn(f"{n} keys", srv.source)
        c = self.connect(srv)
        keys = [f"key{i}" for i in range(0, n, 97)] + ["key-1", f"key{n}"]
        c.send(b"".join(t.search_request(k) for k in keys))
        for k in keys:
            want = t.result_answer(f"value {k[3:]} \u00e9") if k not in ("key-1", f"key{n}") else \
                t.result_answer(t.miss_text(k))
            self.assertEqual(c.read_answer().raw, want)


class BadDataFileTest(t.ServerTestCase):
    """A data file that cannot be loaded: exit 2, the file and line named on
    stderr, and nothing ever listens."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, data):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def assert_refused(self, path, line=None, extra=()):
        port = t.free_port()
        srv = t.Server(argv=["--host", t.HOST, "--port", str(port), "--data", path] + list(extra))
        try:
            rc = srv.wait_exit()
            err = srv.stderr()
            self.assertEqual(rc, 2, err)
            self.assertIn(path, err)
            if line is not None:
                self.assertRegex(err, rf"\bline {line}\b")
            self.assertNotIn("listening", err)
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection((t.HOST, port), timeout=t.IO_TIMEOUT).close()
        finally:
            srv.kill()
            srv.close_files()
        return err

    def test_json_nul_in_key(self):
        # Python's json reads it; jansson refuses NUL in object keys, so the
        # file is refused, with its line named.
        path = self.write("nul.json", '{\n"a": 1,\n"nul\\u0000key": "v"\n}\n')
        err = self.assert_refused(path, line=3)
        self.assertIn("NUL byte in object key", err)

    def test_json_syntax_error(self):
        path = self.write("bad.json", '{\n  "a": "b",\n  "c": oops\n}\n')
        self.assert_refused(path, line=3)

    def test_json_truncated(self):
        path = self.write("trunc.json", '{\n  "a": "b",\n')
        self.assert_refused(path)

    def test_json_duplicate_key(self):
        path = self.write("dup.json", '{\n  "a": 1,\n  "b": 2,\n  "a": 3\n}\n')
        self.assert_refused(path, line=4)

    def test_json_not_an_object(self):
        path = self.write("array.json", '["a", "b"]\n')
        self.assert_refused(path)

    def test_json_empty_file(self):
        path = self.write("empty.json", "")
        self.assert_refused(path)

    def test_tsv_line_without_tab(self):
        path = self.write("bad.tsv", "a\t1\nno tab here\nc\t3\n")
        self.assert_refused(path, line=2)

    def test_tsv_duplicate_key(self):
        path = self.write("dup.tsv", "a\t1\nb\t2\na\t3\n")
        err = self.assert_refused(path, line=3)
        self.assertIn("a", err)

    def test_tsv_invalid_utf8(self):
        path = self.write("latin1.tsv", b"a\t1\ncaf\xe9\tx\n")
        self.assert_refused(path, line=2)

    def test_missing_file(self):
        self.assert_refused(os.path.join(self.dir.name, "does-not-exist.json"))

    def test_unknown_extension(self):
        path = self.write("table.csv", "a,b\n")
        self.assert_refused(path)

    def test_bad_format_option(self):
        path = self.write("t.tsv", "a\t1\n")
        srv = t.Server("--data", path, "--format", "yaml")
        try:
            self.assertEqual(srv.wait_exit(), 2)
            self.assertIn("yaml", srv.stderr())
        finally:
            srv.kill()
            srv.close_files()


if __name__ == "__main__":
    t.main()

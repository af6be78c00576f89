#!/usr/bin/env python3
"""Writes the bad-frame cases that test_proto.c replays.

Each case is a directory bad/<case>/ holding, like jansson's
test/suites/invalid/<case>/:

  input   the raw bytes fed to a fresh decoder (default limits: 8192-byte
          header, 1 MiB content). A case holds only the bytes up to the point
          where the error must be detected: a header length over the limit is
          just the 2-byte protoheader, a content-length over the limit is the
          header without its content. The decoder must fail without waiting
          for more.
  error   line 1: the proto_error enum name the decoder must report;
          line 2: a substring its errstr must contain.

Run it from anywhere; it rewrites bad/ next to this script. The generated
files are committed so that the C test needs no Python.
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")

GOOD_HEADER = {
    "byteorder": "little",
    "content-type": "text/json",
    "content-encoding": "utf-8",
    "content-length": 41,
}
GOOD_CONTENT = b'{"action": "search", "value": "morpheus"}'


def frame(header_bytes):
    """Protoheader + header bytes (no content)."""
    return len(header_bytes).to_bytes(2, "big") + header_bytes


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


def header_with(**changes):
    """GOOD_HEADER with keys replaced (value given) or removed (None given
    through the DROP marker)."""
    h = dict(GOOD_HEADER)
    for k, v in changes.items():
        k = k.replace("_", "-")
        if v is DROP:
            del h[k]
        else:
            h[k] = v
    return frame(dumps(h))


DROP = object()

CASES = {
    # --- the protoheader ---
    "header-too-long": (b"\x20\x01", "PROTO_ERR_HEADER_TOO_LONG",
                        "header length 8193 exceeds the limit of 8192"),
    "header-too-long-max": (b"\xff\xff", "PROTO_ERR_HEADER_TOO_LONG",
                            "header length 65535 exceeds"),
    "header-length-zero": (b"\x00\x00", "PROTO_ERR_HEADER_JSON",
                           "header is empty"),
    # --- the header is not JSON ---
    "header-not-json": (frame(b"{byteorder: little}"), "PROTO_ERR_HEADER_JSON",
                        "header is not valid JSON"),
    "header-truncated-json": (frame(dumps(GOOD_HEADER)[:-1]),
                              "PROTO_ERR_HEADER_JSON", "header is not valid JSON"),
    "header-trailing-garbage": (frame(dumps(GOOD_HEADER) + b" x"),
                                "PROTO_ERR_HEADER_JSON", "end of file expected"),
    "header-invalid-utf8": (frame(dumps(GOOD_HEADER).replace(b"little", b"l\xfftle")),
                            "PROTO_ERR_HEADER_JSON", "unable to decode byte 0xff"),
    "header-invalid-utf8-overlong": (frame(dumps(GOOD_HEADER).replace(b"little", b"\xc0\xafle")),
                                     "PROTO_ERR_HEADER_JSON", "header is not valid JSON"),
    "header-duplicate-key": (frame(b'{"byteorder": "little", "byteorder": "big", '
                                   b'"content-type": "text/json", "content-encoding": "utf-8", '
                                   b'"content-length": 41}'),
                             "PROTO_ERR_HEADER_JSON", "duplicate object key"),
    "content-length-over-int64": (frame(dumps(GOOD_HEADER).replace(b"41", b"99999999999999999999")),
                                  "PROTO_ERR_HEADER_JSON", "too big integer"),
    # --- JSON, but not an object ---
    "header-array": (frame(b'["byteorder", "little"]'), "PROTO_ERR_HEADER_NOT_OBJECT",
                     "header is not a JSON object"),
    "header-string": (frame(b'"byteorder"'), "PROTO_ERR_HEADER_NOT_OBJECT",
                      "header is not a JSON object"),
    "header-number": (frame(b"41"), "PROTO_ERR_HEADER_NOT_OBJECT",
                      "header is not a JSON object"),
    "header-null": (frame(b"null"), "PROTO_ERR_HEADER_NOT_OBJECT",
                    "header is not a JSON object"),
    # --- required keys ---
    "missing-byteorder": (header_with(byteorder=DROP), "PROTO_ERR_HEADER_KEY",
                          "header lacks required key 'byteorder'"),
    "missing-content-type": (header_with(content_type=DROP), "PROTO_ERR_HEADER_KEY",
                             "header lacks required key 'content-type'"),
    "missing-content-encoding": (header_with(content_encoding=DROP), "PROTO_ERR_HEADER_KEY",
                                 "header lacks required key 'content-encoding'"),
    "missing-content-length": (header_with(content_length=DROP), "PROTO_ERR_HEADER_KEY",
                               "header lacks required key 'content-length'"),
    "empty-object": (frame(b"{}"), "PROTO_ERR_HEADER_KEY", "lacks required key"),
    "byteorder-not-string": (header_with(byteorder=1), "PROTO_ERR_HEADER_KEY",
                             "header key 'byteorder' must be a string"),
    "byteorder-middle": (header_with(byteorder="middle"), "PROTO_ERR_HEADER_KEY",
                         "'byteorder' must be \"little\" or \"big\""),
    "byteorder-case": (header_with(byteorder="Little"), "PROTO_ERR_HEADER_KEY",
                       "'byteorder' must be \"little\" or \"big\""),
    # an escaped NUL ends a C string, not a JSON one
    "byteorder-nul": (header_with(byteorder="little\x00x"), "PROTO_ERR_HEADER_KEY",
                      "'byteorder' must be \"little\" or \"big\""),
    "content-type-not-string": (header_with(content_type=None), "PROTO_ERR_HEADER_KEY",
                                "header key 'content-type' must be a string"),
    "content-encoding-not-string": (header_with(content_encoding=["utf-8"]),
                                    "PROTO_ERR_HEADER_KEY",
                                    "header key 'content-encoding' must be a string"),
    # --- content-length ---
    "content-length-string": (header_with(content_length="41"), "PROTO_ERR_CONTENT_LENGTH",
                              "'content-length' must be a non-negative integer"),
    "content-length-negative": (header_with(content_length=-1), "PROTO_ERR_CONTENT_LENGTH",
                                "'content-length' must be a non-negative integer"),
    "content-length-float": (header_with(content_length=41.0), "PROTO_ERR_CONTENT_LENGTH",
                             "'content-length' must be a non-negative integer"),
    "content-length-bool": (header_with(content_length=True), "PROTO_ERR_CONTENT_LENGTH",
                            "'content-length' must be a non-negative integer"),
    "content-length-null": (header_with(content_length=None), "PROTO_ERR_CONTENT_LENGTH",
                            "'content-length' must be a non-negative integer"),
    "content-length-over-limit": (header_with(content_length=1024 * 1024 + 1),
                                  "PROTO_ERR_CONTENT_TOO_LONG",
                                  "content-length 1048577 exceeds the limit of 1048576 bytes"),
    "content-length-int64-max": (header_with(content_length=2**63 - 1),
                                 "PROTO_ERR_CONTENT_TOO_LONG",
                                 "content-length 9223372036854775807 exceeds"),
    # --- encodings ---
    "text-json-latin-1": (header_with(content_encoding="latin-1"), "PROTO_ERR_ENCODING",
                          "unsupported content-encoding 'latin-1' for text/json"),
    "text-json-binary-encoding": (header_with(content_encoding="binary"), "PROTO_ERR_ENCODING",
                                  "unsupported content-encoding 'binary'"),
    "text-json-utf-8-nul": (header_with(content_encoding="utf-8\x00latin-1"), "PROTO_ERR_ENCODING",
                            "unsupported content-encoding"),
    # --- a good message, then a broken one: the good one decodes first ---
    "good-then-bad": (frame(dumps(GOOD_HEADER)) + GOOD_CONTENT + frame(b"[]"),
                      "PROTO_ERR_HEADER_NOT_OBJECT", "header is not a JSON object"),
}


def main():
    if os.path.isdir(BAD):
        shutil.rmtree(BAD)
    for name, (data, err, substr) in sorted(CASES.items()):
        d = os.path.join(BAD, name)
        os.makedirs(d)
        with open(os.path.join(d, "input"), "wb") as f:
            f.write(data)
        with open(os.path.join(d, "error"), "w") as f:
            f.write(err + "\n" + substr + "\n")
    print(f"wrote {len(CASES)} cases under {BAD}")


if __name__ == "__main__":
    main()

/*
 * test_proto.c: unit tests of the wire protocol decoder and encoder.
 *
 * The decoder is fed PROTOCOL.md's examples split at every point, pipelined,
 * and every class of broken frame; the encoder must reproduce the examples
 * byte for byte and write JSON as Python's json.dumps(ensure_ascii=False).
 * The broken frames live as files under frames/bad/<case>/ (see
 * frames/make-frames.py); their directory is FRAMES_BAD_DIR or argv[1].
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_write.h"
#include "proto.h"
#include "text.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* ---- PROTOCOL.md's examples, as bytes ---- */

#define HDR_JSON(n)                                                                                                    \
    "{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": "                              \
    "\"utf-8\", \"content-length\": " n "}"

static const char REQ_MORPHEUS[] = "\x00g" HDR_JSON("41") "{\"action\": \"search\", \"value\": \"morpheus\"}";
static const char REQ_NOPE[] = "\x00g" HDR_JSON("37") "{\"action\": \"search\", \"value\": \"nope\"}";
static const char REQ_DOUBLE[] = "\x00g" HDR_JSON("34") "{\"action\": \"double\", \"value\": \"x\"}";
static const char REQ_BINARY[] =
    "\x00~{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", "
    "\"content-encoding\": \"binary\", \"content-length\": 8}double12";
static const char REQ_ESCAPED[] = "\x00g" HDR_JSON("42") "{\"action\": \"search\", \"value\": \"a\\\"b\\\\c\\n\"}";
static const char ANS_MORPHEUS[] = "\x00g" HDR_JSON("43") "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}";
static const char ANS_BINARY[] =
    "\x00\x7f{\"byteorder\": \"little\", \"content-type\": \"binary/custom-server-binary-type\", "
    "\"content-encoding\": \"binary\", \"content-length\": 35}First 10 bytes of request: double12";

typedef struct example {
    const char *name;
    const char *bytes;
    size_t len;
    const char *content_type;
    const char *content_encoding;
    int is_json;
    const char *content;
    size_t content_len;
    const char *action; /* for JSON: the parsed content's fields */
    const char *value;
    size_t value_len;
} example;

#define EX_JSON(nm, arr, content_lit, act, val)                                                                        \
    {                                                                                                                  \
        nm, arr, sizeof(arr) - 1, "text/json", "utf-8", 1, content_lit, sizeof(content_lit) - 1, act, val,             \
            sizeof(val) - 1                                                                                            \
    }

static const example examples[] = {
    EX_JSON("morpheus", REQ_MORPHEUS, "{\"action\": \"search\", \"value\": \"morpheus\"}", "search", "morpheus"),
    EX_JSON("nope", REQ_NOPE, "{\"action\": \"search\", \"value\": \"nope\"}", "search", "nope"),
    EX_JSON("double", REQ_DOUBLE, "{\"action\": \"double\", \"value\": \"x\"}", "double", "x"),
    {"double12", REQ_BINARY, sizeof(REQ_BINARY) - 1, "binary/custom-client-binary-type", "binary", 0, "double12", 8,
     NULL, NULL, 0},
    EX_JSON("escaped", REQ_ESCAPED, "{\"action\": \"search\", \"value\": \"a\\\"b\\\\c\\n\"}", "search", "a\"b\\c\n"),
    {"answer-morpheus", ANS_MORPHEUS, sizeof(ANS_MORPHEUS) - 1, "text/json", "utf-8", 1,
     "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}", 43, NULL, NULL, 0},
    {"answer-binary", ANS_BINARY, sizeof(ANS_BINARY) - 1, "binary/custom-server-binary-type", "binary", 0,
     "First 10 bytes of request: double12", 35, NULL, NULL, 0},
};
#define NEXAMPLES (sizeof(examples) / sizeof(examples[0]))

/* Flags the decoder used to parse content before proto_request_parse
 * existed; answers are still checked with them. */
#define CONTENT_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* Whether errstr is printable ASCII only. */
static void assert_printable(const char *errstr)
{
    for (const char *p = errstr; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
}

/* What a server with the default limits lets a request's parse take. */
#define DEFAULT_PARSE_MEMORY proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT)

/* Parses content as a request with both parsers, which must agree; returns
 * proto_request_parse's result, its request left in *req (free it). */
static int request_parse_both(const void *content, size_t len, proto_request *req)
{
    proto_request full;
    int rc = proto_request_parse(content, len, DEFAULT_PARSE_MEMORY, req);
    int rc_full = proto_request_parse_full(content, len, DEFAULT_PARSE_MEMORY, &full);

    assert_int_equal(rc, rc_full);
    assert_string_equal(req->errstr, full.errstr);
    if (rc == 0) {
        assert_int_equal(req->action_len, full.action_len);
        assert_memory_equal(req->action, full.action, full.action_len);
        assert_int_equal(req->value_state, full.value_state);
        if (full.value_state == PROTO_VALUE_STRING) {
            assert_int_equal(req->value_len, full.value_len);
            assert_memory_equal(req->value, full.value, full.value_len);
        }
    }
    proto_request_free(&full);
    return rc;
}

/* Asserts that content is refused as a request, with errstr containing
 * want (printable ASCII only), by both parsers. */
static void assert_request_error(const void *content, size_t len, const char *want)
{
    proto_request req;

    assert_int_equal(request_parse_both(content, len, &req), -1);
    if (strstr(req.errstr, want) == NULL)
        fail_msg("errstr \"%s\" lacks \"%s\"", req.errstr, want);
    assert_printable(req.errstr);
    proto_request_free(&req);
}

/* Asserts that content parses as a JSON value of the given type. */
static void assert_content_json(const void *content, size_t len, json_type type)
{
    json_error_t jerr;
    json_t *v = json_loadb(content, len, CONTENT_JSON_FLAGS, &jerr);
    if (v == NULL)
        fail_msg("content is not JSON: %s", jerr.text);
    assert_int_equal(json_typeof(v), type);
    json_decref(v);
}

static void check_message(const example *ex, const proto_message *m)
{
    assert_non_null(m->byteorder);
    assert_non_null(m->content_type);
    assert_non_null(m->content_encoding);
    assert_string_equal(m->byteorder, "little");
    assert_string_equal(m->content_type, ex->content_type);
    assert_string_equal(m->content_encoding, ex->content_encoding);
    assert_int_equal(m->is_json, ex->is_json);
    assert_int_equal(m->content_len, ex->content_len);
    assert_memory_equal(m->content, ex->content, ex->content_len);
    if (!ex->is_json)
        return;
    if (ex->action) {
        proto_request req;
        assert_int_equal(request_parse_both(m->content, m->content_len, &req), 0);
        assert_int_equal(req.action_len, strlen(ex->action));
        assert_memory_equal(req.action, ex->action, req.action_len);
        assert_int_equal(req.value_state, PROTO_VALUE_STRING);
        assert_int_equal(req.value_len, ex->value_len);
        assert_memory_equal(req.value, ex->value, ex->value_len);
        assert_string_equal(req.errstr, "");
        proto_request_free(&req);
    } else {
        /* an answer: {"result": <string>} */
        json_error_t jerr;
        json_t *j = json_loadb((const char *)m->content, m->content_len, CONTENT_JSON_FLAGS, &jerr);
        if (j == NULL)
            fail_msg("%s: content is not JSON: %s", ex->name, jerr.text);
        assert_true(json_is_object(j));
        assert_true(json_is_string(json_object_get(j, "result")));
        json_decref(j);
    }
}

/* Sets up a decoder with the given limits; full: jansson reads every
 * header (the fast path off). */
static void decoder_init_mode(proto_decoder *d, const proto_limits *limits, int full)
{
    proto_decoder_init(d, limits);
    d->full_parser_only = full;
}

/* Feeds ex in three pieces [0,i) [i,j) [j,n), asking for a message after
 * each; only the last piece may complete it. */
static void decode_in_pieces(const example *ex, size_t i, size_t j, int full)
{
    proto_decoder d;
    proto_message m;
    size_t cuts[3] = {i, j, ex->len};
    size_t from = 0;

    decoder_init_mode(&d, NULL, full);
    assert_false(proto_decoder_in_message(&d));
    for (int k = 0; k < 3; k++) {
        assert_int_equal(proto_decoder_feed(&d, ex->bytes + from, cuts[k] - from), 0);
        from = cuts[k];
        /* bytes of a header already parsed are no longer counted */
        if (k == 0)
            assert_int_equal(proto_decoder_buffered(&d), from);
        else
            assert_true(proto_decoder_buffered(&d) <= from);
        if (from < ex->len) {
            assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
            assert_int_equal(proto_decoder_in_message(&d), from > 0);
        }
    }
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    check_message(ex, &m);
    assert_int_equal(proto_decoder_buffered(&d), 0);
    assert_false(proto_decoder_in_message(&d));
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
    assert_int_equal(d.err, PROTO_ERR_NONE);
    proto_decoder_free(&d);
}

static void test_examples_every_split(void **state)
{
    (void)state;
    for (size_t e = 0; e < NEXAMPLES; e++) {
        const example *ex = &examples[e];
        for (int full = 0; full < 2; full++)
            for (size_t i = 0; i <= ex->len; i++)
                for (size_t j = i; j <= ex->len; j++)
                    decode_in_pieces(ex, i, j, full);
    }
}

static void test_examples_byte_at_a_time(void **state)
{
    (void)state;
    for (size_t e = 0; e < 2 * NEXAMPLES; e++) {
        const example *ex = &examples[e % NEXAMPLES];
        proto_decoder d;
        proto_message m;

        decoder_init_mode(&d, NULL, e >= NEXAMPLES);
        for (size_t i = 0; i < ex->len; i++) {
            assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
            assert_int_equal(proto_decoder_feed(&d, ex->bytes + i, 1), 0);
        }
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        check_message(ex, &m);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
        proto_decoder_free(&d);
    }
}

static void test_examples_all_at_once(void **state)
{
    (void)state;
    for (size_t e = 0; e < 2 * NEXAMPLES; e++) {
        const example *ex = &examples[e % NEXAMPLES];
        proto_decoder d;
        proto_message m;

        decoder_init_mode(&d, NULL, e >= NEXAMPLES);
        assert_int_equal(proto_decoder_feed(&d, ex->bytes, ex->len), 0);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        check_message(ex, &m);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
        proto_decoder_free(&d);
    }
}

/* All examples back to back, twice over, fed in two pieces split at every
 * point: they come out in order, then "need more". */
static void test_pipelined(void **state)
{
    (void)state;
    proto_buf all = {0};

    for (int round = 0; round < 2; round++)
        for (size_t e = 0; e < NEXAMPLES; e++)
            assert_int_equal(proto_buf_append(&all, examples[e].bytes, examples[e].len), 0);

    /* each cut twice: with the header fast path, then without */
    for (size_t k = 0; k < 2 * (all.len + 1); k++) {
        proto_decoder d;
        proto_message m;
        size_t got = 0, cut = k % (all.len + 1);

        decoder_init_mode(&d, NULL, k > all.len);
        assert_int_equal(proto_decoder_feed(&d, all.data, cut), 0);
        while (proto_decoder_next(&d, &m) == PROTO_OK) {
            check_message(&examples[got % NEXAMPLES], &m);
            got++;
        }
        assert_int_equal(d.err, PROTO_ERR_NONE);
        assert_int_equal(proto_decoder_feed(&d, all.data + cut, all.len - cut), 0);
        while (proto_decoder_next(&d, &m) == PROTO_OK) {
            check_message(&examples[got % NEXAMPLES], &m);
            got++;
        }
        assert_int_equal(got, 2 * NEXAMPLES);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
        assert_int_equal(proto_decoder_buffered(&d), 0);
        assert_int_equal(d.err, PROTO_ERR_NONE);
        proto_decoder_free(&d);
    }
    proto_buf_free(&all);
}

/* ---- content errors: framing intact ---- */

/* Appends a message with a raw header (protoheader computed) and content. */
static void append_frame(proto_buf *b, const char *header, const void *content, size_t content_len)
{
    size_t hl = strlen(header);
    unsigned char ph[2] = {(unsigned char)(hl >> 8), (unsigned char)(hl & 0xff)};
    assert_int_equal(proto_buf_append(b, ph, 2), 0);
    assert_int_equal(proto_buf_append(b, header, hl), 0);
    assert_int_equal(proto_buf_append(b, content, content_len), 0);
}

static void append_json_frame(proto_buf *b, const void *content, size_t content_len)
{
    char hdr[200];
    snprintf(hdr, sizeof(hdr),
             "{\"byteorder\": \"little\", \"content-type\": \"text/json\", "
             "\"content-encoding\": \"utf-8\", \"content-length\": %zu}",
             content_len);
    append_frame(b, hdr, content, content_len);
}

static void test_content_errors_keep_framing(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *content;
        size_t len;
    } bad[] = {
        {"invalid JSON", LIT("{\"action\": ")},
        {"invalid UTF-8", LIT("{\"action\": \"search\", \"value\": \"\xff\"}")},
        {"overlong UTF-8", LIT("{\"action\": \"search\", \"value\": \"\xc0\xaf\"}")},
        {"surrogate", LIT("{\"action\": \"search\", \"value\": \"\xed\xa0\x80\"}")},
        {"empty", LIT("")},
        {"whitespace only", LIT("  ")},
        {"trailing garbage", LIT("{\"action\": \"search\", \"value\": \"x\"} x")},
        {"two objects", LIT("{}{}")},
        {"duplicate keys", LIT("{\"action\": \"search\", \"action\": \"search\", \"value\": \"x\"}")},
        /* the reference layout, broken where the request fast path looks */
        {"control character", LIT("{\"action\": \"search\", \"value\": \"a\tb\"}")},
        {"NUL byte", LIT("{\"action\": \"search\", \"value\": \"a\0b\"}")},
        {"truncated UTF-8", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\"}")},
        {"unterminated value", LIT("{\"action\": \"search\", \"value\": \"x")},
        {"unclosed object", LIT("{\"action\": \"search\", \"value\": \"x\"")},
        {"extra brace", LIT("{\"action\": \"search\", \"value\": \"x\"}}")},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        proto_buf b = {0};
        proto_decoder d;
        proto_message m;

        append_json_frame(&b, bad[i].content, bad[i].len);
        assert_int_equal(proto_buf_append(&b, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);
        for (int mode = 0; mode < 4; mode++) {
            int byte_at_a_time = mode & 1;
            size_t fed = 0;
            decoder_init_mode(&d, NULL, mode >> 1);
            if (byte_at_a_time) {
                proto_status st;
                while ((st = proto_decoder_next(&d, &m)) == PROTO_NEED_MORE) {
                    assert_true(fed < b.len);
                    assert_int_equal(proto_decoder_feed(&d, b.data + fed, 1), 0);
                    fed++;
                }
                assert_int_equal(st, PROTO_OK);
            } else {
                assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
                fed = b.len;
                assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
            }
            assert_int_equal(m.is_json, 1);
            assert_int_equal(d.err, PROTO_ERR_NONE);
            {
                proto_request req;
                if (request_parse_both(m.content, m.content_len, &req) != -1)
                    fail_msg("%s: parsed as a request", bad[i].name);
                assert_null(req.json);
                if (strstr(req.errstr, "content is not valid JSON") == NULL)
                    fail_msg("%s: errstr \"%s\"", bad[i].name, req.errstr);
                assert_printable(req.errstr);
                proto_request_free(&req);
            }
            assert_int_equal(m.content_len, bad[i].len);
            assert_memory_equal(m.content, bad[i].content, bad[i].len);
            /* the next message is intact */
            assert_int_equal(proto_decoder_feed(&d, b.data + fed, b.len - fed), 0);
            assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
            check_message(&examples[0], &m);
            assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
            assert_int_equal(d.err, PROTO_ERR_NONE);
            proto_decoder_free(&d);
        }
        proto_buf_free(&b);
    }
}

/* Content that is JSON but not a request object is framed like any other:
 * the decoder hands it over, and proto_request_parse (for the handler)
 * judges its shape. */
static void test_content_any_json(void **state)
{
    (void)state;

    for (int full = 0; full < 2; full++) {
        proto_buf b = {0};
        proto_decoder d;
        proto_message m;
        proto_request req;

        append_json_frame(&b, LIT("\"just a string\""));
        append_json_frame(&b, LIT("[1, 2]"));
        append_json_frame(&b, LIT("{\"action\": \"search\", \"value\": \"a\\u0000b\"}"));
        append_json_frame(&b, LIT("{\"value\": \"x\"}"));
        append_json_frame(&b, LIT("{\"action\": 1, \"value\": \"x\"}"));
        append_json_frame(&b, LIT("{\"action\": \"search\"}"));
        append_json_frame(&b, LIT("{\"action\": \"search\", \"value\": [\"x\"]}"));
        decoder_init_mode(&d, NULL, full);
        assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_content_json(m.content, m.content_len, JSON_STRING);
        assert_request_error(m.content, m.content_len, "request content must be a JSON object");

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_content_json(m.content, m.content_len, JSON_ARRAY);
        assert_request_error(m.content, m.content_len, "request content must be a JSON object");

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_int_equal(request_parse_both(m.content, m.content_len, &req), 0);
        assert_int_equal(req.action_len, 6);
        assert_memory_equal(req.action, "search", 6);
        assert_int_equal(req.value_state, PROTO_VALUE_STRING);
        assert_int_equal(req.value_len, 3);
        assert_memory_equal(req.value, "a\0b", 3);
        proto_request_free(&req);

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_request_error(m.content, m.content_len, "request lacks 'action'");

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_request_error(m.content, m.content_len, "'action' must be a string");

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_int_equal(request_parse_both(m.content, m.content_len, &req), 0);
        assert_int_equal(req.value_state, PROTO_VALUE_MISSING);
        proto_request_free(&req);

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_int_equal(request_parse_both(m.content, m.content_len, &req), 0);
        assert_int_equal(req.value_state, PROTO_VALUE_NOT_STRING);
        proto_request_free(&req);

        assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
        assert_int_equal(d.err, PROTO_ERR_NONE);
        proto_decoder_free(&d);
        proto_buf_free(&b);
    }
}

/* Headers the decoder must accept: extra keys, encoding spellings, binary
 * content types with any encoding, empty content, "big". */
static void test_header_variants(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        const char *content;
        size_t content_len;
        int is_json;
    } ok[] = {
        {"{\"byteorder\": \"big\", \"content-type\": \"text/json\", \"content-encoding\": \"UTF-8\", "
         "\"content-length\": 2, \"extra\": [1, {\"x\": null}]}",
         LIT("{}"), 1},
        {"{\"content-length\": 2, \"content-encoding\": \"utf8\", \"content-type\": \"text/json\", "
         "\"byteorder\": \"little\"}",
         LIT("[]"), 1},
        {"{\"byteorder\":\"little\",\"content-type\":\"text/json\",\"content-encoding\":\"Utf-8\","
         "\"content-length\":2}",
         LIT("{}"), 1},
        {"{\"byteorder\": \"little\", \"content-type\": \"binary/x\", \"content-encoding\": "
         "\"latin-1\", \"content-length\": 0}",
         LIT(""), 0},
        {"{\"byteorder\": \"little\", \"content-type\": \"text/JSON\", \"content-encoding\": "
         "\"latin-1\", \"content-length\": 3}",
         LIT("\xff\x00z"), 0},
        /* "text/json" followed by a NUL is not text/json */
        {"{\"byteorder\": \"little\", \"content-type\": \"text/json\\u0000x\", \"content-encoding\": "
         "\"latin-1\", \"content-length\": 1}",
         LIT("\xff"), 0},
        {"{\"byteorder\": \"little\", \"content-type\": \"\", \"content-encoding\": \"\", "
         "\"content-length\": 1}",
         LIT("\x00"), 0},
    };

    for (size_t k = 0; k < 2 * sizeof(ok) / sizeof(ok[0]); k++) {
        size_t i = k % (sizeof(ok) / sizeof(ok[0]));
        proto_buf b = {0};
        proto_decoder d;
        proto_message m;

        append_frame(&b, ok[i].header, ok[i].content, ok[i].content_len);
        decoder_init_mode(&d, NULL, k >= sizeof(ok) / sizeof(ok[0]));
        assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
        assert_int_equal(m.is_json, ok[i].is_json);
        assert_int_equal(m.content_len, ok[i].content_len);
        assert_memory_equal(m.content, ok[i].content, ok[i].content_len);
        assert_int_equal(d.err, PROTO_ERR_NONE);
        if (ok[i].is_json) {
            json_error_t jerr;
            json_t *j = json_loadb((const char *)m.content, m.content_len, CONTENT_JSON_FLAGS, &jerr);
            if (j == NULL)
                fail_msg("header %zu: content is not JSON: %s", i, jerr.text);
            json_decref(j);
        }
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
        proto_decoder_free(&d);
        proto_buf_free(&b);
    }
}

/* ---- the fast paths against jansson ---- */

/* The reference client's header layout, with its four values spliced in. */
#define CANON(bo, ct, ce, cl)                                                                                          \
    "{\"byteorder\": \"" bo "\", \"content-type\": \"" ct "\", \"content-encoding\": \"" ce                            \
    "\", \"content-length\": " cl "}"
#define CANON_JSON(cl)        CANON("little", "text/json", "utf-8", cl)
#define CANON_BIN(ct, ce, cl) CANON("little", ct, ce, cl)
#define X10                   "xxxxxxxxxx"
#define X63                   X10 X10 X10 X10 X10 X10 "xxx"
#define X100                  X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define MORPHEUS_CONTENT      "{\"action\": \"search\", \"value\": \"morpheus\"}"

/* Compares what two decoders fed the same bytes said: status, error,
 * errstr, and for a message every field and the content. */
static void assert_decoders_agree(const char *name, proto_status sa, const proto_decoder *a, const proto_message *ma,
                                  proto_status sb, const proto_decoder *b, const proto_message *mb)
{
    if (sa != sb || a->err != b->err || strcmp(a->errstr, b->errstr) != 0)
        fail_msg("%s: fast path says %d/%d \"%s\", jansson says %d/%d \"%s\"", name, (int)sa, (int)a->err, a->errstr,
                 (int)sb, (int)b->err, b->errstr);
    if (sa != PROTO_OK)
        return;
    assert_string_equal(ma->byteorder, mb->byteorder);
    assert_string_equal(ma->content_type, mb->content_type);
    assert_int_equal(a->content_type_len, b->content_type_len);
    assert_string_equal(ma->content_encoding, mb->content_encoding);
    assert_int_equal(ma->is_json, mb->is_json);
    assert_int_equal(ma->content_len, mb->content_len);
    assert_memory_equal(ma->content, mb->content, mb->content_len);
}

/* Headers at and around the layout the header fast path reads, each
 * decoded with the fast path and with jansson alone: both must say the same
 * thing, message after message. `fast` says whether the fast path must
 * take it (1), must leave it to jansson (0), or jansson refuses it (-1). */
static void test_header_fast_vs_full(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *header;
        size_t header_len;
        const char *content;
        size_t content_len;
        proto_status status;
        proto_error err;
        int fast;
    } cases[] = {
        {"canonical", LIT(CANON_JSON("41")), LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 1},
        {"big", LIT(CANON("big", "text/json", "utf-8", "41")), LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 1},
        {"binary", LIT(CANON_BIN("binary/custom-client-binary-type", "binary", "8")), LIT("double12"), PROTO_OK,
         PROTO_ERR_NONE, 1},
        {"length 0", LIT(CANON_JSON("0")), LIT(""), PROTO_OK, PROTO_ERR_NONE, 1},
        {"length 0 binary", LIT(CANON_BIN("b", "binary", "0")), LIT(""), PROTO_OK, PROTO_ERR_NONE, 1},
        {"length at the limit", LIT(CANON_BIN("b", "binary", "100")), LIT(X100), PROTO_OK, PROTO_ERR_NONE, 1},
        {"leading zero", LIT(CANON_JSON("041")), LIT(MORPHEUS_CONTENT), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"zero zero", LIT(CANON_JSON("00")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"18 digits", LIT(CANON_JSON("999999999999999999")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_TOO_LONG, 1},
        {"19 digits", LIT(CANON_JSON("1000000000000000000")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_TOO_LONG, 0},
        {"int64 max", LIT(CANON_JSON("9223372036854775807")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_TOO_LONG, 0},
        {"int64 max + 1", LIT(CANON_JSON("9223372036854775808")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"20 digits", LIT(CANON_JSON("10000000000000000000")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"over the limit", LIT(CANON_JSON("101")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_TOO_LONG, 1},
        {"negative", LIT(CANON_JSON("-1")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_LENGTH, 0},
        {"minus zero", LIT(CANON_JSON("-0")), LIT(""), PROTO_OK, PROTO_ERR_NONE, 0},
        {"fraction", LIT(CANON_JSON("1.0")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_LENGTH, 0},
        {"exponent", LIT(CANON_JSON("1e1")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_LENGTH, 0},
        {"true", LIT(CANON_JSON("true")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_LENGTH, 0},
        {"length as a string", LIT(CANON_JSON("\"41\"")), LIT(""), PROTO_ERROR, PROTO_ERR_CONTENT_LENGTH, 0},
        {"no digits", LIT(CANON_JSON("")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"escaped slash", LIT(CANON("little", "text\\/json", "utf-8", "41")), LIT(MORPHEUS_CONTENT), PROTO_OK,
         PROTO_ERR_NONE, 0},
        {"\\u escape", LIT(CANON("little", "\\u0074ext/json", "utf-8", "41")), LIT(MORPHEUS_CONTENT), PROTO_OK,
         PROTO_ERR_NONE, 0},
        {"escaped quote", LIT(CANON_BIN("a\\\"b", "binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"escaped NUL", LIT(CANON_BIN("text/json\\u0000", "binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"escape in encoding", LIT(CANON("little", "text/json", "utf\\u002d8", "2")), LIT("{}"), PROTO_OK,
         PROTO_ERR_NONE, 0},
        {"non-ASCII type", LIT(CANON_BIN("t\xc3\xa9xt", "binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"non-ASCII encoding", LIT(CANON_BIN("b", "bin\xc3\xa4r", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"invalid UTF-8 type", LIT(CANON_BIN("\xff", "binary", "1")), LIT("z"), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"tab in type", LIT(CANON_BIN("a\tb", "binary", "1")), LIT("z"), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"0x1f in type", LIT(CANON_BIN("a\x1f", "binary", "1")), LIT("z"), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"DEL in type", LIT(CANON_BIN("a\x7f", "binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"empty type", LIT(CANON_BIN("", "", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"type of 63", LIT(CANON_BIN(X63, "binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"type of 64", LIT(CANON_BIN(X63 "y", "binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"encoding of 63", LIT(CANON_BIN("b", X63, "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"encoding of 64", LIT(CANON_BIN("b", X63 "y", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
        {"text/json, encoding of 63", LIT(CANON("little", "text/json", X63, "2")), LIT("{}"), PROTO_ERROR,
         PROTO_ERR_ENCODING, 1},
        {"text/json, encoding of 64", LIT(CANON("little", "text/json", X63 "y", "2")), LIT("{}"), PROTO_ERROR,
         PROTO_ERR_ENCODING, 0},
        {"text/json latin-1", LIT(CANON("little", "text/json", "latin-1", "2")), LIT("{}"), PROTO_ERROR,
         PROTO_ERR_ENCODING, 1},
        {"text/json latin-1 reordered",
         LIT("{\"content-encoding\": \"latin-1\", \"byteorder\": \"little\", \"content-type\": \"text/json\", "
             "\"content-length\": 2}"),
         LIT("{}"), PROTO_ERROR, PROTO_ERR_ENCODING, 0},
        {"text/json UTF-8", LIT(CANON("little", "text/json", "UTF-8", "2")), LIT("{}"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"text/json Utf8", LIT(CANON("little", "text/json", "Utf8", "2")), LIT("{}"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"text/JSON", LIT(CANON("little", "text/JSON", "latin-1", "2")), LIT("{}"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"text/json and a space", LIT(CANON_BIN("text/json ", "latin-1", "2")), LIT("{}"), PROTO_OK, PROTO_ERR_NONE, 1},
        {"missing space",
         LIT("{\"byteorder\":\"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", "
             "\"content-length\": 41}"),
         LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"compact",
         LIT("{\"byteorder\":\"little\",\"content-type\":\"text/json\",\"content-encoding\":\"utf-8\","
             "\"content-length\":41}"),
         LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"trailing space", LIT(CANON_JSON("41") " "), LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"trailing newline", LIT(CANON_JSON("41") "\n"), LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"leading space", LIT(" " CANON_JSON("41")), LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"space before the brace",
         LIT("{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", "
             "\"content-length\": 41 }"),
         LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"extra key",
         LIT("{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", "
             "\"content-length\": 41, \"x\": [1]}"),
         LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"extra key first",
         LIT("{\"x\": 1, \"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": "
             "\"utf-8\", \"content-length\": 41}"),
         LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        {"duplicate key",
         LIT("{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", "
             "\"content-length\": 41, \"byteorder\": \"big\"}"),
         LIT(MORPHEUS_CONTENT), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"escaped key",
         LIT("{\"byte\\u006frder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", "
             "\"content-length\": 41}"),
         LIT(MORPHEUS_CONTENT), PROTO_OK, PROTO_ERR_NONE, 0},
        /* an escaped NUL ends a C string, not the JSON one */
        {"byteorder little\\u0000x", LIT(CANON("little\\u0000x", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR,
         PROTO_ERR_HEADER_KEY, 0},
        {"text/json utf-8\\u0000", LIT(CANON("little", "text/json", "utf-8\\u0000latin-1", "2")), LIT("{}"),
         PROTO_ERROR, PROTO_ERR_ENCODING, 0},
        {"binary, \\u0000 in encoding", LIT(CANON_BIN("b", "\\u0000binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE,
         0},
        {"byteorder Little", LIT(CANON("Little", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR,
         PROTO_ERR_HEADER_KEY, 0},
        {"byteorder littl", LIT(CANON("littl", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_KEY,
         0},
        {"byteorder littlee", LIT(CANON("littlee", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR,
         PROTO_ERR_HEADER_KEY, 0},
        {"byteorder bigger", LIT(CANON("bigger", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR,
         PROTO_ERR_HEADER_KEY, 0},
        {"no closing brace", LIT(CANON_JSON("41") "\b"), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"two closing braces", LIT(CANON_JSON("41") "}"), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"NUL after the brace", LIT(CANON_JSON("41") "\0"), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
        {"cut short", CANON_JSON("41"), sizeof(CANON_JSON("41")) - 2, LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
    };
    proto_limits lim = {.max_header = PROTO_DEFAULT_MAX_HEADER, .max_content = 100};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        proto_buf in = {0};
        unsigned char ph[2] = {(unsigned char)(cases[i].header_len >> 8), (unsigned char)cases[i].header_len};

        /* the case, then a good request: the stream must go on alike */
        assert_int_equal(proto_buf_append(&in, ph, 2), 0);
        assert_int_equal(proto_buf_append(&in, cases[i].header, cases[i].header_len), 0);
        assert_int_equal(proto_buf_append(&in, cases[i].content, cases[i].content_len), 0);
        assert_int_equal(proto_buf_append(&in, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);

        for (int byte_at_a_time = 0; byte_at_a_time < 2; byte_at_a_time++) {
            proto_decoder fast, full;
            proto_message mf, mj;
            proto_status sf = PROTO_NEED_MORE, sj = PROTO_NEED_MORE;
            size_t fed = 0, nmsg = 0;
            int first = 1;

            decoder_init_mode(&fast, &lim, 0);
            decoder_init_mode(&full, &lim, 1);
            while (fed < in.len) {
                size_t n = byte_at_a_time ? 1 : in.len;
                assert_int_equal(proto_decoder_feed(&fast, in.data + fed, n), 0);
                assert_int_equal(proto_decoder_feed(&full, in.data + fed, n), 0);
                fed += n;
                do {
                    sf = proto_decoder_next(&fast, &mf);
                    sj = proto_decoder_next(&full, &mj);
                    assert_decoders_agree(cases[i].name, sf, &fast, &mf, sj, &full, &mj);
                    /* the first answer other than "need more" is the case's */
                    if (first && sf != PROTO_NEED_MORE) {
                        first = 0;
                        if (sf != cases[i].status || fast.err != cases[i].err)
                            fail_msg("%s: got %d/%d \"%s\", want %d/%d", cases[i].name, (int)sf, (int)fast.err,
                                     fast.errstr, (int)cases[i].status, (int)cases[i].err);
                        if (sf == PROTO_OK) {
                            assert_int_equal(mf.content_len, cases[i].content_len);
                            assert_memory_equal(mf.content, cases[i].content, cases[i].content_len);
                        } else {
                            assert_printable(fast.errstr);
                        }
                        /* a header read by the fast path leaves no parse tree */
                        if (cases[i].fast == 1 && fast.header != NULL)
                            fail_msg("%s: not read by the fast path", cases[i].name);
                        if (cases[i].fast == 0 && fast.header == NULL)
                            fail_msg("%s: read by the fast path", cases[i].name);
                    }
                    if (sf == PROTO_OK)
                        nmsg++;
                } while (sf == PROTO_OK);
            }
            assert_false(first);
            /* both messages when the first was good; none after an error */
            assert_int_equal(nmsg, cases[i].status == PROTO_OK ? 2 : 0);
            assert_int_equal(sf, cases[i].status == PROTO_OK ? PROTO_NEED_MORE : PROTO_ERROR);
            proto_decoder_free(&fast);
            proto_decoder_free(&full);
        }
        proto_buf_free(&in);
    }
}

/* Contents at and around the layout the request fast path reads, each
 * parsed by proto_request_parse and proto_request_parse_full: same return,
 * errstr, action, value state and value. `fast` as above; `want` is a
 * substring of the errstr, for a refused content. */
static void test_request_fast_vs_full(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *content;
        size_t len;
        int rc;
        int fast;
        const char *want;
    } cases[] = {
        {"canonical", LIT(MORPHEUS_CONTENT), 0, 1, NULL},
        {"other action", LIT("{\"action\": \"double\", \"value\": \"x\"}"), 0, 1, NULL},
        {"empty strings", LIT("{\"action\": \"\", \"value\": \"\"}"), 0, 1, NULL},
        {"non-ASCII", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6 \xc3\xa9\xe2\x82\xac\"}"), 0, 1,
         NULL},
        {"U+10FFFF", LIT("{\"action\": \"search\", \"value\": \"\xf4\x8f\xbf\xbf\"}"), 0, 1, NULL},
        {"DEL", LIT("{\"action\": \"search\", \"value\": \"a\x7f\"}"), 0, 1, NULL},
        {"slash and quote marks", LIT("{\"action\": \"search\", \"value\": \"a/b'c<\"}"), 0, 1, NULL},
        {"braces in the value", LIT("{\"action\": \"search\", \"value\": \"\\\"}\"}"), 0, 0, NULL},
        {"value looks like the end", LIT("{\"action\": \"search\", \"value\": \"a\"}\"}"), -1, -1,
         "content is not valid JSON"},
        {"long value", LIT("{\"action\": \"search\", \"value\": \"" X100 X100 X100 "\"}"), 0, 1, NULL},
        {"escaped quote", LIT("{\"action\": \"search\", \"value\": \"a\\\"b\"}"), 0, 0, NULL},
        {"escapes", LIT("{\"action\": \"search\", \"value\": \"a\\\"b\\\\c\\n\\/\\t\"}"), 0, 0, NULL},
        {"escaped action", LIT("{\"action\": \"se\\u0061rch\", \"value\": \"x\"}"), 0, 0, NULL},
        {"\\u0000", LIT("{\"action\": \"search\", \"value\": \"a\\u0000b\"}"), 0, 0, NULL},
        {"surrogate pair", LIT("{\"action\": \"search\", \"value\": \"\\ud83d\\udc36\"}"), 0, 0, NULL},
        {"lone surrogate escape", LIT("{\"action\": \"search\", \"value\": \"\\ud83d\"}"), -1, -1,
         "content is not valid JSON"},
        {"invalid UTF-8", LIT("{\"action\": \"search\", \"value\": \"\xff\"}"), -1, -1, "content is not valid JSON"},
        {"invalid UTF-8 action", LIT("{\"action\": \"\xc3\", \"value\": \"x\"}"), -1, -1, "content is not valid JSON"},
        {"overlong", LIT("{\"action\": \"search\", \"value\": \"\xc0\xaf\"}"), -1, -1, "content is not valid JSON"},
        {"overlong 3", LIT("{\"action\": \"search\", \"value\": \"\xe0\x9f\xbf\"}"), -1, -1,
         "content is not valid JSON"},
        {"surrogate", LIT("{\"action\": \"search\", \"value\": \"\xed\xa0\x80\"}"), -1, -1,
         "content is not valid JSON"},
        {"over U+10FFFF", LIT("{\"action\": \"search\", \"value\": \"\xf4\x90\x80\x80\"}"), -1, -1,
         "content is not valid JSON"},
        {"cut sequence", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\"}"), -1, -1,
         "content is not valid JSON"},
        {"sequence cut by the end", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f"), -1, -1,
         "content is not valid JSON"},
        {"control character", LIT("{\"action\": \"search\", \"value\": \"a\x01\"}"), -1, -1,
         "content is not valid JSON"},
        {"0x1f", LIT("{\"action\": \"search\", \"value\": \"a\x1f\"}"), -1, -1, "content is not valid JSON"},
        {"raw newline", LIT("{\"action\": \"search\", \"value\": \"a\n\"}"), -1, -1, "content is not valid JSON"},
        {"raw NUL", LIT("{\"action\": \"se\0rch\", \"value\": \"x\"}"), -1, -1, "content is not valid JSON"},
        {"swapped keys", LIT("{\"value\": \"morpheus\", \"action\": \"search\"}"), 0, 0, NULL},
        {"extra key", LIT("{\"action\": \"search\", \"value\": \"x\", \"extra\": 1}"), 0, 0, NULL},
        {"extra key first", LIT("{\"extra\": 1, \"action\": \"search\", \"value\": \"x\"}"), 0, 0, NULL},
        {"duplicate action", LIT("{\"action\": \"search\", \"value\": \"x\", \"action\": \"y\"}"), -1, -1,
         "content is not valid JSON"},
        {"duplicate value", LIT("{\"action\": \"search\", \"value\": \"x\", \"value\": \"y\"}"), -1, -1,
         "content is not valid JSON"},
        {"compact", LIT("{\"action\":\"search\",\"value\":\"x\"}"), 0, 0, NULL},
        {"space before colon", LIT("{\"action\" : \"search\", \"value\": \"x\"}"), 0, 0, NULL},
        {"leading space", LIT(" {\"action\": \"search\", \"value\": \"x\"}"), 0, 0, NULL},
        {"trailing space", LIT("{\"action\": \"search\", \"value\": \"x\"} "), 0, 0, NULL},
        {"trailing newline", LIT("{\"action\": \"search\", \"value\": \"x\"}\n"), 0, 0, NULL},
        {"space inside the braces", LIT("{ \"action\": \"search\", \"value\": \"x\" }"), 0, 0, NULL},
        {"tab separator", LIT("{\"action\":\t\"search\", \"value\": \"x\"}"), 0, 0, NULL},
        {"trailing garbage", LIT("{\"action\": \"search\", \"value\": \"x\"}x"), -1, -1, "content is not valid JSON"},
        {"trailing brace", LIT("{\"action\": \"search\", \"value\": \"x\"}}"), -1, -1, "content is not valid JSON"},
        {"two objects", LIT("{\"action\": \"search\", \"value\": \"x\"}{}"), -1, -1, "content is not valid JSON"},
        {"trailing NUL", LIT("{\"action\": \"search\", \"value\": \"x\"}\0"), -1, -1, "content is not valid JSON"},
        {"cut before the brace", LIT("{\"action\": \"search\", \"value\": \"x\""), -1, -1, "content is not valid JSON"},
        {"cut in the value", LIT("{\"action\": \"search\", \"value\": \"x"), -1, -1, "content is not valid JSON"},
        {"cut in the action", LIT("{\"action\": \"sea"), -1, -1, "content is not valid JSON"},
        {"empty", LIT(""), -1, -1, "content is not valid JSON"},
        {"value a number", LIT("{\"action\": \"search\", \"value\": 1}"), 0, 0, NULL},
        {"value null", LIT("{\"action\": \"search\", \"value\": null}"), 0, 0, NULL},
        {"no value", LIT("{\"action\": \"search\"}"), 0, 0, NULL},
        {"action a number", LIT("{\"action\": 1, \"value\": \"x\"}"), -1, 0, "'action' must be a string"},
        {"no action", LIT("{\"value\": \"x\"}"), -1, 0, "request lacks 'action'"},
        {"empty object", LIT("{}"), -1, 0, "request lacks 'action'"},
        {"array", LIT("[\"search\", \"x\"]"), -1, 0, "request content must be a JSON object"},
        {"string", LIT("\"{\\\"action\\\": \\\"search\\\"}\""), -1, 0, "request content must be a JSON object"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        proto_request fast, full;
        int rf = proto_request_parse(cases[i].content, cases[i].len, DEFAULT_PARSE_MEMORY, &fast);
        int rj = proto_request_parse_full(cases[i].content, cases[i].len, DEFAULT_PARSE_MEMORY, &full);

        if (rf != rj || strcmp(fast.errstr, full.errstr) != 0)
            fail_msg("%s: fast path says %d \"%s\", jansson says %d \"%s\"", cases[i].name, rf, fast.errstr, rj,
                     full.errstr);
        if (rf != cases[i].rc)
            fail_msg("%s: returned %d, want %d (%s)", cases[i].name, rf, cases[i].rc, fast.errstr);
        if (rf == 0) {
            assert_int_equal(fast.action_len, full.action_len);
            assert_memory_equal(fast.action, full.action, full.action_len);
            assert_int_equal(fast.value_state, full.value_state);
            if (full.value_state == PROTO_VALUE_STRING) {
                assert_int_equal(fast.value_len, full.value_len);
                assert_memory_equal(fast.value, full.value, full.value_len);
            }
            assert_string_equal(fast.errstr, "");
        } else {
            if (strstr(fast.errstr, cases[i].want) == NULL)
                fail_msg("%s: errstr \"%s\" lacks \"%s\"", cases[i].name, fast.errstr, cases[i].want);
            assert_printable(fast.errstr);
        }
        /* what the fast path reads leaves no parse tree; jansson always does
         * unless the text is not JSON */
        if (cases[i].fast == 1 && fast.json != NULL)
            fail_msg("%s: not read by the fast path", cases[i].name);
        if (cases[i].fast == 0 && fast.json == NULL)
            fail_msg("%s: read by the fast path", cases[i].name);
        if (cases[i].fast == -1)
            assert_null(fast.json);
        proto_request_free(&fast);
        proto_request_free(&full);
        assert_null(fast.json);
    }
    /* freeing a zeroed request is harmless */
    proto_request zero;
    memset(&zero, 0, sizeof(zero));
    proto_request_free(&zero);
}

/* ---- limits ---- */

static void test_limit_max_content(void **state)
{
    (void)state;
    proto_limits lim = {.max_header = PROTO_DEFAULT_MAX_HEADER, .max_content = 10};
    static const char hdr11[] = "\x00\x67" HDR_JSON("11");
    static const char msg10[] = "\x00\x67" HDR_JSON("10") "[1, 2, 34]";
    proto_decoder d;
    proto_message m;

    /* 11 is refused as soon as the header is in, content unsent */
    proto_decoder_init(&d, &lim);
    assert_int_equal(proto_decoder_feed(&d, hdr11, sizeof(hdr11) - 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_ERROR);
    assert_int_equal(d.err, PROTO_ERR_CONTENT_TOO_LONG);
    assert_non_null(strstr(d.errstr, "content-length 11 exceeds the limit of 10 bytes"));
    proto_decoder_free(&d);

    proto_decoder_init(&d, &lim);
    assert_int_equal(proto_decoder_feed(&d, msg10, sizeof(msg10) - 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    assert_int_equal(m.content_len, 10);
    assert_content_json(m.content, m.content_len, JSON_ARRAY);
    assert_request_error(m.content, m.content_len, "request content must be a JSON object");
    proto_decoder_free(&d);

    /* the default is 1 MiB: exactly that is accepted (header only fed) */
    proto_decoder_init(&d, NULL);
    {
        proto_buf b = {0};
        append_frame(&b, HDR_JSON("1048576"), "", 0);
        assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
        assert_true(proto_decoder_in_message(&d));
        proto_buf_free(&b);
    }
    proto_decoder_free(&d);
}

/* An msearch content of count keys, key(i) each, with Python's separators. */
static void msearch_content(proto_buf *b, size_t count, int (*key)(char *out, size_t i))
{
    char k[32];
    assert_int_equal(proto_buf_append(b, LIT("{\"action\": \"msearch\", \"value\": [")), 0);
    for (size_t i = 0; i < count; i++) {
        if (i)
            proto_buf_append(b, LIT(", "));
        proto_dump_string(b, k, (size_t)key(k, i));
    }
    assert_int_equal(proto_buf_append(b, LIT("]}")), 0);
}

static int numbered_key(char *out, size_t i)
{
    return sprintf(out, "key:%06zu", i);
}

static int empty_key(char *out, size_t i)
{
    (void)out;
    (void)i;
    return 0;
}

/* Decodes one text/json message of content under the default limits and
 * parses its request, with both parsers; returns the parse's result. */
static int decode_and_parse(const proto_buf *content, proto_request *req)
{
    proto_decoder d;
    proto_message m;
    proto_buf frame = {0};
    int rc;

    assert_int_equal(proto_encode_message(&frame, "text/json", "utf-8", content->data, content->len), 0);
    proto_decoder_init(&d, NULL);
    assert_int_equal(proto_decoder_feed(&d, frame.data, frame.len), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    assert_int_equal(m.parse_memory, proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT));
    rc = request_parse_both(m.content, m.content_len, req);
    /* the request's strings live in the tree, not in the decoder's buffer */
    proto_decoder_free(&d);
    proto_buf_free(&frame);
    return rc;
}

/* What bounds a request's parse is its limit, not its length: msearches
 * of 10,000 keys, and of as many keys as the default 1 MiB holds, are
 * parsed; a list of empty objects filling it, which jansson would take
 * over 80 MB for, is refused unparsed. */
static void test_limit_parse_memory(void **state)
{
    (void)state;
    proto_buf b = {0};
    proto_request req;
    char want[PROTO_ERRSTR_LEN];

    msearch_content(&b, 10000, numbered_key);
    assert_int_equal(decode_and_parse(&b, &req), 0);
    assert_int_equal(json_array_size(json_object_get(req.json, "value")), 10000);
    assert_string_equal(json_string_value(json_array_get(json_object_get(req.json, "value"), 9999)), "key:009999");
    proto_request_free(&req);

    size_t count = (PROTO_DEFAULT_MAX_CONTENT - 40) / 4; /* "", "", ... */
    proto_buf_reset(&b);
    msearch_content(&b, count, empty_key);
    assert_in_range(b.len, PROTO_DEFAULT_MAX_CONTENT - 8, PROTO_DEFAULT_MAX_CONTENT);
    assert_int_equal(decode_and_parse(&b, &req), 0);
    assert_int_equal(json_array_size(json_object_get(req.json, "value")), count);
    proto_request_free(&req);

    proto_buf_reset(&b);
    proto_buf_append(&b, LIT("{\"action\": \"msearch\", \"value\": ["));
    while (b.len < PROTO_DEFAULT_MAX_CONTENT - 8)
        proto_buf_append(&b, LIT("{}, "));
    proto_buf_append(&b, LIT("{}]}"));
    assert_int_equal(decode_and_parse(&b, &req), -1);
    snprintf(want, sizeof(want), "content is not valid JSON: too complex to parse within %zu bytes of memory",
             proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT));
    assert_string_equal(req.errstr, want);
    assert_null(req.json);
    proto_request_free(&req);
    proto_buf_free(&b);
}

static void test_limit_max_header(void **state)
{
    (void)state;
    proto_limits lim = {.max_header = 102, .max_content = PROTO_DEFAULT_MAX_CONTENT};
    proto_decoder d;
    proto_message m;

    /* the morpheus header is 103 bytes: refused once the 2 bytes are in */
    proto_decoder_init(&d, &lim);
    assert_int_equal(proto_decoder_feed(&d, REQ_MORPHEUS, 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
    assert_int_equal(proto_decoder_feed(&d, REQ_MORPHEUS + 1, 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_ERROR);
    assert_int_equal(d.err, PROTO_ERR_HEADER_TOO_LONG);
    assert_non_null(strstr(d.errstr, "header length 103 exceeds the limit of 102 bytes"));
    proto_decoder_free(&d);

    lim.max_header = 103;
    proto_decoder_init(&d, &lim);
    assert_int_equal(proto_decoder_feed(&d, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    check_message(&examples[0], &m);
    proto_decoder_free(&d);

    /* limits above what 2 bytes can say are clamped */
    lim.max_header = 100000;
    proto_decoder_init(&d, &lim);
    assert_int_equal(d.limits.max_header, 65535);
    assert_int_equal(proto_decoder_feed(&d, "\xff\xff", 2), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_NEED_MORE);
    proto_decoder_free(&d);

    proto_decoder_init(&d, NULL);
    assert_int_equal(d.limits.max_header, PROTO_DEFAULT_MAX_HEADER);
    assert_int_equal(d.limits.max_content, PROTO_DEFAULT_MAX_CONTENT);
    proto_decoder_free(&d);
}

/* A failed decoder stays failed, and ignores what it is fed. */
static void test_failed_stays_failed(void **state)
{
    (void)state;
    proto_decoder d;
    proto_message m;
    char saved[PROTO_ERRSTR_LEN];

    proto_decoder_init(&d, NULL);
    assert_int_equal(proto_decoder_feed(&d, "\x00\x02[]", 4), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_ERROR);
    assert_int_equal(d.err, PROTO_ERR_HEADER_NOT_OBJECT);
    memcpy(saved, d.errstr, sizeof(saved));
    size_t buffered = proto_decoder_buffered(&d);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(proto_decoder_feed(&d, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);
        assert_int_equal(proto_decoder_next(&d, &m), PROTO_ERROR);
        assert_int_equal(d.err, PROTO_ERR_HEADER_NOT_OBJECT);
        assert_string_equal(d.errstr, saved);
        assert_int_equal(proto_decoder_buffered(&d), buffered);
    }
    proto_decoder_free(&d);

    /* free, then init again: a fresh decoder */
    proto_decoder_init(&d, NULL);
    assert_int_equal(proto_decoder_feed(&d, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    proto_decoder_free(&d);
}

/* ---- bad frames from files ---- */

static const struct {
    const char *name;
    proto_error value;
} error_names[] = {
    {"PROTO_ERR_NONE", PROTO_ERR_NONE},
    {"PROTO_ERR_HEADER_TOO_LONG", PROTO_ERR_HEADER_TOO_LONG},
    {"PROTO_ERR_HEADER_JSON", PROTO_ERR_HEADER_JSON},
    {"PROTO_ERR_HEADER_NOT_OBJECT", PROTO_ERR_HEADER_NOT_OBJECT},
    {"PROTO_ERR_HEADER_KEY", PROTO_ERR_HEADER_KEY},
    {"PROTO_ERR_CONTENT_LENGTH", PROTO_ERR_CONTENT_LENGTH},
    {"PROTO_ERR_CONTENT_TOO_LONG", PROTO_ERR_CONTENT_TOO_LONG},
    {"PROTO_ERR_ENCODING", PROTO_ERR_ENCODING},
    {"PROTO_ERR_CONTENT_JSON", PROTO_ERR_CONTENT_JSON},
    {"PROTO_ERR_NOMEM", PROTO_ERR_NOMEM},
};

typedef struct bad_case {
    char *name;
    char *dir;
} bad_case;

/* Reads a whole file into a new buffer (NUL-terminated too). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *nd = realloc(data, cap + 1);
            if (nd == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = nd;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Decodes input fed in chunks of `step` bytes (0: all at once) until the
 * decoder fails; good messages before the failure are allowed. */
static void bad_case_run(const char *input, size_t len, size_t step, int full, proto_error want_err,
                         const char *want_substr)
{
    proto_decoder d;
    proto_message m;
    proto_status st = PROTO_NEED_MORE;
    size_t fed = 0;

    decoder_init_mode(&d, NULL, full);
    while (fed < len) {
        size_t n = step == 0 || len - fed < step ? len - fed : step;
        assert_int_equal(proto_decoder_feed(&d, input + fed, n), 0);
        fed += n;
        while ((st = proto_decoder_next(&d, &m)) == PROTO_OK)
            ;
        if (st == PROTO_ERROR)
            break;
    }
    /* the error is reported once its bytes are in, not later */
    assert_int_equal(st, PROTO_ERROR);
    assert_int_equal(fed, len);
    if (d.err != want_err)
        fail_msg("error %d, want %d (errstr: %s)", (int)d.err, (int)want_err, d.errstr);
    if (strstr(d.errstr, want_substr) == NULL)
        fail_msg("errstr \"%s\" lacks \"%s\"", d.errstr, want_substr);
    for (const char *p = d.errstr; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);

    /* it stays failed, whatever comes next */
    char saved[PROTO_ERRSTR_LEN];
    memcpy(saved, d.errstr, sizeof(saved));
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_ERROR);
    assert_int_equal(proto_decoder_feed(&d, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_ERROR);
    assert_int_equal(d.err, want_err);
    assert_string_equal(d.errstr, saved);
    proto_decoder_free(&d);
}

static void test_bad_frame(void **state)
{
    const bad_case *bc = *state;
    char *in_path = path_join(bc->dir, "input");
    char *err_path = path_join(bc->dir, "error");
    size_t len, elen;
    char *input = slurp(in_path, &len);
    char *error = slurp(err_path, &elen);

    if (input == NULL || error == NULL)
        fail_msg("cannot read %s or %s", in_path, err_path);
    /* error: line 1 the enum name, line 2 the errstr substring */
    char *nl = strchr(error, '\n');
    if (nl == NULL)
        fail_msg("%s: needs two lines", err_path);
    *nl = '\0';
    char *substr = nl + 1;
    char *nl2 = strchr(substr, '\n');
    if (nl2)
        *nl2 = '\0';
    if (*substr == '\0')
        fail_msg("%s: empty errstr substring", err_path);
    int found = 0;
    proto_error want = PROTO_ERR_NONE;
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++) {
        if (strcmp(error, error_names[i].name) == 0) {
            want = error_names[i].value;
            found = 1;
        }
    }
    if (!found || want == PROTO_ERR_NONE)
        fail_msg("%s: unknown error name '%s'", err_path, error);

    for (int full = 0; full < 2; full++) {
        bad_case_run(input, len, 0, full, want, substr);
        bad_case_run(input, len, 1, full, want, substr);
        bad_case_run(input, len, 7, full, want, substr);
    }

    free(input);
    free(error);
    free(in_path);
    free(err_path);
}

static int bad_case_cmp(const void *a, const void *b)
{
    return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

/* Runs one cmocka test per directory under dir. Returns failures, or 1 if
 * no case could be found. */
static int run_bad_frames(const char *dir)
{
    DIR *dh = opendir(dir);
    struct CMUnitTest *tests = NULL;
    bad_case *cases = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int failures;

    if (dh == NULL) {
        fprintf(stderr, "cannot open the bad-frame directory %s\n", dir);
        return 1;
    }
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            tests = realloc(tests, cap * sizeof(*tests));
            cases = realloc(cases, cap * sizeof(*cases));
            if (tests == NULL || cases == NULL)
                abort();
        }
        cases[n].name = strdup(de->d_name);
        cases[n].dir = path_join(dir, de->d_name);
        n++;
    }
    closedir(dh);
    for (size_t i = 0; i < n; i++) {
        tests[i] = (struct CMUnitTest){cases[i].name, test_bad_frame, NULL, NULL, &cases[i]};
    }
    if (n == 0) {
        fprintf(stderr, "no bad-frame cases under %s\n", dir);
        failures = 1;
    } else {
        qsort(tests, n, sizeof(*tests), bad_case_cmp);
        failures = _cmocka_run_group_tests("bad_frames", tests, n, NULL, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        free(cases[i].name);
        free(cases[i].dir);
    }
    free(tests);
    free(cases);
    return failures;
}

/* ---- encoder ---- */

static int host_is_little(void)
{
    return strcmp(proto_host_byteorder(), "little") == 0;
}

static void assert_buf_equal(const proto_buf *b, const char *want, size_t want_len)
{
    assert_int_equal(b->failed, 0);
    if (b->len != want_len || memcmp(b->data, want, want_len) != 0)
        fail_msg("got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"", b->len, (int)b->len, b->data, want_len,
                 (int)want_len, want);
}

static void test_encode_examples(void **state)
{
    (void)state;
    proto_buf b = {0};

    assert_true(strcmp(proto_host_byteorder(), "little") == 0 || strcmp(proto_host_byteorder(), "big") == 0);
    if (!host_is_little())
        skip(); /* the examples name "little" */

    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("morpheus")), 0);
    assert_buf_equal(&b, LIT(REQ_MORPHEUS));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("nope")), 0);
    assert_buf_equal(&b, LIT(REQ_NOPE));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_request(&b, LIT("double"), LIT("x")), 0);
    assert_buf_equal(&b, LIT(REQ_DOUBLE));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("a\"b\\c\n")), 0);
    assert_buf_equal(&b, LIT(REQ_ESCAPED));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, "binary/custom-client-binary-type", "binary", LIT("double12")), 0);
    assert_buf_equal(&b, LIT(REQ_BINARY));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, "text/json", "utf-8",
                                          LIT("{\"result\": \"Follow the white rabbit. "
                                              "\xf0\x9f\x90\xb0\"}")),
                     0);
    assert_buf_equal(&b, LIT(ANS_MORPHEUS));
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, "binary/custom-server-binary-type", "binary",
                                          LIT("First 10 bytes of request: double12")),
                     0);
    assert_buf_equal(&b, LIT(ANS_BINARY));

    /* the header alone is the message without its content */
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_header(&b, "text/json", "utf-8", 41), 0);
    assert_buf_equal(&b, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1 - 41);

    /* appending after other bytes puts the protoheader in the right place */
    proto_buf_reset(&b);
    assert_int_equal(proto_buf_append(&b, LIT("xyz")), 0);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("morpheus")), 0);
    assert_int_equal(proto_encode_request(&b, LIT("search"), LIT("nope")), 0);
    assert_int_equal(b.len, 3 + sizeof(REQ_MORPHEUS) - 1 + sizeof(REQ_NOPE) - 1);
    assert_memory_equal(b.data, "xyz", 3);
    assert_memory_equal(b.data + 3, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1);
    assert_memory_equal(b.data + 3 + sizeof(REQ_MORPHEUS) - 1, REQ_NOPE, sizeof(REQ_NOPE) - 1);
    proto_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

/* Escapes in the header's strings, non-ASCII raw; a 2-byte length that
 * needs its high byte; a header over 65535 bytes is refused. */
static void test_encode_header_edges(void **state)
{
    (void)state;
    proto_buf b = {0};
    proto_decoder d;
    proto_message m;

    assert_int_equal(proto_encode_header(&b, "a\"b/\xc3\xa9", "x\ny", 0), 0);
    {
        char want[200];
        int n = snprintf(want, sizeof(want),
                         "{\"byteorder\": \"%s\", \"content-type\": \"a\\\"b/\xc3\xa9\", "
                         "\"content-encoding\": \"x\\ny\", \"content-length\": 0}",
                         proto_host_byteorder());
        assert_int_equal(b.len, (size_t)n + 2);
        assert_int_equal((unsigned char)b.data[0], 0);
        assert_int_equal((unsigned char)b.data[1], n);
        assert_memory_equal(b.data + 2, want, (size_t)n);
    }
    /* it decodes back */
    proto_decoder_init(&d, NULL);
    assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    assert_string_equal(m.content_type, "a\"b/\xc3\xa9");
    assert_string_equal(m.content_encoding, "x\ny");
    assert_int_equal(m.content_len, 0);
    assert_string_equal(m.byteorder, proto_host_byteorder());
    proto_decoder_free(&d);

    /* a 1000-byte content type: the protoheader's high byte is used */
    char *ct = malloc(70001);
    assert_non_null(ct);
    memset(ct, 'c', 70000);
    ct[1000] = '\0';
    proto_buf_reset(&b);
    assert_int_equal(proto_encode_message(&b, ct, "binary", LIT("abc")), 0);
    size_t hl = ((size_t)(unsigned char)b.data[0] << 8) | (unsigned char)b.data[1];
    assert_int_equal(hl, b.len - 2 - 3);
    assert_true(hl > 1000 && hl < 1200);
    proto_limits lim = {.max_header = 65535, .max_content = 10};
    proto_decoder_init(&d, &lim);
    assert_int_equal(proto_decoder_feed(&d, b.data, b.len), 0);
    assert_int_equal(proto_decoder_next(&d, &m), PROTO_OK);
    assert_int_equal(strlen(m.content_type), 1000);
    assert_memory_equal(m.content, "abc", 3);
    proto_decoder_free(&d);

    /* over 65535 bytes: refused, the buffer left as it was */
    ct[1000] = 'c';
    ct[70000] = '\0';
    proto_buf_reset(&b);
    assert_int_equal(proto_buf_append(&b, LIT("keep")), 0);
    assert_int_equal(proto_encode_header(&b, ct, "binary", 1), -1);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 4);
    assert_int_equal(proto_encode_message(&b, ct, "binary", LIT("x")), -1);
    assert_int_equal(b.len, 4);
    free(ct);
    proto_buf_free(&b);
}

static void test_dump_string(void **state)
{
    (void)state;
    /* expectations from python3: json.dumps(s, ensure_ascii=False) */
    static const struct {
        const char *in;
        size_t in_len;
        const char *out;
        size_t out_len;
    } cases[] = {
        {LIT(""), LIT("\"\"")},
        {LIT("plain text"), LIT("\"plain text\"")},
        {LIT("\"\\\n\r\t\b\f"), LIT("\"\\\"\\\\\\n\\r\\t\\b\\f\"")},
        {LIT("\x01\x1f\x0b\x1b"), LIT("\"\\u0001\\u001f\\u000b\\u001b\"")},
        {LIT("a\0b"), LIT("\"a\\u0000b\"")},
        {LIT("\x7f/</script>"), LIT("\"\x7f/</script>\"")},
        {LIT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb0\xe2\x80\xa8\xf4\x8f\xbf\xbf"),
         LIT("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb0\xe2\x80\xa8\xf4\x8f\xbf\xbf\"")},
        {LIT("No match for 'a\"b\\c\n'."), LIT("\"No match for 'a\\\"b\\\\c\\n'.\"")},
        /* not UTF-8: U+FFFD, as bytes.decode("utf-8", "replace") */
        {LIT("a\xff"
             "b"),
         LIT("\"a\xef\xbf\xbd"
             "b\"")},
        {LIT("\x80"), LIT("\"\xef\xbf\xbd\"")},
        {LIT("\xc0\xaf"), LIT("\"\xef\xbf\xbd\xef\xbf\xbd\"")},
        {LIT("\xed\xa0\x80"), LIT("\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"")},
        {LIT("\xf4\x90\x80\x80"), LIT("\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"")},
        {LIT("x\xfe\n"), LIT("\"x\xef\xbf\xbd\\n\"")},
    };
    proto_buf b = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        proto_buf_reset(&b);
        assert_int_equal(proto_dump_string(&b, cases[i].in, cases[i].in_len), 0);
        assert_buf_equal(&b, cases[i].out, cases[i].out_len);
    }
    proto_buf_free(&b);
}

static void dump_expect(const json_t *v, const char *want)
{
    proto_buf b = {0};
    assert_int_equal(proto_dump_json(&b, v), 0);
    assert_buf_equal(&b, want, strlen(want));
    proto_buf_free(&b);
}

static void dump_text_expect(const char *json_text, const char *want)
{
    json_error_t jerr;
    json_t *v = json_loads(json_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON %s: %s", json_text, jerr.text);
    dump_expect(v, want);
    json_decref(v);
}

static void test_dump_json(void **state)
{
    (void)state;
    /* expectations from python3: json.dumps(json.loads(t), ensure_ascii=False) */
    dump_text_expect("{\"a\": [1, 2.5, {\"x\": null}]}", "{\"a\": [1, 2.5, {\"x\": null}]}");
    dump_text_expect("{\"z\":1,\"a\":2,\"m\":{\"y\":true,\"b\":false}}",
                     "{\"z\": 1, \"a\": 2, \"m\": {\"y\": true, \"b\": false}}");
    dump_text_expect("[ ]", "[]");
    dump_text_expect("{ }", "{}");
    dump_text_expect("[[[]], [{}], [1,[2,[3]]]]", "[[[]], [{}], [1, [2, [3]]]]");
    dump_text_expect("[true,false,null]", "[true, false, null]");
    dump_text_expect("[0, -1, 9223372036854775807, -9223372036854775808]",
                     "[0, -1, 9223372036854775807, -9223372036854775808]");
    dump_text_expect("\"\\u00e9\\n\\u0000\\ud83d\\udc30\\/\"", "\"\xc3\xa9\\n\\u0000\xf0\x9f\x90\xb0/\"");
    dump_text_expect("{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}",
                     "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}");
    dump_text_expect("1E2", "100.0");
    dump_text_expect("-2.50", "-2.5");

    /* reals as Python's repr(float) */
    static const struct {
        double v;
        const char *repr;
    } reals[] = {
        {0.1, "0.1"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {1.5, "1.5"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {123456789.125, "123456789.125"},
        {1e100, "1e+100"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {-1e-7, "-1e-07"},
        {1.0 / 3.0, "0.3333333333333333"},
        {2.0 / 3.0, "0.6666666666666666"},
        {9007199254740993.0, "9007199254740992.0"},
        {123.0, "123.0"},
        {1e22, "1e+22"},
        {1.5e-10, "1.5e-10"},
        {0.00012345, "0.00012345"},
        {9999999999999998.0, "9999999999999998.0"},
        {0.1 + 0.2, "0.30000000000000004"},
        {100.0, "100.0"},
        {-12345.678, "-12345.678"},
    };
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *r = json_real(reals[i].v);
        assert_non_null(r);
        dump_expect(r, reals[i].repr);
        json_decref(r);
    }

    /* insertion order is kept when built by hand */
    json_t *o = json_object();
    json_object_set_new(o, "b", json_integer(1));
    json_object_set_new(o, "a", json_array());
    json_array_append_new(json_object_get(o, "a"), json_real(0.5));
    json_array_append_new(json_object_get(o, "a"), json_stringn("x\0y", 3));
    json_object_set_new(o, "c", json_null());
    /* jansson cannot parse a key with NUL, but can hold one */
    json_object_setn_new(o, "k\0ey\t", 5, json_string("v"));
    dump_expect(o, "{\"b\": 1, \"a\": [0.5, \"x\\u0000y\"], \"c\": null, \"k\\u0000ey\\t\": \"v\"}");
    json_decref(o);
}

/* At some powers of two the rounding interval is lopsided, and the shortest
 * digits that read back lie on its wide side, not at the correctly rounded
 * digits: repr must still find them (46 of the 2098 powers of two). */
static void test_dump_real_powers_of_two(void **state)
{
    (void)state;
    /* expectations from python3: repr(2.0 ** e) */
    static const struct {
        int exp2;
        const char *repr;
    } cases[] = {
        {-24, "5.960464477539063e-08"},
        {-44, "5.684341886080802e-14"},
        {-97, "6.310887241768095e-30"},
        {89, "6.189700196426902e+26"},
        {-1017, "7.120236347223045e-307"},
        {896, "5.282945311356653e+269"},
        /* and some it gets right */
        {-1, "0.5"},
        {-1074, "5e-324"},
        {53, "9007199254740992.0"},
        {1023, "8.98846567431158e+307"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *r = json_real(ldexp(1.0, cases[i].exp2));
        dump_expect(r, cases[i].repr);
        json_decref(r);
    }
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        int valid;
    } cases[] = {
        {LIT(""), 1},
        {LIT("hello, world"), 1},
        {LIT("a\0b"), 1},
        {LIT("\x7f"), 1},
        {LIT("\xc2\x80"), 1},         /* U+0080 */
        {LIT("\xc3\xa9"), 1},         /* é */
        {LIT("\xdf\xbf"), 1},         /* U+07FF */
        {LIT("\xe0\xa0\x80"), 1},     /* U+0800 */
        {LIT("\xe2\x82\xac"), 1},     /* € */
        {LIT("\xed\x9f\xbf"), 1},     /* U+D7FF */
        {LIT("\xee\x80\x80"), 1},     /* U+E000 */
        {LIT("\xef\xbf\xbf"), 1},     /* U+FFFF */
        {LIT("\xf0\x90\x80\x80"), 1}, /* U+10000 */
        {LIT("\xf0\x9f\x90\xb0"), 1}, /* 🐰 */
        {LIT("\xf4\x8f\xbf\xbf"), 1}, /* U+10FFFF */
        {LIT("a\xf0\x9f\x90\xb6z\xc3\xa9"), 1},
        /* overlong */
        {LIT("\xc0\x80"), 0},
        {LIT("\xc0\xaf"), 0},
        {LIT("\xc1\xbf"), 0},
        {LIT("\xe0\x80\x80"), 0},
        {LIT("\xe0\x9f\xbf"), 0},
        {LIT("\xf0\x80\x80\x80"), 0},
        {LIT("\xf0\x8f\xbf\xbf"), 0},
        /* surrogates */
        {LIT("\xed\xa0\x80"), 0},
        {LIT("\xed\xbf\xbf"), 0},
        {LIT("\xed\xa0\xbd\xed\xb0\xb0"), 0}, /* CESU-8 pair */
        /* truncated */
        {LIT("\xc3"), 0},
        {LIT("\xe2\x82"), 0},
        {LIT("\xf0\x9f\x90"), 0},
        {LIT("\xc3z"), 0},
        {LIT("\xe2\x82z"), 0},
        {LIT("\xf0\x9f\x90z"), 0},
        /* beyond U+10FFFF and never-valid bytes */
        {LIT("\xf4\x90\x80\x80"), 0},
        {LIT("\xf5\x80\x80\x80"), 0},
        {LIT("\xf7\xbf\xbf\xbf"), 0},
        {LIT("\xf8\x88\x80\x80\x80"), 0},
        {LIT("\xfe"), 0},
        {LIT("\xff"), 0},
        /* lone continuation bytes */
        {LIT("\x80"), 0},
        {LIT("a\xbf"), 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (proto_utf8_valid(cases[i].s, cases[i].len) != cases[i].valid)
            fail_msg("case %zu: proto_utf8_valid says %d", i, !cases[i].valid);
    }
    /* a valid string cut anywhere inside a sequence is invalid */
    static const char rabbit[] = "\xf0\x9f\x90\xb0";
    for (size_t n = 1; n < 4; n++)
        assert_false(proto_utf8_valid(rabbit, n));
    /* the length is honoured: bytes past it are not read */
    assert_true(proto_utf8_valid("ab\xff", 2));
}

static void test_buf(void **state)
{
    (void)state;
    proto_buf b = {0};
    char big[10000];

    memset(big, 'q', sizeof(big));
    for (int i = 0; i < 50; i++)
        assert_int_equal(proto_buf_append(&b, big, sizeof(big)), 0);
    assert_int_equal(b.len, 50 * sizeof(big));
    assert_true(b.cap >= b.len);
    assert_int_equal(proto_buf_append(&b, NULL, 0), 0);
    proto_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(proto_buf_append(&b, LIT("ab")), 0);
    assert_memory_equal(b.data, "ab", 2);
    proto_buf_free(&b);
    proto_buf_free(&b); /* freeing twice is harmless */
}

/* Appending nothing succeeds, on a fresh buffer too, and leaves it empty. */
static void test_buf_append_nothing(void **state)
{
    proto_buf b = {0};
    (void)state;
    assert_int_equal(proto_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.failed, 0);
    assert_int_equal(proto_buf_append(&b, "ab", 2), 0);
    assert_int_equal(proto_buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 2);
    proto_buf_free(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_nothing),
        cmocka_unit_test(test_examples_all_at_once),
        cmocka_unit_test(test_examples_byte_at_a_time),
        cmocka_unit_test(test_examples_every_split),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_content_errors_keep_framing),
        cmocka_unit_test(test_content_any_json),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_header_fast_vs_full),
        cmocka_unit_test(test_request_fast_vs_full),
        cmocka_unit_test(test_limit_max_content),
        cmocka_unit_test(test_limit_max_header),
        cmocka_unit_test(test_limit_parse_memory),
        cmocka_unit_test(test_failed_stays_failed),
        cmocka_unit_test(test_encode_examples),
        cmocka_unit_test(test_encode_header_edges),
        cmocka_unit_test(test_dump_string),
        cmocka_unit_test(test_dump_json),
        cmocka_unit_test(test_dump_real_powers_of_two),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_buf),
    };
    const char *frames = argc > 1 ? argv[1] : FRAMES_BAD_DIR;
    int failures = cmocka_run_group_tests_name("proto", tests, NULL, NULL);
    failures += run_bad_frames(frames);
    return failures ? 1 : 0;
}

/*
 * test_proto.c: unit tests of the guide codec's decoder (proto/proto.c).
 *
 * The decoder is fed PROTOCOL.md's examples split at every point, pipelined,
 * and every class of broken frame, and holds to its limits. The broken
 * frames live as files under frames/bad/<case>/ (see frames/make-frames.py);
 * their directory is FRAMES_BAD_DIR or argv[1]. The fast paths against
 * jansson are in test_proto_fast.c, the encoder in test_proto_encode.c,
 * the JSON writer in test_json_write.c, text.c in test_text.c and buf.c in
 * test_buf.c.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_write.h"
#include "proto_harness.h"

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
    assert_int_equal(proto_decoder_feed(&d, &REQ_MORPHEUS[1], 1), 0);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_all_at_once),
        cmocka_unit_test(test_examples_byte_at_a_time),
        cmocka_unit_test(test_examples_every_split),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_content_errors_keep_framing),
        cmocka_unit_test(test_content_any_json),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_limit_max_content),
        cmocka_unit_test(test_limit_max_header),
        cmocka_unit_test(test_limit_parse_memory),
        cmocka_unit_test(test_failed_stays_failed),
    };
    const char *frames = argc > 1 ? argv[1] : FRAMES_BAD_DIR;
    int failures = cmocka_run_group_tests_name("proto", tests, NULL, NULL);
    failures += run_bad_frames(frames);
    return failures ? 1 : 0;
}

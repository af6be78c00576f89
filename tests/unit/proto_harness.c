/*
 * proto_harness.c: what the tests of proto/ share (proto_harness.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto_harness.h"

#define EX_JSON(nm, arr, content_lit, act, val)                                                                        \
    {                                                                                                                  \
        nm, arr, sizeof(arr) - 1, "text/json", "utf-8", 1, content_lit, sizeof(content_lit) - 1, act, val,             \
            sizeof(val) - 1                                                                                            \
    }

const example examples[] = {
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
const size_t nexamples = sizeof(examples) / sizeof(examples[0]);

/* Whether errstr is printable ASCII only. */
void assert_printable(const char *errstr)
{
    for (const char *p = errstr; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
}

/* Parses content as a request with both parsers, which must agree; returns
 * proto_request_parse's result, its request left in *req (free it). */
int request_parse_both(const void *content, size_t len, proto_request *req)
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
void assert_request_error(const void *content, size_t len, const char *want)
{
    proto_request req;

    assert_int_equal(request_parse_both(content, len, &req), -1);
    if (strstr(req.errstr, want) == NULL)
        fail_msg("errstr \"%s\" lacks \"%s\"", req.errstr, want);
    assert_printable(req.errstr);
    proto_request_free(&req);
}

/* Asserts that content parses as a JSON value of the given type. */
void assert_content_json(const void *content, size_t len, json_type type)
{
    json_error_t jerr;
    json_t *v = json_loadb(content, len, CONTENT_JSON_FLAGS, &jerr);
    if (v == NULL)
        fail_msg("content is not JSON: %s", jerr.text);
    assert_int_equal(json_typeof(v), type);
    json_decref(v);
}

void check_message(const example *ex, const proto_message *m)
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
void decoder_init_mode(proto_decoder *d, const proto_limits *limits, int full)
{
    proto_decoder_init(d, limits);
    d->full_parser_only = full;
}

/* Appends a message with a raw header (protoheader computed) and content. */
void append_frame(proto_buf *b, const char *header, const void *content, size_t content_len)
{
    size_t hl = strlen(header);
    unsigned char ph[2] = {(unsigned char)(hl >> 8), (unsigned char)(hl & 0xff)};
    assert_int_equal(proto_buf_append(b, ph, 2), 0);
    assert_int_equal(proto_buf_append(b, header, hl), 0);
    assert_int_equal(proto_buf_append(b, content, content_len), 0);
}

void append_json_frame(proto_buf *b, const void *content, size_t content_len)
{
    char hdr[200];
    snprintf(hdr, sizeof(hdr),
             "{\"byteorder\": \"little\", \"content-type\": \"text/json\", "
             "\"content-encoding\": \"utf-8\", \"content-length\": %zu}",
             content_len);
    append_frame(b, hdr, content, content_len);
}

void assert_buf_equal(const proto_buf *b, const char *want, size_t want_len)
{
    assert_int_equal(b->failed, 0);
    if (b->len != want_len || memcmp(b->data, want, want_len) != 0)
        fail_msg("got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"", b->len, (int)b->len, b->data, want_len,
                 (int)want_len, want);
}

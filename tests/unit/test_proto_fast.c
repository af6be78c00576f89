/*
 * test_proto_fast.c: the guide codec's fast paths (proto/proto.c) against
 * jansson: headers and request contents at and around the layouts the fast
 * paths read, each decoded both ways, must come out the same.
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
typedef struct header_case {
    const char *name;
    const char *header;
    size_t header_len;
    const char *content;
    size_t content_len;
    proto_status status;
    proto_error err;
    int fast;
} header_case;

static const header_case header_cases[] = {
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
    {"escape in encoding", LIT(CANON("little", "text/json", "utf\\u002d8", "2")), LIT("{}"), PROTO_OK, PROTO_ERR_NONE,
     0},
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
    {"text/json latin-1", LIT(CANON("little", "text/json", "latin-1", "2")), LIT("{}"), PROTO_ERROR, PROTO_ERR_ENCODING,
     1},
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
    {"text/json utf-8\\u0000", LIT(CANON("little", "text/json", "utf-8\\u0000latin-1", "2")), LIT("{}"), PROTO_ERROR,
     PROTO_ERR_ENCODING, 0},
    {"binary, \\u0000 in encoding", LIT(CANON_BIN("b", "\\u0000binary", "1")), LIT("z"), PROTO_OK, PROTO_ERR_NONE, 0},
    {"byteorder Little", LIT(CANON("Little", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_KEY,
     0},
    {"byteorder littl", LIT(CANON("littl", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_KEY, 0},
    {"byteorder littlee", LIT(CANON("littlee", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_KEY,
     0},
    {"byteorder bigger", LIT(CANON("bigger", "text/json", "utf-8", "41")), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_KEY,
     0},
    {"no closing brace", LIT(CANON_JSON("41") "\b"), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
    {"two closing braces", LIT(CANON_JSON("41") "}"), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
    {"NUL after the brace", LIT(CANON_JSON("41") "\0"), LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
    {"cut short", CANON_JSON("41"), sizeof(CANON_JSON("41")) - 2, LIT(""), PROTO_ERROR, PROTO_ERR_HEADER_JSON, -1},
};

/* The first answer other than "need more" is the case's: its status and
 * error, its content, and whether the fast path read its header. */
static void check_header_first(const header_case *c, proto_status sf, const proto_decoder *fast,
                               const proto_message *mf)
{
    if (sf != c->status || fast->err != c->err)
        fail_msg("%s: got %d/%d \"%s\", want %d/%d", c->name, (int)sf, (int)fast->err, fast->errstr, (int)c->status,
                 (int)c->err);
    if (sf == PROTO_OK) {
        assert_int_equal(mf->content_len, c->content_len);
        assert_memory_equal(mf->content, c->content, c->content_len);
    } else {
        assert_printable(fast->errstr);
    }
    /* a header read by the fast path leaves no parse tree */
    if (c->fast == 1 && fast->header != NULL)
        fail_msg("%s: not read by the fast path", c->name);
    if (c->fast == 0 && fast->header == NULL)
        fail_msg("%s: read by the fast path", c->name);
}

/* Feeds in (the case, then a good request) to a decoder with the fast path
 * and one without, whole or a byte at a time: after every byte fed, both
 * must say the same thing, message after message. */
static void run_header_case(const header_case *c, const proto_buf *in, int byte_at_a_time)
{
    proto_limits lim = {.max_header = PROTO_DEFAULT_MAX_HEADER, .max_content = 100};
    proto_decoder fast, full;
    proto_message mf, mj;
    proto_status sf = PROTO_NEED_MORE, sj = PROTO_NEED_MORE;
    size_t fed = 0, nmsg = 0;
    int first = 1;

    decoder_init_mode(&fast, &lim, 0);
    decoder_init_mode(&full, &lim, 1);
    while (fed < in->len) {
        size_t n = byte_at_a_time ? 1 : in->len;
        assert_int_equal(proto_decoder_feed(&fast, in->data + fed, n), 0);
        assert_int_equal(proto_decoder_feed(&full, in->data + fed, n), 0);
        fed += n;
        do {
            sf = proto_decoder_next(&fast, &mf);
            sj = proto_decoder_next(&full, &mj);
            assert_decoders_agree(c->name, sf, &fast, &mf, sj, &full, &mj);
            if (first && sf != PROTO_NEED_MORE) {
                first = 0;
                check_header_first(c, sf, &fast, &mf);
            }
            if (sf == PROTO_OK)
                nmsg++;
        } while (sf == PROTO_OK);
    }
    assert_false(first);
    /* both messages when the first was good; none after an error */
    assert_int_equal(nmsg, c->status == PROTO_OK ? 2 : 0);
    assert_int_equal(sf, c->status == PROTO_OK ? PROTO_NEED_MORE : PROTO_ERROR);
    proto_decoder_free(&fast);
    proto_decoder_free(&full);
}

static void test_header_fast_vs_full(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        const header_case *c = &header_cases[i];
        proto_buf in = {0};
        unsigned char ph[2] = {(unsigned char)(c->header_len >> 8), (unsigned char)c->header_len};

        /* the case, then a good request: the stream must go on alike */
        assert_int_equal(proto_buf_append(&in, ph, 2), 0);
        assert_int_equal(proto_buf_append(&in, c->header, c->header_len), 0);
        assert_int_equal(proto_buf_append(&in, c->content, c->content_len), 0);
        assert_int_equal(proto_buf_append(&in, REQ_MORPHEUS, sizeof(REQ_MORPHEUS) - 1), 0);
        for (int byte_at_a_time = 0; byte_at_a_time < 2; byte_at_a_time++)
            run_header_case(c, &in, byte_at_a_time);
        proto_buf_free(&in);
    }
}

/* Contents at and around the layout the request fast path reads, each
 * parsed by proto_request_parse and proto_request_parse_full: same return,
 * errstr, action, value state and value. `fast` as above; `want` is a
 * substring of the errstr, for a refused content. */
typedef struct request_case {
    const char *name;
    const char *content;
    size_t len;
    int rc;
    int fast;
    const char *want;
} request_case;

static const request_case request_cases[] = {
    {"canonical", LIT(MORPHEUS_CONTENT), 0, 1, NULL},
    {"other action", LIT("{\"action\": \"double\", \"value\": \"x\"}"), 0, 1, NULL},
    {"empty strings", LIT("{\"action\": \"\", \"value\": \"\"}"), 0, 1, NULL},
    {"non-ASCII", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6 \xc3\xa9\xe2\x82\xac\"}"), 0, 1, NULL},
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
    {"overlong 3", LIT("{\"action\": \"search\", \"value\": \"\xe0\x9f\xbf\"}"), -1, -1, "content is not valid JSON"},
    {"surrogate", LIT("{\"action\": \"search\", \"value\": \"\xed\xa0\x80\"}"), -1, -1, "content is not valid JSON"},
    {"over U+10FFFF", LIT("{\"action\": \"search\", \"value\": \"\xf4\x90\x80\x80\"}"), -1, -1,
     "content is not valid JSON"},
    {"cut sequence", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\"}"), -1, -1, "content is not valid JSON"},
    {"sequence cut by the end", LIT("{\"action\": \"search\", \"value\": \"\xf0\x9f"), -1, -1,
     "content is not valid JSON"},
    {"control character", LIT("{\"action\": \"search\", \"value\": \"a\x01\"}"), -1, -1, "content is not valid JSON"},
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

/* Parses c's content both ways: they agree, with c's result. */
static void run_request_case(const request_case *c)
{
    proto_request fast, full;
    int rf = proto_request_parse(c->content, c->len, DEFAULT_PARSE_MEMORY, &fast);
    int rj = proto_request_parse_full(c->content, c->len, DEFAULT_PARSE_MEMORY, &full);

    if (rf != rj || strcmp(fast.errstr, full.errstr) != 0)
        fail_msg("%s: fast path says %d \"%s\", jansson says %d \"%s\"", c->name, rf, fast.errstr, rj, full.errstr);
    if (rf != c->rc)
        fail_msg("%s: returned %d, want %d (%s)", c->name, rf, c->rc, fast.errstr);
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
        if (strstr(fast.errstr, c->want) == NULL)
            fail_msg("%s: errstr \"%s\" lacks \"%s\"", c->name, fast.errstr, c->want);
        assert_printable(fast.errstr);
    }
    /* what the fast path reads leaves no parse tree; jansson always does
     * unless the text is not JSON */
    if (c->fast == 1 && fast.json != NULL)
        fail_msg("%s: not read by the fast path", c->name);
    if (c->fast == 0 && fast.json == NULL)
        fail_msg("%s: read by the fast path", c->name);
    if (c->fast == -1)
        assert_null(fast.json);
    proto_request_free(&fast);
    proto_request_free(&full);
    assert_null(fast.json);
}

static void test_request_fast_vs_full(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]); i++)
        run_request_case(&request_cases[i]);
    /* freeing a zeroed request is harmless */
    proto_request zero;
    memset(&zero, 0, sizeof(zero));
    proto_request_free(&zero);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_fast_vs_full),
        cmocka_unit_test(test_request_fast_vs_full),
    };
    return cmocka_run_group_tests_name("proto_fast", tests, NULL, NULL);
}

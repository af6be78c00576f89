/*
 * fuzz_handler.c: guide_answer on arbitrary messages.
 *
 * Input: one choice byte, then the content. The choice's low 3 bits pick
 * the content type (text/json, or one of several binary ones), bit 3 makes
 * the handler parse with jansson alone, bit 4 also answers an error whose
 * reason is the content (up to its first NUL). Every answer must be one
 * well-formed frame that a fresh decoder reads whole: the reference
 * server's exact header, content type text/json (a {"result": ...} object,
 * written as Python's json.dumps writes it) or
 * binary/custom-server-binary-type (the binary echo), matching what the
 * request was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fuzz_common.h"
#include "guide.h"
#include "json_write.h"
#include "proto.h"
#include "table.h"
#include "text.h"

#define JSON_FLAGS    (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define BINARY_PREFIX "First 10 bytes of request: "

int LLVMFuzzerInitialize(int *argc, char ***argv);

static table *builtin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    builtin = table_builtin();
    if (builtin == NULL)
        fuzz_fail("table_builtin failed");
    return 0;
}

static const char *const content_types[8] = {
    "text/json", "binary/custom-client-binary-type", "", "text/JSON", "application/json", "text/json ", "text/jso",
    "binary",
};

/* The result text of a text/json answer: {"result": <string>} written the
 * Python way. Returns the parse tree (new reference). */
static json_t *check_json_answer(const proto_message *a)
{
    json_error_t jerr;
    json_t *v = json_loadb((const char *)a->content, a->content_len, JSON_FLAGS, &jerr);

    if (v == NULL)
        fuzz_fail("answer content is not JSON: %s", jerr.text);
    if (!json_is_object(v) || json_object_size(v) != 1 || json_object_get(v, "result") == NULL)
        fuzz_fail("answer content is not {\"result\": ...}");
    /* written exactly as Python's json.dumps(ensure_ascii=False) would */
    proto_buf again = {0};
    if (proto_dump_json(&again, v) != 0)
        fuzz_fail("proto_dump_json failed");
    if (again.len != a->content_len || memcmp(again.data, a->content, again.len) != 0) {
        fuzz_print_bytes("answer", a->content, a->content_len);
        fuzz_print_bytes("re-dumped", again.data, again.len);
        fuzz_fail("answer content is not in the reference's JSON form");
    }
    proto_buf_free(&again);
    return v;
}

/* Whether the result is the string prefix + s[0..n) + suffix. */
static int result_is(const json_t *v, const char *prefix, const char *s, size_t n, const char *suffix)
{
    const json_t *r = json_object_get(v, "result");
    size_t pl = strlen(prefix), sl = strlen(suffix);
    if (!json_is_string(r) || json_string_length(r) != pl + n + sl)
        return 0;
    const char *t = json_string_value(r);
    return memcmp(t, prefix, pl) == 0 && memcmp(t + pl, s, n) == 0 && memcmp(t + pl + n, suffix, sl) == 0;
}

/* msearch: an error for a missing value or one that is not a list of
 * strings; else, in order, each key's value as the table holds it, null
 * for a key it lacks. */
static int msearch_ok(const json_t *v, handler_outcome o, const proto_request *req)
{
    const json_t *keys = json_object_get(req->json, "value"), *r = json_object_get(v, "result");
    const json_t *k;
    size_t i;
    int strings = json_is_array(keys);

    if (req->value_state == PROTO_VALUE_MISSING)
        return o == OUTCOME_BAD_REQUEST && result_is(v, "Error: request lacks 'value'", "", 0, ".");
    json_array_foreach(keys, i, k) strings = strings && json_is_string(k);
    if (!strings)
        return o == OUTCOME_BAD_REQUEST && result_is(v, "Error: 'value' must be a list of strings", "", 0, ".");
    if (o != OUTCOME_MSEARCH || !json_is_array(r) || json_array_size(r) != json_array_size(keys))
        return 0;
    json_array_foreach(keys, i, k)
    {
        const char *enc;
        size_t enc_len;
        const json_t *got = json_array_get(r, i);
        if (table_lookup(builtin, json_string_value(k), json_string_length(k), &enc, &enc_len)) {
            json_t *want = json_loadb(enc, enc_len, JSON_DECODE_ANY, NULL);
            int same = want != NULL && json_equal(want, got);
            json_decref(want);
            if (!same)
                return 0;
        } else if (!json_is_null(got)) {
            return 0;
        }
    }
    return 1;
}

/* Decodes the answer bytes[0..len) into *a (d holds it; free d) and checks
 * its frame: one whole message, its header the reference server's. */
static void decode_answer(const unsigned char *bytes, size_t len, proto_decoder *d, proto_message *a)
{
    proto_limits lim = {.max_header = 65535, .max_content = 1 << 30};
    proto_buf hdr = {0};

    proto_decoder_init(d, &lim);
    if (proto_decoder_feed(d, bytes, len) != 0)
        fuzz_fail("feed failed");
    proto_status st = proto_decoder_next(d, a);
    if (st != PROTO_OK) {
        fuzz_print_bytes("answer", bytes, len);
        fuzz_fail("the answer does not decode: %d \"%s\"", (int)st, d->errstr);
    }
    if (proto_decoder_buffered(d) != 0)
        fuzz_fail("%zu bytes after the answer's frame", proto_decoder_buffered(d));
    /* the header is the reference server's, byte for byte */
    if (proto_encode_header(&hdr, a->content_type, a->content_encoding, a->content_len) != 0 ||
        hdr.len != len - a->content_len || memcmp(hdr.data, bytes, hdr.len) != 0) {
        fuzz_print_bytes("answer", bytes, len);
        fuzz_fail("the answer's header is not in the reference's form");
    }
    proto_buf_free(&hdr);
}

/* A binary answer a: to a binary request msg, its first 10 bytes quoted. */
static void check_binary_answer(handler_outcome o, const proto_message *msg, const proto_message *a)
{
    size_t n = msg && msg->content_len < 10 ? msg->content_len : 10;
    if (msg == NULL || msg->is_json || o != OUTCOME_BINARY || strcmp(a->content_encoding, "binary") != 0 ||
        a->content_len != sizeof(BINARY_PREFIX) - 1 + n ||
        memcmp(a->content, BINARY_PREFIX, sizeof(BINARY_PREFIX) - 1) != 0 ||
        memcmp(a->content + sizeof(BINARY_PREFIX) - 1, msg->content, n) != 0)
        fuzz_fail("wrong binary answer (outcome %s)", handler_outcome_name(o));
}

/* Whether answer a (its JSON v, outcome o) is what the request req, as
 * jansson parsed it (rc its result), calls for. */
static int request_answer_ok(int rc, const proto_request *req, handler_outcome o, const proto_message *a, json_t *v)
{
    const char *enc;
    size_t enc_len;

    if (rc != 0)
        return o == OUTCOME_BAD_REQUEST && result_is(v, "Error: ", req->errstr, strlen(req->errstr), ".");
    if (req->action_len == 4 && memcmp(req->action, "ping", 4) == 0)
        return o == OUTCOME_PING && a->content_len == 18 && memcmp(a->content, "{\"result\": \"pong\"}", 18) == 0;
    if (req->action_len == 5 && memcmp(req->action, "stats", 5) == 0) /* the harness's handler has no stats callback */
        return o == OUTCOME_BAD_REQUEST && result_is(v, "Error: stats are not available here", "", 0, ".");
    if (req->action_len == 7 && memcmp(req->action, "msearch", 7) == 0)
        return msearch_ok(v, o, req);
    if (req->action_len != 6 || memcmp(req->action, "search", 6) != 0)
        return o == OUTCOME_BAD_ACTION && result_is(v, "Error: invalid action '", req->action, req->action_len, "'.");
    if (req->value_state == PROTO_VALUE_MISSING)
        return o == OUTCOME_BAD_REQUEST && result_is(v, "Error: request lacks 'value'", "", 0, ".");
    if (req->value_state == PROTO_VALUE_NOT_STRING)
        return o == OUTCOME_BAD_REQUEST && result_is(v, "Error: 'value' must be a string", "", 0, ".");
    if (table_lookup(builtin, req->value, req->value_len, &enc, &enc_len))
        return o == OUTCOME_HIT && a->content_len == 11 + enc_len + 1 && memcmp(a->content, "{\"result\": ", 11) == 0 &&
               memcmp(a->content + 11, enc, enc_len) == 0;
    return o == OUTCOME_MISS && result_is(v, "No match for '", req->value, req->value_len, "'.");
}

/* A JSON answer a (its JSON v): what it says follows from the request msg,
 * parsed by jansson, or from the reason why (msg NULL). */
static void check_json_answer_for(handler_outcome o, const proto_message *msg, const char *why, const proto_message *a,
                                  json_t *v)
{
    if (msg == NULL) {
        /* a reason that is not UTF-8 is written with U+FFFD: not compared */
        if (o != OUTCOME_BAD_REQUEST ||
            (proto_utf8_valid(why, strlen(why)) && !result_is(v, "Error: ", why, strlen(why), ".")))
            fuzz_fail("wrong error answer (outcome %s)", handler_outcome_name(o));
        return;
    }
    proto_request req;
    int rc = proto_request_parse_full(msg->content, msg->content_len, msg->parse_memory, &req);
    if (!request_answer_ok(rc, &req, o, a, v)) {
        fuzz_print_bytes("request", msg->content, msg->content_len);
        fuzz_print_bytes("answer", a->content, a->content_len);
        fuzz_fail("wrong answer (outcome %s)", handler_outcome_name(o));
    }
    proto_request_free(&req);
}

/* Decodes the answer in out, checks its frame and what it says about the
 * request msg (NULL for an error answer with reason why). */
static void check_answer(struct evbuffer *out, handler_outcome o, const proto_message *msg, const char *why)
{
    size_t len = evbuffer_get_length(out);
    const unsigned char *bytes = evbuffer_pullup(out, -1);
    proto_decoder d;
    proto_message a;

    if (o >= OUTCOME_COUNT || o == OUTCOME_NOMEM || o == OUTCOME_BAD_FRAME)
        fuzz_fail("outcome %d", (int)o);
    decode_answer(bytes, len, &d, &a);
    if (strcmp(a.content_type, "binary/custom-server-binary-type") == 0) {
        check_binary_answer(o, msg, &a);
        proto_decoder_free(&d);
        return;
    }
    if (strcmp(a.content_type, "text/json") != 0 || strcmp(a.content_encoding, "utf-8") != 0 || !a.is_json)
        fuzz_fail("answer content type \"%s\", encoding \"%s\"", a.content_type, a.content_encoding);
    if (msg && !msg->is_json)
        fuzz_fail("text/json answer to a binary request");
    json_t *v = check_json_answer(&a);
    check_json_answer_for(o, msg, why, &a, v);
    json_decref(v);
    proto_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned choice = data[0];
    handler_ctx h = {.table = builtin, .full_parser_only = (choice >> 3) & 1};
    protocol_counters counters = {0};
    guide_wing *g = guide_wing_new(&(protocol_env){.handler = &h, .counters = &counters});
    if (g == NULL)
        fuzz_fail("out of memory");
    proto_message msg = {.byteorder = "little",
                         .content_type = content_types[choice & 7],
                         .content_encoding = (choice & 7) == 0 ? "utf-8" : "binary",
                         .is_json = (choice & 7) == 0,
                         .content = data + 1,
                         .content_len = size - 1,
                         .parse_memory = proto_parse_memory(PROTO_DEFAULT_MAX_CONTENT)};
    struct evbuffer *out = evbuffer_new();

    if (out == NULL)
        fuzz_fail("evbuffer_new failed");
    check_answer(out, guide_answer(g, &msg, out), &msg, NULL);

    if (choice & 16) {
        char *why = malloc(size);
        if (why == NULL)
            fuzz_fail("out of memory");
        memcpy(why, data + 1, size - 1);
        why[size - 1] = '\0';
        evbuffer_drain(out, evbuffer_get_length(out));
        check_answer(out, guide_answer_error(g, why, out), NULL, why);
        free(why);
    }
    evbuffer_free(out);
    guide_wing_free(g);
    return 0;
}

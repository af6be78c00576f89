/*
 * fuzz_differential.c: the fast paths against jansson, on arbitrary input.
 *
 * The rule of the fast paths is that jansson stays the authority: reading
 * the reference layout directly must give the same result and the same
 * error as the full parser, on every input. So the same stream (split as
 * fuzz_common.h says; flag bits 0-1 pick the limits, bit 4 computes the
 * protoheaders) is fed, fragment by
 * fragment, to a decoder with the header fast path and to one without, and
 * each call must answer alike: status, error, errstr, every field, the
 * content. Every text/json message's content goes through
 * proto_request_parse and proto_request_parse_full, which must agree, and
 * every message through guide_answer with handler_ctx.full_parser_only 0
 * and 1, whose answers must be the same bytes. The stream itself is also
 * tried as a request's content, so that the request parsers see arbitrary
 * bytes without needing a valid frame around them. Any difference prints
 * both sides and aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fuzz_common.h"
#include "guide.h"
#include "proto.h"
#include "table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static table *builtin; /* the reference table, built once */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    builtin = table_builtin();
    if (builtin == NULL)
        fuzz_fail("table_builtin failed");
    return 0;
}

/* Both decoders' last answers, side by side, then abort. */
static void decoders_differ(const char *what, proto_status sf, const proto_decoder *f, const proto_message *mf,
                            proto_status sj, const proto_decoder *j, const proto_message *mj)
{
    fprintf(stderr, "fast path: status %d, err %d, errstr \"%s\"\n", (int)sf, (int)f->err, f->errstr);
    fprintf(stderr, "jansson:   status %d, err %d, errstr \"%s\"\n", (int)sj, (int)j->err, j->errstr);
    if (sf == PROTO_OK && sj == PROTO_OK) {
        fprintf(stderr, "fast path: byteorder %s, is_json %d\n", mf->byteorder, mf->is_json);
        fuzz_print_bytes("fast path: content-type", mf->content_type, f->content_type_len);
        fuzz_print_bytes("fast path: content-encoding", mf->content_encoding, strlen(mf->content_encoding));
        fuzz_print_bytes("fast path: content", mf->content, mf->content_len);
        fprintf(stderr, "jansson:   byteorder %s, is_json %d\n", mj->byteorder, mj->is_json);
        fuzz_print_bytes("jansson:   content-type", mj->content_type, j->content_type_len);
        fuzz_print_bytes("jansson:   content-encoding", mj->content_encoding, strlen(mj->content_encoding));
        fuzz_print_bytes("jansson:   content", mj->content, mj->content_len);
    }
    fuzz_fail("the decoders differ: %s", what);
}

static void compare_decoders(proto_status sf, const proto_decoder *f, const proto_message *mf, proto_status sj,
                             const proto_decoder *j, const proto_message *mj)
{
    if (sf != sj || f->err != j->err || strcmp(f->errstr, j->errstr) != 0)
        decoders_differ("status, error or errstr", sf, f, mf, sj, j, mj);
    if (proto_decoder_buffered(f) != proto_decoder_buffered(j) ||
        proto_decoder_in_message(f) != proto_decoder_in_message(j))
        decoders_differ("bytes buffered", sf, f, mf, sj, j, mj);
    if (sf != PROTO_OK)
        return;
    if (strcmp(mf->byteorder, mj->byteorder) != 0 || f->content_type_len != j->content_type_len ||
        memcmp(mf->content_type, mj->content_type, f->content_type_len + 1) != 0 ||
        strcmp(mf->content_encoding, mj->content_encoding) != 0 || mf->is_json != mj->is_json ||
        mf->content_len != mj->content_len || memcmp(mf->content, mj->content, mf->content_len) != 0)
        decoders_differ("message fields", sf, f, mf, sj, j, mj);
}

static void print_request(const char *label, int rc, const proto_request *r)
{
    fprintf(stderr, "%s: returned %d, errstr \"%s\", value_state %d\n", label, rc, r->errstr, (int)r->value_state);
    if (rc == 0) {
        fuzz_print_bytes("  action", r->action, r->action_len);
        if (r->value_state == PROTO_VALUE_STRING)
            fuzz_print_bytes("  value", r->value, r->value_len);
    }
}

/* proto_request_parse and proto_request_parse_full on the same content. */
static void compare_requests(const void *content, size_t len, size_t max_memory)
{
    proto_request f, j;
    int rf = proto_request_parse(content, len, max_memory, &f);
    int rj = proto_request_parse_full(content, len, max_memory, &j);
    int same = rf == rj && strcmp(f.errstr, j.errstr) == 0;

    if (same && rf == 0)
        same = f.action_len == j.action_len && memcmp(f.action, j.action, j.action_len) == 0 &&
               f.value_state == j.value_state &&
               (j.value_state != PROTO_VALUE_STRING ||
                (f.value_len == j.value_len && memcmp(f.value, j.value, j.value_len) == 0));
    if (!same) {
        fuzz_print_bytes("content", content, len);
        print_request("fast path", rf, &f);
        print_request("jansson  ", rj, &j);
        fuzz_fail("the request parsers differ");
    }
    proto_request_free(&f);
    proto_request_free(&j);
}

/* The handler's answers to the same message with either parser. */
static void compare_answers(guide_wing *hf, const proto_message *mf, guide_wing *hj, const proto_message *mj)
{
    struct evbuffer *bf = evbuffer_new(), *bj = evbuffer_new();
    if (bf == NULL || bj == NULL)
        fuzz_fail("evbuffer_new failed");
    handler_outcome of = guide_answer(hf, mf, bf);
    handler_outcome oj = guide_answer(hj, mj, bj);
    size_t lf = evbuffer_get_length(bf), lj = evbuffer_get_length(bj);
    const unsigned char *af = evbuffer_pullup(bf, -1), *aj = evbuffer_pullup(bj, -1);

    if (of != oj || lf != lj || memcmp(af, aj, lf) != 0) {
        fuzz_print_bytes("request content", mf->content, mf->content_len);
        fprintf(stderr, "fast path: outcome %s\n", handler_outcome_name(of));
        fuzz_print_bytes("fast path: answer", af, lf);
        fprintf(stderr, "jansson:   outcome %s\n", handler_outcome_name(oj));
        fuzz_print_bytes("jansson:   answer", aj, lj);
        fuzz_fail("the handler's answers differ");
    }
    if (of == OUTCOME_NOMEM || lf == 0)
        fuzz_fail("no answer (outcome %s)", handler_outcome_name(of));
    evbuffer_free(bf);
    evbuffer_free(bj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    proto_limits lim;
    proto_decoder fast, full;
    handler_ctx fast_h = {.table = builtin, .full_parser_only = 0};
    handler_ctx jansson_h = {.table = builtin, .full_parser_only = 1};
    protocol_counters counters = {0};
    guide_wing *hf = guide_wing_new(&(protocol_env){.handler = &fast_h, .counters = &counters});
    guide_wing *hj = guide_wing_new(&(protocol_env){.handler = &jansson_h, .counters = &counters});
    if (hf == NULL || hj == NULL)
        fuzz_fail("out of memory");
    size_t fed = 0;
    int done = 0;

    fuzz_input_init(&in, data, size);
    uint8_t *framed = fuzz_frames(&in);
    fuzz_limits(in.flags, &lim);
    proto_decoder_init(&fast, &lim);
    proto_decoder_init(&full, &lim);
    full.full_parser_only = 1;
    do {
        size_t n = fuzz_input_fragment(&in, in.len - fed);
        if (proto_decoder_feed(&fast, in.stream + fed, n) != 0 || proto_decoder_feed(&full, in.stream + fed, n) != 0)
            fuzz_fail("feed failed");
        fed += n;
        while (!done) {
            proto_message mf, mj;
            proto_status sf = proto_decoder_next(&fast, &mf);
            proto_status sj = proto_decoder_next(&full, &mj);
            compare_decoders(sf, &fast, &mf, sj, &full, &mj);
            if (sf != PROTO_OK) {
                done = sf == PROTO_ERROR;
                break;
            }
            if (mf.is_json)
                compare_requests(mf.content, mf.content_len, mf.parse_memory);
            compare_answers(hf, &mf, hj, &mj);
        }
    } while (fed < in.len);

    /* the stream itself as a request's content */
    proto_message raw = {.byteorder = "little",
                         .content_type = "text/json",
                         .content_encoding = "utf-8",
                         .is_json = 1,
                         .content = in.stream,
                         .content_len = in.len,
                         .parse_memory = proto_parse_memory(lim.max_content)};
    compare_requests(in.stream, in.len, raw.parse_memory);
    compare_answers(hf, &raw, hj, &raw);

    proto_decoder_free(&fast);
    proto_decoder_free(&full);
    guide_wing_free(hf);
    guide_wing_free(hj);
    free(framed);
    return 0;
}

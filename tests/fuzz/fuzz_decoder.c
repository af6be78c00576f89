/*
 * fuzz_decoder.c: the decoder fed arbitrary bytes in arbitrary fragments.
 *
 * Input: see fuzz_common.h; flag bits 0-1 pick the limits, bit 2 turns the
 * header fast path off, bit 4 (FUZZ_FLAG_FRAMED) computes the protoheaders. Every message is drained and checked
 * against the bytes that were fed: messages lie back to back in the stream, each one's protoheader, header and content
 * are where the decoder says, the header's fields are those jansson reads from the same bytes, and the limits hold. A
 * failed decoder must stay failed with the same printable errstr. Each text/json message also goes through
 * proto_request_parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "proto.h"
#include "text.h"

#define JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* A header string field from jansson must be the decoder's, byte for byte
 * (got_len bytes, NUL-terminated). Returns jansson's value. */
static const json_t *check_header_string(const json_t *hdr, const char *key, const char *got, size_t got_len)
{
    json_t *v = json_object_get(hdr, key);
    if (!json_is_string(v))
        fuzz_fail("decoded a header whose '%s' jansson does not read as a string", key);
    if (json_string_length(v) != got_len || memcmp(json_string_value(v), got, got_len) != 0 || got[got_len] != '\0') {
        fuzz_print_bytes("jansson", json_string_value(v), json_string_length(v));
        fuzz_print_bytes("decoder", got, got_len);
        fuzz_fail("header '%s' differs from jansson's", key);
    }
    return v;
}

/* Whether jansson's string v is exactly s (NULs inside v count). */
static int json_string_is(const json_t *v, const char *s, int ignore_case)
{
    size_t n = strlen(s);
    return json_string_length(v) == n &&
           (ignore_case ? strncasecmp(json_string_value(v), s, n) : strncmp(json_string_value(v), s, n)) == 0;
}

/* Checks the request parse of a text/json message's content. */
static void check_request(const proto_message *m)
{
    proto_request req;
    int rc = proto_request_parse(m->content, m->content_len, m->parse_memory, &req);

    if (rc == 0) {
        if (req.errstr[0] != '\0')
            fuzz_fail("request parsed with errstr \"%s\"", req.errstr);
        if (req.action == NULL || !proto_utf8_valid(req.action, req.action_len))
            fuzz_fail("request action missing or not UTF-8");
        if (req.value_state == PROTO_VALUE_STRING) {
            if (req.value == NULL || !proto_utf8_valid(req.value, req.value_len))
                fuzz_fail("request value missing or not UTF-8");
        } else if (req.value_state != PROTO_VALUE_MISSING && req.value_state != PROTO_VALUE_NOT_STRING) {
            fuzz_fail("request value_state %d", (int)req.value_state);
        }
    } else if (rc == -1) {
        if (!fuzz_printable(req.errstr))
            fuzz_fail("request errstr empty or not printable");
        if (strncmp(req.errstr, "content is not valid JSON: ", 27) != 0 &&
            strcmp(req.errstr, "request content must be a JSON object") != 0 &&
            strcmp(req.errstr, "request lacks 'action'") != 0 && strcmp(req.errstr, "'action' must be a string") != 0)
            fuzz_fail("unexpected request errstr \"%s\"", req.errstr);
    } else {
        fuzz_fail("proto_request_parse returned %d", rc);
    }
    proto_request_free(&req);
    if (req.json != NULL)
        fuzz_fail("proto_request_free left the parse tree");
}

/* Checks message m, which ends `consumed` bytes into the stream; the
 * previous one ended at *last_end. */
static void check_message(const proto_decoder *d, const proto_message *m, const uint8_t *stream, size_t consumed,
                          size_t *last_end)
{
    size_t hl = d->hdr_len;

    if (m->content_len > d->limits.max_content)
        fuzz_fail("content of %zu bytes over the limit of %zu", m->content_len, d->limits.max_content);
    if (hl == 0 || hl > d->limits.max_header)
        fuzz_fail("header of %zu bytes, limit %zu", hl, d->limits.max_header);
    if (consumed < *last_end || consumed - *last_end != PROTO_PROTOHEADER_LEN + hl + m->content_len)
        fuzz_fail("message of %zu + %zu bytes ends at %zu, the previous at %zu", hl, m->content_len, consumed,
                  *last_end);
    const uint8_t *ph = stream + *last_end;
    if ((((size_t)ph[0] << 8) | ph[1]) != hl)
        fuzz_fail("protoheader does not say %zu", hl);
    /* the content lies in the decoder's buffer and is the stream's bytes */
    if (m->content_len > 0) {
        if (m->content < d->in.buf || m->content + m->content_len > d->in.buf + d->in.len)
            fuzz_fail("content outside the decoder's buffer");
        if (memcmp(m->content, stream + consumed - m->content_len, m->content_len) != 0)
            fuzz_fail("content is not the bytes fed");
    }
    if (m->byteorder == NULL || (strcmp(m->byteorder, "little") != 0 && strcmp(m->byteorder, "big") != 0))
        fuzz_fail("byteorder %s", m->byteorder ? m->byteorder : "(null)");
    if (m->content_type == NULL || m->content_encoding == NULL)
        fuzz_fail("content type or encoding missing");

    /* jansson, the authority, reads the same header to the same fields */
    json_error_t jerr;
    json_t *hdr = json_loadb((const char *)ph + PROTO_PROTOHEADER_LEN, hl, JSON_FLAGS, &jerr);
    if (!json_is_object(hdr))
        fuzz_fail("decoded a header jansson does not read as an object: %s", hdr ? "not an object" : jerr.text);
    /* the byteorder is "little" or "big", all of it (an escaped NUL and
     * more after it is neither) */
    const json_t *bo = check_header_string(hdr, "byteorder", m->byteorder, strlen(m->byteorder));
    if (!json_string_is(bo, "little", 0) && !json_string_is(bo, "big", 0))
        fuzz_fail("byteorder accepted although it is not \"little\" or \"big\"");
    check_header_string(hdr, "content-type", m->content_type, d->content_type_len);
    /* a C string: the encoding as far as its first NUL, which matters only
     * for text/json, checked below */
    const json_t *enc = json_object_get(hdr, "content-encoding");
    if (!json_is_string(enc) || strcmp(json_string_value(enc), m->content_encoding) != 0)
        fuzz_fail("content-encoding differs from jansson's");
    json_t *cl = json_object_get(hdr, "content-length");
    if (!json_is_integer(cl) || json_integer_value(cl) < 0 || (size_t)json_integer_value(cl) != m->content_len)
        fuzz_fail("content-length is not %zu for jansson", m->content_len);

    int text_json = d->content_type_len == 9 && memcmp(m->content_type, "text/json", 9) == 0;
    if (m->is_json != text_json)
        fuzz_fail("is_json %d for content type \"%s\"", m->is_json, m->content_type);
    if (m->is_json) {
        if (!json_string_is(enc, "utf-8", 1) && !json_string_is(enc, "utf8", 1)) {
            fuzz_print_bytes("content-encoding", json_string_value(enc), json_string_length(enc));
            fuzz_fail("text/json accepted with an encoding other than utf-8");
        }
        check_request(m);
    }
    json_decref(hdr);
    *last_end = consumed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    proto_limits lim;
    proto_decoder d;
    proto_message m;
    size_t fed = 0, last_end = 0, failed_buffered = 0;
    int failed = 0;
    char failed_errstr[PROTO_ERRSTR_LEN];
    proto_error failed_err = PROTO_ERR_NONE;

    fuzz_input_init(&in, data, size);
    uint8_t *framed = fuzz_frames(&in);
    fuzz_limits(in.flags, &lim);
    proto_decoder_init(&d, &lim);
    d.full_parser_only = (in.flags >> 2) & 1;
    do {
        size_t n = fuzz_input_fragment(&in, in.len - fed);
        if (proto_decoder_feed(&d, in.stream + fed, n) != 0)
            fuzz_fail("feed of %zu bytes failed: %s", n, d.errstr);
        fed += n;
        if (failed) {
            /* a failed decoder stays failed, and ignores what it is fed */
            if (proto_decoder_next(&d, &m) != PROTO_ERROR || d.err != failed_err ||
                strcmp(d.errstr, failed_errstr) != 0 || proto_decoder_buffered(&d) != failed_buffered)
                fuzz_fail("a failed decoder changed: %d \"%s\", was %d \"%s\"", (int)d.err, d.errstr, (int)failed_err,
                          failed_errstr);
            continue;
        }
        for (;;) {
            proto_status st = proto_decoder_next(&d, &m);
            size_t buffered = proto_decoder_buffered(&d);
            if (buffered > fed - last_end)
                fuzz_fail("%zu bytes buffered, %zu fed since the last message", buffered, fed - last_end);
            if (st == PROTO_OK) {
                check_message(&d, &m, in.stream, fed - buffered, &last_end);
                continue;
            }
            if (st == PROTO_NEED_MORE) {
                if (d.err != PROTO_ERR_NONE || d.errstr[0] != '\0')
                    fuzz_fail("need more, with error %d \"%s\"", (int)d.err, d.errstr);
                if (proto_decoder_in_message(&d) != (fed > last_end))
                    fuzz_fail("in_message %d with %zu bytes after the last message", proto_decoder_in_message(&d),
                              fed - last_end);
                break;
            }
            if (st != PROTO_ERROR)
                fuzz_fail("status %d", (int)st);
            if (d.err == PROTO_ERR_NONE || d.err == PROTO_ERR_CONTENT_JSON || d.err == PROTO_ERR_NOMEM)
                fuzz_fail("failed with error %d \"%s\"", (int)d.err, d.errstr);
            if (!fuzz_printable(d.errstr))
                fuzz_fail("errstr empty or not printable");
            failed = 1;
            failed_err = d.err;
            memcpy(failed_errstr, d.errstr, sizeof(failed_errstr));
            failed_buffered = buffered;
            break;
        }
    } while (fed < in.len);
    proto_decoder_free(&d);
    free(framed);
    return 0;
}

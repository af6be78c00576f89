/*
 * proto.c: the guide's codec, the decoder and encoder of the header+JSON
 * protocol (see proto.h). The byte buffers are buf.c's, the JSON writer
 * json_write.c's, the bound on a parse parse_cost.c's.
 *
 * The decoder keeps the bytes it was fed in one buffer and walks through a
 * message in three states: the 2-byte protoheader, the JSON header, the
 * content. Each length is checked against its limit as soon as it is known,
 * before any of its bytes are waited for.
 */
#include "proto.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_write.h"
#include "text.h"

/* Which part of a message the decoder is reading. */
enum {
    ST_PROTOHEADER = 0, /* waiting for the 2-byte header length */
    ST_HEADER,          /* waiting for hdr_len bytes of JSON header */
    ST_CONTENT,         /* waiting for body_len bytes of content */
};

/* Flags for every JSON parse of network bytes. */
#define PROTO_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* json_loadb for network bytes, if priced within max_memory; on failure,
 * jerr says why (the bound included). */
static json_t *json_loadb_bounded(const void *p, size_t n, size_t max_memory, json_error_t *jerr)
{
    if (proto_json_parse_cost(p, n) > max_memory) {
        memset(jerr, 0, sizeof(*jerr));
        snprintf(jerr->text, sizeof(jerr->text), "too complex to parse within %zu bytes of memory", max_memory);
        return NULL;
    }
    return json_loadb(p, n, PROTO_JSON_FLAGS, jerr);
}

/* Copies a printable-ASCII rendering of fmt into out: error strings carry
 * fragments of client input (jansson quotes the bytes near an error), and
 * they go back to the client inside JSON and into logs. */
static void errstr_format(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    for (char *p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c >= 0x7f)
            *p = '?';
    }
}

static proto_status decoder_fail(proto_decoder *d, proto_error err, const char *fmt, ...)
{
    va_list ap;
    char tmp[PROTO_ERRSTR_LEN];
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    errstr_format(d->errstr, sizeof(d->errstr), "%s", tmp);
    d->err = err;
    return PROTO_ERROR;
}

void proto_decoder_init(proto_decoder *d, const proto_limits *limits)
{
    memset(d, 0, sizeof(*d));
    d->limits.max_header = limits ? limits->max_header : PROTO_DEFAULT_MAX_HEADER;
    d->limits.max_content = limits ? limits->max_content : PROTO_DEFAULT_MAX_CONTENT;
    if (d->limits.max_header > 65535)
        d->limits.max_header = 65535;
    d->state = ST_PROTOHEADER;
}

void proto_decoder_free(proto_decoder *d)
{
    free(d->in.buf);
    json_decref(d->header);
    memset(d, 0, sizeof(*d));
}

void *proto_decoder_reserve(proto_decoder *d, size_t len)
{
    /* Consumed bytes are dropped first; the last message's content goes
     * with them, as proto.h warns. */
    unsigned char *p = proto_inbuf_reserve(&d->in, len);
    if (p == NULL)
        decoder_fail(d, PROTO_ERR_NOMEM, "out of memory");
    return p;
}

void proto_decoder_commit(proto_decoder *d, size_t len)
{
    d->in.len += len;
}

size_t proto_decoder_space(const proto_decoder *d)
{
    return d->in.cap - d->in.len;
}

void proto_decoder_release(proto_decoder *d)
{
    proto_inbuf_release(&d->in);
}

int proto_decoder_feed(proto_decoder *d, const void *buf, size_t len)
{
    if (d->err)
        return 0; /* a failed decoder ignores further input */
    if (proto_inbuf_append(&d->in, buf, len) != 0) {
        decoder_fail(d, PROTO_ERR_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

size_t proto_decoder_buffered(const proto_decoder *d)
{
    return d->in.len - d->in.pos;
}

int proto_decoder_in_message(const proto_decoder *d)
{
    return d->state != ST_PROTOHEADER || d->in.len > d->in.pos;
}

/* Reads a required string key from the parsed header into *out. */
static proto_status header_string(proto_decoder *d, const char *key, const char **out, size_t *len)
{
    json_t *v = json_object_get(d->header, key);
    /* Defined on every path: gcc 12 at -O3 cannot see that a failure
     * leaves the caller without using them (-Wmaybe-uninitialized). */
    *out = NULL;
    if (len)
        *len = 0;
    if (v == NULL)
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header lacks required key '%s'", key);
    if (!json_is_string(v))
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header key '%s' must be a string", key);
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return PROTO_OK;
}

/* Whether enc (len bytes: jansson's strings may hold NULs) names UTF-8. */
static int encoding_is_utf8(const char *enc, size_t len)
{
    return (len == 5 && strncasecmp(enc, "utf-8", 5) == 0) || (len == 4 && strncasecmp(enc, "utf8", 4) == 0);
}

/* The checks every header goes through once its fields are known, however
 * it was read: the content-length limit, then the encoding of JSON. */
static proto_status header_check(proto_decoder *d, json_int_t content_length, size_t encoding_len)
{
    if ((unsigned long long)content_length > (unsigned long long)d->limits.max_content)
        return decoder_fail(d, PROTO_ERR_CONTENT_TOO_LONG, "content-length %lld exceeds the limit of %zu bytes",
                            (long long)content_length, d->limits.max_content);
    if (d->content_type_len == 9 && memcmp(d->content_type, "text/json", 9) == 0 &&
        !encoding_is_utf8(d->content_encoding, encoding_len))
        return decoder_fail(d, PROTO_ERR_ENCODING, "unsupported content-encoding '%.40s' for text/json (use utf-8)",
                            d->content_encoding);
    d->body_len = (size_t)content_length;
    return PROTO_OK;
}

/* Reads the header with jansson and validates it, in the reference
 * server's order of checks. */
static proto_status header_parse_full(proto_decoder *d, const unsigned char *p, size_t n)
{
    json_error_t jerr;
    const char *byteorder;
    size_t byteorder_len, encoding_len;

    d->header = json_loadb_bounded(p, n, proto_parse_memory(d->limits.max_header), &jerr);
    if (d->header == NULL)
        return decoder_fail(d, PROTO_ERR_HEADER_JSON, "header is not valid JSON: %s", jerr.text);
    if (!json_is_object(d->header))
        return decoder_fail(d, PROTO_ERR_HEADER_NOT_OBJECT, "header is not a JSON object");
    if (header_string(d, "byteorder", &byteorder, &byteorder_len) != PROTO_OK)
        return PROTO_ERROR;
    json_t *cl = json_object_get(d->header, "content-length");
    if (cl == NULL)
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header lacks required key 'content-length'");
    if (header_string(d, "content-type", &d->content_type, &d->content_type_len) != PROTO_OK ||
        header_string(d, "content-encoding", &d->content_encoding, &encoding_len) != PROTO_OK)
        return PROTO_ERROR;
    /* lengths too: "little\u0000x" is not "little" */
    if (!(byteorder_len == 6 && memcmp(byteorder, "little", 6) == 0) &&
        !(byteorder_len == 3 && memcmp(byteorder, "big", 3) == 0))
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header key 'byteorder' must be \"little\" or \"big\"");
    d->byteorder = byteorder;
    /* jansson hands integers over as json_int_t (signed 64-bit): compare
     * before converting, so no negative or huge value reaches size_t. */
    if (!json_is_integer(cl) || json_integer_value(cl) < 0)
        return decoder_fail(d, PROTO_ERR_CONTENT_LENGTH, "'content-length' must be a non-negative integer");
    return header_check(d, json_integer_value(cl), encoding_len);
}

/* Matches the literal lit at *p (advancing it). */
static int fast_lit(const unsigned char **p, const unsigned char *end, const char *lit, size_t n)
{
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* Copies a plain string (printable ASCII, no quote or backslash) ending at
 * the next '"' into out. */
static int fast_string(const unsigned char **p, const unsigned char *end, char *out, size_t *outlen)
{
    size_t n = 0;
    const unsigned char *q = *p;
    while (q < end && *q != '"') {
        if (*q < 0x20 || *q > 0x7e || *q == '\\' || n == PROTO_FAST_STRING_MAX)
            return 0;
        out[n++] = (char)*q++;
    }
    if (q == end)
        return 0;
    out[n] = '\0';
    *outlen = n;
    *p = q;
    return 1;
}

/* The header fast path: the exact layout the reference client writes,
 *   {"byteorder": "little", "content-type": "T", "content-encoding": "E", "content-length": N}
 * with T and E printable ASCII without quotes or backslashes and N at most
 * 18 digits without a leading zero, is read without jansson. jansson would
 * build the same four values from those bytes, so the checks that follow
 * (header_check) give the same result; anything else, valid or not, goes
 * through header_parse_full. Returns 1 if the header was read here. */
static int header_parse_fast(proto_decoder *d, const unsigned char *p, size_t n, json_int_t *content_length,
                             size_t *encoding_len)
{
#define FAST_LIT(s) fast_lit(&p, end, s, sizeof(s) - 1)
    const unsigned char *end = p + n;
    size_t enc_len, digits = 0;
    json_int_t cl = 0;

    if (!FAST_LIT("{\"byteorder\": \""))
        return 0;
    if (FAST_LIT("little"))
        d->byteorder = "little";
    else if (FAST_LIT("big"))
        d->byteorder = "big";
    else
        return 0;
    if (!FAST_LIT("\", \"content-type\": \"") || !fast_string(&p, end, d->fast_type, &d->content_type_len) ||
        !FAST_LIT("\", \"content-encoding\": \"") || !fast_string(&p, end, d->fast_encoding, &enc_len) ||
        !FAST_LIT("\", \"content-length\": "))
        return 0;
    if (p + 1 < end && p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return 0; /* a leading zero: invalid JSON, for jansson to say so */
    while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
        cl = cl * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || !FAST_LIT("}") || p != end)
        return 0;
    d->content_type = d->fast_type;
    d->content_encoding = d->fast_encoding;
    *content_length = cl;
    *encoding_len = enc_len;
    return 1;
#undef FAST_LIT
}

/* Fills msg from the current header and the content at d->in.buf + d->in.pos. */
static void message_fill(proto_decoder *d, proto_message *msg)
{
    msg->byteorder = d->byteorder;
    msg->content_type = d->content_type;
    msg->content_encoding = d->content_encoding;
    msg->is_json = d->content_type_len == 9 && memcmp(d->content_type, "text/json", 9) == 0;
    msg->content = d->in.buf + d->in.pos;
    msg->content_len = d->body_len;
    msg->parse_memory = proto_parse_memory(d->limits.max_content);
}

proto_status proto_decoder_next(proto_decoder *d, proto_message *msg)
{
    if (d->err)
        return PROTO_ERROR;
    /* Release what the previous message lent out. */
    if (d->state == ST_PROTOHEADER && d->header) {
        json_decref(d->header);
        d->header = NULL;
    }

    for (;;) {
        size_t avail = d->in.len - d->in.pos;
        switch (d->state) {
        case ST_PROTOHEADER:
            if (avail < PROTO_PROTOHEADER_LEN)
                return PROTO_NEED_MORE;
            d->hdr_len = ((size_t)d->in.buf[d->in.pos] << 8) | d->in.buf[d->in.pos + 1];
            if (d->hdr_len > d->limits.max_header)
                return decoder_fail(d, PROTO_ERR_HEADER_TOO_LONG, "header length %zu exceeds the limit of %zu bytes",
                                    d->hdr_len, d->limits.max_header);
            if (d->hdr_len == 0)
                return decoder_fail(d, PROTO_ERR_HEADER_JSON, "header is empty (length 0)");
            d->in.pos += PROTO_PROTOHEADER_LEN;
            d->state = ST_HEADER;
            break;
        case ST_HEADER: {
            if (avail < d->hdr_len)
                return PROTO_NEED_MORE;
            const unsigned char *p = d->in.buf + d->in.pos;
            json_int_t cl;
            size_t enc_len;
            proto_status st = !d->full_parser_only && header_parse_fast(d, p, d->hdr_len, &cl, &enc_len)
                                  ? header_check(d, cl, enc_len)
                                  : header_parse_full(d, p, d->hdr_len);
            if (st != PROTO_OK)
                return PROTO_ERROR;
            d->in.pos += d->hdr_len;
            d->state = ST_CONTENT;
            break;
        }
        case ST_CONTENT:
            if (avail < d->body_len)
                return PROTO_NEED_MORE;
            message_fill(d, msg);
            d->in.pos += d->body_len;
            d->state = ST_PROTOHEADER;
            return PROTO_OK;
        }
    }
}

/* ---- requests ---- */

void proto_request_free(proto_request *req)
{
    json_decref(req->json);
    req->json = NULL;
}

int proto_request_parse_full(const void *content, size_t len, size_t max_memory, proto_request *req)
{
    json_error_t jerr;
    json_t *action, *value;

    memset(req, 0, sizeof(*req));
    req->json = json_loadb_bounded(content, len, max_memory, &jerr);
    if (req->json == NULL) {
        errstr_format(req->errstr, sizeof(req->errstr), "content is not valid JSON: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(req->json)) {
        errstr_format(req->errstr, sizeof(req->errstr), "request content must be a JSON object");
        return -1;
    }
    action = json_object_get(req->json, "action");
    if (action == NULL || !json_is_string(action)) {
        errstr_format(req->errstr, sizeof(req->errstr), "%s",
                      action ? "'action' must be a string" : "request lacks 'action'");
        return -1;
    }
    req->action = json_string_value(action);
    req->action_len = json_string_length(action);
    value = json_object_get(req->json, "value");
    if (value == NULL) {
        req->value_state = PROTO_VALUE_MISSING;
    } else if (!json_is_string(value)) {
        req->value_state = PROTO_VALUE_NOT_STRING;
    } else {
        req->value = json_string_value(value);
        req->value_len = json_string_length(value);
    }
    return 0;
}

/* A plain JSON string's body at *p, up to the closing quote: bytes from
 * 0x20 up, valid UTF-8, no backslash, so that the body is the string's
 * value as it is. */
static int plain_string(const unsigned char **p, const unsigned char *end, const char **s, size_t *n)
{
    const unsigned char *q = *p;
    while (q < end && *q != '"') {
        if (*q < 0x80) {
            if (*q < 0x20 || *q == '\\')
                return 0;
            q++;
        } else {
            size_t k = proto_utf8_span((const char *)q, (size_t)(end - q));
            if (k == 0)
                return 0;
            q += k;
        }
    }
    if (q == end)
        return 0;
    *s = (const char *)*p;
    *n = (size_t)(q - *p);
    *p = q;
    return 1;
}

int proto_request_parse(const void *content, size_t len, size_t max_memory, proto_request *req)
{
#define FAST_LIT(s) fast_lit(&p, end, s, sizeof(s) - 1)
    /* The fast path: exactly {"action": "A", "value": "V"} as the reference
     * client writes it, A and V plain strings (see plain_string). jansson
     * would give the same two strings; anything else goes to jansson. */
    const unsigned char *p = content, *end = p + len;

    memset(req, 0, sizeof(*req));
    if (FAST_LIT("{\"action\": \"") && plain_string(&p, end, &req->action, &req->action_len) &&
        FAST_LIT("\", \"value\": \"") && plain_string(&p, end, &req->value, &req->value_len) && FAST_LIT("\"}") &&
        p == end)
        return 0;
    return proto_request_parse_full(content, len, max_memory, req);
#undef FAST_LIT
}

#define BUF_LIT(b, s) proto_buf_append((b), (s), sizeof(s) - 1)

const char *proto_host_byteorder(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one ? "little" : "big";
}

/* Whether s can go between JSON quotes as it is. */
static int plain_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

int proto_encode_header(proto_buf *b, const char *content_type, const char *content_encoding, size_t content_length)
{
    size_t start = b->len, tl = strlen(content_type), el = strlen(content_encoding);
    const char *bo = proto_host_byteorder();
    size_t bl = strlen(bo);
    char num[24], digits[24];
    size_t nl = 0, hlen;

    do { /* the length, in decimal */
        digits[nl++] = (char)('0' + content_length % 10);
        content_length /= 10;
    } while (content_length);
    for (size_t i = 0; i < nl; i++)
        num[i] = digits[nl - 1 - i];

    if (plain_ascii(content_type, tl) && plain_ascii(content_encoding, el)) {
        /* Every answer evkv sends: no escaping needed, one copy each. */
        hlen = sizeof("{\"byteorder\": \"") - 1 + bl + sizeof("\", \"content-type\": \"") - 1 + tl +
               sizeof("\", \"content-encoding\": \"") - 1 + el + sizeof("\", \"content-length\": ") - 1 + nl + 1;
        char *p = proto_buf_reserve(b, PROTO_PROTOHEADER_LEN + hlen);
        if (p == NULL || hlen > 65535)
            return -1;
        *p++ = (char)(hlen >> 8);
        *p++ = (char)(hlen & 0xff);
        PUT(p, "{\"byteorder\": \"");
        memcpy(p, bo, bl);
        p += bl;
        PUT(p, "\", \"content-type\": \"");
        memcpy(p, content_type, tl);
        p += tl;
        PUT(p, "\", \"content-encoding\": \"");
        memcpy(p, content_encoding, el);
        p += el;
        PUT(p, "\", \"content-length\": ");
        memcpy(p, num, nl);
        p += nl;
        *p = '}';
        b->len += PROTO_PROTOHEADER_LEN + hlen;
        return 0;
    }
    BUF_LIT(b, "\0\0{\"byteorder\": \"");
    proto_buf_append(b, bo, bl);
    BUF_LIT(b, "\", \"content-type\": ");
    proto_dump_string(b, content_type, tl);
    BUF_LIT(b, ", \"content-encoding\": ");
    proto_dump_string(b, content_encoding, el);
    BUF_LIT(b, ", \"content-length\": ");
    proto_buf_append(b, num, nl);
    BUF_LIT(b, "}");
    if (b->failed)
        return -1;
    hlen = b->len - start - PROTO_PROTOHEADER_LEN;
    if (hlen > 65535) {
        b->len = start;
        return -1;
    }
    b->data[start] = (char)(hlen >> 8);
    b->data[start + 1] = (char)(hlen & 0xff);
    return 0;
}

int proto_encode_message(proto_buf *b, const char *content_type, const char *content_encoding, const void *content,
                         size_t content_len)
{
    if (proto_encode_header(b, content_type, content_encoding, content_len) != 0)
        return -1;
    return proto_buf_append(b, content, content_len);
}

int proto_encode_request(proto_buf *b, const char *action, size_t action_len, const char *value, size_t value_len)
{
    proto_buf content = {0};
    int rc = -1;

    BUF_LIT(&content, "{\"action\": ");
    proto_dump_string(&content, action, action_len);
    BUF_LIT(&content, ", \"value\": ");
    proto_dump_string(&content, value, value_len);
    BUF_LIT(&content, "}");
    if (!content.failed)
        rc = proto_encode_message(b, "text/json", "utf-8", content.data, content.len);
    proto_buf_free(&content);
    return rc;
}

/*
 * proto.c: the evkv wire protocol decoder and encoder (see proto.h).
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

/* Which part of a message the decoder is reading. */
enum {
    ST_PROTOHEADER = 0, /* waiting for the 2-byte header length */
    ST_HEADER,          /* waiting for hdr_len bytes of JSON header */
    ST_CONTENT,         /* waiting for body_len bytes of content */
};

static size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Flags for every JSON parse of network bytes. */
#define PROTO_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* ---- a bound on what parsing one message may allocate ----
 *
 * jansson builds a tree many times the size of its input for some shapes
 * (an array of empty objects takes over 80 bytes per input byte). It cannot
 * be refused memory halfway through a parse (its lexer then goes on with a
 * buffer it failed to grow), so the bound is checked before it runs: one
 * pass over the bytes prices what jansson would allocate at most for them
 * (proto_json_parse_cost), and a message priced over its budget
 * (proto_parse_memory of the largest message the limits allow) is refused
 * without being parsed. The prices are generous upper bounds of jansson
 * 2.14's allocations; tests/unit/test_parse_cost.c checks them against what
 * jansson really holds at its peak. */
#define COST_BASE     1024 /* the parse itself: lexer buffer, error text */
#define COST_OBJECT   512  /* '{': the object, its first hashtable */
#define COST_ARRAY    256  /* '[': the array, its first table of 8 slots */
#define COST_MEMBER   192  /* ',' in an object: a pair, and the hashtable's growth */
#define COST_SLOT     32   /* ',' in an array: a slot, and the table's growth (old and new) */
#define COST_TOKEN    96   /* a string, number or literal */
#define COST_PER_BYTE 5    /* a string's bytes: lexer buffer growth (old + new), copy */
/* The depth to which a ',' is known to be in an array: jansson stops at
 * JSON_PARSER_MAX_DEPTH; deeper, a ',' is priced as an object's. */
#define COST_DEPTH 2048

size_t proto_json_parse_cost(const void *data, size_t n)
{
    const unsigned char *p = data, *end = p + n;
    size_t cost = COST_BASE, depth = 0;
    unsigned char in_array[COST_DEPTH / 8] = {0}; /* a bit per open container: 1 for an array */

    while (p < end) {
        unsigned char c = *p++;
        switch (c) {
        case '{':
        case '[':
            cost += c == '{' ? COST_OBJECT : COST_ARRAY;
            if (depth < COST_DEPTH) {
                in_array[depth / 8] &= (unsigned char)~(1u << depth % 8);
                in_array[depth / 8] |= (unsigned char)((c == '[') << depth % 8);
            }
            depth++;
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
            if (depth > 0 && depth <= COST_DEPTH && (in_array[(depth - 1) / 8] >> ((depth - 1) % 8) & 1))
                cost += COST_SLOT;
            else
                cost += COST_MEMBER;
            break;
        case '"': {
            const unsigned char *start = p;
            while (p < end && *p != '"')
                p += (*p == '\\' && p + 1 < end) ? 2 : 1;
            cost += COST_TOKEN + COST_PER_BYTE * (size_t)(p - start);
            p++;
            break;
        }
        default:
            if ((c >= '0' && c <= '9') || c == '-' || (c >= 'a' && c <= 'z')) {
                cost += COST_TOKEN;
                while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '.' || *p == '+' ||
                                   *p == '-' || *p == 'E'))
                    p++;
            }
        }
    }
    return cost;
}

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

unsigned char *proto_inbuf_reserve(proto_inbuf *in, size_t len)
{
    if (in->pos > 0) {
        memmove(in->buf, in->buf + in->pos, in->len - in->pos);
        in->len -= in->pos;
        in->pos = 0;
    }
    if (in->buf == NULL || in->cap - in->len < len) { /* reserve(0) gets a buffer too */
        size_t want = in->cap ? in->cap : 4096;
        while (want - in->len < len) {
            if (want > SIZE_MAX / 2)
                return NULL;
            want *= 2;
        }
        unsigned char *nb = realloc(in->buf, want);
        if (nb == NULL)
            return NULL;
        in->buf = nb;
        in->cap = want;
    }
    return in->buf + in->len;
}

int proto_inbuf_append(proto_inbuf *in, const void *buf, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char *space = proto_inbuf_reserve(in, len);
    if (space == NULL)
        return -1;
    memcpy(space, buf, len);
    in->len += len;
    return 0;
}

void proto_inbuf_release(proto_inbuf *in)
{
    if (in->len == in->pos) {
        free(in->buf);
        memset(in, 0, sizeof(*in));
    }
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
            size_t k = utf8_seq_len(q, (size_t)(end - q));
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

/* ---- encoder ---- */

/* Makes room for len more bytes. Returns where they go, or NULL (and the
 * buffer is failed) when out of memory. */
static char *buf_reserve(proto_buf *b, size_t len)
{
    if (b->failed)
        return NULL;
    if (b->cap - b->len < len) {
        size_t want = b->cap ? b->cap : 256;
        while (want - b->len < len) {
            if (want > SIZE_MAX / 2)
                goto fail;
            want *= 2;
        }
        char *nd = realloc(b->data, want);
        if (nd == NULL)
            goto fail;
        b->data = nd;
        b->cap = want;
    }
    return b->data + b->len;
fail:
    b->failed = 1;
    return NULL;
}

int proto_buf_append(proto_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return b->failed ? -1 : 0; /* nothing to hold: a fresh buffer has no room yet, and needs none */
    char *p = buf_reserve(b, len);
    if (p == NULL)
        return -1;
    if (len)
        memcpy(p, data, len);
    b->len += len;
    return 0;
}

void proto_buf_reset(proto_buf *b)
{
    b->len = 0;
    b->failed = 0;
}

void proto_buf_free(proto_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

#define BUF_LIT(b, s) proto_buf_append((b), (s), sizeof(s) - 1)

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t proto_utf8_span(const char *s, size_t len)
{
    return len ? utf8_seq_len((const unsigned char *)s, len) : 0;
}

/* Eight bytes at a time: a word is plain when no byte has its top bit set,
 * is below 0x20, or equals '"' or '\\' (the classic "has a zero byte"
 * test, on the word and on its xor with each special byte). */
#define ONES        UINT64_C(0x0101010101010101)
#define HIGHS       UINT64_C(0x8080808080808080)
#define HAS_ZERO(v) (((v)-ONES) & ~(v)&HIGHS)

size_t proto_plain_span(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if ((w & HIGHS) || (((w - ONES * 0x20) & ~w & HIGHS)) || HAS_ZERO(w ^ (ONES * '"')) ||
            HAS_ZERO(w ^ (ONES * '\\')) || HAS_ZERO(w ^ (ONES * 0x7f)))
            break;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            break;
    }
    return i;
}

int proto_json_safe(const char *s, size_t len)
{
    size_t i = 0;
    while ((i += proto_plain_span(s + i, len - i)) < len) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        if (c < 0x80 || (k = utf8_seq_len((const unsigned char *)s + i, len - i)) == 0)
            return 0; /* a control character, '"', '\\', DEL (safe, but rare) or not UTF-8 */
        i += k;
    }
    return 1;
}

int proto_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int proto_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        if (i + 8 <= len && (memcpy(&w, p + i, 8), (w & HIGHS) == 0)) {
            i += 8; /* eight ASCII bytes */
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int proto_dump_string(proto_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes copied as they are */

    BUF_LIT(b, "\"");
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        char esc[6];
        size_t esclen = 2, n = 1;

        if (c >= 0x20 && c != '"' && c != '\\') {
            if (c < 0x80 || (n = utf8_seq_len(p + i, len - i)) != 0) {
                i += n;
                continue;
            }
            n = 1; /* not UTF-8: written as U+FFFD, as Python's "replace" */
        }
        proto_buf_append(b, s + run, i - run);
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xf];
                esclen = 6;
            } else {
                memcpy(esc, "\xef\xbf\xbd", 3);
                esclen = 3;
            }
        }
        proto_buf_append(b, esc, esclen);
        i += n;
        run = i;
    }
    proto_buf_append(b, s + run, len - run);
    BUF_LIT(b, "\"");
    return b->failed ? -1 : 0;
}

/* Whether the decimal digits[0..n) x 10^exp10 (one digit before the point)
 * reads back as v. */
static int digits_round_trip(const char *digits, int n, int exp10, double v)
{
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%c.%.*se%d", digits[0], n - 1, digits + 1, exp10);
    return strtod(tmp, NULL) == fabs(v);
}

/* Finds the shortest digits that read back as v (> 0), as Python's repr
 * does (David Gay's shortest mode). At each length the correctly rounded
 * digits are tried first; when v lies on a tie or next to the edge of its
 * rounding interval they may miss it while their neighbour one unit in the
 * last place above or below hits it, so those are tried too. Returns the
 * number of digits; *exp10 is the exponent of the first one. */
static int shortest_digits(double v, char digits[20], int *exp10)
{
    char tmp[40];
    for (int n = 1; n <= 17; n++) {
        snprintf(tmp, sizeof(tmp), "%.*e", n - 1, v);
        /* tmp is d[.ddd]e[+-]XX */
        int k = 0;
        const char *p = tmp;
        for (; *p != 'e'; p++)
            if (*p != '.')
                digits[k++] = *p;
        int e = atoi(p + 1);
        if (digits_round_trip(digits, n, e, v)) {
            *exp10 = e;
            return n;
        }
        for (int dir = 1; dir >= -1; dir -= 2) {
            char d[20];
            int de = e, i = n - 1;
            memcpy(d, digits, (size_t)n);
            while (i >= 0) { /* add or take one unit in the last place */
                if (dir > 0 && d[i] == '9') {
                    d[i--] = '0';
                } else if (dir < 0 && d[i] == '0') {
                    d[i--] = '9';
                } else {
                    d[i] += (char)dir;
                    break;
                }
            }
            if (i < 0 && dir > 0) { /* 99..9 + 1 = 100..0 */
                d[0] = '1';
                de++;
            }
            if (i < 0 || d[0] == '0')
                continue; /* a shorter candidate, already tried */
            if (digits_round_trip(d, n, de, v)) {
                memcpy(digits, d, (size_t)n);
                *exp10 = de;
                return n;
            }
        }
    }
    snprintf(tmp, sizeof(tmp), "%.16e", v); /* unreachable: 17 digits always round-trip */
    digits[0] = tmp[0];
    memcpy(digits + 1, tmp + 2, 16);
    *exp10 = atoi(tmp + 19);
    return 17;
}

/* Writes v as Python's repr(float): the shortest digits that read back as
 * the same double, in fixed notation for exponents -4..15, else d.ddde+XX. */
static void dump_real(proto_buf *b, double v)
{
    char digits[20], out[48];
    int exp10, ndig;
    size_t o = 0;

    if (v == 0) {
        if (signbit(v))
            BUF_LIT(b, "-0.0");
        else
            BUF_LIT(b, "0.0");
        return;
    }
    if (v < 0)
        out[o++] = '-';
    ndig = shortest_digits(fabs(v), digits, &exp10);
    while (ndig > 1 && digits[ndig - 1] == '0')
        ndig--;

    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            memcpy(out + o, "0.", 2);
            o += 2;
            for (int i = 0; i < -exp10 - 1; i++)
                out[o++] = '0';
            memcpy(out + o, digits, (size_t)ndig);
            o += (size_t)ndig;
        } else {
            for (int i = 0; i <= exp10; i++)
                out[o++] = i < ndig ? digits[i] : '0';
            out[o++] = '.';
            if (ndig > exp10 + 1) {
                memcpy(out + o, digits + exp10 + 1, (size_t)(ndig - exp10 - 1));
                o += (size_t)(ndig - exp10 - 1);
            } else {
                out[o++] = '0';
            }
        }
    } else {
        out[o++] = digits[0];
        if (ndig > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)(ndig - 1));
            o += (size_t)(ndig - 1);
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    proto_buf_append(b, out, o);
}

int proto_dump_json(proto_buf *b, const json_t *v)
{
    char num[32];

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int first = 1;
        BUF_LIT(b, "{");
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                BUF_LIT(b, ", ");
            first = 0;
            proto_dump_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
            BUF_LIT(b, ": ");
            proto_dump_json(b, json_object_iter_value(it));
        }
        BUF_LIT(b, "}");
        break;
    }
    case JSON_ARRAY:
        BUF_LIT(b, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                BUF_LIT(b, ", ");
            proto_dump_json(b, json_array_get(v, i));
        }
        BUF_LIT(b, "]");
        break;
    case JSON_STRING: proto_dump_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
        proto_buf_append(b, num, (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        break;
    case JSON_REAL: dump_real(b, json_real_value(v)); break;
    case JSON_TRUE: BUF_LIT(b, "true"); break;
    case JSON_FALSE: BUF_LIT(b, "false"); break;
    case JSON_NULL: BUF_LIT(b, "null"); break;
    }
    return b->failed ? -1 : 0;
}

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
        char *p = buf_reserve(b, PROTO_PROTOHEADER_LEN + hlen);
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

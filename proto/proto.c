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

/* Flags for every JSON parse of network bytes. */
#define PROTO_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

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
    free(d->buf);
    json_decref(d->header);
    json_decref(d->json);
    memset(d, 0, sizeof(*d));
}

int proto_decoder_feed(proto_decoder *d, const void *buf, size_t len)
{
    if (d->err)
        return 0; /* a failed decoder ignores further input */
    if (len == 0)
        return 0;
    /* Drop consumed bytes first; the last message's content goes with them,
     * as proto.h warns. */
    if (d->pos > 0) {
        memmove(d->buf, d->buf + d->pos, d->len - d->pos);
        d->len -= d->pos;
        d->pos = 0;
    }
    if (d->cap - d->len < len) {
        size_t want = d->cap ? d->cap : 4096;
        while (want - d->len < len) {
            if (want > SIZE_MAX / 2) {
                decoder_fail(d, PROTO_ERR_NOMEM, "out of memory");
                return -1;
            }
            want *= 2;
        }
        unsigned char *nb = realloc(d->buf, want);
        if (nb == NULL) {
            decoder_fail(d, PROTO_ERR_NOMEM, "out of memory");
            return -1;
        }
        d->buf = nb;
        d->cap = want;
    }
    memcpy(d->buf + d->len, buf, len);
    d->len += len;
    return 0;
}

size_t proto_decoder_buffered(const proto_decoder *d)
{
    return d->len - d->pos;
}

int proto_decoder_in_message(const proto_decoder *d)
{
    return d->state != ST_PROTOHEADER || d->len > d->pos;
}

/* Reads a required string key from the header into *out. */
static proto_status header_string(proto_decoder *d, const char *key, const char **out)
{
    json_t *v = json_object_get(d->header, key);
    if (v == NULL)
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header lacks required key '%s'", key);
    if (!json_is_string(v))
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header key '%s' must be a string", key);
    *out = json_string_value(v);
    return PROTO_OK;
}

static int encoding_is_utf8(const char *enc)
{
    return strcasecmp(enc, "utf-8") == 0 || strcasecmp(enc, "utf8") == 0;
}

/* Validates the parsed header of the message being read and sets body_len.
 * The key order follows the reference server's checks. */
static proto_status header_validate(proto_decoder *d)
{
    const char *byteorder, *type, *encoding;

    if (!json_is_object(d->header))
        return decoder_fail(d, PROTO_ERR_HEADER_NOT_OBJECT, "header is not a JSON object");
    if (header_string(d, "byteorder", &byteorder) != PROTO_OK)
        return PROTO_ERROR;

    json_t *cl = json_object_get(d->header, "content-length");
    if (cl == NULL)
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header lacks required key 'content-length'");
    if (header_string(d, "content-type", &type) != PROTO_OK ||
        header_string(d, "content-encoding", &encoding) != PROTO_OK)
        return PROTO_ERROR;
    if (strcmp(byteorder, "little") != 0 && strcmp(byteorder, "big") != 0)
        return decoder_fail(d, PROTO_ERR_HEADER_KEY, "header key 'byteorder' must be \"little\" or \"big\"");

    /* jansson hands integers over as json_int_t (signed 64-bit): compare
     * before converting, so no negative or huge value reaches size_t. */
    if (!json_is_integer(cl) || json_integer_value(cl) < 0)
        return decoder_fail(d, PROTO_ERR_CONTENT_LENGTH, "'content-length' must be a non-negative integer");
    json_int_t n = json_integer_value(cl);
    if ((unsigned long long)n > (unsigned long long)d->limits.max_content)
        return decoder_fail(d, PROTO_ERR_CONTENT_TOO_LONG, "content-length %lld exceeds the limit of %zu bytes",
                            (long long)n, d->limits.max_content);
    if (strcmp(type, "text/json") == 0 && json_string_length(json_object_get(d->header, "content-type")) == 9 &&
        !encoding_is_utf8(encoding))
        return decoder_fail(d, PROTO_ERR_ENCODING, "unsupported content-encoding '%.40s' for text/json (use utf-8)",
                            encoding);
    d->body_len = (size_t)n;
    return PROTO_OK;
}

/* Fills msg from the current header and the content at d->buf + d->pos. */
static void message_fill(proto_decoder *d, proto_message *msg)
{
    json_t *ct = json_object_get(d->header, "content-type");

    memset(msg, 0, sizeof(*msg));
    msg->header = d->header;
    msg->byteorder = json_string_value(json_object_get(d->header, "byteorder"));
    msg->content_type = json_string_value(ct);
    msg->content_encoding = json_string_value(json_object_get(d->header, "content-encoding"));
    msg->is_json = json_string_length(ct) == 9 && memcmp(msg->content_type, "text/json", 9) == 0;
    msg->content = d->buf + d->pos;
    msg->content_len = d->body_len;
    if (msg->is_json) {
        json_error_t jerr;
        d->json = json_loadb((const char *)msg->content, msg->content_len, PROTO_JSON_FLAGS, &jerr);
        if (d->json == NULL) {
            msg->content_error = PROTO_ERR_CONTENT_JSON;
            errstr_format(msg->content_errstr, sizeof(msg->content_errstr), "content is not valid JSON: %s", jerr.text);
        }
        msg->json = d->json;
    }
}

proto_status proto_decoder_next(proto_decoder *d, proto_message *msg)
{
    if (d->err)
        return PROTO_ERROR;
    /* Release what the previous message lent out. */
    json_decref(d->json);
    d->json = NULL;
    if (d->state == ST_PROTOHEADER && d->header) {
        json_decref(d->header);
        d->header = NULL;
    }

    for (;;) {
        size_t avail = d->len - d->pos;
        switch (d->state) {
        case ST_PROTOHEADER:
            if (avail < PROTO_PROTOHEADER_LEN)
                return PROTO_NEED_MORE;
            d->hdr_len = ((size_t)d->buf[d->pos] << 8) | d->buf[d->pos + 1];
            if (d->hdr_len > d->limits.max_header)
                return decoder_fail(d, PROTO_ERR_HEADER_TOO_LONG, "header length %zu exceeds the limit of %zu bytes",
                                    d->hdr_len, d->limits.max_header);
            if (d->hdr_len == 0)
                return decoder_fail(d, PROTO_ERR_HEADER_JSON, "header is empty (length 0)");
            d->pos += PROTO_PROTOHEADER_LEN;
            d->state = ST_HEADER;
            break;
        case ST_HEADER: {
            if (avail < d->hdr_len)
                return PROTO_NEED_MORE;
            json_error_t jerr;
            d->header = json_loadb((const char *)d->buf + d->pos, d->hdr_len, PROTO_JSON_FLAGS, &jerr);
            if (d->header == NULL)
                return decoder_fail(d, PROTO_ERR_HEADER_JSON, "header is not valid JSON: %s", jerr.text);
            if (header_validate(d) != PROTO_OK)
                return PROTO_ERROR;
            d->pos += d->hdr_len;
            d->state = ST_CONTENT;
            break;
        }
        case ST_CONTENT:
            if (avail < d->body_len)
                return PROTO_NEED_MORE;
            message_fill(d, msg);
            d->pos += d->body_len;
            d->state = ST_PROTOHEADER;
            return PROTO_OK;
        }
    }
}

/* ---- encoder ---- */

int proto_buf_append(proto_buf *b, const void *data, size_t len)
{
    if (b->failed)
        return -1;
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
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
fail:
    b->failed = 1;
    return -1;
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

int proto_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
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

int proto_encode_header(proto_buf *b, const char *content_type, const char *content_encoding, size_t content_length)
{
    size_t start = b->len;
    char num[32];

    BUF_LIT(b, "\0\0{\"byteorder\": \"");
    proto_buf_append(b, proto_host_byteorder(), strlen(proto_host_byteorder()));
    BUF_LIT(b, "\", \"content-type\": ");
    proto_dump_string(b, content_type, strlen(content_type));
    BUF_LIT(b, ", \"content-encoding\": ");
    proto_dump_string(b, content_encoding, strlen(content_encoding));
    BUF_LIT(b, ", \"content-length\": ");
    proto_buf_append(b, num, (size_t)snprintf(num, sizeof(num), "%zu", content_length));
    BUF_LIT(b, "}");
    if (b->failed)
        return -1;
    size_t hlen = b->len - start - PROTO_PROTOHEADER_LEN;
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

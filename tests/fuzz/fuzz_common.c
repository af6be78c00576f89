/*
 * fuzz_common.c: input splitting and reporting for the harnesses (see
 * fuzz_common.h).
 */
#include "fuzz_common.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_input_init(fuzz_input *in, const uint8_t *data, size_t size)
{
    in->flags = 0;
    in->sizes = NULL;
    in->nsizes = in->next = 0;
    in->stream = data;
    in->len = 0;
    if (size == 0)
        return;
    size_t n = data[0] & 7;
    if (n > size - 1)
        n = size - 1;
    in->flags = data[0] >> 3;
    in->sizes = data + 1;
    in->nsizes = n;
    in->stream = data + 1 + n;
    in->len = size - 1 - n;
}

size_t fuzz_input_fragment(fuzz_input *in, size_t remaining)
{
    if (in->nsizes == 0)
        return remaining;
    size_t n = (size_t)in->sizes[in->next++ % in->nsizes] + 1;
    return n < remaining ? n : remaining;
}

uint8_t *fuzz_frames(fuzz_input *in)
{
    if (!(in->flags & FUZZ_FLAG_FRAMED))
        return NULL;
    /* at most one protoheader per two pieces, and the 0xff bytes go */
    uint8_t *out = malloc(in->len + 2 * (in->len / 2 + 1));
    size_t o = 0, i = 0;
    int header = 1;

    if (out == NULL)
        fuzz_fail("out of memory");
    while (i <= in->len) {
        const uint8_t *end = memchr(in->stream + i, 0xff, in->len - i);
        size_t n = end ? (size_t)(end - (in->stream + i)) : in->len - i;
        if (header) {
            size_t hl = n > 65535 ? 65535 : n; /* only past -max_len 65535 */
            out[o++] = (uint8_t)(hl >> 8);
            out[o++] = (uint8_t)hl;
        }
        memcpy(out + o, in->stream + i, n);
        o += n;
        i += n + 1;
        header = !header;
        if (end == NULL)
            break;
    }
    in->stream = out;
    in->len = o;
    return out;
}

void fuzz_limits(unsigned choice, proto_limits *lim)
{
    switch (choice & 3) {
    case 0:
        lim->max_header = PROTO_DEFAULT_MAX_HEADER;
        lim->max_content = PROTO_DEFAULT_MAX_CONTENT;
        break;
    case 1:
        lim->max_header = 120;
        lim->max_content = 60;
        break;
    case 2:
        lim->max_header = 65535;
        lim->max_content = 0;
        break;
    default:
        lim->max_header = 103;
        lim->max_content = 41;
        break;
    }
}

int fuzz_printable(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* The line at p[0..len) up to its "\r\n": 1 and its length in *n (a bare
 * '\r' or '\n' in it is an error), 0 when its end is not there yet. */
static int reply_line(const char *p, size_t len, size_t *n, const char **errstr)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') {
            *errstr = "a bare LF in a reply line";
            return -1;
        }
        if (p[i] != '\r')
            continue;
        if (i + 1 == len)
            return 0;
        if (p[i + 1] != '\n') {
            *errstr = "a bare CR in a reply line";
            return -1;
        }
        *n = i;
        return 1;
    }
    return 0;
}

/* An integer line's value: an optional '-', then digits without a leading
 * zero (but "0"), as Redis's ll2string writes it. */
static int reply_integer(const char *p, size_t n, long long *v)
{
    size_t i = p[0] == '-' && n > 1 ? 1 : 0;
    if (n == i || n - i > 19 || (p[i] == '0' && n - i > 1) || (i == 1 && p[1] == '0'))
        return -1;
    long long x = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (x > (LLONG_MAX - (p[i] - '0')) / 10)
            return -1;
        x = x * 10 + (p[i] - '0');
    }
    *v = p[0] == '-' ? -x : x;
    return 0;
}

static int resp_reply_at(const char *p, size_t len, size_t *used, const char **errstr, int depth)
{
    size_t n;
    long long v;

    if (len == 0)
        return 0;
    if (depth > 16) {
        *errstr = "arrays nested too deep";
        return -1;
    }
    if (!strchr("+-:$*", p[0])) {
        *errstr = "a reply starting with none of + - : $ *";
        return -1;
    }
    int st = reply_line(p + 1, len - 1, &n, errstr);
    if (st <= 0)
        return st;
    size_t pos = 1 + n + 2;
    if (p[0] == '+' || p[0] == '-') {
        *used = pos;
        return 1;
    }
    if (reply_integer(p + 1, n, &v) != 0) {
        *errstr = "a malformed integer, length or count";
        return -1;
    }
    if (p[0] == ':') {
        *used = pos;
        return 1;
    }
    if (v < -1) {
        *errstr = "a negative length or count other than -1";
        return -1;
    }
    if (v == -1) {
        *used = pos;
        return 1;
    }
    if (p[0] == '$') {
        if ((unsigned long long)v > len - pos || len - pos - (size_t)v < 2)
            return 0;
        if (p[pos + (size_t)v] != '\r' || p[pos + (size_t)v + 1] != '\n') {
            *errstr = "a bulk string not followed by CRLF";
            return -1;
        }
        *used = pos + (size_t)v + 2;
        return 1;
    }
    for (long long i = 0; i < v; i++) {
        size_t k;
        st = resp_reply_at(p + pos, len - pos, &k, errstr, depth + 1);
        if (st <= 0)
            return st;
        pos += k;
    }
    *used = pos;
    return 1;
}

int fuzz_resp_reply(const char *p, size_t len, size_t *used, const char **errstr)
{
    *errstr = NULL;
    return resp_reply_at(p, len, used, errstr, 0);
}

void fuzz_print_bytes(const char *label, const void *p, size_t n)
{
    const unsigned char *s = p;
    fprintf(stderr, "%s (%zu bytes): \"", label, n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            fputc(s[i], stderr);
        else
            fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, "\"\n");
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("evkv fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/*
 * resp.c: the Redis protocol's request reader and reply encoders, with no
 * I/O (see resp.h for what is matched against Redis's source and how).
 *
 * The reader keeps the request being read at in.buf[in.pos]: a multibulk
 * request's arguments are recorded as offsets from there while its bulks
 * arrive, and turned into pointers once the last one is in, so the buffer
 * may move in between. Bulk arguments are never copied; inline arguments
 * are copied only when they hold quotes.
 */
#include "resp.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

enum {
    ST_START,     /* at the first byte of a request */
    ST_MULTIBULK, /* the count is read; bulks are being read */
};

/* Redis's LONG_STR_SIZE: string2ll refuses this many characters or more. */
#define LONG_STR_SIZE 21

static resp_status reader_fail(resp_reader *r, resp_error err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static resp_status reader_fail(resp_reader *r, resp_error err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
    va_end(ap);
    r->err = err;
    return RESP_ERROR;
}

void resp_reader_init(resp_reader *r, const resp_limits *limits)
{
    memset(r, 0, sizeof(*r));
    r->limits.max_args = limits ? limits->max_args : RESP_DEFAULT_MAX_ARGS;
    r->limits.max_bulk = limits ? limits->max_bulk : RESP_DEFAULT_MAX_BULK;
    r->limits.max_inline = limits ? limits->max_inline : RESP_INLINE_MAX_SIZE;
    r->limits.max_request = limits ? limits->max_request : 0;
    if (r->limits.max_args > INT_MAX)
        r->limits.max_args = INT_MAX;
    if (r->limits.max_bulk > (size_t)LLONG_MAX - 2)
        r->limits.max_bulk = (size_t)LLONG_MAX - 2;
    if (r->limits.max_inline > SIZE_MAX / 2)
        r->limits.max_inline = SIZE_MAX / 2;
    r->state = ST_START;
    r->bulk_len = -1;
}

void resp_reader_free(resp_reader *r)
{
    free(r->in.buf);
    free(r->argv);
    free(r->argv_len);
    free(r->arg_off);
    free(r->scratch);
    memset(r, 0, sizeof(*r));
}

void *resp_reader_reserve(resp_reader *r, size_t len)
{
    unsigned char *p = proto_inbuf_reserve(&r->in, len);
    if (p == NULL)
        reader_fail(r, RESP_ERR_NOMEM, "out of memory");
    return p;
}

void resp_reader_commit(resp_reader *r, size_t len)
{
    r->in.len += len;
}

size_t resp_reader_space(const resp_reader *r)
{
    return r->in.cap - r->in.len;
}

void resp_reader_release(resp_reader *r)
{
    if (r->state != ST_START || r->in.len != r->in.pos)
        return;
    proto_inbuf_release(&r->in);
    /* One request of a million arguments must not keep 24 MB per idle
     * connection: the argument arrays and the scratch buffer go too. */
    free(r->argv);
    free(r->argv_len);
    free(r->arg_off);
    free(r->scratch);
    r->argv = NULL;
    r->argv_len = r->arg_off = NULL;
    r->scratch = NULL;
    r->argcap = r->scratch_cap = 0;
}

int resp_reader_feed(resp_reader *r, const void *buf, size_t len)
{
    if (r->err)
        return 0; /* a failed reader ignores further input */
    if (proto_inbuf_append(&r->in, buf, len) != 0) {
        reader_fail(r, RESP_ERR_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

size_t resp_reader_buffered(const resp_reader *r)
{
    return r->in.len - r->in.pos;
}

int resp_reader_in_message(const resp_reader *r)
{
    return r->state != ST_START || r->in.len > r->in.pos;
}

int resp_string2ll(const char *str, size_t slen, long long *value)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    int negative = 0;
    unsigned long long v;

    if (slen == 0 || slen >= LONG_STR_SIZE)
        return 0;
    if (slen == 1 && s[0] == '0') {
        *value = 0;
        return 1;
    }
    if (s[0] == '-') {
        negative = 1;
        if (++i == slen)
            return 0;
    }
    if (s[i] < '1' || s[i] > '9')
        return 0;
    v = (unsigned long long)(s[i++] - '0');
    for (; i < slen && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > ULLONG_MAX / 10)
            return 0;
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(s[i] - '0'))
            return 0;
        v += (unsigned long long)(s[i] - '0');
    }
    if (i < slen)
        return 0;
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *value = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > LLONG_MAX)
            return 0;
        *value = (long long)v;
    }
    return 1;
}

/* Looks for byte c in the line at in.buf[in.pos + start], as Redis's strchr
 * over its NUL-terminated query buffer would once it held `need` bytes past
 * c: a NUL ends the search, and a line whose end is not among its first
 * max + 1 bytes is too big (see resp.h). Returns 1 with *at (c's offset
 * from start, with at least `need` bytes after it buffered), 0 to wait for
 * more, or -1 for a line too big. What was searched in vain is remembered,
 * so feeding a long line byte by byte stays linear. */
static int line_find(resp_reader *r, size_t start, unsigned char c, size_t need, size_t max, size_t *at)
{
    const unsigned char *p = r->in.buf + r->in.pos + start;
    size_t avail = r->in.len - r->in.pos - start;
    size_t lim = avail < max + 1 ? avail : max + 1;

    if (!r->line_nul && r->scanned < lim) {
        const unsigned char *hit = memchr(p + r->scanned, c, lim - r->scanned);
        size_t end = hit ? (size_t)(hit - p) : lim;
        const unsigned char *nul = memchr(p + r->scanned, '\0', end - r->scanned);
        if (nul != NULL) {
            r->line_nul = 1;
        } else if (hit != NULL) {
            r->scanned = end; /* c is here; wait there for the bytes after it */
            if (avail - end <= need)
                return 0;
            *at = end;
            r->scanned = 0;
            return 1;
        } else {
            r->scanned = lim;
        }
    }
    return avail > max ? -1 : 0;
}

/* Makes room for n arguments. Returns 0 or -1 (out of memory). */
static int args_reserve(resp_reader *r, size_t n)
{
    if (n <= r->argcap)
        return 0;
    size_t cap = r->argcap ? r->argcap : 8;
    while (cap < n)
        cap *= 2;
    const char **argv = realloc(r->argv, cap * sizeof(*argv));
    if (argv == NULL)
        return -1;
    r->argv = argv;
    size_t *lens = realloc(r->argv_len, cap * sizeof(*lens));
    if (lens == NULL)
        return -1;
    r->argv_len = lens;
    size_t *offs = realloc(r->arg_off, cap * sizeof(*offs));
    if (offs == NULL)
        return -1;
    r->arg_off = offs;
    r->argcap = cap;
    return 0;
}

static int is_blank(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r'); /* isspace in the C locale */
}

/* Reads the quoted rest of a word at *pp (up to end) as sdssplitargs does,
 * appending to out[*outlen]. Returns 0 with *pp past the word, or -1 for
 * unbalanced quotes (an unclosed quote, or a closing quote followed by
 * neither a blank nor the end). The line holds no NUL, so end stands for
 * sdssplitargs's terminating NUL. */
static int split_quoted(const unsigned char **pp, const unsigned char *end, char *out, size_t *outlen)
{
    const unsigned char *p = *pp;
    size_t o = *outlen;
    unsigned char quote = 0; /* '"' or '\'' inside quotes */
    int done = 0;

    while (!done) {
        if (quote) {
            if (p == end)
                return -1;
            if (quote == '"' && *p == '\\' && end - p >= 4 && p[1] == 'x' && proto_hex_digit(p[2]) >= 0 &&
                proto_hex_digit(p[3]) >= 0) {
                out[o++] = (char)(proto_hex_digit(p[2]) * 16 + proto_hex_digit(p[3]));
                p += 3;
            } else if (quote == '"' && *p == '\\' && end - p >= 2) {
                p++;
                switch (*p) {
                case 'n': out[o++] = '\n'; break;
                case 'r': out[o++] = '\r'; break;
                case 't': out[o++] = '\t'; break;
                case 'b': out[o++] = '\b'; break;
                case 'a': out[o++] = '\a'; break;
                default: out[o++] = (char)*p; break;
                }
            } else if (quote == '\'' && *p == '\\' && end - p >= 2 && p[1] == '\'') {
                p++;
                out[o++] = '\'';
            } else if (*p == quote) {
                if (end - p >= 2 && !is_blank(p[1]))
                    return -1;
                done = 1;
            } else {
                out[o++] = (char)*p;
            }
        } else if (p == end) {
            break;
        } else {
            switch (*p) {
            case ' ':
            case '\n':
            case '\r':
            case '\t': done = 1; break;
            case '"':
            case '\'': quote = *p; break;
            default: out[o++] = (char)*p; break;
            }
        }
        if (p < end)
            p++;
    }
    *pp = p;
    *outlen = o;
    return 0;
}

/* Splits an inline line of n bytes (no NUL) into arguments as Redis's
 * sdssplitargs does. A word without quotes is pointed to where it lies;
 * one with quotes is unescaped into the scratch buffer. Returns RESP_OK
 * (r->argc may be 0: a blank line) or RESP_ERROR. */
static resp_status split_inline(resp_reader *r, const unsigned char *line, size_t n)
{
    const unsigned char *p = line, *end = line + n;
    size_t used = 0;

    r->argc = 0;
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            return RESP_OK;
        if (args_reserve(r, r->argc + 1) != 0)
            return reader_fail(r, RESP_ERR_NOMEM, "out of memory");
        /* In a word outside quotes only these four end it: "a\vb" is one
         * word, though a leading '\v' is skipped as blank. */
        const unsigned char *word = p;
        while (p < end && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != '"' && *p != '\'')
            p++;
        if (p == end || (*p != '"' && *p != '\'')) {
            r->argv[r->argc] = (const char *)word;
            r->argv_len[r->argc++] = (size_t)(p - word);
            continue;
        }
        if (r->scratch_cap < n) {
            /* Unescaped words are never longer than the line; the scratch
             * buffer is sized once per line, so earlier words stay put. */
            char *s = realloc(r->scratch, n);
            if (s == NULL)
                return reader_fail(r, RESP_ERR_NOMEM, "out of memory");
            r->scratch = s;
            r->scratch_cap = n;
        }
        size_t start = used;
        memcpy(r->scratch + used, word, (size_t)(p - word));
        used += (size_t)(p - word);
        if (split_quoted(&p, end, r->scratch, &used) != 0)
            return reader_fail(r, RESP_ERR_UNBALANCED, "Protocol error: unbalanced quotes in request");
        r->argv[r->argc] = r->scratch + start;
        r->argv_len[r->argc++] = used - start;
    }
}

/* An inline request: a line up to '\n' of at most max_inline bytes before
 * it and, with max_request, of at most max_request bytes in all, refused
 * in the multibulk request's words as soon as that many are buffered
 * without its end; and arguments of at most max_bulk bytes, refused once
 * the line is split as the same argument sent as a bulk is (Redis checks
 * proto-max-bulk-len on bulks only, but its inline lines are far shorter).
 * Returns RESP_OK (r->argc may be 0: a blank line, to skip),
 * RESP_NEED_MORE or RESP_ERROR. */
static resp_status read_inline(resp_reader *r)
{
    size_t at, max = r->limits.max_inline;
    int by_request = r->limits.max_request > 0 && r->limits.max_request - 1 < max;

    if (by_request)
        max = r->limits.max_request - 1; /* the '\n' is the request's last byte */
    int found = line_find(r, 0, '\n', 0, max, &at);
    if (found < 0 && by_request)
        return reader_fail(r, RESP_ERR_REQUEST_TOO_BIG, "Protocol error: request over %zu bytes",
                           r->limits.max_request);
    if (found < 0)
        return reader_fail(r, RESP_ERR_INLINE_TOO_BIG, "Protocol error: too big inline request");
    if (found == 0)
        return RESP_NEED_MORE;
    const unsigned char *line = r->in.buf + r->in.pos;
    size_t n = at > 0 && line[at - 1] == '\r' ? at - 1 : at;
    if (split_inline(r, line, n) != RESP_OK)
        return RESP_ERROR;
    size_t max_bulk = r->unauthenticated ? r->auth_max_bulk : r->limits.max_bulk; /* Redis's bounds are multibulk's */
    for (size_t i = 0; i < r->argc; i++)
        if (r->argv_len[i] > max_bulk)
            return reader_fail(r, RESP_ERR_BULK_LENGTH, "Protocol error: invalid bulk length");
    r->in.pos += at + 1;
    return RESP_OK;
}

/* Redis's bounds before AUTH (networking.c's processMultibulkBuffer). */
#define UNAUTH_MAX_ARGS 10
#define UNAUTH_MAX_BULK 16384

void resp_reader_set_unauthenticated(resp_reader *r, int on)
{
    if (!on == !r->unauthenticated)
        return;
    if (on) {
        r->auth_max_args = r->limits.max_args;
        r->auth_max_bulk = r->limits.max_bulk;
        if (r->limits.max_args > UNAUTH_MAX_ARGS)
            r->limits.max_args = UNAUTH_MAX_ARGS;
        if (r->limits.max_bulk > UNAUTH_MAX_BULK)
            r->limits.max_bulk = UNAUTH_MAX_BULK;
    } else {
        r->limits.max_args = r->auth_max_args;
        r->limits.max_bulk = r->auth_max_bulk;
    }
    r->unauthenticated = on;
}

/* The first line of a multibulk request: "*<count>\r\n". */
static resp_status read_count(resp_reader *r)
{
    size_t at;
    long long ll;
    int found = line_find(r, 0, '\r', 1, r->limits.max_inline, &at);

    if (found < 0)
        return reader_fail(r, RESP_ERR_MBULK_TOO_BIG, "Protocol error: too big mbulk count string");
    if (found == 0)
        return RESP_NEED_MORE;
    if (!resp_string2ll((const char *)r->in.buf + r->in.pos + 1, at - 1, &ll) || ll > (long long)r->limits.max_args) {
        if (r->unauthenticated && ll >= 0 && ll <= (long long)r->auth_max_args &&
            resp_string2ll((const char *)r->in.buf + r->in.pos + 1, at - 1, &ll))
            return reader_fail(r, RESP_ERR_UNAUTH_MBULK, "Protocol error: unauthenticated multibulk length");
        return reader_fail(r, RESP_ERR_MBULK_LENGTH, "Protocol error: invalid multibulk length");
    }
    if (ll <= 0) {
        r->in.pos += at + 2; /* an empty request, skipped */
        return RESP_OK;
    }
    r->cur = at + 2;
    r->args_left = ll;
    r->bulk_len = -1;
    r->argc = 0;
    r->state = ST_MULTIBULK;
    return RESP_OK;
}

/* The bulks of a multibulk request: "$<len>\r\n<len bytes>\r\n" each. */
static resp_status read_bulks(resp_reader *r)
{
    while (r->args_left > 0) {
        const unsigned char *line = r->in.buf + r->in.pos + r->cur;
        if (r->bulk_len < 0) {
            size_t at;
            long long ll;
            int found = line_find(r, r->cur, '\r', 1, r->limits.max_inline, &at);
            if (found < 0)
                return reader_fail(r, RESP_ERR_BULK_TOO_BIG, "Protocol error: too big bulk count string");
            if (found == 0)
                return RESP_NEED_MORE;
            if (line[0] != '$') {
                /* addReplyErrorFormat turns a '\r' or '\n' into a space */
                unsigned char got = line[0] == '\r' || line[0] == '\n' ? ' ' : line[0];
                return reader_fail(r, RESP_ERR_EXPECTED_DOLLAR, "Protocol error: expected '$', got '%c'", got);
            }
            if (!resp_string2ll((const char *)line + 1, at - 1, &ll) || ll < 0 ||
                (unsigned long long)ll > r->limits.max_bulk) {
                if (r->unauthenticated && ll >= 0 && (unsigned long long)ll <= r->auth_max_bulk &&
                    resp_string2ll((const char *)line + 1, at - 1, &ll))
                    return reader_fail(r, RESP_ERR_UNAUTH_BULK, "Protocol error: unauthenticated bulk length");
                return reader_fail(r, RESP_ERR_BULK_LENGTH, "Protocol error: invalid bulk length");
            }
            r->cur += at + 2;
            r->bulk_len = ll;
            if (r->limits.max_request > 0 &&
                (r->cur > r->limits.max_request || (size_t)ll + 2 > r->limits.max_request - r->cur))
                return reader_fail(r, RESP_ERR_REQUEST_TOO_BIG, "Protocol error: request over %zu bytes",
                                   r->limits.max_request);
            if (args_reserve(r, r->argc + 1) != 0)
                return reader_fail(r, RESP_ERR_NOMEM, "out of memory");
            continue;
        }
        if (r->in.len - r->in.pos - r->cur < (size_t)r->bulk_len + 2)
            return RESP_NEED_MORE;
        r->arg_off[r->argc] = r->cur;
        r->argv_len[r->argc++] = (size_t)r->bulk_len;
        r->cur += (size_t)r->bulk_len + 2; /* the 2 bytes after it are not looked at, as in Redis */
        r->bulk_len = -1;
        r->args_left--;
    }
    for (size_t i = 0; i < r->argc; i++)
        r->argv[i] = (const char *)r->in.buf + r->in.pos + r->arg_off[i];
    r->in.pos += r->cur;
    r->state = ST_START;
    return RESP_OK;
}

resp_status resp_reader_next(resp_reader *r, resp_request *req)
{
    resp_status st;

    if (r->err)
        return RESP_ERROR;
    for (;;) {
        if (r->state == ST_MULTIBULK) {
            st = read_bulks(r);
            if (st != RESP_OK)
                return st;
            req->is_inline = 0;
            break;
        }
        if (r->in.pos == r->in.len)
            return RESP_NEED_MORE;
        if (r->in.buf[r->in.pos] == '*') {
            st = read_count(r);
            if (st != RESP_OK)
                return st;
            continue;
        }
        st = read_inline(r);
        if (st != RESP_OK)
            return st;
        if (r->argc > 0) {
            req->is_inline = 1;
            break;
        }
    }
    req->argc = r->argc;
    req->argv = r->argv;
    req->argv_len = r->argv_len;
    return RESP_OK;
}

/* ---- replies ---- */

#define BUF_LIT(b, s) proto_buf_append((b), (s), sizeof(s) - 1)

size_t resp_format_number(char out[RESP_NUMBER_MAX], char prefix, long long n)
{
    /* By hand: every bulk reply has one, and snprintf costs hundreds of
     * instructions. The digits go right to left into a scratch tail. */
    char digits[20];
    size_t nd = 0, len = 0;
    unsigned long long u = n < 0 ? 0 - (unsigned long long)n : (unsigned long long)n;

    do {
        digits[sizeof(digits) - 1 - nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    out[len++] = prefix;
    if (n < 0)
        out[len++] = '-';
    memcpy(out + len, digits + sizeof(digits) - nd, nd);
    len += nd;
    out[len++] = '\r';
    out[len++] = '\n';
    return len;
}

static int encode_number(proto_buf *b, char prefix, long long n)
{
    char tmp[RESP_NUMBER_MAX];
    return proto_buf_append(b, tmp, resp_format_number(tmp, prefix, n));
}

/* Appends a prefix byte, len bytes of s and "\r\n". */
static int encode_line(proto_buf *b, const char *prefix, const void *s, size_t len)
{
    if (proto_buf_append(b, prefix, strlen(prefix)) != 0 || proto_buf_append(b, s, len) != 0)
        return -1;
    return BUF_LIT(b, "\r\n");
}

int resp_encode_simple(proto_buf *b, const char *s, size_t len)
{
    return encode_line(b, "+", s, len);
}

int resp_encode_error(proto_buf *b, const char *s, size_t len)
{
    return encode_line(b, len == 0 || s[0] != '-' ? "-ERR " : "", s, len);
}

int resp_encode_errorf(proto_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = resp_encode_verrorf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int resp_encode_verrorf(proto_buf *b, const char *fmt, va_list ap)
{
    char small[512], *s = small;
    va_list again;

    va_copy(again, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= 0 && (size_t)n >= sizeof(small)) {
        s = malloc((size_t)n + 1);
        if (s != NULL)
            vsnprintf(s, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (n < 0 || s == NULL) {
        b->failed = 1;
        return -1;
    }
    /* sdstrim(s, "\r\n") then sdsmapchars(s, "\r\n", "  ") */
    char *start = s, *end = s + n;
    while (start < end && (*start == '\r' || *start == '\n'))
        start++;
    while (end > start && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    for (char *p = start; p < end; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    int rc = resp_encode_error(b, start, (size_t)(end - start));
    if (s != small)
        free(s);
    return rc;
}

int resp_encode_integer(proto_buf *b, long long n)
{
    return encode_number(b, ':', n);
}

int resp_encode_bulk(proto_buf *b, const void *p, size_t len)
{
    if (encode_number(b, '$', (long long)len) != 0 || proto_buf_append(b, p, len) != 0)
        return -1;
    return BUF_LIT(b, "\r\n");
}

int resp_encode_null_bulk(proto_buf *b)
{
    return BUF_LIT(b, "$-1\r\n");
}

int resp_encode_array(proto_buf *b, size_t n)
{
    return encode_number(b, '*', (long long)n);
}

int resp_encode_null_array(proto_buf *b)
{
    return BUF_LIT(b, "*-1\r\n");
}

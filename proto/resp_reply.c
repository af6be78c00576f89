/*
 * resp_reply.c: the RESP2 reply reader (see resp_reply.h). A reply is read
 * in place, one line and, for a bulk, its bytes: evkv-bench calls it for
 * every answer, so it scans each byte once and formats text only for an
 * error.
 */
#include "resp_reply.h"

#include <stdio.h>
#include <string.h>

#include "resp.h"

/* The type byte shown in an error: itself if printable, else \xNN. */
static void type_error(char errstr[RESP_REPLY_ERRSTR_LEN], char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7f)
        snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "not a RESP2 reply: it starts with '%c'", c);
    else
        snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "not a RESP2 reply: it starts with byte \\x%02x", u);
}

/* Where the line at p[0..n) has its "\r\n": the index of its '\r', 0 if
 * it is not all there (*need set), or -1 (errstr set). p[0] is the type
 * byte, so a '\r' is never at 0. */
static long line_end(const char *p, size_t n, size_t *need, char errstr[RESP_REPLY_ERRSTR_LEN])
{
    size_t m = n < RESP_REPLY_LINE_MAX - 1 ? n : RESP_REPLY_LINE_MAX - 1;
    const char *cr = memchr(p + 1, '\r', m - 1);

    if (cr == NULL) {
        if (n >= RESP_REPLY_LINE_MAX - 1) {
            snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "a reply line longer than %d bytes", RESP_REPLY_LINE_MAX);
            return -1;
        }
        *need = n + 1;
        return 0;
    }
    size_t i = (size_t)(cr - p);
    if (i + 1 >= n) {
        *need = i + 2;
        return 0;
    }
    if (p[i + 1] != '\n') {
        snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "a reply line's '\\r' not followed by '\\n'");
        return -1;
    }
    return (long)i;
}

/* The count or length of a '$' or '*' line, p[1..i): -1 (nil) to
 * RESP_REPLY_MAX_LEN. Returns 0, or -1 with errstr. */
static int read_length(const char *p, size_t i, long long *num, char errstr[RESP_REPLY_ERRSTR_LEN])
{
    if (!resp_string2ll(p + 1, i - 1, num) || *num < -1 || *num > RESP_REPLY_MAX_LEN) {
        snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "bad %s in a reply: '%.*s'",
                 p[0] == '$' ? "bulk length" : "array count", (int)(i - 1 > 24 ? 24 : i - 1), p + 1);
        return -1;
    }
    return 0;
}

long resp_reply_read(const char *p, size_t n, resp_reply *r, size_t *need, char errstr[RESP_REPLY_ERRSTR_LEN])
{
    size_t dummy;
    long i;

    if (need == NULL)
        need = &dummy;
    if (n == 0) {
        *need = 1;
        return 0;
    }
    if (p[0] != '+' && p[0] != '-' && p[0] != ':' && p[0] != '$' && p[0] != '*') {
        type_error(errstr, p[0]);
        return -1;
    }
    if ((i = line_end(p, n, need, errstr)) <= 0)
        return i;
    r->str = p + 1;
    r->len = (size_t)i - 1;
    r->num = 0;
    switch (p[0]) {
    case '+': r->type = RESP_REPLY_STATUS; return i + 2;
    case '-': r->type = RESP_REPLY_ERROR; return i + 2;
    case ':':
        r->type = RESP_REPLY_INTEGER;
        if (!resp_string2ll(p + 1, (size_t)i - 1, &r->num)) {
            snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "bad integer reply: '%.*s'", (int)(i - 1 > 24 ? 24 : i - 1), p + 1);
            return -1;
        }
        return i + 2;
    case '*':
        if (read_length(p, (size_t)i, &r->num, errstr) != 0)
            return -1;
        r->type = r->num < 0 ? RESP_REPLY_NIL_ARRAY : RESP_REPLY_ARRAY;
        return i + 2;
    default: /* '$' */ break;
    }
    long long len;
    if (read_length(p, (size_t)i, &len, errstr) != 0)
        return -1;
    if (len < 0) {
        r->type = RESP_REPLY_NIL;
        return i + 2;
    }
    size_t total = (size_t)i + 2 + (size_t)len + 2;
    if (n < total) {
        *need = total;
        return 0;
    }
    if (p[total - 2] != '\r' || p[total - 1] != '\n') {
        snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "a bulk of %lld bytes not followed by \"\\r\\n\"", len);
        return -1;
    }
    r->type = RESP_REPLY_BULK;
    r->str = p + i + 2;
    r->len = (size_t)len;
    return (long)total;
}

long resp_reply_span(const char *p, size_t n, char errstr[RESP_REPLY_ERRSTR_LEN])
{
    /* Replies still to read: an array's count adds its elements, so
     * nesting needs no stack. Each array header adds at most 2^30 and
     * takes at least 4 bytes: the sum cannot overflow. */
    unsigned long long pending = 1;
    size_t used = 0;

    while (pending > 0) {
        resp_reply r;
        long k = resp_reply_read(p + used, n - used, &r, NULL, errstr);
        if (k <= 0)
            return k;
        used += (size_t)k;
        pending--;
        if (r.type == RESP_REPLY_ARRAY)
            pending += (unsigned long long)r.num;
    }
    return (long)used;
}

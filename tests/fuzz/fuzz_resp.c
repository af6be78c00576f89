/*
 * fuzz_resp.c: the RESP request reader fed arbitrary bytes in arbitrary
 * fragments, beside a model of Redis.
 *
 * Input: see fuzz_common.h; flag bits 0-1 pick the limits, bit 2 feeds
 * through reserve/commit (and releases the buffer whenever it is idle)
 * instead of feed. The model is Redis 7.0.15's own code, transliterated:
 * processInputBuffer, processInlineBuffer and processMultibulkBuffer over
 * the whole stream held NUL-terminated and searched with strchr as Redis
 * searches its query buffer, a line limit applied as Redis applies it when
 * the bytes arrive one at a time (see resp.h), and sdssplitargs as sds.c
 * has it; and the one rule of evkv's own that these limits reach: an
 * inline argument over max_bulk is an invalid bulk length, as that
 * argument sent as a bulk is (resp.h). Whatever the split, the reader must
 * read exactly the requests the model reads, then fail with the model's
 * error or wait for more. A failed reader must stay failed; every argument
 * must lie in the reader's buffers.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resp.h"

static void limits_pick(unsigned choice, resp_limits *lim)
{
    static const resp_limits choices[4] = {
        /* no max_request: Redis has none (the model is Redis) */
        {RESP_DEFAULT_MAX_ARGS, RESP_DEFAULT_MAX_BULK, RESP_INLINE_MAX_SIZE, 0},
        {4, 8, 16, 0},
        {1, 0, 3, 0},
        {20, 100, 200, 0},
    };
    *lim = choices[choice & 3];
}

/* Appends a request, as an array of bulks, to out. */
static void emit(proto_buf *out, size_t argc, const char *const *argv, const size_t *len)
{
    resp_encode_array(out, argc);
    for (size_t i = 0; i < argc; i++)
        resp_encode_bulk(out, argv[i], len[i]);
}

static void emit_error(proto_buf *out, const char *text)
{
    resp_encode_error(out, text, strlen(text));
}

/* ---- the model: Redis's code, kept close to its source ---- */

/* util.c */
static int model_string2ll(const char *s, size_t slen, long long *value)
{
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (plen == slen || slen >= 21)
        return 0;
    if (slen == 1 && p[0] == '0') {
        *value = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == slen)
            return 0;
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return 0;
    }
    while (plen < slen && p[0] >= '0' && p[0] <= '9') {
        if (v > (ULLONG_MAX / 10))
            return 0;
        v *= 10;
        if (v > (ULLONG_MAX - (unsigned long long)(p[0] - '0')))
            return 0;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < slen)
        return 0;
    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1))
            return 0;
        *value = (long long)(0 - v);
    } else {
        if (v > LLONG_MAX)
            return 0;
        *value = (long long)v;
    }
    return 1;
}

static int model_hex(char c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : c - 'A' + 10;
}

static int model_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether the quote at p may close a word: sdssplitargs's test
 * "*(p+1) && !isspace(*(p+1))" for an error, turned around. */
static int model_closes(const char *p)
{
    return !*(p + 1) || isspace((unsigned char)*(p + 1));
}

/* sds.c's sdssplitargs over a NUL-terminated line: the words go to
 * words[] (proto_bufs, at most *argc on entry). Returns 0, or -1 for
 * unbalanced quotes. */
static int model_splitargs(const char *line, proto_buf *words, size_t *argc)
{
    const char *p = line;
    size_t max = *argc;

    *argc = 0;
    while (1) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return 0;
        int inq = 0, insq = 0, done = 0;
        if (*argc == max)
            fuzz_fail("more words than bytes");
        proto_buf *current = &words[(*argc)++];
        current->len = 0;
        while (!done) {
            if (inq) {
                if (*p == '\\' && *(p + 1) == 'x' && model_is_hex(*(p + 2)) && model_is_hex(*(p + 3))) {
                    char byte = (char)(model_hex(*(p + 2)) * 16 + model_hex(*(p + 3)));
                    proto_buf_append(current, &byte, 1);
                    p += 3;
                } else if (*p == '\\' && *(p + 1)) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    proto_buf_append(current, &c, 1);
                } else if (*p == '"') {
                    /* closing quote must be followed by a space or
                     * nothing at all. */
                    if (!model_closes(p))
                        return -1;
                    done = 1;
                } else if (!*p) {
                    return -1;
                } else {
                    proto_buf_append(current, p, 1);
                }
            } else if (insq) {
                if (*p == '\\' && *(p + 1) == '\'') {
                    p++;
                    proto_buf_append(current, "'", 1);
                } else if (*p == '\'') {
                    if (!model_closes(p))
                        return -1;
                    done = 1;
                } else if (!*p) {
                    return -1;
                } else {
                    proto_buf_append(current, p, 1);
                }
            } else {
                switch (*p) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: proto_buf_append(current, p, 1); break;
                }
            }
            if (*p)
                p++;
        }
    }
}

/* Whether a line starting at p (rem bytes before the end of the stream)
 * whose end strchr found at e (or NULL) is still short enough: Redis fed
 * byte by byte finds the end before it holds more than max bytes. */
static int model_line_end(const char *p, const char *e, size_t max)
{
    return e != NULL && (size_t)(e - p) <= max;
}

/* The model's view of one stream: a NUL-terminated copy of it, and room
 * for the words of one request. */
typedef struct model {
    char *q;
    size_t n;
    const resp_limits *lim;
    proto_buf *words;
    size_t wordmax;
    const char **argv;
    size_t *argv_len;
} model;

/* Reads the bulk at *pos into argv[*argc]. Returns 0, or -1 where Redis
 * stops reading (an error emitted into out, or the stream ends first). */
static int model_bulk(model *m, size_t *pos, size_t *argc, proto_buf *out)
{
    char *p = m->q + *pos, *nl = strchr(p, '\r');
    size_t rem = m->n - *pos;
    long long ll;

    if (!model_line_end(p, nl, m->lim->max_inline)) {
        if (rem > m->lim->max_inline)
            emit_error(out, "Protocol error: too big bulk count string");
        return -1;
    }
    if ((size_t)(nl - p) + 2 > rem)
        return -1;
    if (*p != '$') {
        char text[64];
        snprintf(text, sizeof(text), "Protocol error: expected '$', got '%c'", *p);
        for (char *t = text; *t; t++)
            if (*t == '\r' || *t == '\n')
                *t = ' ';
        emit_error(out, text);
        return -1;
    }
    if (!model_string2ll(p + 1, (size_t)(nl - (p + 1)), &ll) || ll < 0 || (unsigned long long)ll > m->lim->max_bulk) {
        emit_error(out, "Protocol error: invalid bulk length");
        return -1;
    }
    *pos = (size_t)(nl - m->q) + 2;
    if (m->n - *pos < (size_t)ll + 2)
        return -1;
    m->argv[*argc] = m->q + *pos;
    m->argv_len[(*argc)++] = (size_t)ll;
    *pos += (size_t)ll + 2;
    return 0;
}

/* Reads the multibulk request at *pos (its '*') into out. Returns 0, or -1
 * where Redis stops reading. */
static int model_multibulk(model *m, size_t *pos, proto_buf *out)
{
    char *p = m->q + *pos, *nl = strchr(p, '\r');
    size_t rem = m->n - *pos, argc = 0;
    long long ll;

    if (!model_line_end(p, nl, m->lim->max_inline)) {
        if (rem > m->lim->max_inline)
            emit_error(out, "Protocol error: too big mbulk count string");
        return -1;
    }
    if ((size_t)(nl - p) + 2 > rem)
        return -1;
    if (!model_string2ll(p + 1, (size_t)(nl - (p + 1)), &ll) || ll > (long long)m->lim->max_args) {
        emit_error(out, "Protocol error: invalid multibulk length");
        return -1;
    }
    *pos = (size_t)(nl - m->q) + 2;
    if (ll <= 0)
        return 0;
    for (long long multibulklen = ll; multibulklen; multibulklen--)
        if (model_bulk(m, pos, &argc, out) != 0)
            return -1;
    emit(out, argc, m->argv, m->argv_len);
    return 0;
}

/* Reads the inline request at *pos into out. Returns 0, or -1 where Redis
 * stops reading. */
static int model_inline(model *m, size_t *pos, proto_buf *out)
{
    char *p = m->q + *pos, *nl = strchr(p, '\n');
    size_t rem = m->n - *pos, argc = m->wordmax;

    if (!model_line_end(p, nl, m->lim->max_inline)) {
        if (rem > m->lim->max_inline)
            emit_error(out, "Protocol error: too big inline request");
        return -1;
    }
    size_t querylen = (size_t)(nl - p);
    if (nl != p && *(nl - 1) == '\r')
        querylen--;
    char save = p[querylen];
    p[querylen] = '\0';
    int bad = model_splitargs(p, m->words, &argc);
    p[querylen] = save;
    if (bad) {
        emit_error(out, "Protocol error: unbalanced quotes in request");
        return -1;
    }
    for (size_t i = 0; i < argc; i++)
        if (m->words[i].len > m->lim->max_bulk)
            bad = 1;
    if (bad) {
        emit_error(out, "Protocol error: invalid bulk length");
        return -1;
    }
    *pos = (size_t)(nl - m->q) + 1;
    for (size_t i = 0; i < argc; i++) {
        m->argv[i] = m->words[i].data ? m->words[i].data : "";
        m->argv_len[i] = m->words[i].len;
    }
    if (argc > 0)
        emit(out, argc, m->argv, m->argv_len);
    return 0;
}

/* Reads the whole stream s[0..n) as Redis would, into out. */
static void model_run(const uint8_t *s, size_t n, const resp_limits *lim, proto_buf *out)
{
    model m = {malloc(n + 1), n, lim, NULL, n + 1, NULL, NULL};
    size_t pos = 0;

    m.words = calloc(m.wordmax, sizeof(*m.words));
    m.argv = calloc(m.wordmax, sizeof(*m.argv));
    m.argv_len = calloc(m.wordmax, sizeof(*m.argv_len));
    if (m.q == NULL || m.words == NULL || m.argv == NULL || m.argv_len == NULL)
        fuzz_fail("out of memory");
    memcpy(m.q, s, n);
    m.q[n] = '\0';
    while (pos < n) {
        int rc = m.q[pos] == '*' ? model_multibulk(&m, &pos, out) : model_inline(&m, &pos, out);
        if (rc != 0)
            break;
    }
    for (size_t i = 0; i < m.wordmax; i++)
        proto_buf_free(&m.words[i]);
    free(m.words);
    free(m.argv);
    free(m.argv_len);
    free(m.q);
}

/* ---- the reader ---- */

static int inside(const void *p, size_t len, const void *base, size_t cap)
{
    const char *c = p, *b = base;
    return len == 0 || (b != NULL && c >= b && c + len <= b + cap);
}

static void check_request(const resp_reader *r, const resp_request *req)
{
    if (req->argc == 0 || req->argc != r->argc)
        fuzz_fail("request of %zu arguments (reader: %zu)", req->argc, r->argc);
    if (!req->is_inline && req->argc > r->limits.max_args)
        fuzz_fail("%zu arguments over the limit of %zu", req->argc, r->limits.max_args);
    for (size_t i = 0; i < req->argc; i++) {
        if (req->argv_len[i] > r->limits.max_bulk)
            fuzz_fail("argument of %zu bytes over the limit of %zu", req->argv_len[i], r->limits.max_bulk);
        if (!inside(req->argv[i], req->argv_len[i], r->in.buf, r->in.len) &&
            !inside(req->argv[i], req->argv_len[i], r->scratch, r->scratch_cap))
            fuzz_fail("argument %zu outside the reader's buffers", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    resp_limits lim;
    resp_reader r;
    resp_request req;
    proto_buf got = {0}, want = {0};
    size_t fed = 0, failed_buffered = 0;
    int failed = 0;
    char failed_errstr[RESP_ERRSTR_LEN];

    fuzz_input_init(&in, data, size);
    limits_pick(in.flags, &lim);
    int use_reserve = (in.flags >> 2) & 1;
    resp_reader_init(&r, &lim);
    do {
        size_t n = fuzz_input_fragment(&in, in.len - fed);
        if (use_reserve && !failed) {
            void *space = resp_reader_reserve(&r, n);
            if (space == NULL)
                fuzz_fail("reserve of %zu bytes failed", n);
            if (resp_reader_space(&r) < n)
                fuzz_fail("reserve left %zu bytes, not %zu", resp_reader_space(&r), n);
            memcpy(space, in.stream + fed, n);
            resp_reader_commit(&r, n);
        } else if (resp_reader_feed(&r, in.stream + fed, n) != 0) {
            fuzz_fail("feed of %zu bytes failed: %s", n, r.errstr);
        }
        fed += n;
        if (failed) {
            if (resp_reader_next(&r, &req) != RESP_ERROR || strcmp(r.errstr, failed_errstr) != 0 ||
                resp_reader_buffered(&r) != failed_buffered)
                fuzz_fail("a failed reader changed: \"%s\", was \"%s\"", r.errstr, failed_errstr);
            continue;
        }
        resp_status st;
        while ((st = resp_reader_next(&r, &req)) == RESP_OK) {
            check_request(&r, &req);
            emit(&got, req.argc, req.argv, req.argv_len);
        }
        if (resp_reader_buffered(&r) > fed)
            fuzz_fail("%zu bytes buffered of %zu fed", resp_reader_buffered(&r), fed);
        if (st == RESP_NEED_MORE) {
            if (r.err != RESP_ERR_NONE || r.errstr[0] != '\0')
                fuzz_fail("need more, with error \"%s\"", r.errstr);
            if (resp_reader_in_message(&r) != (resp_reader_buffered(&r) > 0))
                fuzz_fail("in_message %d with %zu bytes buffered", resp_reader_in_message(&r),
                          resp_reader_buffered(&r));
            if (use_reserve)
                resp_reader_release(&r);
        } else if (st == RESP_ERROR) {
            if (r.err == RESP_ERR_NONE || r.err == RESP_ERR_NOMEM || r.errstr[0] == '\0')
                fuzz_fail("failed with error %d \"%s\"", (int)r.err, r.errstr);
            emit_error(&got, r.errstr);
            failed = 1;
            failed_buffered = resp_reader_buffered(&r);
            memcpy(failed_errstr, r.errstr, sizeof(failed_errstr));
        } else {
            fuzz_fail("status %d", (int)st);
        }
    } while (fed < in.len);

    model_run(in.stream, in.len, &lim, &want);
    if (got.len != want.len || (got.len > 0 && memcmp(got.data, want.data, got.len) != 0)) {
        fuzz_print_bytes("stream", in.stream, in.len);
        fuzz_print_bytes("Redis's model reads", want.data, want.len);
        fuzz_print_bytes("the reader reads", got.data, got.len);
        fuzz_fail("the reader and Redis's model differ");
    }
    resp_reader_free(&r);
    proto_buf_free(&got);
    proto_buf_free(&want);
    return 0;
}

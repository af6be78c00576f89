/*
 * datafile.c: JSON and TSV data files (see datafile.h).
 *
 * The file is read into memory whole (file_bytes.h says why it is not
 * mapped), then parsed there; a big one as it is read, a big TSV file in
 * two parts at once (read_tsv). A TSV line's value is a string: when it
 * holds nothing JSON must escape, its encoding is the bytes themselves
 * between quotes, handed over as three pieces without a copy.
 *
 * A JSON file goes through a small reader of its own first: the top-level
 * object's keys and string values are taken from the file as they are
 * (a JSON string without escapes is already written the way answers carry
 * it), and only other values, and strings with escapes, go through jansson
 * one at a time. A million entries then load without building a million
 * jansson objects. jansson stays the authority: at anything the small
 * reader does not expect, valid or not, the sink is told to start over and
 * the whole file is parsed by jansson (duplicate keys rejected; \u0000
 * allowed in values, though jansson refuses it in keys), so errors carry
 * jansson's line and column.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "datafile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_bytes.h"
#include "json_write.h"
#include "text.h"

#define LOAD_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

int datafile_format_parse(const char *name, datafile_format *out)
{
    if (strcmp(name, "json") == 0)
        *out = DATAFILE_JSON;
    else if (strcmp(name, "tsv") == 0)
        *out = DATAFILE_TSV;
    else if (strcmp(name, "auto") == 0)
        *out = DATAFILE_AUTO;
    else
        return -1;
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int sink_begin(const datafile_sink *sink, size_t expected, size_t expected_bytes)
{
    return sink->begin ? sink->begin(sink->arg, expected, expected_bytes) : 0;
}

static int sink_entry1(const datafile_sink *sink, const char *key, size_t key_len, const char *value, size_t value_len,
                       size_t done)
{
    struct iovec v = {(void *)value, value_len};
    return sink->entry(sink->arg, key, key_len, &v, 1, done);
}

/* ---- the file (file_bytes.c reads it) ---- */

/* What a reader returns when it must start over without handing the
 * bytes over (they are the sink's now, and partly overwritten). */
#define READ_AGAIN (-2)

/* A TSV file this big is parsed while a thread reads it. */
#define STREAM_MIN ((size_t)4 << 20)

/* begin, or begin_in with the file's bytes when the sink keeps them (in
 * parts, 1 or 2). */
static int sink_begin_bytes(const datafile_sink *sink, file_bytes *fb, size_t expected, size_t expected_bytes,
                            int parts)
{
    if (fb->room == 0 || fb->data == NULL || sink->begin_in == NULL)
        return sink_begin(sink, expected, expected_bytes);
    fb->handed = 1;
    return sink->begin_in(sink->arg, expected, fb->data, fb->len, fb->room, parts);
}

/* ---- TSV ---- */

/* A file's text: its bytes past a byte-order mark (see datafile_read). */
static const char *text_of(const file_bytes *fb, size_t *len)
{
    size_t bom = fb->len >= 3 && memcmp(fb->data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    *len = fb->len - bom;
    return fb->data ? fb->data + bom : "";
}

/* How many of the file's bytes a reader at p is done with, for a sink that
 * keeps them; 0 when it does not. */
static size_t done_at(const file_bytes *m, const char *p)
{
    return m->handed ? (size_t)(p - m->data) : 0;
}

/* A TSV line, split. */
typedef struct tsv_line {
    const char *key, *value;
    size_t klen, vlen;
    int safe;         /* the value holds nothing JSON must escape */
    const char *next; /* the next line */
} tsv_line;

enum { TSV_OK, TSV_BLANK, TSV_NO_TAB, TSV_NOT_UTF8 };

/* The usual line, at the speed of the scan: a key and a value of printable
 * ASCII (no quote or backslash in the value), then a newline. Returns 1
 * with *l, or 0 for any other line (tsv_split judges it). */
static int tsv_plain(const char *p, const char *end, tsv_line *l)
{
    size_t k = proto_plain_span(p, (size_t)(end - p));
    if (k == (size_t)(end - p) || p[k] != '\t')
        return 0;
    const char *v = p + k + 1;
    size_t n = proto_plain_span(v, (size_t)(end - v));
    const char *eol = v + n;
    if (eol < end && *eol == '\r' && eol + 1 < end && eol[1] == '\n')
        l->next = eol + 2;
    else if (eol < end && *eol == '\n')
        l->next = eol + 1;
    else if (eol == end && (n == 0 || eol[-1] != '\r'))
        l->next = end;
    else
        return 0;
    *l = (tsv_line){.key = p, .klen = k, .value = v, .vlen = n, .safe = 1, .next = l->next};
    return 1;
}

/* Splits the line at p: TSV_OK with *l, TSV_BLANK (l->next set), or the
 * error. */
static int tsv_split(const char *p, const char *end, tsv_line *l)
{
    if (tsv_plain(p, end, l))
        return TSV_OK;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    l->next = nl ? nl + 1 : end;
    if (eol > p && eol[-1] == '\r')
        eol--;
    if (eol == p) /* blank lines are skipped */
        return TSV_BLANK;
    const char *tab = memchr(p, '\t', (size_t)(eol - p));
    if (tab == NULL)
        return TSV_NO_TAB;
    l->key = p;
    l->klen = (size_t)(tab - p);
    l->value = tab + 1;
    l->vlen = (size_t)(eol - tab - 1);
    l->safe = proto_json_safe(l->value, l->vlen);
    if (!proto_utf8_valid(p, l->klen) || (!l->safe && !proto_utf8_valid(l->value, l->vlen)))
        return TSV_NOT_UTF8;
    return TSV_OK;
}

/* The lines of [data, end) estimated from those of [data, lim). */
static size_t estimate_lines(const char *data, const char *lim, const char *end)
{
    size_t lines = 0;
    for (const char *p = data; p < lim && (p = memchr(p, '\n', (size_t)(lim - p))) != NULL; p++)
        lines++;
    double est = lim > data ? (double)lines * (double)(end - data) / (double)(lim - data) : 0;
    return (size_t)(est * 1.03) + 16;
}

/* What a part of two returns when it stopped because the other failed. */
#define PART_STOPPED (-3)

/* One reader of a TSV file's lines: the whole file, or one of two parts
 * of it parsed at once (read_tsv). */
typedef struct tsv_part {
    const char *path;
    file_bytes *m;
    file_read *r; /* the thread reading the file, or NULL */
    const datafile_sink *sink;
    int part;               /* -1: the whole file, through entry; else 0 or 1, through entry_part */
    const char *from, *lim; /* its first line (part 1: found by line_after); the end of the lines read */
    const char *mid;        /* part 0: where part 1 begins is the line after mid's (NULL: part 0 is the whole) */
    int *stop;              /* of two parts: set by one that stopped early (atomic) */
    long n;                 /* what it returns: entries, -1, READ_AGAIN or PART_STOPPED */
    char err[4200];         /* its error when n is -1 (part 1: not used, the plain read words it) */
    pthread_t thread;
} tsv_part;

/* Where part 1 begins: after the first newline at or after mid, in
 * [mid, lim) (a newline ends the lines read; lim is the file's end when
 * there is none), or end. A byte at a time: the other part may be
 * writing entries just before mid, and a vector scan reads around its
 * bytes. */
static const char *line_after(const char *mid, const char *lim, const char *end)
{
    for (const char *p = mid; p < lim; p++) {
        if (*p == '\n')
            return p + 1;
    }
    return end;
}

/* Parses the lines of tp from tp->from (up to where part 1 begins, for
 * part 0) into the sink: sets tp->n. */
static void tsv_lines(tsv_part *tp, const char *end)
{
    const datafile_sink *sink = tp->sink;
    file_bytes *m = tp->m;
    const char *lim = tp->lim, *to = tp->mid ? NULL : end; /* part 0: not known until the read passes mid */
    size_t lineno = 0;
    proto_buf enc = {0};
    long n = 0;
    tsv_line l;

    tp->n = -1;
    for (const char *p = tp->from; p < end; p = l.next) {
        if (p >= lim && (lim = file_read_lines(tp->r, p)) == NULL) {
            snprintf(tp->err, sizeof(tp->err), "%s: not read", tp->path); /* the read's own error replaces it */
            goto out;
        }
        if (to == NULL && lim > tp->mid)
            to = line_after(tp->mid, lim, end);
        if (to != NULL && lim > to)
            lim = to; /* part 1's bytes, which it writes over */
        if (to != NULL && p >= to)
            break;
        if (tp->stop && __atomic_load_n(tp->stop, __ATOMIC_RELAXED)) {
            tp->n = PART_STOPPED;
            goto out;
        }
        int rc = 0, split = tsv_split(p, lim, &l);
        lineno++;
        if (split == TSV_BLANK)
            continue;
        if (split != TSV_OK) {
            snprintf(tp->err, sizeof(tp->err), "%s: line %zu: %s", tp->path, lineno,
                     split == TSV_NO_TAB ? "no TAB between key and value" : "not valid UTF-8");
            goto out;
        }
        struct iovec iov[3] = {{"\"", 1}, {(void *)l.value, l.vlen}, {"\"", 1}};
        int nv = 3; /* nothing to escape: the value's bytes between quotes */
        if (!l.safe) {
            proto_buf_reset(&enc);
            rc = proto_dump_string(&enc, l.value, l.vlen) != 0 ? -1 : 0;
            iov[0] = (struct iovec){enc.data, enc.len};
            nv = 1;
        }
        if (rc == 0 && tp->part < 0)
            rc = sink->entry(sink->arg, p, l.klen, iov, nv, done_at(m, p));
        else if (rc == 0)
            rc = sink->entry_part(sink->arg, tp->part, p, l.klen, iov, nv, done_at(m, p));
        if (rc == 2) {
            tp->n = READ_AGAIN;
            goto out;
        }
        if (rc < 0) {
            snprintf(tp->err, sizeof(tp->err), "%s: out of memory", tp->path);
            goto out;
        }
        if (rc == 1) {
            snprintf(tp->err, sizeof(tp->err), "%s: line %zu: duplicate key '%.*s'", tp->path, lineno,
                     (int)(l.klen > 40 ? 40 : l.klen), p);
            goto out;
        }
        n++;
    }
    tp->n = n;
out:
    if (tp->n < 0 && tp->stop)
        __atomic_store_n(tp->stop, 1, __ATOMIC_RELAXED);
    proto_buf_free(&enc);
}

/* Part 1's thread: faults in the second half's pages while the reader
 * reads the first, finds its first line, then parses from there. */
static void *tsv_part_thread(void *arg)
{
    tsv_part *tp = arg;
    const char *end = tp->m->data + tp->m->len;
    file_read_prefault(tp->r, (size_t)(tp->mid - tp->m->data));
    tp->lim = file_read_lines(tp->r, tp->mid);
    if (tp->lim == NULL) {
        tp->n = -1;
        __atomic_store_n(tp->stop, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    tp->from = line_after(tp->mid, tp->lim, end);
    tp->mid = NULL;
    tsv_lines(tp, end);
    return NULL;
}

/* The cores this thread may run on. */
static int cores(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

/* Reads the TSV file m into sink; r, when not NULL, is the thread still
 * reading it (the lines are parsed as they arrive). A big file into a
 * sink that keeps its bytes and takes entries two at a time is parsed in
 * two parts at once, the second from the line after the middle: an error
 * in part 0 is the result; any other makes the whole file be read again
 * the plain way (READ_AGAIN), which names its line. */
static long read_tsv(const char *path, file_bytes *m, file_read *r, const datafile_sink *sink, char *errbuf,
                     size_t errlen)
{
    size_t len;
    const char *lim = r ? file_read_lines(r, m->data) : NULL;
    if (r && lim == NULL) {
        snprintf(errbuf, errlen, "%s: not read", path); /* the read's own error replaces it */
        return -1;
    }
    const char *data = text_of(m, &len), *end = data + len;
    size_t expected = r ? estimate_lines(data, lim, end) : m->count + 1;
    int stop = 0, parts = r && sink->entry_part && sink->begin_in && m->room && cores() >= 2 ? 2 : 1;
    tsv_part tp[2] = {{.path = path, .m = m, .r = r, .sink = sink, .part = -1, .from = data, .lim = r ? lim : end}};

    /* Every value gains two quotes and an entry header of 10 bytes at most. */
    if (sink_begin_bytes(sink, m, expected, m->len + expected * 12, parts) != 0) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return -1;
    }
    if (parts == 2 && m->handed) {
        tp[0].part = 0;
        tp[0].stop = &stop;
        tp[1] = tp[0];
        tp[1].part = 1;
        tp[1].mid = tp[0].mid = data + len / 2;
        if (pthread_create(&tp[1].thread, NULL, tsv_part_thread, &tp[1]) != 0) {
            tp[0].mid = NULL; /* part 0 is the whole */
            parts = 1;
        }
    } else {
        parts = 1;
    }
    tsv_lines(&tp[0], end);
    if (parts == 2) {
        pthread_join(tp[1].thread, NULL);
        if (tp[0].n >= 0 && tp[1].n >= 0)
            return tp[0].n + tp[1].n;
        if (tp[0].n != -1)
            return READ_AGAIN; /* part 1 failed, or part 0 ran out of room */
    }
    if (tp[0].n == -1)
        snprintf(errbuf, errlen, "%s", tp[0].err);
    return tp[0].n;
}

/* ---- JSON, the whole file through jansson ---- */

static long read_json_full(const char *path, const file_bytes *m, const datafile_sink *sink, char *errbuf,
                           size_t errlen)
{
    json_error_t jerr;
    proto_buf enc = {0};
    long n = 0;
    size_t len;
    const char *text = text_of(m, &len);
    json_t *root = json_loadb(text, len, LOAD_JSON_FLAGS, &jerr);

    if (root == NULL) {
        snprintf(errbuf, errlen, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(errbuf, errlen, "%s: the top level must be a JSON object (key -> value)", path);
        goto fail;
    }
    if (sink_begin(sink, json_object_size(root), m->len + json_object_size(root) * 8) != 0)
        goto nomem;
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it), n++) {
        proto_buf_reset(&enc);
        if (proto_dump_json(&enc, json_object_iter_value(it)) != 0)
            goto nomem;
        /* jansson rejected duplicate keys already: entry() cannot return 1. */
        if (sink_entry1(sink, json_object_iter_key(it), json_object_iter_key_len(it), enc.data, enc.len, 0) != 0)
            goto nomem;
    }
    proto_buf_free(&enc);
    json_decref(root);
    return n;
nomem:
    snprintf(errbuf, errlen, "%s: out of memory", path);
fail:
    proto_buf_free(&enc);
    json_decref(root);
    return -1;
}

/* ---- JSON, the small reader ---- */

/* What the small reader met: go on, give the file to jansson, or out of
 * memory. */
enum { FAST_OK = 0, FAST_FALLBACK = 1, FAST_NOMEM = -1, FAST_NOROOM = 2, FAST_DUPLICATE = 3 };

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* A string token at *p (which is '"'): sets tok and toklen to it, quotes
 * included, and *escaped if it holds a backslash. Fails at a control
 * character, invalid UTF-8 or the end of the file. */
static int string_token(const char **pp, const char *end, const char **tok, size_t *toklen, int *escaped)
{
    const char *p = *pp + 1;
    *escaped = 0;
    for (;;) {
        p += proto_plain_span(p, (size_t)(end - p));
        if (p >= end)
            return -1;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            *escaped = 1;
            if (p + 1 >= end)
                return -1;
            p += 2; /* the escaped character: jansson judges the escape */
        } else if (c < 0x20) {
            return -1;
        } else {
            size_t k = proto_utf8_span(p, (size_t)(end - p));
            if (k == 0)
                return -1;
            p += k;
        }
    }
    *tok = *pp;
    *toklen = (size_t)(p + 1 - *pp);
    *pp = p + 1;
    return 0;
}

/* The extent of a value that is not a string: an object or array (brackets
 * balanced, strings skipped) or a literal up to the next delimiter. jansson
 * then judges the bytes. */
static int value_extent(const char **pp, const char *end)
{
    const char *p = *pp;
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *tok;
            size_t toklen;
            int escaped;
            if (string_token(&p, end, &tok, &toklen, &escaped) != 0)
                return -1;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                break; /* the enclosing object's end */
            if (--depth == 0) {
                p++;
                break;
            }
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            break;
        }
        p++;
    }
    if (depth != 0)
        return -1;
    *pp = p;
    return 0;
}

/* Reads the key token at *p (advancing it past it) into key/klen: the
 * bytes between its quotes, or, when it holds escapes, what jansson
 * decodes into *decoded (the caller's, freed with the next key or by the
 * caller). Returns 0, or -1 to give the file to jansson. */
static int fast_key(const char **p, const char *end, json_t **decoded, const char **key, size_t *klen)
{
    int escaped;

    if (*p >= end || **p != '"' || string_token(p, end, key, klen, &escaped) != 0)
        return -1;
    json_decref(*decoded);
    *decoded = NULL;
    if (escaped) {
        *decoded = json_loadb(*key, *klen, JSON_DECODE_ANY, NULL); /* refuses \u0000 */
        if (*decoded == NULL)
            return -1;
        *key = json_string_value(*decoded);
        *klen = json_string_length(*decoded);
    } else {
        (*key)++; /* between the quotes */
        *klen -= 2;
    }
    return 0;
}

/* Reads the value at *p (advancing it past it) and gives the sink the
 * entry key: value, the value as answers write it (enc is scratch).
 * Returns FAST_OK, FAST_FALLBACK (a value the small reader leaves to
 * jansson, or a duplicate key: jansson words the error) or FAST_NOMEM. */
static int fast_entry(const char **p, const char *end, proto_buf *enc, const datafile_sink *sink, const char *key,
                      size_t klen, size_t done)
{
    const char *tok, *vstart = *p;
    size_t toklen;
    int escaped, put;

    if (**p == '"') {
        if (string_token(p, end, &tok, &toklen, &escaped) != 0)
            return FAST_FALLBACK;
        if (!escaped) {
            put = sink_entry1(sink, key, klen, tok, toklen, done); /* already as answers write it */
        } else {
            json_t *s = json_loadb(tok, toklen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            proto_buf_reset(enc);
            if (s == NULL)
                return FAST_FALLBACK;
            proto_dump_string(enc, json_string_value(s), json_string_length(s));
            json_decref(s);
            put = enc->failed ? -1 : sink_entry1(sink, key, klen, enc->data, enc->len, done);
        }
    } else {
        if (value_extent(p, end) != 0)
            return FAST_FALLBACK;
        json_t *v = json_loadb(vstart, (size_t)(*p - vstart), LOAD_JSON_FLAGS | JSON_DECODE_ANY, NULL);
        if (v == NULL)
            return FAST_FALLBACK;
        proto_buf_reset(enc);
        proto_dump_json(enc, v);
        json_decref(v);
        put = enc->failed ? -1 : sink_entry1(sink, key, klen, enc->data, enc->len, done);
    }
    if (put < 0)
        return FAST_NOMEM;
    return put == 2 ? FAST_NOROOM : put == 1 ? FAST_DUPLICATE : FAST_OK;
}

/* While a thread reads the file (r), the reader parses the whole lines
 * read so far ([.., *end)); at what it cannot read there, it waits for
 * more lines (1, *end moved on) before it gives up (0): no JSON string
 * holds a newline, so only values spread over lines wait. */
static int json_more(file_read *r, const char **end, const char *fend)
{
    const char *e;
    if (r == NULL || *end >= fend || (e = file_read_lines(r, *end)) == NULL)
        return 0;
    *end = e;
    return 1;
}

/* One member, key: value, at *p, handed to the sink: FAST_OK, or what
 * stopped it (FAST_FALLBACK: something the small reader leaves to
 * jansson, or the end of the bytes read so far). */
static int json_member(const char **p, const char *end, file_bytes *m, proto_buf *enc, json_t **decoded,
                       const datafile_sink *sink)
{
    const char *member = *p, *key;
    size_t klen;

    if (fast_key(p, end, decoded, &key, &klen) != 0)
        return FAST_FALLBACK;
    *p = skip_ws(*p, end);
    if (*p >= end || **p != ':')
        return FAST_FALLBACK;
    *p = skip_ws(*p + 1, end);
    if (*p >= end)
        return FAST_FALLBACK;
    return fast_entry(p, end, enc, sink, key, klen, done_at(m, member));
}

/* skip_ws, waiting for more lines while it reaches the end of those read. */
static const char *json_ws(file_read *r, const char *p, const char **end, const char *fend)
{
    const char *q;
    while ((q = skip_ws(p, *end)) >= *end && json_more(r, end, fend))
        ;
    return q;
}

static int read_json_fast(file_bytes *m, file_read *r, const datafile_sink *sink, long *count)
{
    size_t len;
    const char *end = r ? file_read_lines(r, m->data) : NULL, *p, *member;
    proto_buf enc = {0};
    json_t *decoded = NULL;
    int rc = FAST_FALLBACK, step;
    long n = 0;

    if (r && end == NULL)
        return FAST_FALLBACK;                                /* the read failed: it says why */
    const char *text = text_of(m, &len), *fend = text + len; /* the BOM, once read */
    if (!r)
        end = fend;
    p = json_ws(r, text, &end, fend);
    if (p >= end || *p != '{')
        return FAST_FALLBACK;
    size_t expected = m->count;
    if (r) /* the entries, estimated from those read so far */
        expected = (size_t)((double)file_bytes_count(DATAFILE_JSON, text, text, end) * (double)len /
                            (double)(end - text) * 1.03) +
                   16;
    if (sink_begin_bytes(sink, m, expected, m->len + expected * 8, 1) != 0)
        return FAST_NOMEM;
    p = json_ws(r, p + 1, &end, fend);
    if (p < end && *p == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        member = p;
        while ((step = json_member(&p, end, m, &enc, &decoded, sink)) == FAST_FALLBACK && json_more(r, &end, fend))
            p = member; /* again, with more lines */
        if (step != FAST_OK) {
            rc = step == FAST_DUPLICATE ? FAST_FALLBACK : step;
            goto out;
        }
        n++;
        p = json_ws(r, p, &end, fend);
        if (p < end && *p == ',') {
            p = json_ws(r, p + 1, &end, fend);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        goto out;
    }
tail:
    p = json_ws(r, p, &end, fend);
    if (p == fend) {
        rc = FAST_OK;
        *count = n;
    }
out:
    json_decref(decoded);
    proto_buf_free(&enc);
    return rc;
}

datafile_format datafile_format_of(const char *path, datafile_format format)
{
    if (format != DATAFILE_AUTO)
        return format;
    if (has_suffix(path, ".json"))
        return DATAFILE_JSON;
    if (has_suffix(path, ".tsv") || has_suffix(path, ".tab"))
        return DATAFILE_TSV;
    return DATAFILE_AUTO;
}

/* Reads the file once into sink: the number of entries, -1 with errbuf,
 * or READ_AGAIN. *json_full: the small JSON reader gave up (jansson reads
 * the file from then on). */
static long read_once(const char *path, datafile_format format, const datafile_sink *sink, int hand_over,
                      int *json_full, char *errbuf, size_t errlen)
{
    file_bytes m;
    file_read r;
    long n = -1;

    if (file_read_open(&r, path, format, sink, hand_over, &m, errbuf, errlen) != 0)
        return -1;
    /* a JSON file only while the small reader reads it, into a sink that
     * keeps its bytes (a fallback to jansson reads it again) */
    int stream =
        m.len >= STREAM_MIN && (format == DATAFILE_TSV || (hand_over && !*json_full)) && file_read_start(&r) == 0;
    if (!stream && file_read_all(&r, errbuf, errlen) != 0) {
        file_bytes_free(&m);
        return -1;
    }
    if (format == DATAFILE_TSV) {
        n = read_tsv(path, &m, stream ? &r : NULL, sink, errbuf, errlen);
        /* a read that failed (the file changed, the load was cancelled)
         * says so, whatever the parse made of the bytes it had */
        if (stream && file_read_finish(&r, errbuf, errlen) != 0)
            n = -1;
    } else {
        int rc = *json_full ? FAST_FALLBACK : read_json_fast(&m, stream ? &r : NULL, sink, &n);
        if (stream && file_read_finish(&r, errbuf, errlen) != 0) {
            file_bytes_free(&m);
            return -1;
        }
        if (rc == FAST_NOMEM) {
            snprintf(errbuf, errlen, "%s: out of memory", path);
            n = -1;
        } else if (rc == FAST_NOROOM) {
            n = READ_AGAIN;
        } else if (rc == FAST_FALLBACK) {
            *json_full = 1;
            /* begins the sink again; on bytes the sink has had, after
             * reading them again */
            n = m.handed ? READ_AGAIN : read_json_full(path, &m, sink, errbuf, errlen);
        }
    }
    file_bytes_free(&m);
    return n;
}

long datafile_read(const char *path, datafile_format format, const datafile_sink *sink, char *errbuf, size_t errlen)
{
    int json_full = 0;
    long n;

    format = datafile_format_of(path, format);
    if (format == DATAFILE_AUTO) {
        snprintf(errbuf, errlen, "%s: cannot tell the format from the name: use --format json|tsv", path);
        return -1;
    }
    /* A UTF-8 byte-order mark, as Windows editors write, is not part of
     * the first key (nor an error in JSON): skipped (text_of), as Python's
     * utf-8-sig codec does, before any reader sees the bytes. It stands
     * before the first line, so line numbers stay right (and jansson's
     * columns count from after it, as Python's do). A sink that keeps the
     * file's bytes gets them first; a reader that must start over then
     * reads the file again, and keeps its bytes to itself. */
    n = read_once(path, format, sink, sink->begin_in != NULL, &json_full, errbuf, errlen);
    if (n == READ_AGAIN)
        n = read_once(path, format, sink, 0, &json_full, errbuf, errlen);
    return n;
}

/*
 * datafile.c: JSON and TSV data files (see datafile.h).
 *
 * The file is read into memory whole (read_file says why it is not
 * mapped), then parsed there. A TSV line's value is a string: when it
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
#include "datafile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int sink_entry1(const datafile_sink *sink, const char *key, size_t key_len, const char *value, size_t value_len)
{
    struct iovec v = {(void *)value, value_len};
    return sink->entry(sink->arg, key, key_len, &v, 1);
}

/* ---- the file ---- */

/* The file's bytes, read into memory. Not mapped: a page of a mapping
 * whose file is truncated meanwhile (an editor saving in place, cp over
 * the file during a reload) faults with SIGBUS, which would end the
 * server. A copy cannot fault; what the copy cannot tell by itself, that
 * the file changed while it was being read, is checked by the reader. */
typedef struct file_bytes {
    char *data; /* NULL when the file is empty; else mapped, of len bytes */
    size_t len;
} file_bytes;

/* The buffer is an anonymous mapping of its own, not malloc's: glibc
 * raises its mmap threshold to the size of the largest block freed (up to
 * 32 MiB), after which a buffer that size comes from, and goes back to, the
 * heap of the thread reading (each reload's loader thread is a new one)
 * and stays resident. munmap gives it back to the system at once. */
static char *file_bytes_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void file_bytes_free(file_bytes *fb)
{
    if (fb->data != NULL)
        munmap(fb->data, fb->len);
    fb->data = NULL;
    fb->len = 0;
}

/* read() in blocks of this size, so that a load can be given up (the
 * sink's progress callback) without waiting for a whole big file. */
#define READ_BLOCK ((size_t)1 << 20)

/* What a file that is not a regular one is, for an error message. */
static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "another kind of file";
}

/* read(), again on EINTR. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Reads the file at path into fb (the caller frees it with
 * file_bytes_free).
 * The file must be a regular file, and the same from the first byte read
 * to the last: a file that ends early (truncated), goes on past its size
 * (grew) or whose size or modification time differ at the end is refused
 * ("changed while it was read"), so that a load never takes half of one
 * version and half of another. A change the clock cannot see (the same
 * size, written within one tick of the file's last modification) goes
 * unnoticed. Returns 0, or -1 with errbuf. */
static int read_file(const char *path, const datafile_sink *sink, file_bytes *fb, char *errbuf, size_t errlen)
{
    struct stat st, after;
    size_t size, done = 0;
    char probe;
    ssize_t n;
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer, which may
     * never come (and would wedge a reload, or --check-config under
     * systemctl reload). Opened without waiting, it is refused below. On a
     * regular file the flag changes nothing. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    fb->data = NULL;
    fb->len = 0;
    if (fd < 0 || fstat(fd, &st) != 0)
        goto sys_error;
    if (!S_ISREG(st.st_mode)) {
        snprintf(errbuf, errlen, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
        goto fail;
    }
    if ((uintmax_t)st.st_size > SIZE_MAX / 2) {
        snprintf(errbuf, errlen, "%s: too large", path);
        goto fail;
    }
    size = (size_t)st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (size > 0) {
        if ((fb->data = file_bytes_alloc(size)) == NULL) {
            snprintf(errbuf, errlen, "%s: out of memory", path);
            goto fail;
        }
        fb->len = size;
    }
    while (done < size) {
        n = read_some(fd, fb->data + done, size - done < READ_BLOCK ? size - done : READ_BLOCK);
        if (n < 0)
            goto sys_error;
        if (n == 0) {
            snprintf(errbuf, errlen, "%s: changed while it was read (it ended after %zu of its %zu bytes)", path, done,
                     size);
            goto fail;
        }
        done += (size_t)n;
        if (sink->progress && sink->progress(sink->arg, done, size) != 0) {
            snprintf(errbuf, errlen, "%s: load cancelled", path);
            goto fail;
        }
    }
    if ((n = read_some(fd, &probe, 1)) < 0 || fstat(fd, &after) != 0)
        goto sys_error;
    if (n > 0) {
        snprintf(errbuf, errlen, "%s: changed while it was read (it grew past its %zu bytes)", path, size);
        goto fail;
    }
    if (after.st_size != st.st_size) {
        snprintf(errbuf, errlen, "%s: changed while it was read (its size went from %zu to %jd bytes)", path, size,
                 (intmax_t)after.st_size);
        goto fail;
    }
    if (after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
        snprintf(errbuf, errlen, "%s: changed while it was read (written to meanwhile)", path);
        goto fail;
    }
    close(fd);
    return 0;
sys_error:
    snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
fail:
    if (fd >= 0)
        close(fd);
    file_bytes_free(fb);
    return -1;
}

/* ---- TSV ---- */

static long read_tsv(const char *path, const file_bytes *m, const datafile_sink *sink, char *errbuf, size_t errlen)
{
    const char *data = m->data, *end = data + m->len;
    size_t lines = 1, lineno = 0;
    proto_buf enc = {0};
    long n = 0;

    for (const char *p = data; p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    /* Every value gains two quotes and an entry header of 8 bytes. */
    if (sink_begin(sink, lines, m->len + lines * 10) != 0)
        goto nomem;

    for (const char *p = data; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        lineno++;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (eol == p) { /* blank lines are skipped */
            p = next;
            continue;
        }
        const char *tab = memchr(p, '\t', (size_t)(eol - p));
        if (tab == NULL) {
            snprintf(errbuf, errlen, "%s: line %zu: no TAB between key and value", path, lineno);
            goto fail;
        }
        size_t klen = (size_t)(tab - p), vlen = (size_t)(eol - tab - 1);
        const char *v = tab + 1;
        int safe = proto_json_safe(v, vlen);
        if (!proto_utf8_valid(p, klen) || (!safe && !proto_utf8_valid(v, vlen))) {
            snprintf(errbuf, errlen, "%s: line %zu: not valid UTF-8", path, lineno);
            goto fail;
        }
        struct iovec iov[3] = {{"\"", 1}, {(void *)v, vlen}, {"\"", 1}};
        int rc;
        if (safe) {
            rc = sink->entry(sink->arg, p, klen, iov, 3); /* nothing to escape */
        } else {
            proto_buf_reset(&enc);
            if (proto_dump_string(&enc, v, vlen) != 0)
                goto nomem;
            rc = sink_entry1(sink, p, klen, enc.data, enc.len);
        }
        if (rc < 0)
            goto nomem;
        if (rc == 1) {
            snprintf(errbuf, errlen, "%s: line %zu: duplicate key '%.*s'", path, lineno, (int)(klen > 40 ? 40 : klen),
                     p);
            goto fail;
        }
        n++;
        p = next;
    }
    proto_buf_free(&enc);
    return n;
nomem:
    snprintf(errbuf, errlen, "%s: out of memory", path);
fail:
    proto_buf_free(&enc);
    return -1;
}

/* ---- JSON, the whole file through jansson ---- */

static long read_json_full(const char *path, const file_bytes *m, const datafile_sink *sink, char *errbuf,
                           size_t errlen)
{
    json_error_t jerr;
    proto_buf enc = {0};
    long n = 0;
    json_t *root = json_loadb(m->data ? m->data : "", m->len, LOAD_JSON_FLAGS, &jerr);

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
        if (sink_entry1(sink, json_object_iter_key(it), json_object_iter_key_len(it), enc.data, enc.len) != 0)
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
enum { FAST_OK = 0, FAST_FALLBACK = 1, FAST_NOMEM = -1 };

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

/* Estimates the number of entries: a key is a string followed by ':'. */
static size_t count_keys(const char *p, const char *end)
{
    size_t n = 0;
    while (p < end && (p = memchr(p, ':', (size_t)(end - p))) != NULL) {
        const char *q = p - 1;
        while (q > p - 8 && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q--;
        n += *q == '"';
        p++;
    }
    return n;
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
                      size_t klen)
{
    const char *tok, *vstart = *p;
    size_t toklen;
    int escaped, put;

    if (**p == '"') {
        if (string_token(p, end, &tok, &toklen, &escaped) != 0)
            return FAST_FALLBACK;
        if (!escaped) {
            put = sink_entry1(sink, key, klen, tok, toklen); /* already as answers write it */
        } else {
            json_t *s = json_loadb(tok, toklen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            proto_buf_reset(enc);
            if (s == NULL)
                return FAST_FALLBACK;
            proto_dump_string(enc, json_string_value(s), json_string_length(s));
            json_decref(s);
            put = enc->failed ? -1 : sink_entry1(sink, key, klen, enc->data, enc->len);
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
        put = enc->failed ? -1 : sink_entry1(sink, key, klen, enc->data, enc->len);
    }
    if (put < 0)
        return FAST_NOMEM;
    return put == 1 ? FAST_FALLBACK : FAST_OK;
}

static int read_json_fast(const file_bytes *m, const datafile_sink *sink, long *count)
{
    const char *p = m->data, *end = p + m->len;
    proto_buf enc = {0};
    json_t *decoded = NULL;
    int rc = FAST_FALLBACK;
    long n = 0;

    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return FAST_FALLBACK;
    size_t expected = count_keys(p, end);
    if (sink_begin(sink, expected, m->len + expected * 8) != 0)
        return FAST_NOMEM;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        const char *key;
        size_t klen;
        int entry;

        if (fast_key(&p, end, &decoded, &key, &klen) != 0)
            goto out;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            goto out;
        p = skip_ws(p + 1, end);
        if (p >= end)
            goto out;
        if ((entry = fast_entry(&p, end, &enc, sink, key, klen)) != FAST_OK) {
            rc = entry;
            goto out;
        }
        n++;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        goto out;
    }
tail:
    p = skip_ws(p, end);
    if (p == end) {
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

long datafile_read(const char *path, datafile_format format, const datafile_sink *sink, char *errbuf, size_t errlen)
{
    file_bytes m;
    long n = -1;

    format = datafile_format_of(path, format);
    if (format == DATAFILE_AUTO) {
        snprintf(errbuf, errlen, "%s: cannot tell the format from the name: use --format json|tsv", path);
        return -1;
    }
    if (read_file(path, sink, &m, errbuf, errlen) != 0)
        return -1;
    /* A UTF-8 byte-order mark, as Windows editors write, is not part of
     * the first key (nor an error in JSON): skipped, as Python's utf-8-sig
     * codec does, before any reader sees the bytes. It stands before the
     * first line, so line numbers stay right (and jansson's columns count
     * from after it, as Python's do). */
    file_bytes body = m;
    if (body.len >= 3 && memcmp(body.data, "\xef\xbb\xbf", 3) == 0) {
        body.data += 3;
        body.len -= 3;
    }
    if (format == DATAFILE_TSV) {
        n = read_tsv(path, &body, sink, errbuf, errlen);
    } else {
        int rc = read_json_fast(&body, sink, &n);
        if (rc == FAST_NOMEM) {
            snprintf(errbuf, errlen, "%s: out of memory", path);
            n = -1;
        } else if (rc == FAST_FALLBACK) {
            n = read_json_full(path, &body, sink, errbuf, errlen); /* begins the sink again */
        }
    }
    file_bytes_free(&m);
    return n;
}

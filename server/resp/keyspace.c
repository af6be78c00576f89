/*
 * keyspace.c: the commands over the table's keys, as Redis's db.c and
 * t_string.c answer them: GET MGET EXISTS STRLEN GETRANGE SUBSTR TYPE TTL
 * PTTL DBSIZE RANDOMKEY SCAN KEYS; and the reads of hashes, lists, sets and
 * sorted sets, which find every key absent or a string. A value is sent as
 * a string: a JSON string's bytes, unescaped here (value_bytes), or any
 * other JSON value's text.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "glob.h"
#include "hash.h"
#include "text.h"

#define SCAN_COUNT_DEF 10
#define SCAN_COUNT_MAX 10000 /* COUNT above it walks as far as this */

/* ---- values ---- */

/* The four hex digits at p as a number in *out. Returns 0, or -1 when one
 * is not a hex digit. */
static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = proto_hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Unescapes the JSON string body s[0..n) into out (at least n bytes: an
 * escape never grows). Returns the length written. A \u escape becomes its
 * UTF-8 bytes (a lone surrogate its 3-byte form); a malformed escape is
 * copied as it is (the loader only stores valid JSON). */
static size_t json_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = s[i];
            continue;
        }
        char e = s[++i];
        unsigned cp;
        switch (e) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u':
            if (i + 4 >= n || hex4(s + i + 1, &cp) != 0) {
                out[o++] = '\\';
                out[o++] = 'u';
                break;
            }
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u') {
                unsigned lo;
                if (hex4(s + i + 3, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            if (cp < 0x80) {
                out[o++] = (char)cp;
            } else if (cp < 0x800) {
                out[o++] = (char)(0xc0 | cp >> 6);
                out[o++] = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                out[o++] = (char)(0xe0 | cp >> 12);
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[o++] = (char)(0x80 | (cp & 0x3f));
            } else {
                out[o++] = (char)(0xf0 | cp >> 18);
                out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[o++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        default: out[o++] = e; break; /* \" \\ \/ */
        }
    }
    return o;
}

/* Looks key up, counting the hit or miss. */
static int lookup(resp_exec *x, const char *key, size_t key_len, const char **v, size_t *vlen, table_kind *kind)
{
    if (table_get(x->env->table, key, key_len, v, vlen, kind)) {
        x->res->hits++;
        return 1;
    }
    x->res->misses++;
    return 0;
}

/* Points *p at the bytes a value stands for (a string's bytes, any other
 * value's text), *len long. An escaped string is unescaped into *tmp
 * (the caller frees it; NULL otherwise). Returns 0 or -1 (out of memory). */
static int value_bytes(const char *v, size_t vlen, table_kind kind, char **tmp, const char **p, size_t *len)
{
    *tmp = NULL;
    if (kind == TABLE_STRING_RAW) {
        *p = v + 1;
        *len = vlen - 2;
    } else if (kind == TABLE_JSON) {
        *p = v;
        *len = vlen;
    } else {
        *tmp = malloc(vlen);
        if (*tmp == NULL)
            return -1;
        *len = json_unescape(v + 1, vlen - 2, *tmp);
        *p = *tmp;
    }
    return 0;
}

/* Appends a value as a bulk: a string's bytes, any other value's text. */
static int reply_value(resp_exec *x, const char *v, size_t vlen, table_kind kind)
{
    char *tmp;
    const char *p;
    size_t len;
    if (value_bytes(v, vlen, kind, &tmp, &p, &len) != 0)
        return -1;
    int rc = resp_encode_bulk(x->out, p, len);
    free(tmp);
    return rc;
}

/* The length of the bytes reply_value sends. */
static int value_strlen(const char *v, size_t vlen, table_kind kind, size_t *len)
{
    if (kind != TABLE_STRING_ESCAPED) {
        *len = kind == TABLE_STRING_RAW ? vlen - 2 : vlen;
        return 0;
    }
    char *tmp = malloc(vlen);
    if (tmp == NULL)
        return -1;
    *len = json_unescape(v + 1, vlen - 2, tmp);
    free(tmp);
    return 0;
}

/* ---- keys ---- */

int cmd_get(resp_exec *x, const resp_args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (!lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return resp_encode_null_bulk(x->out);
    return reply_value(x, v, vlen, kind);
}

int resp_get_held(resp_exec *x, const resp_args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (!table_get(x->env->table, a->argv[1], a->len[1], &v, &vlen, &kind))
        return 0;
    x->res->commands++;
    x->res->hits++;
    return reply_value(x, v, vlen, kind) == 0 ? 1 : -1;
}

int cmd_mget(resp_exec *x, const resp_args *a)
{
    if (resp_encode_array(x->out, a->argc - 1) != 0)
        return -1;
    for (size_t i = 1; i < a->argc; i++) {
        const char *v;
        size_t vlen;
        table_kind kind;
        int rc = lookup(x, a->argv[i], a->len[i], &v, &vlen, &kind) ? reply_value(x, v, vlen, kind)
                                                                    : resp_encode_null_bulk(x->out);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int cmd_exists(resp_exec *x, const resp_args *a)
{
    long long n = 0;
    for (size_t i = 1; i < a->argc; i++) {
        const char *v;
        size_t vlen;
        table_kind kind;
        n += lookup(x, a->argv[i], a->len[i], &v, &vlen, &kind);
    }
    return resp_encode_integer(x->out, n);
}

int cmd_strlen(resp_exec *x, const resp_args *a)
{
    const char *v;
    size_t vlen, len = 0;
    table_kind kind;
    if (lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind) && value_strlen(v, vlen, kind, &len) != 0)
        return -1;
    return resp_encode_integer(x->out, (long long)len);
}

/* GETRANGE key start end (and SUBSTR), as t_string.c's getrangeCommand. */
int cmd_getrange(resp_exec *x, const resp_args *a)
{
    long long start, end;
    const char *v, *p;
    size_t vlen, len;
    table_kind kind;
    char *tmp;

    if (!resp_string2ll(a->argv[2], a->len[2], &start) || !resp_string2ll(a->argv[3], a->len[3], &end))
        return reply_not_integer(x);
    if (!lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return resp_encode_bulk(x->out, "", 0);
    if (value_bytes(v, vlen, kind, &tmp, &p, &len) != 0)
        return -1;
    long long n = (long long)len;
    int rc;
    if (start < 0 && end < 0 && start > end) {
        rc = resp_encode_bulk(x->out, "", 0);
    } else {
        if (start < 0)
            start = n + start;
        if (end < 0)
            end = n + end;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= n)
            end = n - 1;
        if (start > end || n == 0)
            rc = resp_encode_bulk(x->out, "", 0);
        else
            rc = resp_encode_bulk(x->out, p + start, (size_t)(end - start + 1));
    }
    free(tmp);
    return rc;
}

int cmd_type(resp_exec *x, const resp_args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return resp_encode_simple(x->out, "string", 6);
    return resp_encode_simple(x->out, "none", 4);
}

/* TTL and PTTL: no key expires. */
int cmd_ttl(resp_exec *x, const resp_args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    return resp_encode_integer(x->out, lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind) ? -1 : -2);
}

int cmd_dbsize(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_integer(x->out, (long long)table_size(x->env->table));
}

static uint64_t next_random(resp_exec *x)
{
    if (x->env->random != NULL)
        return x->env->random(x->env->arg);
    /* No source given: a fixed sequence, enough for tests. */
    static __thread uint64_t state = HASH_SPLITMIX64_GAMMA;
    return hash_splitmix64(&state);
}

int cmd_randomkey(resp_exec *x, const resp_args *a)
{
    (void)a;
    const char *k;
    size_t klen;
    if (!table_random_key(x->env->table, next_random(x), &k, &klen))
        return resp_encode_null_bulk(x->out);
    return resp_encode_bulk(x->out, k, klen);
}

/* SCAN's cursor and options, as scanGenericCommand reads them. */
typedef struct scan_opts {
    unsigned long cursor;
    long long count;
    const char *pattern; /* MATCH's, borrowed from the request; NULL: every key */
    size_t patlen;
    int type_ok; /* TYPE names strings, or is not given: every key is a string */
} scan_opts;

/* Reads SCAN's arguments into *o. Returns 0, 1 when an error was replied,
 * -1 when out of memory. */
static int scan_parse(resp_exec *x, const resp_args *a, scan_opts *o)
{
    char *cur = resp_arg_dup(a, 1), *eptr;
    if (cur == NULL)
        return -1;
    errno = 0;
    o->cursor = strtoul(cur, &eptr, 10);
    int bad = isspace((unsigned char)cur[0]) || eptr[0] != '\0' || errno == ERANGE;
    free(cur);
    if (bad)
        return reply_error(x, "invalid cursor") == 0 ? 1 : -1;
    for (size_t i = 2; i < a->argc; i += 2) {
        size_t j = a->argc - i;
        if (arg_is(a, i, "count") && j >= 2) {
            if (!resp_string2ll(a->argv[i + 1], a->len[i + 1], &o->count) || o->count < LONG_MIN || o->count > LONG_MAX)
                return reply_not_integer(x) == 0 ? 1 : -1;
            if (o->count < 1)
                return reply_syntax_error(x) == 0 ? 1 : -1;
            if (o->count > SCAN_COUNT_MAX)
                o->count = SCAN_COUNT_MAX; /* a bounded step: a big table takes more calls */
        } else if (arg_is(a, i, "match") && j >= 2) {
            int all = a->len[i + 1] == 1 && a->argv[i + 1][0] == '*';
            o->pattern = all ? NULL : a->argv[i + 1];
            o->patlen = a->len[i + 1];
        } else if (arg_is(a, i, "type") && j >= 2) {
            /* every key is a string; Redis compares with strcasecmp */
            o->type_ok = arg_is(a, i + 1, "string");
        } else {
            return reply_syntax_error(x) == 0 ? 1 : -1;
        }
    }
    return 0;
}

/* Walks slots as Redis walks buckets, from o->cursor: at least one, until
 * count keys or 10 * count slots were seen, or the end. Puts the slots of
 * the keys seen in *found (malloc'd, or NULL for none) and the next cursor
 * in o->cursor (0 at the end). Returns their number, or -1 when out of
 * memory. Filtering comes after, so a reply may hold fewer keys than
 * count, or none, before the end. */
static long scan_walk(const table *t, scan_opts *o, size_t **found)
{
    size_t nslots = table_slots(t), nkeys = 0, cap = 16;
    unsigned long long budget = (unsigned long long)o->count * 10;
    unsigned long cursor = o->cursor;

    *found = NULL;
    o->cursor = 0;
    if (cursor >= nslots)
        return 0;
    size_t *f = malloc(cap * sizeof(*f));
    if (f == NULL)
        return -1;
    do {
        const char *k;
        size_t klen;
        if (table_slot_key(t, cursor, &k, &klen)) {
            if (nkeys == cap) {
                size_t *more = realloc(f, 2 * cap * sizeof(*f));
                if (more == NULL) {
                    free(f);
                    return -1;
                }
                f = more;
                cap *= 2;
            }
            f[nkeys++] = cursor;
        }
        cursor++;
    } while (cursor < nslots && budget-- && nkeys < (unsigned long long)o->count);
    o->cursor = cursor < nslots ? cursor : 0;
    *found = f;
    return (long)nkeys;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], as db.c's
 * scanGenericCommand. The cursor is a slot number of the table's index:
 * the table never changes, so a full walk returns every key exactly once
 * (a reload swaps in a new table: a walk across it may miss or repeat
 * keys, as a Redis SCAN across a FLUSHALL would). */
int cmd_scan(resp_exec *x, const resp_args *a)
{
    const table *t = x->env->table;
    scan_opts o = {0, SCAN_COUNT_DEF, NULL, 0, 1};
    char *pattern = NULL;
    size_t *found = NULL, patlen = 0, keep = 0;

    int rc = scan_parse(x, a, &o);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (o.pattern != NULL) {
        /* NUL-terminated: resp_glob_match reads one byte past the pattern */
        pattern = malloc(o.patlen + 1);
        if (pattern == NULL)
            return -1;
        memcpy(pattern, o.pattern, o.patlen);
        pattern[o.patlen] = '\0';
        patlen = resp_glob_collapse(pattern, o.patlen);
    }
    long nkeys = scan_walk(t, &o, &found);
    for (long i = 0; i < nkeys; i++) {
        const char *k;
        size_t klen;
        table_slot_key(t, found[i], &k, &klen);
        if (o.type_ok && (pattern == NULL || resp_glob_match(pattern, patlen, k, klen, 0)))
            found[keep++] = found[i];
    }
    char num[32];
    int n = snprintf(num, sizeof(num), "%lu", o.cursor);
    rc = nkeys < 0 ? -1
                   : resp_encode_array(x->out, 2) | resp_encode_bulk(x->out, num, (size_t)n) |
                         resp_encode_array(x->out, keep);
    for (size_t i = 0; i < keep && rc == 0; i++) {
        const char *k;
        size_t klen;
        table_slot_key(t, found[i], &k, &klen);
        rc = resp_encode_bulk(x->out, k, klen);
    }
    free(found);
    free(pattern);
    return rc;
}

int cmd_keys(resp_exec *x, const resp_args *a)
{
    const table *t = x->env->table;
    char *pattern = resp_arg_dup(a, 1);
    size_t patlen = a->len[1], n = 0;
    proto_buf keys = {0};

    if (pattern == NULL)
        return -1;
    patlen = resp_glob_collapse(pattern, patlen);
    int all = patlen == 1 && pattern[0] == '*';
    for (size_t s = 0; s < table_slots(t); s++) {
        const char *k;
        size_t klen;
        if (table_slot_key(t, s, &k, &klen) && (all || resp_glob_match(pattern, patlen, k, klen, 0))) {
            resp_encode_bulk(&keys, k, klen);
            n++;
        }
    }
    int rc = keys.failed ? -1 : resp_encode_array(x->out, n);
    if (rc == 0 && keys.len > 0)
        rc = proto_buf_append(x->out, keys.data, keys.len);
    proto_buf_free(&keys);
    free(pattern);
    return rc;
}

/* ---- other data types: every key is absent for them, or a string ---- */

static int wrong_type_or(resp_exec *x, const resp_args *a, int (*empty)(resp_exec *x, const resp_args *a))
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return reply_error(x, "-WRONGTYPE Operation against a key holding the wrong kind of value");
    return empty(x, a);
}

static int empty_null(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_null_bulk(x->out);
}

static int empty_zero(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_integer(x->out, 0);
}

static int empty_array(resp_exec *x, const resp_args *a)
{
    (void)a;
    return resp_encode_array(x->out, 0);
}

/* HMGET: a null per field. */
static int empty_nulls(resp_exec *x, const resp_args *a)
{
    int rc = resp_encode_array(x->out, a->argc - 2);
    for (size_t i = 2; i < a->argc && rc == 0; i++)
        rc = resp_encode_null_bulk(x->out);
    return rc;
}

/* SMISMEMBER: a 0 per member. */
static int empty_zeros(resp_exec *x, const resp_args *a)
{
    int rc = resp_encode_array(x->out, a->argc - 2);
    for (size_t i = 2; i < a->argc && rc == 0; i++)
        rc = resp_encode_integer(x->out, 0);
    return rc;
}

/* LRANGE key start stop: both numbers are read before the key. */
int cmd_lrange(resp_exec *x, const resp_args *a)
{
    long long n;
    if (!resp_string2ll(a->argv[2], a->len[2], &n) || !resp_string2ll(a->argv[3], a->len[3], &n))
        return reply_not_integer(x);
    return wrong_type_or(x, a, empty_array);
}

/* HGET, LINDEX, ZSCORE: a null. */
int cmd_null_read(resp_exec *x, const resp_args *a)
{
    return wrong_type_or(x, a, empty_null);
}

/* HLEN, HEXISTS, HSTRLEN, LLEN, SCARD, SISMEMBER, ZCARD: 0. */
int cmd_zero_read(resp_exec *x, const resp_args *a)
{
    return wrong_type_or(x, a, empty_zero);
}

/* HGETALL, HKEYS, HVALS, SMEMBERS: an empty array. */
int cmd_array_read(resp_exec *x, const resp_args *a)
{
    return wrong_type_or(x, a, empty_array);
}

int cmd_hmget(resp_exec *x, const resp_args *a)
{
    return wrong_type_or(x, a, empty_nulls);
}

int cmd_smismember(resp_exec *x, const resp_args *a)
{
    return wrong_type_or(x, a, empty_zeros);
}

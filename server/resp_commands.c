/*
 * resp_commands.c: one RESP request in, its reply bytes out (see
 * resp_commands.h).
 *
 * resp_execute finds the command in the generated table
 * (resp_command_table.c), runs Redis's checks in processCommand's order,
 * queues it under MULTI or runs its handler. Handlers are found by full
 * name in the sorted `handlers` array below; a command of Redis's that has
 * no handler gets the answer resp_commands.h documents.
 *
 * Redis reads most arguments as C strings (strcasecmp, %s): a NUL byte ends
 * them there. Where that shows in a reply or a decision, cstr_len() gives
 * the same cut.
 */
#include "resp_commands.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>

#define REDIS_VERSION  "7.0.15"
#define NAME_MAX_LEN   64 /* longer command names are unknown to Redis anyway */
#define SCAN_COUNT_DEF 10
#define SCAN_COUNT_MAX 10000 /* COUNT above it walks as far as this */

/* One resp_execute call's context. */
typedef struct exec_ctx {
    const resp_env *env;
    resp_client *c;
    proto_buf *out;
    resp_result *res;
} exec_ctx;

/* A request's arguments (argv[0] is the command's name). */
typedef struct args {
    size_t argc;
    const char *const *argv;
    const size_t *len;
} args;

typedef int (*command_fn)(exec_ctx *x, const args *a);

typedef struct handler {
    const char *name; /* full name, as in resp_command_specs */
    command_fn fn;
} handler;

/* ---- small helpers ---- */

/* The length Redis sees when it reads an argument as a C string. */
static size_t cstr_len(const char *p, size_t n)
{
    const char *z = memchr(p, '\0', n);
    return z != NULL ? (size_t)(z - p) : n;
}

/* strcasecmp(arg, word) as Redis does it on an sds. */
static int arg_is(const args *a, size_t i, const char *word)
{
    size_t n = cstr_len(a->argv[i], a->len[i]);
    return n == strlen(word) && strncasecmp(a->argv[i], word, n) == 0;
}

/* An error reply, as addReplyErrorFormat writes it: "-ERR text", or
 * "-text" when the text starts with '-'. */
static int reply_error(exec_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reply_error(exec_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = resp_encode_verrorf(x->out, fmt, ap);
    va_end(ap);
    return rc;
}

static int reply_ok(exec_ctx *x)
{
    return resp_encode_simple(x->out, "OK", 2);
}

static int reply_str_bulk(exec_ctx *x, const char *s)
{
    return resp_encode_bulk(x->out, s, strlen(s));
}

static int reply_raw(exec_ctx *x, const char *bytes, size_t len)
{
    return proto_buf_append(x->out, bytes, len);
}

/* Redis's shared.syntaxerr. */
static int reply_syntax_error(exec_ctx *x)
{
    return reply_error(x, "syntax error");
}

static int reply_not_integer(exec_ctx *x)
{
    return reply_error(x, "value is not an integer or out of range");
}

/* util.c's stringmatchlen (glob: * ? [a-z] [^x] \x), with nocase. The
 * pattern must be NUL-terminated after patlen bytes: Redis's reads one
 * byte past the end in two places. */
static int glob_match_impl(const char *pattern, long patlen, const char *string, long slen, int nocase,
                           int *skip_longer)
{
    while (patlen && slen) {
        switch (pattern[0]) {
        case '*':
            while (patlen && pattern[1] == '*') {
                pattern++;
                patlen--;
            }
            if (patlen == 1)
                return 1;
            while (slen) {
                if (glob_match_impl(pattern + 1, patlen - 1, string, slen, nocase, skip_longer))
                    return 1;
                if (*skip_longer)
                    return 0;
                string++;
                slen--;
            }
            /* No match for the rest anywhere in the rest of the string:
             * a longer match for an earlier '*' cannot help either. */
            *skip_longer = 1;
            return 0;
        case '?':
            string++;
            slen--;
            break;
        case '[': {
            int not, match;

            pattern++;
            patlen--;
            not = pattern[0] == '^';
            if (not ) {
                pattern++;
                patlen--;
            }
            match = 0;
            while (1) {
                if (pattern[0] == '\\' && patlen >= 2) {
                    pattern++;
                    patlen--;
                    if (pattern[0] == string[0])
                        match = 1;
                } else if (pattern[0] == ']') {
                    break;
                } else if (patlen == 0) {
                    pattern--;
                    patlen++;
                    break;
                } else if (patlen >= 3 && pattern[1] == '-') {
                    int start = pattern[0], end = pattern[2], ch = string[0];
                    if (start > end) {
                        int t = start;
                        start = end;
                        end = t;
                    }
                    if (nocase) {
                        start = tolower(start);
                        end = tolower(end);
                        ch = tolower(ch);
                    }
                    pattern += 2;
                    patlen -= 2;
                    if (ch >= start && ch <= end)
                        match = 1;
                } else if (!nocase) {
                    if (pattern[0] == string[0])
                        match = 1;
                } else if (tolower((int)pattern[0]) == tolower((int)string[0])) {
                    match = 1;
                }
                pattern++;
                patlen--;
            }
            if (not )
                match = !match;
            if (!match)
                return 0;
            string++;
            slen--;
            break;
        }
        case '\\':
            if (patlen >= 2) {
                pattern++;
                patlen--;
            }
            /* fall through */
        default:
            if (!nocase) {
                if (pattern[0] != string[0])
                    return 0;
            } else if (tolower((int)pattern[0]) != tolower((int)string[0])) {
                return 0;
            }
            string++;
            slen--;
            break;
        }
        pattern++;
        patlen--;
        if (slen == 0) {
            while (*pattern == '*') {
                pattern++;
                patlen--;
            }
            break;
        }
    }
    return patlen == 0 && slen == 0;
}

/* Collapses each run of '*' in p (outside an escape) to one '*', in place,
 * and returns the new length: the same matches, but a pattern of a million
 * stars no longer costs a million steps for every key it is tried on. A
 * run inside a [class] is collapsed too, which leaves the class's set as it
 * was (a '*' stays in it). */
static size_t glob_collapse(char *p, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] == '\\' && i + 1 < len) {
            p[o++] = p[i++];
            p[o++] = p[i++];
        } else if (p[i] == '*' && o > 0 && p[o - 1] == '*' && (o < 2 || p[o - 2] != '\\')) {
            i++;
        } else {
            p[o++] = p[i++];
        }
    }
    if (o < len)
        p[o] = '\0';
    return o;
}

static int glob_match(const char *pattern, size_t patlen, const char *s, size_t slen, int nocase)
{
    int skip = 0;
    return glob_match_impl(pattern, (long)patlen, s, (long)slen, nocase, &skip);
}

/* ---- values ---- */

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return -1;
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
static int lookup(exec_ctx *x, const char *key, size_t key_len, const char **v, size_t *vlen, table_kind *kind)
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
static int reply_value(exec_ctx *x, const char *v, size_t vlen, table_kind kind)
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

static int cmd_get(exec_ctx *x, const args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (!lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return resp_encode_null_bulk(x->out);
    return reply_value(x, v, vlen, kind);
}

static int cmd_mget(exec_ctx *x, const args *a)
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

static int cmd_exists(exec_ctx *x, const args *a)
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

static int cmd_strlen(exec_ctx *x, const args *a)
{
    const char *v;
    size_t vlen, len = 0;
    table_kind kind;
    if (lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind) && value_strlen(v, vlen, kind, &len) != 0)
        return -1;
    return resp_encode_integer(x->out, (long long)len);
}

/* GETRANGE key start end (and SUBSTR), as t_string.c's getrangeCommand. */
static int cmd_getrange(exec_ctx *x, const args *a)
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

static int cmd_type(exec_ctx *x, const args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return resp_encode_simple(x->out, "string", 6);
    return resp_encode_simple(x->out, "none", 4);
}

/* TTL and PTTL: no key expires. */
static int cmd_ttl(exec_ctx *x, const args *a)
{
    const char *v;
    size_t vlen;
    table_kind kind;
    return resp_encode_integer(x->out, lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind) ? -1 : -2);
}

static int cmd_dbsize(exec_ctx *x, const args *a)
{
    (void)a;
    return resp_encode_integer(x->out, (long long)table_size(x->env->table));
}

static uint64_t next_random(exec_ctx *x)
{
    if (x->env->random != NULL)
        return x->env->random(x->env->arg);
    /* No source given: a fixed sequence (splitmix64), enough for tests. */
    static __thread uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t z = (state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int cmd_randomkey(exec_ctx *x, const args *a)
{
    (void)a;
    const char *k;
    size_t klen;
    if (!table_random_key(x->env->table, next_random(x), &k, &klen))
        return resp_encode_null_bulk(x->out);
    return resp_encode_bulk(x->out, k, klen);
}

/* A NUL-terminated copy of an argument, or NULL. */
static char *arg_dup(const args *a, size_t i)
{
    char *s = malloc(a->len[i] + 1);
    if (s != NULL) {
        memcpy(s, a->argv[i], a->len[i]);
        s[a->len[i]] = '\0';
    }
    return s;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], as db.c's
 * scanGenericCommand. The cursor is a slot number of the table's index:
 * the table never changes, so a full walk returns every key exactly once
 * (a reload swaps in a new table: a walk across it may miss or repeat
 * keys, as a Redis SCAN across a FLUSHALL would). */
static int cmd_scan(exec_ctx *x, const args *a)
{
    const table *t = x->env->table;
    char *cur = arg_dup(a, 1), *pattern = NULL, *eptr;
    const char *pattern_arg = NULL;
    size_t patlen = 0;
    int use_pattern = 0, type_ok = 1, rc = -1;
    long long count = SCAN_COUNT_DEF;

    if (cur == NULL)
        return -1;
    errno = 0;
    unsigned long cursor = strtoul(cur, &eptr, 10);
    if (isspace((unsigned char)cur[0]) || eptr[0] != '\0' || errno == ERANGE) {
        rc = reply_error(x, "invalid cursor");
        goto done;
    }
    for (size_t i = 2; i < a->argc;) {
        size_t j = a->argc - i;
        if (arg_is(a, i, "count") && j >= 2) {
            if (!resp_string2ll(a->argv[i + 1], a->len[i + 1], &count) || count < LONG_MIN || count > LONG_MAX) {
                rc = reply_not_integer(x);
                goto done;
            }
            if (count < 1) {
                rc = reply_syntax_error(x);
                goto done;
            }
            if (count > SCAN_COUNT_MAX)
                count = SCAN_COUNT_MAX; /* a bounded step: a big table takes more calls */
            i += 2;
        } else if (arg_is(a, i, "match") && j >= 2) {
            pattern_arg = a->argv[i + 1];
            patlen = a->len[i + 1];
            use_pattern = !(patlen == 1 && pattern_arg[0] == '*');
            i += 2;
        } else if (arg_is(a, i, "type") && j >= 2) {
            /* every key is a string; Redis compares with strcasecmp */
            type_ok = arg_is(a, i + 1, "string");
            i += 2;
        } else {
            rc = reply_syntax_error(x);
            goto done;
        }
    }
    if (use_pattern) {
        /* NUL-terminated: glob_match reads one byte past the pattern */
        pattern = malloc(patlen + 1);
        if (pattern == NULL)
            goto done;
        memcpy(pattern, pattern_arg, patlen);
        pattern[patlen] = '\0';
        patlen = glob_collapse(pattern, patlen);
    }

    /* Walk slots as Redis walks buckets: at least one, until count keys or
     * 10 * count slots were seen, or the end. Filtering comes after, so a
     * reply may hold fewer keys than count, or none, before the end. */
    size_t nslots = table_slots(t), nkeys = 0, cap = 16;
    size_t *found = NULL;
    unsigned long long budget = (unsigned long long)count * 10;
    if (cursor < nslots) {
        found = malloc(cap * sizeof(*found));
        if (found == NULL)
            goto done;
        do {
            const char *k;
            size_t klen;
            if (table_slot_key(t, cursor, &k, &klen)) {
                if (nkeys == cap) {
                    size_t *f = realloc(found, 2 * cap * sizeof(*found));
                    if (f == NULL) {
                        free(found);
                        goto done;
                    }
                    found = f;
                    cap *= 2;
                }
                found[nkeys++] = cursor;
            }
            cursor++;
        } while (cursor < nslots && budget-- && nkeys < (unsigned long long)count);
        if (cursor >= nslots)
            cursor = 0;
    } else {
        cursor = 0;
    }

    size_t keep = 0;
    for (size_t i = 0; i < nkeys; i++) {
        const char *k;
        size_t klen;
        table_slot_key(t, found[i], &k, &klen);
        if (type_ok && (pattern == NULL || glob_match(pattern, patlen, k, klen, 0)))
            found[keep++] = found[i];
    }
    char num[32];
    int n = snprintf(num, sizeof(num), "%lu", cursor);
    rc = resp_encode_array(x->out, 2) | resp_encode_bulk(x->out, num, (size_t)n) | resp_encode_array(x->out, keep);
    for (size_t i = 0; i < keep && rc == 0; i++) {
        const char *k;
        size_t klen;
        table_slot_key(t, found[i], &k, &klen);
        rc = resp_encode_bulk(x->out, k, klen);
    }
    free(found);
done:
    free(pattern);
    free(cur);
    return rc;
}

/* KEYS pattern: every matching key, in slot order. */
static int cmd_keys(exec_ctx *x, const args *a)
{
    const table *t = x->env->table;
    char *pattern = arg_dup(a, 1);
    size_t patlen = a->len[1], n = 0;
    proto_buf keys = {0};

    if (pattern == NULL)
        return -1;
    patlen = glob_collapse(pattern, patlen);
    int all = patlen == 1 && pattern[0] == '*';
    for (size_t s = 0; s < table_slots(t); s++) {
        const char *k;
        size_t klen;
        if (table_slot_key(t, s, &k, &klen) && (all || glob_match(pattern, patlen, k, klen, 0))) {
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

/* ---- connection ---- */

static int cmd_ping(exec_ctx *x, const args *a)
{
    if (a->argc > 2)
        return reply_error(x, "wrong number of arguments for 'ping' command");
    if (a->argc == 1)
        return resp_encode_simple(x->out, "PONG", 4);
    return resp_encode_bulk(x->out, a->argv[1], a->len[1]);
}

static int cmd_echo(exec_ctx *x, const args *a)
{
    return resp_encode_bulk(x->out, a->argv[1], a->len[1]);
}

static int cmd_select(exec_ctx *x, const args *a)
{
    long long id;
    if (!resp_string2ll(a->argv[1], a->len[1], &id))
        return reply_not_integer(x);
    if (id < INT_MIN || id > INT_MAX)
        return reply_error(x, "value is out of range, value must between %d and %d", INT_MIN, INT_MAX);
    if (id != 0)
        return reply_error(x, "DB index is out of range");
    return reply_ok(x);
}

static int cmd_quit(exec_ctx *x, const args *a)
{
    (void)a;
    x->res->close = 1;
    return reply_ok(x);
}

static int cmd_auth(exec_ctx *x, const args *a)
{
    /* As a Redis whose only user, "default", has no password. */
    if (a->argc == 2)
        return reply_error(x, "AUTH <password> called without any password configured for the default "
                              "user. Are you sure your configuration is correct?");
    if (a->argc > 3)
        return reply_syntax_error(x);
    if (a->len[1] == 7 && memcmp(a->argv[1], "default", 7) == 0)
        return reply_ok(x);
    return reply_error(x, "-WRONGPASS invalid username-password pair or user is disabled.");
}

/* networking.c's clientSetNameOrReply: "" removes the name. Returns 0 when
 * the name is set, 1 when it is refused (the error is replied), -1 when out
 * of memory. */
static int set_name(exec_ctx *x, const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '!' || name[i] > '~')
            return reply_error(x, "Client names cannot contain spaces, newlines or special characters.") == 0 ? 1 : -1;
    }
    char *copy = NULL;
    if (len > 0) {
        copy = malloc(len + 1);
        if (copy == NULL)
            return -1;
        memcpy(copy, name, len);
        copy[len] = '\0';
    }
    free(x->c->name);
    x->c->name = copy;
    return 0;
}

static int cmd_client_setname(exec_ctx *x, const args *a)
{
    int rc = set_name(x, a->argv[2], a->len[2]);
    return rc != 0 ? (rc > 0 ? 0 : -1) : reply_ok(x);
}

static int cmd_client_getname(exec_ctx *x, const args *a)
{
    (void)a;
    if (x->c->name == NULL)
        return resp_encode_null_bulk(x->out);
    return reply_str_bulk(x, x->c->name);
}

static int cmd_client_id(exec_ctx *x, const args *a)
{
    (void)a;
    return resp_encode_integer(x->out, x->c->id);
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]], RESP2 only. */
static int cmd_hello(exec_ctx *x, const args *a)
{
    size_t next = 1;
    if (a->argc >= 2) {
        long long ver;
        if (!resp_string2ll(a->argv[1], a->len[1], &ver))
            return reply_error(x, "Protocol version is not an integer or out of range");
        /* Redis takes 2 and 3; evkv speaks RESP2 only and answers 3 as
         * Redis answers a version it does not know. */
        if (ver != 2)
            return reply_error(x, "-NOPROTO unsupported protocol version");
        next = 2;
    }
    for (size_t j = next; j < a->argc; j++) {
        size_t more = a->argc - 1 - j;
        if (arg_is(a, j, "auth") && more >= 2) {
            if (!(a->len[j + 1] == 7 && memcmp(a->argv[j + 1], "default", 7) == 0))
                return reply_error(x, "-WRONGPASS invalid username-password pair or user is disabled.");
            j += 2;
        } else if (arg_is(a, j, "setname") && more) {
            int rc = set_name(x, a->argv[j + 1], a->len[j + 1]);
            if (rc != 0)
                return rc > 0 ? 0 : -1;
            j++;
        } else {
            return reply_error(x, "Syntax error in HELLO option '%.*s'", (int)cstr_len(a->argv[j], a->len[j]),
                               a->argv[j]);
        }
    }
    int rc = resp_encode_array(x->out, 14);
    rc |= reply_str_bulk(x, "server") | reply_str_bulk(x, "redis");
    rc |= reply_str_bulk(x, "version") | reply_str_bulk(x, REDIS_VERSION);
    rc |= reply_str_bulk(x, "proto") | resp_encode_integer(x->out, 2);
    rc |= reply_str_bulk(x, "id") | resp_encode_integer(x->out, x->c->id);
    rc |= reply_str_bulk(x, "mode") | reply_str_bulk(x, "standalone");
    rc |= reply_str_bulk(x, "role") | reply_str_bulk(x, "replica");
    rc |= reply_str_bulk(x, "modules") | resp_encode_array(x->out, 0);
    return rc ? -1 : 0;
}

/* ---- transactions (multi.c) ---- */

static void queue_clear(resp_client *c)
{
    for (size_t i = 0; i < c->nqueued; i++) {
        for (size_t j = 0; j < c->queue[i].argc; j++)
            free(c->queue[i].argv[j]);
        free(c->queue[i].argv);
        free(c->queue[i].argv_len);
    }
    free(c->queue);
    c->queue = NULL;
    c->nqueued = c->queue_cap = 0;
}

static void discard_transaction(resp_client *c)
{
    queue_clear(c);
    c->queued_bytes = 0;
    c->in_multi = 0;
    c->multi_dirty = 0;
}

/* What queuing a costs: its bytes, and the allocations that hold them. */
static size_t queued_cost(const args *a)
{
    size_t n = sizeof(resp_queued) + 2 * a->argc * sizeof(void *);
    for (size_t i = 0; i < a->argc; i++)
        n += a->len[i] + 1 + 2 * sizeof(void *);
    return n;
}

static int queue_command(resp_client *c, const args *a)
{
    if (c->nqueued == c->queue_cap) {
        size_t cap = c->queue_cap ? 2 * c->queue_cap : 4;
        resp_queued *q = realloc(c->queue, cap * sizeof(*q));
        if (q == NULL)
            return -1;
        c->queue = q;
        c->queue_cap = cap;
    }
    resp_queued *q = &c->queue[c->nqueued];
    q->argc = 0;
    q->argv = calloc(a->argc, sizeof(*q->argv));
    q->argv_len = calloc(a->argc, sizeof(*q->argv_len));
    if (q->argv == NULL || q->argv_len == NULL)
        goto fail;
    for (size_t i = 0; i < a->argc; i++) {
        q->argv[i] = malloc(a->len[i] + 1);
        if (q->argv[i] == NULL)
            goto fail;
        memcpy(q->argv[i], a->argv[i], a->len[i]);
        q->argv[i][a->len[i]] = '\0';
        q->argv_len[i] = a->len[i];
        q->argc++;
    }
    c->nqueued++;
    c->queued_bytes += queued_cost(a);
    return 0;
fail:
    for (size_t i = 0; i < q->argc; i++)
        free(q->argv[i]);
    free(q->argv);
    free(q->argv_len);
    return -1;
}

static int cmd_multi(exec_ctx *x, const args *a)
{
    (void)a;
    if (x->c->in_multi)
        return reply_error(x, "MULTI calls can not be nested");
    x->c->in_multi = 1;
    return reply_ok(x);
}

static int cmd_discard(exec_ctx *x, const args *a)
{
    (void)a;
    if (!x->c->in_multi)
        return reply_error(x, "DISCARD without MULTI");
    discard_transaction(x->c);
    return reply_ok(x);
}

static int run_command(exec_ctx *x, const resp_command_spec *spec, const args *a);
static const resp_command_spec *find_spec(const args *a);

static int cmd_exec(exec_ctx *x, const args *a)
{
    (void)a;
    resp_client *c = x->c;
    if (!c->in_multi)
        return reply_error(x, "EXEC without MULTI");
    if (c->multi_dirty) {
        discard_transaction(c);
        return reply_error(x, "-EXECABORT Transaction discarded because of previous errors.");
    }
    /* The queue is taken out first: a queued MULTI or EXEC would not be
     * queued (they run at once), so none can touch it while it runs. */
    resp_queued *queue = c->queue;
    size_t n = c->nqueued;
    c->queue = NULL;
    c->nqueued = c->queue_cap = 0;
    c->in_multi = 0;
    int rc = resp_encode_array(x->out, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        args qa = {queue[i].argc, (const char *const *)queue[i].argv, queue[i].argv_len};
        rc = run_command(x, find_spec(&qa), &qa);
    }
    c->queue = queue;
    c->nqueued = c->queue_cap = n;
    discard_transaction(c);
    return rc;
}

static int cmd_watch(exec_ctx *x, const args *a)
{
    (void)a;
    /* The table never changes: a watched key is never touched. */
    if (x->c->in_multi)
        return reply_error(x, "WATCH inside MULTI is not allowed");
    return reply_ok(x);
}

/* RESET: out of MULTI, no name (the rest of what Redis resets has one
 * value only here). */
static int cmd_reset(exec_ctx *x, const args *a)
{
    (void)a;
    discard_transaction(x->c);
    free(x->c->name);
    x->c->name = NULL;
    return resp_encode_simple(x->out, "RESET", 5);
}

static int cmd_unwatch(exec_ctx *x, const args *a)
{
    (void)a;
    return reply_ok(x);
}

/* ---- introspection ---- */

/* The spec named name[0..len) (any case; "container|sub" too), or NULL. */
static const resp_command_spec *spec_lookup(const char *name, size_t len);

/* COMMAND with no subcommand: the served commands' entries. */
static int cmd_command(exec_ctx *x, const args *a)
{
    (void)a;
    size_t n = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++)
        n += resp_command_specs[i].info != NULL && strchr(resp_command_specs[i].name, '|') == NULL;
    int rc = resp_encode_array(x->out, n);
    for (size_t i = 0; i < resp_command_nspecs && rc == 0; i++) {
        const resp_command_spec *s = &resp_command_specs[i];
        if (s->info != NULL && strchr(s->name, '|') == NULL)
            rc = reply_raw(x, s->info, s->info_len);
    }
    return rc;
}

static int cmd_command_count(exec_ctx *x, const args *a)
{
    (void)a;
    long long n = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++)
        n += resp_command_specs[i].info != NULL && strchr(resp_command_specs[i].name, '|') == NULL;
    return resp_encode_integer(x->out, n);
}

static int cmd_command_info(exec_ctx *x, const args *a)
{
    if (a->argc == 2)
        return cmd_command(x, a);
    int rc = resp_encode_array(x->out, a->argc - 2);
    for (size_t i = 2; i < a->argc && rc == 0; i++) {
        const resp_command_spec *s = spec_lookup(a->argv[i], a->len[i]);
        rc = s != NULL && s->info != NULL ? reply_raw(x, s->info, s->info_len) : resp_encode_null_bulk(x->out);
    }
    return rc;
}

static int cmd_command_docs(exec_ctx *x, const args *a)
{
    size_t n = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++) {
        const resp_command_spec *s = &resp_command_specs[i];
        if (a->argc == 2 ? s->docs != NULL && strchr(s->name, '|') == NULL : 0)
            n++;
    }
    for (size_t i = 2; i < a->argc; i++) {
        const resp_command_spec *s = spec_lookup(a->argv[i], a->len[i]);
        n += s != NULL && s->docs != NULL;
    }
    int rc = resp_encode_array(x->out, 2 * n);
    if (a->argc == 2) {
        for (size_t i = 0; i < resp_command_nspecs && rc == 0; i++) {
            const resp_command_spec *s = &resp_command_specs[i];
            if (s->docs != NULL && strchr(s->name, '|') == NULL)
                rc = reply_raw(x, s->docs, s->docs_len);
        }
    }
    for (size_t i = 2; i < a->argc && rc == 0; i++) {
        const resp_command_spec *s = spec_lookup(a->argv[i], a->len[i]);
        if (s != NULL && s->docs != NULL)
            rc = reply_raw(x, s->docs, s->docs_len);
    }
    return rc;
}

/* X HELP for the containers evkv serves: Redis's text as it is. */
static int cmd_help(exec_ctx *x, const args *a)
{
    const resp_command_spec *s = spec_lookup(a->argv[0], a->len[0]);
    return reply_raw(x, s->help, s->help_len);
}

/* CONFIG GET: a fixed list of harmless answers (what redis-benchmark and
 * redis_exporter ask), matched as Redis matches: a name with no glob
 * character exactly (any case), a pattern with stringmatch nocase. */
static const char *const config_values[][2] = {
    {"appendonly", "no"},
    {"databases", "1"},
    {"maxclients", "10000"},
    {"maxmemory", "0"},
    {"maxmemory-policy", "noeviction"},
    {"replica-read-only", "yes"},
    {"save", ""},
    {"slave-read-only", "yes"},
    {"timeout", "0"},
};
#define NCONFIG (sizeof(config_values) / sizeof(config_values[0]))

static int cmd_config_get(exec_ctx *x, const args *a)
{
    /* Redis answers an exact name with the name as asked (its case), a
     * pattern's matches with their own names. */
    size_t asked[NCONFIG] = {0}; /* argument index + 1 of an exact match, or 0 */
    int match[NCONFIG] = {0};
    size_t n = 0;
    for (size_t i = 2; i < a->argc; i++) {
        size_t len = cstr_len(a->argv[i], a->len[i]);
        char *p = arg_dup(a, i);
        if (p == NULL)
            return -1;
        int glob = strpbrk(p, "[*?") != NULL;
        for (size_t k = 0; k < NCONFIG; k++) {
            const char *name = config_values[k][0];
            if (match[k])
                continue;
            if (glob ? glob_match(p, len, name, strlen(name), 1) : strlen(name) == len && strcasecmp(p, name) == 0) {
                match[k] = 1;
                asked[k] = glob ? 0 : i + 1;
                n++;
            }
        }
        free(p);
    }
    int rc = resp_encode_array(x->out, 2 * n);
    for (size_t k = 0; k < NCONFIG && rc == 0; k++) {
        if (!match[k])
            continue;
        if (asked[k])
            rc = resp_encode_bulk(x->out, a->argv[asked[k] - 1], cstr_len(a->argv[asked[k] - 1], a->len[asked[k] - 1]));
        else
            rc = reply_str_bulk(x, config_values[k][0]);
        rc |= reply_str_bulk(x, config_values[k][1]);
    }
    return rc;
}

/* CONFIG SET, RESETSTAT, REWRITE: evkv's settings come from its options. */
static int cmd_config_refused(exec_ctx *x, const args *a)
{
    return reply_error(x, "evkv does not change its configuration: CONFIG %.*s is not supported",
                       (int)cstr_len(a->argv[1], a->len[1]), a->argv[1]);
}

/* ---- INFO ---- */

/* util.c's bytesToHuman. */
static void bytes_human(char *s, size_t size, unsigned long long n)
{
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(s, size, "%lluB", n);
        return;
    }
    double d = (double)n / 1024;
    for (int u = 0; units[u]; u++, d /= 1024) {
        if (d < 1024) {
            snprintf(s, size, "%.2f%c", d, units[u]);
            return;
        }
    }
    snprintf(s, size, "%lluB", n);
}

static int info_printf(proto_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int info_printf(proto_buf *b, const char *fmt, ...)
{
    char small[1024], *line = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= sizeof(small)) { /* a long table_source path */
        line = malloc((size_t)n + 1);
        if (line == NULL)
            return -1;
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    int rc = proto_buf_append(b, line, (size_t)n);
    if (line != small)
        free(line);
    return rc;
}

enum {
    SEC_SERVER = 1 << 0,
    SEC_CLIENTS = 1 << 1,
    SEC_MEMORY = 1 << 2,
    SEC_PERSISTENCE = 1 << 3,
    SEC_STATS = 1 << 4,
    SEC_REPLICATION = 1 << 5,
    SEC_CPU = 1 << 6,
    SEC_MODULES = 1 << 7,
    SEC_COMMANDSTATS = 1 << 8,
    SEC_ERRORSTATS = 1 << 9,
    SEC_LATENCYSTATS = 1 << 10,
    SEC_CLUSTER = 1 << 11,
    SEC_KEYSPACE = 1 << 12,
    SEC_EVKV = 1 << 13,
    SEC_DEFAULT = SEC_SERVER | SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS | SEC_REPLICATION | SEC_CPU |
                  SEC_MODULES | SEC_ERRORSTATS | SEC_CLUSTER | SEC_KEYSPACE | SEC_EVKV,
    SEC_ALL = SEC_DEFAULT | SEC_COMMANDSTATS | SEC_LATENCYSTATS,
};

/* Sections named by INFO's arguments, as genInfoSectionDict picks them. */
static unsigned info_sections(const args *a)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"server", SEC_SERVER},
        {"clients", SEC_CLIENTS},
        {"memory", SEC_MEMORY},
        {"persistence", SEC_PERSISTENCE},
        {"stats", SEC_STATS},
        {"replication", SEC_REPLICATION},
        {"cpu", SEC_CPU},
        {"modules", SEC_MODULES},
        {"module_list", SEC_MODULES},
        {"commandstats", SEC_COMMANDSTATS},
        {"errorstats", SEC_ERRORSTATS},
        {"latencystats", SEC_LATENCYSTATS},
        {"cluster", SEC_CLUSTER},
        {"keyspace", SEC_KEYSPACE},
        {"evkv", SEC_EVKV},
    };
    if (a->argc == 1)
        return SEC_DEFAULT;
    unsigned sec = 0;
    for (size_t i = 1; i < a->argc; i++) {
        if (arg_is(a, i, "default"))
            sec |= SEC_DEFAULT;
        else if (arg_is(a, i, "all") || arg_is(a, i, "everything"))
            sec |= SEC_ALL;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            if (arg_is(a, i, names[k].name))
                sec |= names[k].bit;
        }
    }
    return sec;
}

static int info_text(exec_ctx *x, unsigned sec, proto_buf *b)
{
    resp_server_info si;
    memset(&si, 0, sizeof(si));
    if (x->env->server_info != NULL)
        x->env->server_info(x->env->arg, &si);
    int sections = 0;
    char h1[32], h2[32];
#define STR(s) ((s) != NULL ? (s) : "")
#define NEXT_SECTION()                                                                                                 \
    do {                                                                                                               \
        if (sections++)                                                                                                \
            proto_buf_append(b, "\r\n", 2);                                                                            \
    } while (0)

    if (sec & SEC_SERVER) {
        struct utsname u;
        struct timeval tv;
        NEXT_SECTION();
        if (uname(&u) != 0)
            memset(&u, 0, sizeof(u));
        gettimeofday(&tv, NULL);
        unsigned long long start = (unsigned long long)(tv.tv_sec - si.uptime_seconds);
        info_printf(b,
                    "# Server\r\nredis_version:" REDIS_VERSION "\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                    "redis_build_id:0\r\nredis_mode:standalone\r\nos:%s %s %s\r\narch_bits:%d\r\n"
                    "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\n",
                    u.sysname, u.release, u.machine, (int)sizeof(long) * 8);
        info_printf(b,
                    "gcc_version:%d.%d.%d\r\nprocess_id:%lld\r\nprocess_supervised:no\r\n"
                    "run_id:%016llx%016llx%08llx\r\ntcp_port:%d\r\nserver_time_usec:%lld\r\n",
                    __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, si.pid, start, (unsigned long long)si.pid,
                    (unsigned long long)si.tcp_port, si.tcp_port,
                    (long long)tv.tv_sec * 1000000 + (long long)tv.tv_usec);
        info_printf(b,
                    "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:10\r\nconfigured_hz:10\r\n"
                    "lru_clock:%lld\r\nexecutable:\r\nconfig_file:\r\nio_threads_active:0\r\n",
                    si.uptime_seconds, si.uptime_seconds / 86400, (long long)(tv.tv_sec & ((1 << 24) - 1)));
    }
    if (sec & SEC_CLIENTS) {
        NEXT_SECTION();
        info_printf(b,
                    "# Clients\r\nconnected_clients:%lld\r\ncluster_connections:0\r\nmaxclients:%lld\r\n"
                    "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\n"
                    "tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                    si.connected_clients, si.maxclients);
    }
    if (sec & SEC_MEMORY) {
        NEXT_SECTION();
        bytes_human(h1, sizeof(h1), si.used_memory);
        bytes_human(h2, sizeof(h2), si.used_memory_rss);
        info_printf(b,
                    "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
                    "used_memory_rss_human:%s\r\n",
                    si.used_memory, h1, si.used_memory_rss, h2);
        info_printf(b,
                    "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\n"
                    "maxmemory_policy:noeviction\r\nmem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\n",
                    si.used_memory, h1, si.used_memory ? (double)si.used_memory_rss / (double)si.used_memory : 0.0);
    }
    if (sec & SEC_PERSISTENCE) {
        NEXT_SECTION();
        info_printf(b,
                    "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\n"
                    "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:%lld\r\nrdb_last_bgsave_status:ok\r\n"
                    "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_last_bgrewrite_status:ok\r\n"
                    "aof_last_write_status:ok\r\n",
                    si.table_loaded_at);
    }
    if (sec & SEC_STATS) {
        NEXT_SECTION();
        info_printf(b,
                    "# Stats\r\ntotal_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n"
                    "instantaneous_ops_per_sec:%lld\r\nrejected_connections:%lld\r\nexpired_keys:0\r\n"
                    "evicted_keys:0\r\n",
                    si.total_connections_received, si.total_commands_processed, (long long)si.instantaneous_ops_per_sec,
                    si.rejected_connections);
        info_printf(b,
                    "keyspace_hits:%lld\r\nkeyspace_misses:%lld\r\npubsub_channels:0\r\npubsub_patterns:0\r\n"
                    "latest_fork_usec:0\r\ntotal_forks:0\r\n",
                    si.keyspace_hits, si.keyspace_misses);
    }
    if (sec & SEC_REPLICATION) {
        NEXT_SECTION();
        /* A master with no replica: what HAProxy's "role:master" check and
         * redis_exporter expect of a server that takes reads. */
        static const char replication[] =
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
            "master_replid:0000000000000000000000000000000000000000\r\n"
            "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n"
            "second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
            "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n";
        proto_buf_append(b, replication, sizeof(replication) - 1);
    }
    if (sec & SEC_CPU) {
        struct rusage ru;
        NEXT_SECTION();
        if (getrusage(RUSAGE_SELF, &ru) != 0)
            memset(&ru, 0, sizeof(ru));
        info_printf(b,
                    "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\nused_cpu_sys_children:0.000000\r\n"
                    "used_cpu_user_children:0.000000\r\n",
                    (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec,
                    (long)ru.ru_utime.tv_usec);
    }
    if (sec & SEC_MODULES) {
        NEXT_SECTION();
        proto_buf_append(b, "# Modules\r\n", 11);
    }
    if (sec & SEC_COMMANDSTATS) {
        NEXT_SECTION();
        proto_buf_append(b, "# Commandstats\r\n", 16);
    }
    if (sec & SEC_ERRORSTATS) {
        NEXT_SECTION();
        proto_buf_append(b, "# Errorstats\r\n", 14);
    }
    if (sec & SEC_LATENCYSTATS) {
        NEXT_SECTION();
        proto_buf_append(b, "# Latencystats\r\n", 16);
    }
    if (sec & SEC_CLUSTER) {
        NEXT_SECTION();
        proto_buf_append(b, "# Cluster\r\ncluster_enabled:0\r\n", 30);
    }
    if (sec & SEC_KEYSPACE) {
        size_t keys = table_size(x->env->table);
        NEXT_SECTION();
        proto_buf_append(b, "# Keyspace\r\n", 12);
        if (keys > 0)
            info_printf(b, "db0:keys=%zu,expires=0,avg_ttl=0\r\n", keys);
    }
    if (sec & SEC_EVKV) {
        NEXT_SECTION();
        info_printf(b,
                    "# Evkv\r\nevkv_version:%s\r\nthreads:%d\r\ntable_source:%s\r\ntable_format:%s\r\n"
                    "table_keys:%zu\r\ntable_memory:%zu\r\n",
                    STR(si.evkv_version), si.threads, STR(si.table_source), STR(si.table_format),
                    table_size(x->env->table), table_memory(x->env->table));
        info_printf(b, "table_load_seconds:%.3f\r\ntable_loaded_at:%lld\r\nreloads:%lld\r\nreload_failures:%lld\r\n",
                    si.table_load_seconds, si.table_loaded_at, si.reloads, si.reload_failures);
        info_printf(b, "guide_requests:%lld\r\nresp_requests:%lld\r\n", si.guide_requests, si.resp_requests);
        if (si.shard_name)
            info_printf(b, "shard_name:%s\r\nshard_pool:%s\r\nshard_ring_servers:%lld\r\n", si.shard_name,
                        STR(si.shard_pool), si.shard_ring_servers);
    }
#undef STR
#undef NEXT_SECTION
    return b->failed ? -1 : 0;
}

static int cmd_info(exec_ctx *x, const args *a)
{
    proto_buf b = {0};
    int rc = info_text(x, info_sections(a), &b);
    if (rc == 0)
        rc = resp_encode_bulk(x->out, b.data != NULL ? b.data : "", b.len);
    proto_buf_free(&b);
    return rc;
}

/* ---- other data types: every key is absent for them, or a string ---- */

static int wrong_type_or(exec_ctx *x, const args *a, int (*empty)(exec_ctx *x, const args *a))
{
    const char *v;
    size_t vlen;
    table_kind kind;
    if (lookup(x, a->argv[1], a->len[1], &v, &vlen, &kind))
        return reply_error(x, "-WRONGTYPE Operation against a key holding the wrong kind of value");
    return empty(x, a);
}

static int empty_null(exec_ctx *x, const args *a)
{
    (void)a;
    return resp_encode_null_bulk(x->out);
}

static int empty_zero(exec_ctx *x, const args *a)
{
    (void)a;
    return resp_encode_integer(x->out, 0);
}

static int empty_array(exec_ctx *x, const args *a)
{
    (void)a;
    return resp_encode_array(x->out, 0);
}

/* HMGET: a null per field. */
static int empty_nulls(exec_ctx *x, const args *a)
{
    int rc = resp_encode_array(x->out, a->argc - 2);
    for (size_t i = 2; i < a->argc && rc == 0; i++)
        rc = resp_encode_null_bulk(x->out);
    return rc;
}

/* SMISMEMBER: a 0 per member. */
static int empty_zeros(exec_ctx *x, const args *a)
{
    int rc = resp_encode_array(x->out, a->argc - 2);
    for (size_t i = 2; i < a->argc && rc == 0; i++)
        rc = resp_encode_integer(x->out, 0);
    return rc;
}

/* ---- SLOWLOG and LATENCY: evkv keeps neither log, so it answers as a
 * Redis with nothing logged (redis_exporter asks both at every scrape). */

static int cmd_slowlog_get(exec_ctx *x, const args *a)
{
    long long count;
    if (a->argc > 3) {
        size_t n = cstr_len(a->argv[1], a->len[1]);
        return reply_error(x, "unknown subcommand or wrong number of arguments for '%.*s'. Try SLOWLOG HELP.",
                           (int)(n < 128 ? n : 128), a->argv[1]);
    }
    /* getRangeLongFromObjectOrReply: one message for every bad count */
    if (a->argc == 3 && (!resp_string2ll(a->argv[2], a->len[2], &count) || count < -1 || count > LONG_MAX))
        return reply_error(x, "count should be greater than or equal to -1");
    return resp_encode_array(x->out, 0);
}

static int cmd_slowlog_len(exec_ctx *x, const args *a)
{
    (void)a;
    return resp_encode_integer(x->out, 0);
}

static int cmd_slowlog_reset(exec_ctx *x, const args *a)
{
    (void)a;
    return reply_ok(x);
}

/* ROLE: a master with no replica, as INFO's replication section says. */
static int cmd_role(exec_ctx *x, const args *a)
{
    (void)a;
    if (resp_encode_array(x->out, 3) != 0 || resp_encode_bulk(x->out, "master", 6) != 0 ||
        resp_encode_integer(x->out, 0) != 0)
        return -1;
    return resp_encode_array(x->out, 0);
}

/* LRANGE key start stop: both numbers are read before the key. */
static int cmd_lrange(exec_ctx *x, const args *a)
{
    long long n;
    if (!resp_string2ll(a->argv[2], a->len[2], &n) || !resp_string2ll(a->argv[3], a->len[3], &n))
        return reply_not_integer(x);
    return wrong_type_or(x, a, empty_array);
}

#define NULL_READ(fn)                                                                                                  \
    static int fn(exec_ctx *x, const args *a)                                                                          \
    {                                                                                                                  \
        return wrong_type_or(x, a, empty_null);                                                                        \
    }
#define ZERO_READ(fn)                                                                                                  \
    static int fn(exec_ctx *x, const args *a)                                                                          \
    {                                                                                                                  \
        return wrong_type_or(x, a, empty_zero);                                                                        \
    }
#define ARRAY_READ(fn)                                                                                                 \
    static int fn(exec_ctx *x, const args *a)                                                                          \
    {                                                                                                                  \
        return wrong_type_or(x, a, empty_array);                                                                       \
    }
NULL_READ(cmd_null_read)
ZERO_READ(cmd_zero_read)
ARRAY_READ(cmd_array_read)

static int cmd_hmget(exec_ctx *x, const args *a)
{
    return wrong_type_or(x, a, empty_nulls);
}

static int cmd_smismember(exec_ctx *x, const args *a)
{
    return wrong_type_or(x, a, empty_zeros);
}

/* Sorted by name (strcmp), as bsearch needs. */
static const handler handlers[] = {
    {"auth", cmd_auth},
    {"client|getname", cmd_client_getname},
    {"client|help", cmd_help},
    {"client|id", cmd_client_id},
    {"client|setname", cmd_client_setname},
    {"command", cmd_command},
    {"command|count", cmd_command_count},
    {"command|docs", cmd_command_docs},
    {"command|help", cmd_help},
    {"command|info", cmd_command_info},
    {"config|get", cmd_config_get},
    {"config|help", cmd_help},
    {"config|resetstat", cmd_config_refused},
    {"config|rewrite", cmd_config_refused},
    {"config|set", cmd_config_refused},
    {"dbsize", cmd_dbsize},
    {"discard", cmd_discard},
    {"echo", cmd_echo},
    {"exec", cmd_exec},
    {"exists", cmd_exists},
    {"get", cmd_get},
    {"getrange", cmd_getrange},
    {"hello", cmd_hello},
    {"hexists", cmd_zero_read},
    {"hget", cmd_null_read},
    {"hgetall", cmd_array_read},
    {"hkeys", cmd_array_read},
    {"hlen", cmd_zero_read},
    {"hmget", cmd_hmget},
    {"hstrlen", cmd_zero_read},
    {"hvals", cmd_array_read},
    {"info", cmd_info},
    {"keys", cmd_keys},
    {"latency|history", empty_array},
    {"latency|latest", empty_array},
    {"latency|reset", empty_zero},
    {"lindex", cmd_null_read},
    {"llen", cmd_zero_read},
    {"lrange", cmd_lrange},
    {"mget", cmd_mget},
    {"multi", cmd_multi},
    {"ping", cmd_ping},
    {"pttl", cmd_ttl},
    {"quit", cmd_quit},
    {"randomkey", cmd_randomkey},
    {"reset", cmd_reset},
    {"role", cmd_role},
    {"scan", cmd_scan},
    {"scard", cmd_zero_read},
    {"select", cmd_select},
    {"sismember", cmd_zero_read},
    {"slowlog|get", cmd_slowlog_get},
    {"slowlog|len", cmd_slowlog_len},
    {"slowlog|reset", cmd_slowlog_reset},
    {"smembers", cmd_array_read},
    {"smismember", cmd_smismember},
    {"strlen", cmd_strlen},
    {"substr", cmd_getrange},
    {"ttl", cmd_ttl},
    {"type", cmd_type},
    {"unwatch", cmd_unwatch},
    {"watch", cmd_watch},
    {"zcard", cmd_zero_read},
    {"zscore", cmd_null_read},
};

/* ---- finding a command by its name ----
 * Every name in resp_command_specs goes into an open-addressing index,
 * built once and then only read, by any thread: a request's command is
 * found by one hash of its name, lowercased on the way, and one compare,
 * where a binary search of 366 names would take nine. The index has each
 * spec's handler, found once at build time. */

#define INDEX_SLOTS 1024 /* a power of two, over twice the names */

typedef struct command_entry {
    const resp_command_spec *spec; /* NULL: an empty slot */
    size_t len;                    /* strlen(spec->name) */
} command_entry;

static command_entry command_index[INDEX_SLOTS];
/* Each spec's handler, by its place in resp_command_specs; NULL for a
 * command evkv does not serve. */
static command_fn command_fns[INDEX_SLOTS / 2];
static pthread_once_t command_index_once = PTHREAD_ONCE_INIT;

/* FNV-1a over a lowercase name. */
static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int handler_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const handler *)elem)->name);
}

static void command_index_build(void)
{
    if (resp_command_nspecs > INDEX_SLOTS / 2)
        abort(); /* INDEX_SLOTS must grow with Redis's command table */
    for (size_t i = 0; i < resp_command_nspecs; i++) {
        const resp_command_spec *spec = &resp_command_specs[i];
        size_t len = strlen(spec->name);
        uint32_t slot = name_hash(spec->name, len) & (INDEX_SLOTS - 1);
        while (command_index[slot].spec != NULL)
            slot = (slot + 1) & (INDEX_SLOTS - 1);
        const handler *h =
            bsearch(spec->name, handlers, sizeof(handlers) / sizeof(handlers[0]), sizeof(handlers[0]), handler_cmp);
        command_index[slot] = (command_entry){spec, len};
        command_fns[i] = h ? h->fn : NULL;
    }
}

/* The index entry for name[0..len) in any case, or NULL. A NUL byte ends
 * a name for Redis (a C string), so a name holding one is no command. */
static const command_entry *command_find(const char *name, size_t len)
{
    char lower[2 * NAME_MAX_LEN + 2];
    uint32_t h = 2166136261u;

    if (len >= sizeof(lower))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '\0')
            return NULL;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        lower[i] = (char)c;
        h = (h ^ c) * 16777619u;
    }
    pthread_once(&command_index_once, command_index_build);
    for (uint32_t slot = h & (INDEX_SLOTS - 1);; slot = (slot + 1) & (INDEX_SLOTS - 1)) {
        const command_entry *e = &command_index[slot];
        if (e->spec == NULL)
            return NULL;
        if (e->len == len && memcmp(e->spec->name, lower, len) == 0)
            return e;
    }
}

static const resp_command_spec *spec_lookup(const char *name, size_t len)
{
    const command_entry *e = command_find(name, len);
    return e ? e->spec : NULL;
}

/* The spec of the command a request names (its subcommand's for a
 * container given one), or NULL if Redis has no such command, as
 * server.c's lookupCommand. */
static const resp_command_spec *find_spec(const args *a)
{
    /* "container|sub" names a subcommand only inside COMMAND INFO/DOCS */
    if (memchr(a->argv[0], '|', a->len[0]) != NULL)
        return NULL;
    const resp_command_spec *s = spec_lookup(a->argv[0], a->len[0]);
    if (s == NULL || a->argc == 1 || !(s->flags & RESP_CMD_CONTAINER))
        return s;
    char full[2 * NAME_MAX_LEN + 2];
    size_t n = strlen(s->name);
    if (a->len[1] > NAME_MAX_LEN)
        return NULL;
    memcpy(full, s->name, n);
    full[n] = '|';
    memcpy(full + n + 1, a->argv[1], a->len[1]);
    return spec_lookup(full, n + 1 + a->len[1]);
}

/* Runs a command whose checks passed. */
static int run_command(exec_ctx *x, const resp_command_spec *spec, const args *a)
{
    x->res->commands++;
    command_fn fn = command_fns[spec - resp_command_specs]; /* spec came from the index: it is built */
    if (fn != NULL)
        return fn(x, a);
    return reply_error(x, "evkv does not serve the '%s' command", spec->name);
}

/* server.c's rejectCommand: the error, and under MULTI the transaction is
 * flagged to abort; an EXEC refused ends the transaction. */
static int reject(exec_ctx *x, const resp_command_spec *spec, const char *msg)
{
    if (x->c->in_multi)
        x->c->multi_dirty = 1;
    if (spec != NULL && strcmp(spec->name, "exec") == 0) {
        discard_transaction(x->c);
        if (msg[0] == '-')
            msg++;
        return reply_error(x, "-EXECABORT Transaction discarded because of: %s", msg);
    }
    return reply_error(x, "%s", msg);
}

/* server.c's commandCheckExistence: the text naming what is unknown. */
static void unknown_text(const args *a, char *msg, size_t size)
{
    size_t n0 = cstr_len(a->argv[0], a->len[0]);
    if (memchr(a->argv[0], '|', a->len[0]) == NULL && spec_lookup(a->argv[0], a->len[0]) != NULL) {
        /* a container, its subcommand unknown */
        char upper[NAME_MAX_LEN + 1];
        size_t i;
        for (i = 0; i < n0 && i < NAME_MAX_LEN; i++)
            upper[i] = (char)toupper((unsigned char)a->argv[0][i]);
        upper[i] = '\0';
        size_t n1 = cstr_len(a->argv[1], a->len[1]);
        snprintf(msg, size, "unknown subcommand '%.*s'. Try %s HELP.", (int)(n1 < 128 ? n1 : 128), a->argv[1], upper);
        return;
    }
    int len = snprintf(msg, size, "unknown command '%.*s', with args beginning with: ", (int)(n0 < 128 ? n0 : 128),
                       a->argv[0]);
    size_t argslen = 0;
    for (size_t i = 1; i < a->argc && argslen < 128; i++) {
        size_t n = cstr_len(a->argv[i], a->len[i]);
        if (n > 128 - argslen)
            n = 128 - argslen;
        int w = snprintf(msg + len, size - (size_t)len, "'%.*s' ", (int)n, a->argv[i]);
        len += w;
        argslen += (size_t)w;
    }
}

void resp_client_init(resp_client *c, long long id)
{
    memset(c, 0, sizeof(*c));
    c->id = id;
}

void resp_client_free(resp_client *c)
{
    free(c->name);
    c->name = NULL;
    discard_transaction(c);
}

int resp_execute(const resp_env *env, resp_client *c, const resp_request *req, proto_buf *out, resp_result *res)
{
    exec_ctx x = {env, c, out, res};
    args a = {req->argc, req->argv, req->argv_len};
    char msg[128 * 2 + 512];

    memset(res, 0, sizeof(*res));
    size_t start = out->len;
    /* server.c's defence against HTTP requests: close with no reply. */
    if ((a.len[0] == 5 && strncasecmp(a.argv[0], "host:", 5) == 0) ||
        (a.len[0] == 4 && strncasecmp(a.argv[0], "post", 4) == 0)) {
        res->close = 1;
        return 0;
    }
    const resp_command_spec *spec = find_spec(&a);
    int rc;
    if (spec == NULL) {
        unknown_text(&a, msg, sizeof(msg));
        rc = reject(&x, NULL, msg);
    } else if ((spec->arity > 0 && (size_t)spec->arity != a.argc) || (long long)a.argc < -(long long)spec->arity) {
        snprintf(msg, sizeof(msg), "wrong number of arguments for '%s' command", spec->name);
        rc = reject(&x, spec, msg);
    } else if (c->in_multi && (spec->flags & RESP_CMD_NO_MULTI)) {
        rc = reject(&x, spec, "Command not allowed inside a transaction");
    } else if (spec->flags & RESP_CMD_WRITE) {
        rc = reject(&x, spec, "-READONLY You can't write against a read only replica.");
    } else if (c->in_multi && strcmp(spec->name, "exec") != 0 && strcmp(spec->name, "discard") != 0 &&
               strcmp(spec->name, "multi") != 0 && strcmp(spec->name, "watch") != 0 &&
               strcmp(spec->name, "quit") != 0 && strcmp(spec->name, "reset") != 0) {
        if (c->max_queued_bytes > 0 && queued_cost(&a) > c->max_queued_bytes - c->queued_bytes) {
            snprintf(msg, sizeof(msg), "MULTI queue over %zu bytes: the transaction will abort", c->max_queued_bytes);
            rc = reject(&x, spec, msg);
        } else {
            rc = queue_command(c, &a) == 0 ? resp_encode_simple(out, "QUEUED", 6) : -1;
        }
    } else {
        rc = run_command(&x, spec, &a);
    }
    if (rc != 0 || out->failed)
        return -1;
    res->error = out->len > start && out->data[start] == '-';
    return 0;
}

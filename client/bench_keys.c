/*
 * bench_keys.c: evkv-bench's keys: read from --keys or --data (one table,
 * or two for a server reloading from one to the other), each with the
 * answer it must get where the table is known, and picked for each request
 * by the --key-pattern.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "text.h"
#include "wire.h"

/* Makes room in *keys (*cap entries) for entry n. Returns 0, or -1. */
static int keys_reserve(bench_key **keys, size_t *cap, size_t n)
{
    if (n < *cap)
        return 0;
    size_t want = *cap ? *cap * 2 : 1024;
    bench_key *k = realloc(*keys, want * sizeof(*k));
    if (k == NULL)
        return -1;
    *keys = k;
    *cap = want;
    return 0;
}

/* Adds a key; value_len VALUE_UNKNOWN or VALUE_MISS when there is no value. */
static int keyset_add(keyset *ks, const char *key, size_t key_len, const char *value, size_t value_len)
{
    if (key_len >= MISS_FLAG || (value && value_len >= VALUE_MISS))
        return -1;
    if (keys_reserve(&ks->keys, &ks->cap, ks->n) != 0)
        return -1;
    bench_key *k = &ks->keys[ks->n++];
    k->key_off = ks->arena.len;
    k->key_len = (uint32_t)key_len;
    proto_buf_append(&ks->arena, key, key_len);
    k->value_off = ks->arena.len;
    k->value_len = (uint32_t)value_len;
    if (value == NULL)
        return ks->arena.failed ? -1 : 0;
    json_t *str = NULL;
    if (ks->raw_strings && value_len > 0 && value[0] == '"')
        str = json_loadb(value, value_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_string(str)) {
        /* Redis holds a string value as its text. */
        k->value_len = (uint32_t)json_string_length(str);
        proto_buf_append(&ks->arena, json_string_value(str), json_string_length(str));
    } else {
        proto_buf_append(&ks->arena, value, value_len);
    }
    json_decref(str);
    return ks->arena.failed ? -1 : 0;
}

static int sink_begin(void *arg, size_t expected, size_t expected_bytes)
{
    keyset *ks = arg;
    (void)expected;
    (void)expected_bytes;
    ks->n = 0; /* a reader starting over */
    proto_buf_reset(&ks->arena);
    return 0;
}

static int sink_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done)
{
    keyset *ks = arg;
    (void)done;
    const char *v = value[0].iov_base;
    size_t vlen = value[0].iov_len;
    proto_buf joined = {0};
    if (nvalue > 1) {
        for (int i = 0; i < nvalue; i++)
            proto_buf_append(&joined, value[i].iov_base, value[i].iov_len);
        v = joined.data;
        vlen = joined.len;
    }
    int rc = joined.failed ? -1 : keyset_add(ks, key, key_len, v, vlen);
    proto_buf_free(&joined);
    return rc;
}

static const keyset *sort_ks; /* qsort has no context argument */

static int key_cmp(const void *a, const void *b)
{
    const bench_key *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(key_text(sort_ks, x), key_text(sort_ks, y), n);
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Finds key in a table sorted by key_cmp, or NULL. */
static const bench_key *keyset_find(const keyset *t, const char *key, size_t len)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const bench_key *m = &t->keys[mid];
        size_t l = m->key_len < len ? m->key_len : len;
        int c = memcmp(key_text(t, m), key, l);
        if (c == 0)
            c = (m->key_len > len) - (m->key_len < len);
        if (c == 0)
            return m;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A copy of t's keys sorted by key_cmp, for keyset_find. The copy borrows
 * t's arena: free only out->keys. Returns 0, or -1 (out of memory). */
static int keyset_sorted_copy(const keyset *t, keyset *out)
{
    *out = *t;
    out->keys = malloc((t->n ? t->n : 1) * sizeof(*out->keys));
    if (out->keys == NULL)
        return -1;
    memcpy(out->keys, t->keys, t->n * sizeof(*out->keys));
    sort_ks = out;
    qsort(out->keys, out->n, sizeof(*out->keys), key_cmp);
    return 0;
}

/* Adds key with its answers in two tables (sorted by key_cmp): the first's
 * in ks->keys, the second's in ks->second, each a value or VALUE_MISS.
 * Where the two answers are the same, the second entry is a copy of the
 * first, so that check_second tells them apart by offset and length. */
static int keyset_add_both(keyset *ks, const keyset *tables, const char *key, size_t len)
{
    const bench_key *v1 = keyset_find(&tables[0], key, len), *v2 = keyset_find(&tables[1], key, len);
    const char *d1 = v1 ? tables[0].arena.data + v1->value_off : NULL;
    const char *d2 = v2 ? tables[1].arena.data + v2->value_off : NULL;

    if (keys_reserve(&ks->second, &ks->second_cap, ks->n) != 0)
        return -1;
    if (keyset_add(ks, key, len, d1, v1 ? v1->value_len : VALUE_MISS) != 0)
        return -1;
    const bench_key *first = &ks->keys[ks->n - 1];
    bench_key *s = &ks->second[ks->n - 1];
    *s = *first;
    if (v2 == NULL) {
        s->value_len = VALUE_MISS;
    } else if (v1 == NULL || v1->value_len != v2->value_len || memcmp(d1, d2, v1->value_len) != 0) {
        s->value_off = ks->arena.len;
        s->value_len = v2->value_len;
        proto_buf_append(&ks->arena, d2, v2->value_len);
    }
    return ks->arena.failed ? -1 : 0;
}

void keyset_free(keyset *ks)
{
    proto_buf_free(&ks->arena);
    free(ks->keys);
    free(ks->second);
    free(ks->zipf_cdf);
    memset(ks, 0, sizeof(*ks));
}

/* Reads --keys: one key per line. Where the table is known, each key gets
 * its value from it (or is known to be a miss); with two tables (ntables
 * 2, both known), its value in each. Tables are sorted by key_cmp. */
static int keyset_read_keys(keyset *ks, const keyset *tables, int ntables, const char *path, char *err, size_t errlen)
{
    const keyset *table = &tables[0];
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = -1;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        if (!proto_utf8_valid(line, (size_t)n)) {
            snprintf(err, errlen, "%s: line %zu: not valid UTF-8", path, lineno);
            goto done;
        }
        const bench_key *hit = table->table_known ? keyset_find(table, line, (size_t)n) : NULL;
        int added;
        if (ntables == 2)
            added = keyset_add_both(ks, tables, line, (size_t)n);
        else if (hit)
            added = keyset_add(ks, line, (size_t)n, table->arena.data + hit->value_off, hit->value_len);
        else
            added = keyset_add(ks, line, (size_t)n, NULL, table->table_known ? VALUE_MISS : VALUE_UNKNOWN);
        if (added != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto done;
        }
    }
    if (ks->n == 0) {
        snprintf(err, errlen, "%s: no keys", path);
        goto done;
    }
    rc = 0;
done:
    free(line);
    fclose(f);
    return rc;
}

/* Two tables (--data twice) into b->ks: the keys are --keys, or else every
 * key of the first table, then those of the second that the first lacks;
 * each carries its answer in both tables. */
static int keyset_merge(bench *b, const keyset *table, char *err, size_t errlen)
{
    keyset sorted[2];
    int rc = -1;

    memset(sorted, 0, sizeof(sorted));
    b->ks.table_known = 1;
    for (int i = 0; i < 2; i++)
        if (keyset_sorted_copy(&table[i], &sorted[i]) != 0)
            goto nomem;
    if (b->opt.keys_path) {
        rc = keyset_read_keys(&b->ks, sorted, 2, b->opt.keys_path, err, errlen);
        goto done;
    }
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < table[t].n; i++) {
            const bench_key *k = &table[t].keys[i];
            const char *key = key_text(&table[t], k);
            if (t == 1 && keyset_find(&sorted[0], key, k->key_len) != NULL)
                continue;
            if (keyset_add_both(&b->ks, sorted, key, k->key_len) != 0)
                goto nomem;
        }
    }
    rc = 0;
    goto done;
nomem:
    snprintf(err, errlen, "out of memory");
done:
    free(sorted[0].keys);
    free(sorted[1].keys);
    return rc;
}

int keyset_load(bench *b, char *err, size_t errlen)
{
    const bench_options *o = &b->opt;
    int resp = o->protocol == PROTOCOL_RESP;
    keyset table[2] = {{.raw_strings = resp}, {.raw_strings = resp}};

    for (int i = 0; i < o->ndata; i++) {
        datafile_sink sink = {.begin = sink_begin, .entry = sink_entry, .arg = &table[i]};
        if (datafile_read(o->data_path[i], o->format, &sink, err, errlen) < 0)
            goto fail;
        table[i].table_known = 1;
    }
    if (o->ndata == 0 && !o->keys_path) {
        /* The server's built-in table (proto/wire.h). */
#define ENTRY(key, value) {key, value},
        static const char *const builtin[][2] = {WIRE_BUILTIN_TABLE(ENTRY)};
#undef ENTRY
        for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
            if (keyset_add(&table[0], builtin[i][0], strlen(builtin[i][0]), builtin[i][1], strlen(builtin[i][1])))
                goto nomem;
        table[0].table_known = 1;
    }
    if (o->ndata == 2) {
        if (keyset_merge(b, table, err, errlen) != 0)
            goto fail;
        keyset_free(&table[0]);
        keyset_free(&table[1]);
    } else if (o->keys_path) {
        if (table[0].table_known) {
            sort_ks = &table[0];
            qsort(table[0].keys, table[0].n, sizeof(*table[0].keys), key_cmp);
        }
        if (keyset_read_keys(&b->ks, table, 1, o->keys_path, err, errlen) != 0)
            goto fail;
        b->ks.table_known = table[0].table_known;
        keyset_free(&table[0]);
    } else {
        b->ks = table[0];
        table[0] = (keyset){0};
    }
    if (b->ks.n == 0) {
        if (o->ndata == 2)
            snprintf(err, errlen, "%s, %s: no keys", o->data_path[0], o->data_path[1]);
        else
            snprintf(err, errlen, "%s: no keys", o->ndata ? o->data_path[0] : "--keys");
        goto fail;
    }
    if (o->pattern == PATTERN_ZIPF) {
        b->ks.zipf_cdf = malloc(b->ks.n * sizeof(double));
        if (b->ks.zipf_cdf == NULL)
            goto nomem;
        double sum = 0;
        for (size_t i = 0; i < b->ks.n; i++)
            b->ks.zipf_cdf[i] = (sum += pow((double)(i + 1), -o->zipf_exp));
        for (size_t i = 0; i < b->ks.n; i++)
            b->ks.zipf_cdf[i] /= sum;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    keyset_free(&table[0]);
    keyset_free(&table[1]);
    keyset_free(&b->ks);
    return -1;
}

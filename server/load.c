/*
 * load.c: a data file into a table (see load.h).
 *
 * The table is built in the file's own bytes (datafile_sink's begin_in,
 * table_new_in): the reader reads the file into memory once, and the
 * entries are written over the part it is done with, so that a load needs
 * about the table's size, and a reload the old table's and the new one's.
 */
#include "load.h"

#include <errno.h>
#include <stdio.h>

typedef struct loading {
    table *t;
    const atomic_int *cancel;
    load_keep_fn keep; /* which keys to keep (--shard, --cluster-config), or NULL: all */
    const void *keep_arg;
    size_t skipped; /* entries left out */
    char err[160];  /* past a table's bounds: what, for the error */
    struct {
        size_t skipped; /* part 1's entries left out, apart from part 0's */
        char pad[64];
    } part1;
} loading;

static int sink_begin(void *arg, size_t expected, size_t expected_bytes)
{
    loading *l = arg;
    table_free(l->t); /* a reader starting over */
    l->skipped = l->part1.skipped = 0;
    l->t = table_new(expected, expected_bytes);
    return l->t ? 0 : -1;
}

static int sink_begin_in(void *arg, size_t expected, char *bytes, size_t len, size_t room, int parts)
{
    loading *l = arg;
    table_free(l->t);
    l->skipped = l->part1.skipped = 0;
    l->t = table_new_in(bytes, len, room, expected, parts); /* frees bytes when it fails */
    if (l->t == NULL && errno == EFBIG)
        snprintf(l->err, sizeof(l->err), "%zu bytes: over the %zu GiB a table can hold", len,
                 (TABLE_ARENA_MAX + 1) * 4 / 5 >> 30);
    return l->t ? 0 : -1;
}

/* An entry of part part (0, or 1 of two building at once; part 1 leaves
 * the error to the plain read that follows its failure). */
static int sink_entry_part(void *arg, int part, const char *key, size_t key_len, const struct iovec *value, int nvalue,
                           size_t done)
{
    loading *l = arg;
    if (l->cancel && atomic_load_explicit(l->cancel, memory_order_relaxed))
        return -1;
    if (l->keep && !l->keep(l->keep_arg, key, key_len)) { /* the one place that decides */
        if (part == 1)
            l->part1.skipped++;
        else
            l->skipped++;
        return 0;
    }
    size_t value_len = 0;
    for (int i = 0; i < nvalue; i++)
        value_len += value[i].iov_len;
    if (key_len > TABLE_KEY_MAX || value_len > TABLE_VALUE_MAX) {
        if (part == 1)
            return -1;
        int big_key = key_len > TABLE_KEY_MAX;
        snprintf(l->err, sizeof(l->err), "key '%.*s': %s of %zu bytes, over the %s a %s can take",
                 (int)(key_len < 20 ? key_len : 20), key, big_key ? "a key" : "a value (as JSON)",
                 big_key ? key_len : value_len, big_key ? "4 GiB" : "1 GiB", big_key ? "key" : "value");
        return -1;
    }
    return table_put_part(l->t, part, key, key_len, value, nvalue, done);
}

static int sink_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue, size_t done)
{
    return sink_entry_part(arg, 0, key, key_len, value, nvalue, done);
}

/* A stop during the read of a big file gives up without reading the rest. */
static int sink_progress(void *arg, size_t done, size_t size)
{
    loading *l = arg;
    (void)done;
    (void)size;
    return l->cancel && atomic_load_explicit(l->cancel, memory_order_relaxed) ? -1 : 0;
}

table *load_file(const char *path, datafile_format format, const atomic_int *cancel, char *errbuf, size_t errlen)
{
    return load_file_shard(path, format, NULL, NULL, cancel, 2, errbuf, errlen);
}

static int shard_keeps(const void *arg, const char *key, size_t len)
{
    return shard_owns(arg, key, len);
}

table *load_file_shard(const char *path, datafile_format format, const shard *s, size_t *skipped,
                       const atomic_int *cancel, int threads, char *errbuf, size_t errlen)
{
    return load_file_keep(path, format, s ? shard_keeps : NULL, s, skipped, cancel, threads, errbuf, errlen);
}

table *load_file_keep(const char *path, datafile_format format, load_keep_fn keep, const void *keep_arg,
                      size_t *skipped, const atomic_int *cancel, int threads, char *errbuf, size_t errlen)
{
    loading l = {.t = NULL, .cancel = cancel, .keep = keep, .keep_arg = keep_arg};
    datafile_sink sink = {.begin = sink_begin,
                          .begin_in = sink_begin_in,
                          .entry = sink_entry,
                          .entry_part = threads >= 2 ? sink_entry_part : NULL,
                          .progress = sink_progress,
                          .arg = &l};
    table *t;

    long n = datafile_read(path, format, &sink, errbuf, errlen);
    if (l.t && !(cancel && atomic_load(cancel)) && table_settle(l.t) != 0) {
        /* a key twice, found after the fact (also when the read went on to
         * fail further down the file): read again the plain way, which
         * names the first error, the key's line */
        sink.begin_in = NULL;
        n = datafile_read(path, format, &sink, errbuf, errlen);
    }
    if (n < 0) {
        if (cancel && atomic_load(cancel))
            snprintf(errbuf, errlen, "%s: load cancelled", path);
        else if (l.err[0])
            snprintf(errbuf, errlen, "%s: %s", path, l.err);
        table_free(l.t);
        return NULL;
    }
    t = l.t;
    if (t == NULL && (t = table_new(0, 0)) == NULL)
        snprintf(errbuf, errlen, "%s: out of memory", path);
    if (t)
        table_trim(t);
    if (skipped)
        *skipped = l.skipped + l.part1.skipped;
    return t;
}

/*
 * load.c: a data file into a table (see load.h).
 */
#include "load.h"

#include <stdio.h>

typedef struct loading {
    table *t;
    const atomic_int *cancel;
    load_keep_fn keep; /* which keys to keep, or NULL: all */
    const void *keep_arg;
    size_t skipped; /* entries left out */
} loading;

static int sink_begin(void *arg, size_t expected, size_t expected_bytes)
{
    loading *l = arg;
    table_free(l->t); /* a reader starting over */
    l->skipped = 0;
    l->t = table_new(expected, expected_bytes);
    return l->t ? 0 : -1;
}

static int sink_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue)
{
    loading *l = arg;
    if (l->cancel && atomic_load_explicit(l->cancel, memory_order_relaxed))
        return -1;
    if (l->keep && !l->keep(l->keep_arg, key, key_len)) {
        l->skipped++;
        return 0;
    }
    return table_put_iov(l->t, key, key_len, value, nvalue);
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
    return load_file_shard(path, format, NULL, NULL, cancel, errbuf, errlen);
}

static int shard_keeps(const void *arg, const char *key, size_t len)
{
    return shard_owns(arg, key, len);
}

table *load_file_shard(const char *path, datafile_format format, const shard *s, size_t *skipped,
                       const atomic_int *cancel, char *errbuf, size_t errlen)
{
    return load_file_keep(path, format, s ? shard_keeps : NULL, s, skipped, cancel, errbuf, errlen);
}

table *load_file_keep(const char *path, datafile_format format, load_keep_fn keep, const void *keep_arg,
                      size_t *skipped, const atomic_int *cancel, char *errbuf, size_t errlen)
{
    loading l = {.t = NULL, .cancel = cancel, .keep = keep, .keep_arg = keep_arg};
    datafile_sink sink = {.begin = sink_begin, .entry = sink_entry, .progress = sink_progress, .arg = &l};
    table *t;

    if (datafile_read(path, format, &sink, errbuf, errlen) < 0) {
        if (cancel && atomic_load(cancel))
            snprintf(errbuf, errlen, "%s: load cancelled", path);
        table_free(l.t);
        return NULL;
    }
    t = l.t;
    if (t == NULL && (t = table_new(0, 0)) == NULL)
        snprintf(errbuf, errlen, "%s: out of memory", path);
    if (t)
        table_trim(t);
    if (skipped)
        *skipped = l.skipped;
    return t;
}

/*
 * load.c: a data file into a table (see load.h).
 */
#include "load.h"

#include <stdio.h>

static int sink_begin(void *arg, size_t expected, size_t expected_bytes)
{
    table **t = arg;
    table_free(*t); /* a reader starting over */
    *t = table_new(expected, expected_bytes);
    return *t ? 0 : -1;
}

static int sink_entry(void *arg, const char *key, size_t key_len, const struct iovec *value, int nvalue)
{
    table **t = arg;
    return table_put_iov(*t, key, key_len, value, nvalue);
}

table *load_file(const char *path, datafile_format format, char *errbuf, size_t errlen)
{
    table *t = NULL;
    datafile_sink sink = {.begin = sink_begin, .entry = sink_entry, .arg = &t};

    if (datafile_read(path, format, &sink, errbuf, errlen) < 0) {
        table_free(t);
        return NULL;
    }
    if (t == NULL && (t = table_new(0, 0)) == NULL)
        snprintf(errbuf, errlen, "%s: out of memory", path);
    if (t)
        table_trim(t);
    return t;
}

/*
 * load.c: a data file into a table (see load.h).
 */
#include "load.h"

#include <stdio.h>

static int sink_begin(void *arg, size_t expected)
{
    table **t = arg;
    *t = table_new(expected);
    return *t ? 0 : -1;
}

static int sink_entry(void *arg, const char *key, size_t key_len, const char *value, size_t value_len)
{
    table **t = arg;
    return table_put(*t, key, key_len, value, value_len);
}

table *load_file(const char *path, datafile_format format, char *errbuf, size_t errlen)
{
    table *t = NULL;
    datafile_sink sink = {.begin = sink_begin, .entry = sink_entry, .arg = &t};

    if (datafile_read(path, format, &sink, errbuf, errlen) < 0) {
        table_free(t);
        return NULL;
    }
    if (t == NULL && (t = table_new(0)) == NULL)
        snprintf(errbuf, errlen, "%s: out of memory", path);
    return t;
}

/*
 * dataset.c: loading a dataset, and its reference count (see dataset.h).
 */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

dataset *dataset_new(table *t, const char *source, const char *format, double load_seconds)
{
    dataset *d = calloc(1, sizeof(*d));
    if (d == NULL || (d->source = strdup(source)) == NULL) {
        free(d);
        table_free(t);
        return NULL;
    }
    d->table = t;
    atomic_init(&d->refs, 1);
    d->format = format;
    d->load_seconds = load_seconds;
    d->loaded_at = (long long)time(NULL);
    return d;
}

dataset *dataset_ref(dataset *d)
{
    atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    return d;
}

int dataset_unshared(dataset *d)
{
    return atomic_load_explicit(&d->refs, memory_order_acquire) == 1;
}

void dataset_release(dataset *d)
{
    if (d == NULL || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    table_free(d->table);
    free(d->source);
    free(d);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *format_name(const char *path, datafile_format format)
{
    switch (datafile_format_of(path, format)) {
    case DATAFILE_JSON: return "json";
    case DATAFILE_TSV: return "tsv";
    default: return NULL;
    }
}

dataset *dataset_load(const char *data, datafile_format format, int echo, const atomic_int *cancel, char *err,
                      size_t errlen)
{
    double t0 = now_seconds();
    table *t = NULL;
    dataset *d;

    if (echo) {
        d = dataset_new(NULL, "echo mode", NULL, 0);
    } else if (data != NULL) {
        t = load_file(data, format, cancel, err, errlen);
        if (t == NULL)
            return NULL;
        d = dataset_new(t, data, format_name(data, format), now_seconds() - t0);
    } else {
        t = table_builtin();
        d = t ? dataset_new(t, "built-in", NULL, now_seconds() - t0) : NULL;
    }
    if (d == NULL)
        snprintf(err, errlen, "out of memory");
    return d;
}

void dataset_describe(const dataset *d, char *out, size_t outlen)
{
    if (d->table == NULL)
        snprintf(out, outlen, "echo mode");
    else if (d->format == NULL)
        snprintf(out, outlen, "%zu keys, built-in table", table_size(d->table));
    else
        snprintf(out, outlen, "%zu key%s from %s, loaded in %.2f s", table_size(d->table),
                 table_size(d->table) == 1 ? "" : "s", d->source, d->load_seconds);
}

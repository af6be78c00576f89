/*
 * dataset.c: loading a dataset, and its reference count (see dataset.h).
 */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
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
    shard_free(d->shard);
    cluster_map_free(d->cluster);
    acl_set_release(d->acl);
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

static int cluster_keeps(const void *arg, const char *key, size_t len)
{
    return cluster_map_serves(arg, key, len);
}

/* The data file, with only the keys spec keeps. Returns a dataset, or
 * NULL with err. */
static dataset *load_data(const char *data, datafile_format format, const dataset_shard_spec *spec,
                          const atomic_int *cancel, int threads, char *err, size_t errlen)
{
    double t0 = now_seconds();
    shard *sh = NULL;
    cluster_map *map = NULL;
    size_t skipped = 0;
    table *t;
    dataset *d;

    if (spec && spec->name && (sh = shard_load(spec->config, spec->pool, spec->name, cancel, err, errlen)) == NULL)
        return NULL;
    if (spec && spec->cluster_config &&
        (map = cluster_map_load(spec->cluster_config, spec->cluster_myself, spec->cluster_full_coverage, err,
                                errlen)) == NULL)
        goto fail;
    if (map)
        t = load_file_keep(data, format, cluster_keeps, map, &skipped, cancel, threads, err, errlen);
    else
        t = load_file_shard(data, format, sh, &skipped, cancel, threads, err, errlen);
    if (t == NULL)
        goto fail;
    if ((d = dataset_new(t, data, format_name(data, format), now_seconds() - t0)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    d->shard = sh;
    d->cluster = map;
    d->keys_skipped = skipped;
    return d;
fail:
    shard_free(sh);
    cluster_map_free(map);
    return NULL;
}

dataset *dataset_load(const char *data, datafile_format format, int echo, const dataset_shard_spec *spec,
                      const atomic_int *cancel, int threads, char *err, size_t errlen)
{
    double t0 = now_seconds();
    table *t;
    dataset *d;

    if (data != NULL && !echo)
        return load_data(data, format, spec, cancel, threads, err, errlen);
    if (echo) {
        d = dataset_new(NULL, "echo mode", NULL, 0);
    } else {
        t = table_builtin();
        d = t ? dataset_new(t, "built-in", NULL, now_seconds() - t0) : NULL;
    }
    if (d == NULL)
        snprintf(err, errlen, "out of memory");
    return d;
}

/* n with a comma between each three digits: 100,000. */
static void with_commas(size_t n, char *out, size_t outlen)
{
    char digits[32];
    size_t len = (size_t)snprintf(digits, sizeof(digits), "%zu", n), o = 0;

    for (size_t i = 0; i < len && o + 2 < outlen; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* "; cluster node ID (replica of ID): slots 0-5460, N of M keys". */
static void describe_cluster(const dataset *d, char *out, size_t outlen)
{
    const cluster_map *m = d->cluster;
    const cluster_node *me = &m->nodes[m->myself];
    char kept[32], all[32], slots[256];
    size_t len = strlen(out);

    with_commas(table_size(d->table), kept, sizeof(kept));
    with_commas(table_size(d->table) + d->keys_skipped, all, sizeof(all));
    cluster_map_slots_text(m, m->serving, slots, sizeof(slots));
    if (me->master >= 0)
        snprintf(out + len, outlen - len, "; cluster node %s (replica of %s): slots %s, %s of %s keys", me->id,
                 m->nodes[me->master].id, slots, kept, all);
    else
        snprintf(out + len, outlen - len, "; cluster node %s: slots %s, %s of %s keys", me->id, slots, kept, all);
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
    if (d->shard) {
        char kept[32], all[32];
        size_t len = strlen(out);
        with_commas(table_size(d->table), kept, sizeof(kept));
        with_commas(table_size(d->table) + d->keys_skipped, all, sizeof(all));
        snprintf(out + len, outlen - len, "; shard %s of pool %s: %s of %s keys", d->shard->name, d->shard->pool, kept,
                 all);
    }
    if (d->cluster)
        describe_cluster(d, out, outlen);
}

/*
 * dataset.h: a table being served, and where it came from.
 *
 * The main thread loads a dataset (at start, and off to the side on each
 * reload) and makes it the server's current one; each worker holds a
 * reference to the one it answers from. The last reference released frees
 * it.
 */
#ifndef EVKV_DATASET_H
#define EVKV_DATASET_H

#include <stdatomic.h>

#include "cluster_map.h"
#include "datafile.h"
#include "shard.h"
#include "table.h"

/* A table being served, and where it came from (for stats). Each worker
 * holds a reference to the one it answers from, the main thread one to
 * the current one; the last reference released frees it. Answers are
 * copied out of the table as they are queued, so once a worker has let go
 * of a table, nothing of it is left in its connections. */
typedef struct dataset {
    table *table; /* NULL in echo mode */
    atomic_int refs;
    char *source;       /* the data file, or "built-in" */
    const char *format; /* "json", "tsv", or NULL for the built-in table */
    double load_seconds;
    long long loaded_at;  /* Unix time */
    shard *shard;         /* --shard's ring (owned), or NULL: the whole file */
    cluster_map *cluster; /* --cluster-config's map (owned), or NULL: no cluster */
    size_t keys_skipped;  /* the data file's entries that are other shards' or nodes' */
    /* The users Redis clients answer to (a reference, released with the
     * dataset): set once loaded, before any worker sees the dataset. */
    struct acl_set *acl;
} dataset;

/* What --shard asks for: keep only the keys nutcracker routes to the
 * server named name in pool (NULL: the only one) of the nutcracker
 * config file config. name NULL: no sharding. Or what --cluster-config
 * asks for: keep only the keys of the slots the node cluster_myself
 * serves in the map cluster_config (NULL: no cluster). */
typedef struct dataset_shard_spec {
    const char *name;
    const char *config;
    const char *pool;
    const char *cluster_config;
    const char *cluster_myself;
    int cluster_full_coverage; /* a slot without an owner is an error */
} dataset_shard_spec;

/* Takes over t (NULL in echo mode); one reference. NULL when out of memory
 * (t is then freed). */
dataset *dataset_new(table *t, const char *source, const char *format, double load_seconds);
dataset *dataset_ref(dataset *d);
void dataset_release(dataset *d);
/* 1 if the caller holds the only reference to d. */
int dataset_unshared(dataset *d);

/* Loads what the options say to serve: the data file (in format), the
 * built-in table (data NULL), or no table in echo mode. With spec->name
 * (or spec->cluster_config) set, the shard config (or the cluster map) is
 * read first and only the shard's (the node's slots') keys of the data
 * file are kept: the map and the keys come and go together. cancel, when not NULL, gives up the load once set.
 * threads: how many may parse the file (see load_file_keep: 2 at the
 * start, 1 for a reload). Returns a dataset, or NULL with err. */
dataset *dataset_load(const char *data, datafile_format format, int echo, const dataset_shard_spec *spec,
                      const atomic_int *cancel, int threads, char *err, size_t errlen);
/* What the start line and the reload log say about d. */
void dataset_describe(const dataset *d, char *out, size_t outlen);

#endif

/*
 * shard.h: --shard: which keys of the table twemproxy (nutcracker 0.5.0)
 * sends to this server.
 *
 * The ring is read from the nutcracker YAML file the proxies use, so that
 * there is one source of truth: a pool's hash, hash_tag, distribution
 * (ketama or modula) and servers ("host:port:weight [name]"). The routing
 * follows nutcracker's server_pool_idx: the server order (sorted by name,
 * as nutcracker's config check leaves it), ketama's points per server
 * (computed in single-precision float from the weights) and their MD5
 * point keys ("NAME-N"), modula's weighted slots. Servers ejected by
 * auto_eject_hosts are not foreseen: the ring is the one with every server
 * in it.
 */
#ifndef EVKV_SHARD_H
#define EVKV_SHARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nc_conf.h"
#include "nc_hash.h"

typedef struct shard_point {
    uint32_t index; /* the server's, in nutcracker's order */
    uint32_t value;
} shard_point;

typedef struct shard {
    char *pool;               /* the pool's name */
    char *name;               /* this server's name in it */
    nc_hash_kind hash_kind;   /* the pool's hash: nc_hash_name() names it */
    nc_dist distribution;     /* NC_DIST_KETAMA or NC_DIST_MODULA */
    nc_hash_fn hash;          /* nc_hash_function(hash_kind) */
    char hash_tag[2]; /* the two characters, when has_hash_tag */
    int has_hash_tag;
    size_t nservers;     /* in the ring */
    char **names;        /* the servers' names, in nutcracker's order */
    uint32_t *weights;   /* their weights */
    size_t self;         /* this server's index in names */
    shard_point *points; /* ketama's continuum, sorted */
    size_t npoints;
} shard;

/* Reads the nutcracker config at path and makes the ring of its pool
 * named pool (NULL: the file's only pool) for the server named name.
 * Returns a new shard (free it with shard_free), or NULL with the reason
 * in err: the file cannot be read or nutcracker would refuse it
 * (nc_conf.h), no such pool or server, a distribution that does not route
 * by key. cancel, when not NULL, gives up once set ("cancelled"). */
shard *shard_load(const char *path, const char *pool, const char *name, const atomic_int *cancel, char *err,
                  size_t errlen);
void shard_free(shard *s);

/* The index (into s->names) of the server nutcracker sends key to. */
size_t shard_route(const shard *s, const char *key, size_t len);
/* 1 if nutcracker sends key to this server, else 0. */
int shard_owns(const shard *s, const char *key, size_t len);

#endif

/*
 * shard.c: nutcracker's ring, from its YAML config (see shard.h). The
 * file is read, and checked as nutcracker checks it, by nc_conf.c.
 */
#include "shard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_conf.h"

/* twemproxy's nc_ketama.c constants. */
#define KETAMA_POINTS_PER_SERVER 160
#define KETAMA_MAX_HOSTLEN       273

void shard_free(shard *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nservers; i++)
        free(s->names[i]);
    free(s->names);
    free(s->weights);
    free(s->points);
    free(s->pool);
    free(s->name);
    free(s);
}

static int point_cmp(const void *a, const void *b)
{
    const shard_point *x = a, *y = b;
    return x->value == y->value ? 0 : x->value > y->value ? 1 : -1;
}

/* ketama's continuum, as twemproxy's ketama_update builds it with every
 * server live. Returns 0, or -1: out of memory, or *cancel set. */
static int build_ketama(shard *s, const atomic_int *cancel)
{
    uint32_t total_weight = 0, nlive = (uint32_t)s->nservers;
    size_t cap = 0;

    for (size_t i = 0; i < s->nservers; i++)
        total_weight += s->weights[i];
    for (size_t i = 0; i < s->nservers; i++) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed))
            return -1;
        /* Single-precision float, the double 1e-10 and all, as in
         * ketama_update: the count is not always 160 per weight share. */
        float pct = (float)s->weights[i] / (float)total_weight;
        uint32_t per_server =
            (uint32_t)((floorf((float)(pct * KETAMA_POINTS_PER_SERVER / 4 * (float)nlive + 0.0000000001))) * 4);
        uint32_t per_hash = 4;

        if (s->npoints + per_server > cap) {
            size_t want = (s->npoints + per_server) * 2;
            shard_point *grown = realloc(s->points, want * sizeof(*grown));
            if (grown == NULL)
                return -1;
            s->points = grown;
            cap = want;
        }
        for (uint32_t pi = 1; pi <= per_server / per_hash; pi++) {
            char host[KETAMA_MAX_HOSTLEN];
            int n = snprintf(host, sizeof(host), "%s-%u", s->names[i], pi - 1);
            size_t hostlen = n < 0 ? 0 : (size_t)n >= sizeof(host) ? sizeof(host) - 1 : (size_t)n;
            for (uint32_t x = 0; x < per_hash; x++) {
                s->points[s->npoints].index = (uint32_t)i;
                s->points[s->npoints++].value = nc_ketama_point(host, hostlen, x);
            }
        }
    }
    qsort(s->points, s->npoints, sizeof(*s->points), point_cmp);
    return 0;
}

size_t shard_route(const shard *s, const char *key, size_t len)
{
    uint32_t hash;

    if (s->nservers == 1)
        return 0;
    if (s->has_hash_tag) {
        const char *start = memchr(key, s->hash_tag[0], len), *end;
        if (start != NULL) {
            end = memchr(start + 1, s->hash_tag[1], (size_t)(key + len - (start + 1)));
            if (end != NULL && end - start > 1) {
                key = start + 1;
                len = (size_t)(end - key);
            }
        }
    }
    hash = len == 0 ? 0 : s->hash(key, len);
    if (s->points == NULL) { /* modula: weight slots per server, in order */
        uint64_t total = 0, slot;
        for (size_t i = 0; i < s->nservers; i++)
            total += s->weights[i];
        slot = hash % total;
        for (size_t i = 0; i < s->nservers; i++) {
            if (slot < s->weights[i])
                return i;
            slot -= s->weights[i];
        }
        return 0;
    }
    if (s->npoints == 0)
        return 0;
    /* the first point at or past hash, wrapping round (ketama_dispatch) */
    size_t left = 0, right = s->npoints;
    while (left < right) {
        size_t middle = left + (right - left) / 2;
        if (s->points[middle].value < hash)
            left = middle + 1;
        else
            right = middle;
    }
    return s->points[right == s->npoints ? 0 : right].index;
}

int shard_owns(const shard *s, const char *key, size_t len)
{
    return shard_route(s, key, len) == s->self;
}

/* Fills s from the pool p of the config at path, for the server named
 * name. Returns 0 or -1 with err. */
static int read_pool(shard *s, const nc_conf_pool *p, const char *path, const char *name, const atomic_int *cancel,
                     char *err, size_t errlen)
{
    const char *hash = nc_conf_get(p, "hash"), *dist = nc_conf_get(p, "distribution");
    const char *tag = nc_conf_get(p, "hash_tag");
    size_t found = SIZE_MAX;

    /* nc_conf checked the values: names nutcracker knows, a two-character
     * tag; the defaults are nutcracker's */
    s->hash_kind = NC_HASH_FNV1A_64;
    s->distribution = NC_DIST_KETAMA;
    if (hash)
        nc_hash_lookup(hash, &s->hash_kind);
    if (dist)
        nc_dist_lookup(dist, &s->distribution);
    s->hash = nc_hash_function(s->hash_kind);
    if (s->distribution == NC_DIST_RANDOM) {
        snprintf(err, errlen,
                 "%s: pool %s: distribution random sends a key to any server, not by the key: a table cannot be "
                 "sharded by it (use ketama or modula)",
                 path, p->name);
        return -1;
    }
    if (tag) {
        memcpy(s->hash_tag, tag, 2);
        s->has_hash_tag = 1;
    }
    for (size_t i = 0; i < p->nservers; i++)
        if (strcmp(p->servers[i].name, name) == 0)
            found = i;
    if (found == SIZE_MAX) {
        char names[256] = "";
        for (size_t i = 0; i < p->nservers && strlen(names) + strlen(p->servers[i].name) + 8 < sizeof(names); i++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "", p->servers[i].name);
        snprintf(err, errlen, "%s: pool %s has no server named %s (its servers: %s%s)", path, p->name, name, names,
                 strlen(names) + 8 >= sizeof(names) ? ", ..." : "");
        return -1;
    }
    if ((s->names = calloc(p->nservers, sizeof(*s->names))) == NULL ||
        (s->weights = calloc(p->nservers, sizeof(*s->weights))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* nc_conf leaves the servers in nutcracker's order */
    for (; s->nservers < p->nservers; s->nservers++) {
        s->weights[s->nservers] = p->servers[s->nservers].weight;
        if ((s->names[s->nservers] = strdup(p->servers[s->nservers].name)) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    s->self = found;
    if (s->distribution == NC_DIST_KETAMA && build_ketama(s, cancel) != 0) {
        snprintf(err, errlen, "%s: %s", path, cancel && atomic_load(cancel) ? "cancelled" : "out of memory");
        return -1;
    }
    return 0;
}

/* The pool named pool (NULL: the only one) of c, or NULL with err. */
static const nc_conf_pool *find_pool(const nc_conf *c, const char *path, const char *pool, char *err, size_t errlen)
{
    char pools[256] = "";
    for (size_t i = 0; i < c->npools && strlen(pools) + strlen(c->pools[i].name) + 8 < sizeof(pools); i++)
        snprintf(pools + strlen(pools), sizeof(pools) - strlen(pools), "%s%s", i ? ", " : "", c->pools[i].name);
    if (pool == NULL && c->npools == 1)
        return &c->pools[0];
    if (pool == NULL) {
        snprintf(err, errlen, "%s has %zu pools (%s): --shard-pool must name one", path, c->npools, pools);
        return NULL;
    }
    for (size_t i = 0; i < c->npools; i++)
        if (strcmp(c->pools[i].name, pool) == 0)
            return &c->pools[i];
    snprintf(err, errlen, "%s has no pool named %s (its pools: %s)", path, pool, pools);
    return NULL;
}

shard *shard_load(const char *path, const char *pool, const char *name, const atomic_int *cancel, char *err,
                  size_t errlen)
{
    nc_conf *c = nc_conf_load(path, cancel, err, errlen);
    const nc_conf_pool *p;
    shard *s = NULL;

    if (c == NULL || (p = find_pool(c, path, pool, err, errlen)) == NULL)
        goto fail;
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->pool = strdup(p->name)) == NULL ||
        (s->name = strdup(name)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (read_pool(s, p, path, name, cancel, err, errlen) != 0)
        goto fail;
    nc_conf_free(c);
    return s;
fail:
    nc_conf_free(c);
    shard_free(s);
    return NULL;
}

/*
 * nc_conf.h: twemproxy's (nutcracker 0.5.0's) YAML config file, read and
 * checked as nutcracker reads it, for --shard (shard.c).
 *
 * The proxies and the shards read one file, so a file `nutcracker -t`
 * refuses is refused here too, with the reason: a typo that nutcracker
 * would stop at must not make a shard keep other keys than the proxies
 * send it. The checks are those of twemproxy's src/nc_conf.c: block style
 * only (no flow style, anchors, aliases, tags, directives, `---` or
 * `...`), one document, a mapping of pool names to pools, each pool a
 * mapping of nutcracker's keys to values and one list (servers), nothing
 * nested deeper; each key known, given once, with a value of its kind;
 * `listen:` and servers in every pool, no two servers or pools of one
 * name, no two pools on one listen address.
 *
 * One difference: a `listen:` host that is a name, not an address, is not
 * looked up (nutcracker resolves it on the proxy's machine, which may see
 * other names; a lookup here could also hold a reload up). A numeric
 * address is checked, as nutcracker checks it.
 */
#ifndef EVKV_NC_CONF_H
#define EVKV_NC_CONF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* nutcracker's distributions (its dist_type_t), as `distribution:` names
 * them. */
typedef enum nc_dist {
    NC_DIST_KETAMA, /* "ketama": a ring of points by weight (nutcracker's default) */
    NC_DIST_MODULA, /* "modula": by the hash's remainder */
    NC_DIST_RANDOM, /* "random": any server, not by the key */
    NC_DIST_COUNT   /* not a distribution: how many there are */
} nc_dist;

/* A distribution's name ("ketama"; static). */
const char *nc_dist_name(nc_dist dist);
/* The distribution `distribution:` names name: 0 with *dist, or -1. */
int nc_dist_lookup(const char *name, nc_dist *dist);

/* A pool's server, as nutcracker names and weighs it. */
typedef struct nc_conf_server {
    char *name; /* the NAME of "host:port:weight NAME"; else host:port, or host for port 11211 */
    uint32_t weight;
} nc_conf_server;

/* nutcracker's pool keys but servers, in the order of its conf_commands. */
#define NC_CONF_KEYS 16

typedef struct nc_conf_pool {
    char *name;
    char *values[NC_CONF_KEYS]; /* each key's value as written, or NULL: not given (see nc_conf_get) */
    nc_conf_server *servers;    /* in nutcracker's order: by name, shorter first, then bytewise */
    size_t nservers;
} nc_conf_pool;

typedef struct nc_conf {
    nc_conf_pool *pools; /* in the file's order */
    size_t npools;
} nc_conf;

/* Reads the nutcracker config at path. Returns a new nc_conf (free it with
 * nc_conf_free), or NULL with the reason in err, which names the file and,
 * for a mistake in it, the line: it cannot be read, or nutcracker would
 * refuse it. When cancel is not NULL, gives up soon after *cancel becomes
 * nonzero, even within a long file ("cancelled"). */
nc_conf *nc_conf_load(const char *path, const atomic_int *cancel, char *err, size_t errlen);
void nc_conf_free(nc_conf *c);

/* The value of the pool's key ("hash", "distribution", ...), as written,
 * or NULL if the pool does not give it. Borrowed: valid as long as the
 * nc_conf. */
const char *nc_conf_get(const nc_conf_pool *p, const char *key);

#endif

/*
 * cluster_map.h: --cluster-config: a Redis Cluster's map, read from a file
 * in the format of Redis's CLUSTER NODES, and this node's place in it.
 *
 * evkv has no gossip: the map is a file every node reads, so that an
 * operator can copy a real cluster's CLUSTER NODES (or nodes.conf) and
 * serve the same slots from evkv nodes. One node a line:
 *
 *   <id> <ip>:<port>@<cport>[,<hostname>] <flags> <master-id or -> <ping-sent> <pong-recv> <config-epoch>
 *   <link-state> <slot or from-to>...
 *
 * <port> is the node's RESP port. The flags must say master or slave; myself
 * is ignored (--cluster-myself names this node), and so are the states
 * gossip finds (fail?, fail, handshake, noaddr); nofailover is kept.
 * Migrating and importing slots ("[5461->-id]") are ignored: evkv answers no
 * ASK. Blank lines and lines starting with # are skipped; of nodes.conf's
 * "vars" line, only currentEpoch is read. The map is refused (with the reason: the file, its line) when a
 * node's id is not 40 hex digits or comes twice, an address is not an IP
 * address and ports, a slot is out of 0-16383 or owned twice, a replica
 * names no known master or owns slots, the myself id is not in it, or,
 * unless full coverage is off, a slot has no owner.
 */
#ifndef EVKV_CLUSTER_MAP_H
#define EVKV_CLUSTER_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "keyslot.h"

#define CLUSTER_ID_LEN 40 /* a node's id: 40 hex digits */

/* A node's flags, with Redis's bits (cluster.h's CLUSTER_NODE_*). */
enum {
    CLUSTER_FLAG_MASTER = 1,
    CLUSTER_FLAG_SLAVE = 2,
    CLUSTER_FLAG_MYSELF = 16,
    CLUSTER_FLAG_NOFAILOVER = 512,
};

typedef struct cluster_node {
    char id[CLUSTER_ID_LEN + 1];
    char *ip;        /* as written: "127.0.0.1", "::1" */
    char *hostname;  /* after the address's comma, or NULL */
    int port, cport; /* RESP port, cluster bus port */
    unsigned flags;  /* CLUSTER_FLAG_*, myself not among them */
    int master;      /* a replica's master (an index into nodes), or -1 */
    long long epoch; /* config epoch, as written */
    size_t nslots;   /* slots owned */
} cluster_node;

typedef struct cluster_map {
    char *path;          /* the file */
    cluster_node *nodes; /* in the file's order */
    size_t nnodes;
    size_t myself;           /* --cluster-myself's node */
    size_t serving;          /* whose slots myself serves: itself, or a replica's master */
    int full_coverage;       /* --cluster-require-full-coverage */
    size_t slots_owned;      /* slots with an owner */
    long long current_epoch; /* nodes.conf's "vars currentEpoch", or the highest epoch */
    /* Each slot's owner, an index into nodes plus one (0: none). */
    uint16_t owner[KEYSLOT_COUNT];
} cluster_map;

/* Reads the map at path, with myself (40 hex digits) as this node.
 * full_coverage: a slot without an owner is an error. Returns a new map
 * (free it with cluster_map_free), or NULL with the reason in err. */
cluster_map *cluster_map_load(const char *path, const char *myself, int full_coverage, char *err, size_t errlen);
void cluster_map_free(cluster_map *m);

/* The node owning slot (an index into m->nodes), or -1: none. */
static inline int cluster_map_owner(const cluster_map *m, unsigned slot)
{
    return (int)m->owner[slot] - 1;
}

/* 1 if key's slot is one this node serves (its own, or its master's). */
int cluster_map_serves(const cluster_map *m, const char *key, size_t len);

/* The slots node owns, as ranges ("0-5460 10923"; "none"). */
void cluster_map_slots_text(const cluster_map *m, size_t node, char *out, size_t outlen);

#endif

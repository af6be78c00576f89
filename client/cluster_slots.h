/*
 * cluster_slots.h: a Redis Cluster's slot map as a client reads it, with
 * CLUSTER SLOTS over RESP, and the -MOVED answers that correct it. Used by
 * evkv-bench --cluster and evkv-cli --cluster; nothing here keeps a
 * connection or knows either's options.
 */
#ifndef EVKV_CLUSTER_SLOTS_H
#define EVKV_CLUSTER_SLOTS_H

#include <stddef.h>
#include <sys/socket.h>

#include "keyslot.h"

#define CLUSTER_SLOTS_MAX_NODES 255 /* an owner is a byte */
#define CLUSTER_SLOTS_NONE      255 /* owner of a slot the map leaves out */

typedef struct cluster_slots_node {
    char ip[65];   /* as the map names it (an IP address, or a name) */
    char port[8];  /* its RESP port, in decimal */
    char name[80]; /* "ip:port", as -MOVED names it */
    int master;    /* -1 for a master; for a replica, its master's index */
} cluster_slots_node;

/* The nodes (masters, and the replicas the map names with them) and which
 * master owns each slot. */
typedef struct cluster_slots {
    cluster_slots_node nodes[CLUSTER_SLOTS_MAX_NODES];
    int nnodes;
    unsigned char owner[KEYSLOT_COUNT]; /* an index into nodes, or CLUSTER_SLOTS_NONE */
} cluster_slots;

/* Asks the node at sa (where: its name in messages) for CLUSTER SLOTS,
 * within timeout_ms for each of the connect, the send and each read, and
 * reads the map into *m. Returns 0, or -1 with err (the server's error,
 * say, from a node that is no cluster node). */
int cluster_slots_fetch(const struct sockaddr *sa, socklen_t salen, const char *where, int timeout_ms, cluster_slots *m,
                        char *err, size_t errlen);
/* Reads CLUSTER SLOTS's whole reply p[0..n) into *m. Returns 0, or -1 with
 * err. */
int cluster_slots_parse(cluster_slots *m, const char *p, size_t n, char *err, size_t errlen);
/* The index of the node ip:port (iplen bytes of ip) in m, added if new
 * (as a master).
 * Returns it, or -1 with err (a bad address, too many nodes). */
int cluster_slots_add(cluster_slots *m, const char *ip, size_t iplen, long long port, char *err, size_t errlen);
/* The index of the node named "ip:port" in m, or -1. */
int cluster_slots_find(const cluster_slots *m, const char *name);
/* Reads "MOVED <slot> <ip>:<port>" at text[0..len) (an error's text, with
 * what may follow the address after ": " or " "): *slot and the address
 * into name (namelen bytes). Returns 0, or -1 when it is not a MOVED. */
int cluster_slots_moved(const char *text, size_t len, unsigned *slot, char *name, size_t namelen);

#endif

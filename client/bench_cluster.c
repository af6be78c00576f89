/*
 * bench_cluster.c: evkv-bench --cluster, routing each request by its key's
 * slot, as a Redis Cluster client does.
 *
 * The slot map comes once, before the run, from CLUSTER SLOTS on the
 * address given (any node: a master, a replica); a connection is opened
 * to each master from each of -c's, and a connection asks only for keys
 * of its master's slots (keys are drawn as the pattern says, and those of
 * other masters passed over). A -MOVED answer updates the map's slot from
 * the answer, as redis-py does, and the request goes again, with its first
 * send's time and deadline, to a connection of the owner named: the
 * thread's redirects wait there until that connection has room.
 */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cluster_slots.h"
#include "keyslot.h"

#define PICK_TRIES 4096 /* keys drawn before one of another node is sent anyway */

typedef struct bench_cluster {
    cluster_slots map; /* as read before the run: its nodes are fixed; the owners move to owner */
    struct sockaddr_storage addr[CLUSTER_SLOTS_MAX_NODES];
    socklen_t addrlen[CLUSTER_SLOTS_MAX_NODES];
    _Atomic unsigned char owner[KEYSLOT_COUNT]; /* node index, or CLUSTER_SLOTS_NONE */
    uint16_t *key_slot;                         /* the slot of each keyset key */
} bench_cluster;

/* A request answered -MOVED, to go again to node. */
typedef struct bench_redirect {
    uint32_t key;
    int node;
    uint64_t t_sched, deadline;
} bench_redirect;

/* Resolves the map's nodes into cl->addr. Returns 0, or -1 with err. */
static int cluster_resolve(bench_cluster *cl, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;

    for (int i = 0; i < cl->map.nnodes; i++) {
        const cluster_slots_node *nd = &cl->map.nodes[i];
        int rc = getaddrinfo(nd->ip, nd->port, &hints, &res);
        if (rc != 0) {
            snprintf(err, errlen, "cannot resolve the node %s: %s", nd->name, gai_strerror(rc));
            return -1;
        }
        memcpy(&cl->addr[i], res->ai_addr, res->ai_addrlen);
        cl->addrlen[i] = res->ai_addrlen;
        freeaddrinfo(res);
    }
    for (int s = 0; s < KEYSLOT_COUNT; s++)
        atomic_store_explicit(&cl->owner[s], cl->map.owner[s], memory_order_relaxed);
    return 0;
}

int bench_cluster_load(bench *b, char *err, size_t errlen)
{
    bench_cluster *cl = calloc(1, sizeof(*cl));

    if (cl == NULL || (cl->key_slot = malloc((b->ks.n ? b->ks.n : 1) * sizeof(uint16_t))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cluster_slots_fetch((const struct sockaddr *)&b->addr, b->addrlen, b->target, b->opt.timeout_ms, &cl->map, err,
                            errlen) != 0 ||
        cluster_resolve(cl, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < b->ks.n; i++)
        cl->key_slot[i] = (uint16_t)keyslot(key_text(&b->ks, &b->ks.keys[i]), b->ks.keys[i].key_len);
    b->cluster = cl;
    return 0;
fail:
    if (cl)
        free(cl->key_slot);
    free(cl);
    return -1;
}

void bench_cluster_free(bench *b)
{
    if (b->cluster)
        free(b->cluster->key_slot);
    free(b->cluster);
    b->cluster = NULL;
}

int bench_cluster_nodes(const bench *b)
{
    return b->cluster->map.nnodes;
}

const struct sockaddr *bench_cluster_addr(const bench *b, int node, socklen_t *len)
{
    *len = b->cluster->addrlen[node];
    return (const struct sockaddr *)&b->cluster->addr[node];
}

/* The slot of key k (an index, or a generated miss). */
static unsigned key_slot_of(bthread *th, uint32_t k)
{
    char buf[40];
    size_t len;

    if (!(k & MISS_FLAG))
        return th->b->cluster->key_slot[k];
    const char *key = key_get(th, k, buf, sizeof(buf), &len);
    return keyslot(key, len);
}

uint32_t bench_cluster_pick(bconn *c)
{
    bench_cluster *cl = c->th->b->cluster;
    uint32_t k = 0;

    for (int i = 0; i < PICK_TRIES; i++) {
        k = key_pick(c->th);
        unsigned owner = atomic_load_explicit(&cl->owner[key_slot_of(c->th, k)], memory_order_relaxed);
        if (owner == (unsigned)c->node)
            break; /* else another connection's: drawn again */
    }
    return k; /* after PICK_TRIES, sent anyway: MOVED says where it goes */
}

int bench_cluster_moved(bconn *c, const char *msg, size_t len)
{
    bthread *th = c->th;
    bench_cluster *cl = th->b->cluster;
    char name[sizeof(cl->map.nodes[0].name)];
    unsigned slot;

    if (cluster_slots_moved(msg, len, &slot, name, sizeof(name)) != 0)
        return 0;
    /* The map's nodes are fixed during the run: a connection goes to each. */
    int node = cluster_slots_find(&cl->map, name);
    if (node < 0)
        return 0; /* a node the map did not name: no connection to it */
    if (th->nredirects == th->redirects_cap) {
        size_t cap = th->redirects_cap ? 2 * th->redirects_cap : 16;
        bench_redirect *r = realloc(th->redirects, cap * sizeof(*r));
        if (r == NULL)
            return 0;
        th->redirects = r;
        th->redirects_cap = cap;
    }
    atomic_store_explicit(&cl->owner[slot], (unsigned char)node, memory_order_relaxed);
    const inflight *f = &c->ring[c->head];
    th->redirects[th->nredirects++] = (bench_redirect){f->key, node, f->t_sched, f->deadline};
    th->moved++;
    /* Taken off c's FIFO, still in flight for the thread. */
    c->head = (c->head + 1) % (unsigned)th->b->opt.depth;
    c->count--;
    /* The owner's first connection in this thread sends it (from its
     * timer, not from inside this read). */
    bconn *to = &th->conns[node];
    if (to->fd >= 0 && to->count < (unsigned)th->b->opt.depth)
        event_active(to->timer, EV_TIMEOUT, 0);
    return 1;
}

void bench_cluster_resend(bconn *c)
{
    bthread *th = c->th;

    for (size_t i = 0; i < th->nredirects && c->count < (unsigned)th->b->opt.depth;) {
        bench_redirect r = th->redirects[i];
        if (r.node != c->node) {
            i++;
            continue;
        }
        th->redirects[i] = th->redirects[--th->nredirects];
        conn_enqueue(c, r.key, r.t_sched, r.deadline);
    }
}

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
 *
 * Over the guide protocol, the map's RESP ports are --guide-port-offset
 * below the guide ports: the map is asked of the given port less it, the
 * nodes reached at theirs plus it, and the guide's "Error: MOVED" answer
 * names the RESP address as -MOVED does.
 *
 * With --read-from-replicas, connections go to the replicas too (READONLY
 * first over RESP), and a replica's ask for its master's slots' keys.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cluster_slots.h"
#include "keyslot.h"
#include "resp_reply.h"

#define PICK_TRIES 4096 /* keys drawn before one of another node is sent anyway */

typedef struct bench_cluster {
    cluster_slots map; /* as read before the run: its nodes are fixed; the owners move to owner */
    struct sockaddr_storage addr[CLUSTER_SLOTS_MAX_NODES];
    socklen_t addrlen[CLUSTER_SLOTS_MAX_NODES];
    _Atomic unsigned char owner[KEYSLOT_COUNT]; /* node index, or CLUSTER_SLOTS_NONE */
    /* The nodes connections go to (the masters, and with
     * --read-from-replicas the replicas), and for each node its first
     * connection's index in a thread, or -1. */
    int conn_node[CLUSTER_SLOTS_MAX_NODES], nconn;
    int first_conn[CLUSTER_SLOTS_MAX_NODES];
    uint16_t *key_slot;                         /* the slot of each keyset key */
} bench_cluster;

/* A request answered -MOVED, to go again to node. */
typedef struct bench_redirect {
    uint32_t key;
    int node;
    uint64_t t_sched, deadline;
} bench_redirect;

/* Moves the port of the TCP address sa by delta. Returns 0, or -1 when
 * that is no port. */
static int port_move(struct sockaddr_storage *sa, int delta)
{
    in_port_t *port =
        sa->ss_family == AF_INET6 ? &((struct sockaddr_in6 *)sa)->sin6_port : &((struct sockaddr_in *)sa)->sin_port;
    long p = (long)ntohs(*port) + delta;

    if (p < 1 || p > 65535)
        return -1;
    *port = htons((in_port_t)p);
    return 0;
}

/* Resolves the map's nodes into cl->addr: their RESP ports, or over the
 * guide protocol those plus offset. Returns 0, or -1 with err. */
static int cluster_resolve(bench_cluster *cl, int offset, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;

    for (int i = 0; i < cl->map.nnodes; i++) {
        const cluster_slots_node *nd = &cl->map.nodes[i];
        char port[16];
        long p = strtol(nd->port, NULL, 10) + offset;
        if (p < 1 || p > 65535) {
            snprintf(err, errlen, "the node %s's port plus --guide-port-offset %d is no port", nd->name, offset);
            return -1;
        }
        snprintf(port, sizeof(port), "%ld", p);
        int rc = getaddrinfo(nd->ip, port, &hints, &res);
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

/* Picks the nodes connections go to: the masters, and the replicas too
 * with replicas set. */
static void cluster_conn_nodes(bench_cluster *cl, int replicas)
{
    for (int i = 0; i < cl->map.nnodes; i++) {
        cl->first_conn[i] = -1;
        if (cl->map.nodes[i].master < 0 || replicas) {
            cl->first_conn[i] = cl->nconn;
            cl->conn_node[cl->nconn++] = i;
        }
    }
}

int bench_cluster_load(bench *b, char *err, size_t errlen)
{
    bench_cluster *cl = calloc(1, sizeof(*cl));

    if (cl == NULL || (cl->key_slot = malloc((b->ks.n ? b->ks.n : 1) * sizeof(uint16_t))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* Over the guide protocol, the address given is a guide port: the map
     * is asked of the RESP port, offset below it. */
    struct sockaddr_storage resp = b->addr;
    int offset = b->opt.protocol == PROTOCOL_EVKV ? b->opt.guide_port_offset : 0;
    if (port_move(&resp, -offset) != 0) {
        snprintf(err, errlen, "%s less --guide-port-offset %d is no port", b->target, offset);
        goto fail;
    }
    if (cluster_slots_fetch((const struct sockaddr *)&resp, b->addrlen, b->target, b->opt.timeout_ms, &cl->map, err,
                            errlen) != 0 ||
        cluster_resolve(cl, offset, err, errlen) != 0)
        goto fail;
    cluster_conn_nodes(cl, b->opt.read_from_replicas);
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
    return b->cluster->nconn;
}

int bench_cluster_conn_node(const bench *b, int i)
{
    return b->cluster->conn_node[i % b->cluster->nconn];
}

void bench_cluster_conn_started(bconn *c)
{
    static const char readonly[] = "*1\r\n$8\r\nREADONLY\r\n";
    const bench *b = c->th->b;

    /* A replica serves reads of its master's slots after READONLY (the
     * guide protocol's, always). */
    c->readonly_pending = b->opt.protocol == PROTOCOL_RESP && b->cluster->map.nodes[c->node].master >= 0;
    if (c->readonly_pending)
        evbuffer_add(c->out, readonly, sizeof(readonly) - 1);
}

long bench_cluster_readonly_reply(bconn *c, const char *p, size_t n)
{
    char errstr[RESP_REPLY_ERRSTR_LEN];
    resp_reply r;
    long len = resp_reply_read(p, n, &r, NULL, errstr);

    if (len == 0)
        return 0;
    if (len < 0 || r.type != RESP_REPLY_STATUS || r.len != 2 || memcmp(r.str, "OK", 2) != 0) {
        bench_error(c->th, 1, "READONLY refused by %s", c->th->b->cluster->map.nodes[c->node].name);
        return -1;
    }
    c->readonly_pending = 0;
    return len;
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
    int master = cl->map.nodes[c->node].master < 0 ? c->node : cl->map.nodes[c->node].master;
    uint32_t k = 0;

    for (int i = 0; i < PICK_TRIES; i++) {
        k = key_pick(c->th);
        unsigned owner = atomic_load_explicit(&cl->owner[key_slot_of(c->th, k)], memory_order_relaxed);
        if (owner == (unsigned)master)
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
    if (node < 0 || cl->first_conn[node] < 0)
        return 0; /* a node the map did not name (or a replica): no connection to it */
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
    bconn *to = &th->conns[cl->first_conn[node]];
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

int bench_cluster_moved_evkv(bconn *c, const proto_message *msg)
{
    static const char prefix[] = "{\"result\": \"Error: MOVED ";
    int moved = 0;

    /* Most wrong answers are no MOVED: the JSON is read only for one. */
    if (!msg->is_json || msg->content_len < sizeof(prefix) || memcmp(msg->content, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    json_t *content = json_loadb((const char *)msg->content, msg->content_len, 0, NULL);
    const char *text = json_string_value(json_object_get(content, "result"));
    if (text)
        moved = bench_cluster_moved(c, text + 7, strlen(text + 7));
    json_decref(content);
    return moved;
}

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
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "keyslot.h"
#include "resp_reply.h"

#define CLUSTER_MAX_NODES 255 /* an owner is a byte; 255: none */
#define NO_OWNER          255
#define PICK_TRIES        4096 /* keys drawn before one of another node is sent anyway */

typedef struct cluster_node {
    char name[80]; /* "ip:port", as MOVED names it */
    struct sockaddr_storage addr;
    socklen_t addrlen;
} cluster_node;

typedef struct bench_cluster {
    cluster_node nodes[CLUSTER_MAX_NODES];
    int nnodes;
    _Atomic unsigned char owner[KEYSLOT_COUNT]; /* node index, or NO_OWNER */
    uint16_t *key_slot;                         /* the slot of each keyset key */
} bench_cluster;

/* A request answered -MOVED, to go again to node. */
typedef struct bench_redirect {
    uint32_t key;
    int node;
    uint64_t t_sched, deadline;
} bench_redirect;

/* Sends CLUSTER SLOTS to the address given and reads the whole reply into
 * *buf (malloc'd, *len bytes). Returns 0, or -1 with err. */
static int cluster_fetch(const bench *b, char **buf, size_t *len, char *err, size_t errlen)
{
    static const char req[] = "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";
    struct timeval tv = {b->opt.timeout_ms / 1000, (b->opt.timeout_ms % 1000) * 1000};
    char errstr[RESP_REPLY_ERRSTR_LEN];
    size_t cap = 0, n = 0;
    char *p = NULL;
    int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) != 0 ||
        send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
        snprintf(err, errlen, "cannot ask %s for CLUSTER SLOTS: %s", b->target, strerror(errno));
        goto fail;
    }
    for (;;) {
        long span = resp_reply_span(p ? p : "", n, errstr);
        if (span > 0)
            break;
        if (span < 0) {
            snprintf(err, errlen, "%s: bad reply to CLUSTER SLOTS: %s", b->target, errstr);
            goto fail;
        }
        if (n == cap) {
            char *q = realloc(p, cap = cap ? 2 * cap : 65536);
            if (q == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            p = q;
        }
        ssize_t got = recv(fd, p + n, cap - n, 0);
        if (got <= 0) {
            snprintf(err, errlen, "%s: no whole reply to CLUSTER SLOTS: %s", b->target,
                     got == 0 ? "connection closed" : strerror(errno));
            goto fail;
        }
        n += (size_t)got;
    }
    close(fd);
    *buf = p;
    *len = n;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(p);
    return -1;
}

/* The node ip:port in cl, added if new. Returns its index, or -1 with err. */
static int cluster_node_add(bench_cluster *cl, const char *ip, size_t iplen, long long port, char *err, size_t errlen)
{
    char name[80], portstr[8];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;

    if (iplen == 0 || iplen > 64 || memchr(ip, '\0', iplen) || port < 1 || port > 65535) {
        snprintf(err, errlen, "CLUSTER SLOTS names a node with a bad address: '%.*s' port %lld",
                 (int)(iplen > 64 ? 64 : iplen), ip, port);
        return -1;
    }
    snprintf(name, sizeof(name), "%.*s:%lld", (int)iplen, ip, port);
    for (int i = 0; i < cl->nnodes; i++)
        if (strcmp(cl->nodes[i].name, name) == 0)
            return i;
    if (cl->nnodes == CLUSTER_MAX_NODES) {
        snprintf(err, errlen, "more than %d masters", CLUSTER_MAX_NODES);
        return -1;
    }
    snprintf(portstr, sizeof(portstr), "%lld", port);
    char host[65];
    memcpy(host, ip, iplen);
    host[iplen] = '\0';
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve the node %s: %s", name, gai_strerror(rc));
        return -1;
    }
    cluster_node *nd = &cl->nodes[cl->nnodes];
    memcpy(&nd->addr, res->ai_addr, res->ai_addrlen);
    nd->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    memcpy(nd->name, name, strlen(name) + 1);
    return cl->nnodes++;
}

/* Reads one element of the reply at p (of n bytes) at *at, of type want.
 * Returns 0, or -1 with err. */
static int slots_read(const char *p, size_t n, size_t *at, resp_reply_type want, resp_reply *r, char *err,
                      size_t errlen)
{
    char errstr[RESP_REPLY_ERRSTR_LEN];
    long len = resp_reply_read(p + *at, n - *at, r, NULL, errstr);

    if (len <= 0 || r->type != want) {
        snprintf(err, errlen, "CLUSTER SLOTS answered something else than a slot map");
        return -1;
    }
    *at += (size_t)len;
    return 0;
}

/* Skips count elements of the reply at p from *at. */
static void slots_skip(const char *p, size_t n, size_t *at, long long count)
{
    char errstr[RESP_REPLY_ERRSTR_LEN];
    for (long long i = 0; i < count; i++)
        *at += (size_t)resp_reply_span(p + *at, n - *at, errstr);
}

/* One slot range of CLUSTER SLOTS at *at: [start, end, master, replicas...]. */
static int slots_range(bench_cluster *cl, const char *p, size_t n, size_t *at, char *err, size_t errlen)
{
    resp_reply range, start, end, node, ip, port;

    if (slots_read(p, n, at, RESP_REPLY_ARRAY, &range, err, errlen) != 0 || range.num < 3 ||
        slots_read(p, n, at, RESP_REPLY_INTEGER, &start, err, errlen) != 0 ||
        slots_read(p, n, at, RESP_REPLY_INTEGER, &end, err, errlen) != 0 ||
        slots_read(p, n, at, RESP_REPLY_ARRAY, &node, err, errlen) != 0 || node.num < 2 ||
        slots_read(p, n, at, RESP_REPLY_BULK, &ip, err, errlen) != 0 ||
        slots_read(p, n, at, RESP_REPLY_INTEGER, &port, err, errlen) != 0) {
        snprintf(err, errlen, "CLUSTER SLOTS answered something else than a slot map");
        return -1;
    }
    if (start.num < 0 || end.num < start.num || end.num >= KEYSLOT_COUNT) {
        snprintf(err, errlen, "CLUSTER SLOTS names slots %lld-%lld", start.num, end.num);
        return -1;
    }
    int idx = cluster_node_add(cl, ip.str, ip.len, port.num, err, errlen);
    if (idx < 0)
        return -1;
    for (long long s = start.num; s <= end.num; s++)
        atomic_store_explicit(&cl->owner[s], (unsigned char)idx, memory_order_relaxed);
    slots_skip(p, n, at, node.num - 2);  /* the master's id and metadata */
    slots_skip(p, n, at, range.num - 3); /* the replicas */
    return 0;
}

/* Reads the map from CLUSTER SLOTS's reply p (n bytes, whole) into cl. */
static int cluster_parse(bench_cluster *cl, const char *p, size_t n, char *err, size_t errlen)
{
    resp_reply top;
    char errstr[RESP_REPLY_ERRSTR_LEN];
    size_t at = 0;
    long len = resp_reply_read(p, n, &top, NULL, errstr);

    if (len > 0 && top.type == RESP_REPLY_ERROR) {
        snprintf(err, errlen, "CLUSTER SLOTS: %.*s", (int)(top.len > 200 ? 200 : top.len), top.str);
        return -1;
    }
    if (len <= 0 || top.type != RESP_REPLY_ARRAY) {
        snprintf(err, errlen, "CLUSTER SLOTS answered something else than a slot map");
        return -1;
    }
    at = (size_t)len;
    for (int s = 0; s < KEYSLOT_COUNT; s++)
        atomic_store_explicit(&cl->owner[s], NO_OWNER, memory_order_relaxed);
    for (long long i = 0; i < top.num; i++)
        if (slots_range(cl, p, n, &at, err, errlen) != 0)
            return -1;
    if (cl->nnodes == 0) {
        snprintf(err, errlen, "CLUSTER SLOTS names no slot: the cluster serves nothing");
        return -1;
    }
    return 0;
}

int bench_cluster_load(bench *b, char *err, size_t errlen)
{
    bench_cluster *cl = calloc(1, sizeof(*cl));
    char *reply = NULL;
    size_t n = 0;

    if (cl == NULL || (cl->key_slot = malloc((b->ks.n ? b->ks.n : 1) * sizeof(uint16_t))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cluster_fetch(b, &reply, &n, err, errlen) != 0 || cluster_parse(cl, reply, n, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < b->ks.n; i++)
        cl->key_slot[i] = (uint16_t)keyslot(key_text(&b->ks, &b->ks.keys[i]), b->ks.keys[i].key_len);
    free(reply);
    b->cluster = cl;
    return 0;
fail:
    free(reply);
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
    return b->cluster->nnodes;
}

const struct sockaddr *bench_cluster_addr(const bench *b, int node, socklen_t *len)
{
    *len = b->cluster->nodes[node].addrlen;
    return (const struct sockaddr *)&b->cluster->nodes[node].addr;
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
    char text[128], *end;

    if (len < 7 || len >= sizeof(text) || memcmp(msg, "MOVED ", 6) != 0)
        return 0;
    memcpy(text, msg, len);
    text[len] = '\0';
    long slot = strtol(text + 6, &end, 10);
    if (end == text + 6 || *end != ' ' || slot < 0 || slot >= KEYSLOT_COUNT)
        return 0;
    int node = -1;
    for (int i = 0; i < cl->nnodes && node < 0; i++)
        if (strcmp(cl->nodes[i].name, end + 1) == 0)
            node = i;
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

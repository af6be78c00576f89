/*
 * cluster.c: Redis Cluster's side of the RESP wing, as Redis 7.0.15's
 * cluster.c answers it: the redirection check processCommand runs before
 * a command (getNodeByQuery, clusterRedirectClient), the CLUSTER
 * subcommands a cluster client reads (SLOTS, SHARDS, NODES, INFO, MYID,
 * KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT) and READONLY, READWRITE and
 * ASKING. The map is the one resp_env.cluster gives (--cluster-config):
 * without it every one of these answers as a Redis without cluster
 * support. Where a real cluster's answer comes from its gossip (ping and
 * pong times, message counts, replication offsets), evkv gives what a
 * static map knows: see proto/PROTOCOL.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cluster_map.h"
#include "command.h"

#define NO_CLUSTER "This instance has cluster support disabled"

/* ---- the redirection check ---- */

/* Where spec's keys are among argc arguments: 0 for none, else 1 with
 * the first, last and step (COMMAND INFO's legacy range, as
 * getKeysUsingLegacyRangeSpec reads it). */
static int key_range(const resp_command_spec *spec, size_t argc, size_t *first, size_t *last, size_t *step)
{
    long long f = spec->key_range.first, l = spec->key_range.last;
    if (f <= 0 || (size_t)f >= argc)
        return 0;
    l = l < 0 ? (long long)argc + l : l;
    if (l >= (long long)argc)
        l = (long long)argc - 1;
    if (l < f)
        return 0;
    *first = (size_t)f;
    *last = (size_t)l;
    *step = spec->key_range.step > 0 ? (size_t)spec->key_range.step : 1;
    return 1;
}

/* What the keys of one command say, gathered over a request (or EXEC's
 * queue) as getNodeByQuery gathers them. */
typedef struct slot_query {
    const char *first_key; /* NULL: no key yet */
    size_t first_len;
    unsigned slot;
    int owner;    /* the slot's node (-1: none) */
    int error;    /* 0, or a reply already decided: */
    int is_write; /* a write command among them */
} slot_query;

enum { QUERY_CROSSSLOT = 1, QUERY_UNBOUND };

static void query_command(const cluster_map *m, const resp_command_spec *spec, const resp_args *a, slot_query *q)
{
    size_t first, last, step;

    if (spec == NULL || !key_range(spec, a->argc, &first, &last, &step))
        return;
    if (spec->flags & RESP_CMD_WRITE)
        q->is_write = 1;
    for (size_t i = first; i <= last && q->error == 0; i += step) {
        unsigned slot = keyslot(a->argv[i], a->len[i]);
        if (q->first_key == NULL) {
            q->first_key = a->argv[i];
            q->first_len = a->len[i];
            q->slot = slot;
            q->owner = cluster_map_owner(m, slot);
            if (q->owner < 0)
                q->error = QUERY_UNBOUND;
        } else if (slot != q->slot) {
            q->error = QUERY_CROSSSLOT;
        }
    }
}

int resp_cluster_redirect(resp_exec *x, const resp_command_spec *spec, const resp_args *a, char *msg, size_t size)
{
    const cluster_map *m = x->env->cluster;
    slot_query q = {0};

    if (spec->fn == cmd_exec) {
        /* EXEC: the queued commands' keys, as one request's */
        for (size_t i = 0; i < x->c->nqueued && q.error == 0; i++) {
            const resp_queued *e = &x->c->queue[i];
            resp_args qa = {e->argc, (const char *const *)e->argv, e->argv_len};
            query_command(m, resp_command_find(&qa), &qa, &q);
        }
    } else {
        query_command(m, spec, a, &q);
    }
    if (q.error == QUERY_CROSSSLOT) {
        snprintf(msg, size, "-CROSSSLOT Keys in request don't hash to the same slot");
        return 1;
    }
    if (q.error == QUERY_UNBOUND) {
        snprintf(msg, size, "-CLUSTERDOWN Hash slot not served");
        return 1;
    }
    if (q.first_key == NULL || (size_t)q.owner == m->myself)
        return 0;
    /* a replica after READONLY reads its master's slots */
    if (x->c->cluster_readonly && !q.is_write && (size_t)q.owner == m->serving)
        return 0;
    const cluster_node *n = &m->nodes[q.owner];
    snprintf(msg, size, "-MOVED %u %s:%d", q.slot, n->ip, n->port);
    return 1;
}

/* ---- READONLY, READWRITE, ASKING ---- */

int cmd_readonly(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (x->env->cluster == NULL)
        return reply_error(x, NO_CLUSTER);
    x->c->cluster_readonly = 1;
    return reply_ok(x);
}

int cmd_readwrite(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (x->env->cluster == NULL)
        return reply_error(x, NO_CLUSTER);
    x->c->cluster_readonly = 0;
    return reply_ok(x);
}

/* No slot is ever importing here: ASKING changes nothing. */
int cmd_asking(resp_exec *x, const resp_args *a)
{
    (void)a;
    if (x->env->cluster == NULL)
        return reply_error(x, NO_CLUSTER);
    return reply_ok(x);
}

/* ---- CLUSTER's subcommands ---- */

int cmd_cluster_keyslot(resp_exec *x, const resp_args *a)
{
    if (x->env->cluster == NULL)
        return reply_error(x, NO_CLUSTER);
    return resp_encode_integer(x->out, keyslot(a->argv[2], a->len[2]));
}

int cmd_cluster_myid(resp_exec *x, const resp_args *a)
{
    (void)a;
    const cluster_map *m = x->env->cluster;
    if (m == NULL)
        return reply_error(x, NO_CLUSTER);
    return resp_encode_bulk(x->out, m->nodes[m->myself].id, CLUSTER_ID_LEN);
}

/* The keys of the table in slot, up to max: how many, each encoded as a
 * bulk into out when out is not NULL. The table has no index by slot:
 * this reads every key (an operator's command, not a request's). */
static size_t keys_in_slot(const table *t, unsigned slot, size_t max, proto_buf *out)
{
    size_t n = 0;
    for (size_t s = 0; s < table_slots(t) && n < max; s++) {
        const char *k;
        size_t klen;
        if (table_slot_key(t, s, &k, &klen) && keyslot(k, klen) == slot) {
            if (out)
                resp_encode_bulk(out, k, klen);
            n++;
        }
    }
    return n;
}

int cmd_cluster_countkeysinslot(resp_exec *x, const resp_args *a)
{
    long long slot;
    if (x->env->cluster == NULL)
        return reply_error(x, NO_CLUSTER);
    if (!resp_string2ll(a->argv[2], a->len[2], &slot))
        return reply_not_integer(x);
    if (slot < 0 || slot >= KEYSLOT_COUNT)
        return reply_error(x, "Invalid slot");
    return resp_encode_integer(x->out, (long long)keys_in_slot(x->env->table, (unsigned)slot, SIZE_MAX, NULL));
}

int cmd_cluster_getkeysinslot(resp_exec *x, const resp_args *a)
{
    long long slot, max;
    proto_buf keys = {0};

    if (x->env->cluster == NULL)
        return reply_error(x, NO_CLUSTER);
    if (!resp_string2ll(a->argv[2], a->len[2], &slot) || !resp_string2ll(a->argv[3], a->len[3], &max))
        return reply_not_integer(x);
    if (slot < 0 || slot >= KEYSLOT_COUNT || max < 0)
        return reply_error(x, "Invalid slot or number of keys");
    size_t n = keys_in_slot(x->env->table, (unsigned)slot, (size_t)max, &keys);
    int rc = keys.failed ? -1 : resp_encode_array(x->out, n);
    if (rc == 0 && keys.len > 0)
        rc = proto_buf_append(x->out, keys.data, keys.len);
    proto_buf_free(&keys);
    return rc;
}

/* ---- the map, as CLUSTER NODES, SLOTS, SHARDS and INFO show it ---- */

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* One node's line, as clusterGenNodeDescription writes it. No ping is
 * ever pending, and every node's last pong is now: the map holds them
 * all up. */
static void node_line(const cluster_map *m, size_t i, long long now, proto_buf *b)
{
    const cluster_node *n = &m->nodes[i];
    char head[512];
    int len = snprintf(
        head, sizeof(head), "%s %s:%d@%d%s%s %s%s%s %s %d %lld %lld connected", n->id, n->ip, n->port, n->cport,
        n->hostname ? "," : "", n->hostname ? n->hostname : "", i == m->myself ? "myself," : "",
        n->flags & CLUSTER_FLAG_MASTER ? "master" : "slave", n->flags & CLUSTER_FLAG_NOFAILOVER ? ",nofailover" : "",
        n->master >= 0 ? m->nodes[n->master].id : "-", 0, now, n->master >= 0 ? m->nodes[n->master].epoch : n->epoch);
    proto_buf_append(b, head, len > 0 && (size_t)len < sizeof(head) ? (size_t)len : 0);
    for (unsigned s = 0; s < KEYSLOT_COUNT; s++) {
        if (m->owner[s] != i + 1)
            continue;
        unsigned from = s;
        while (s + 1 < KEYSLOT_COUNT && m->owner[s + 1] == i + 1)
            s++;
        len = from == s ? snprintf(head, sizeof(head), " %u", from) : snprintf(head, sizeof(head), " %u-%u", from, s);
        proto_buf_append(b, head, (size_t)len);
    }
    proto_buf_append(b, "\n", 1);
}

int cmd_cluster_nodes(resp_exec *x, const resp_args *a)
{
    const cluster_map *m = x->env->cluster;
    proto_buf b = {0};
    long long now = now_ms();

    (void)a;
    if (m == NULL)
        return reply_error(x, NO_CLUSTER);
    for (size_t i = 0; i < m->nnodes; i++)
        node_line(m, i, now, &b);
    int rc = b.failed ? -1 : resp_encode_bulk(x->out, b.data ? b.data : "", b.len);
    proto_buf_free(&b);
    return rc;
}

/* A node as CLUSTER SLOTS lists it (addNodeToNodeReply, endpoints by IP). */
static int slots_node(proto_buf *out, const cluster_node *n)
{
    int rc = resp_encode_array(out, 4) | resp_encode_bulk(out, n->ip, strlen(n->ip)) |
             resp_encode_integer(out, n->port) | resp_encode_bulk(out, n->id, CLUSTER_ID_LEN);
    if (n->hostname == NULL)
        return rc | resp_encode_array(out, 0);
    return rc | resp_encode_array(out, 2) | resp_encode_bulk(out, "hostname", 8) |
           resp_encode_bulk(out, n->hostname, strlen(n->hostname));
}

/* One range of slots and its nodes (addNodeReplyForClusterSlot). */
static int slots_range(proto_buf *out, const cluster_map *m, unsigned from, unsigned to, size_t owner)
{
    size_t nreplicas = 0;
    for (size_t i = 0; i < m->nnodes; i++)
        nreplicas += m->nodes[i].master == (int)owner;
    int rc = resp_encode_array(out, 3 + nreplicas) | resp_encode_integer(out, from) | resp_encode_integer(out, to) |
             slots_node(out, &m->nodes[owner]);
    for (size_t i = 0; i < m->nnodes; i++)
        if (m->nodes[i].master == (int)owner)
            rc |= slots_node(out, &m->nodes[i]);
    return rc;
}

int cmd_cluster_slots(resp_exec *x, const resp_args *a)
{
    const cluster_map *m = x->env->cluster;
    proto_buf b = {0};
    size_t nranges = 0;
    int rc = 0;

    (void)a;
    if (m == NULL)
        return reply_error(x, NO_CLUSTER);
    for (unsigned s = 0; s < KEYSLOT_COUNT; s++) {
        if (m->owner[s] == 0)
            continue;
        unsigned from = s;
        while (s + 1 < KEYSLOT_COUNT && m->owner[s + 1] == m->owner[from])
            s++;
        rc |= slots_range(&b, m, from, s, m->owner[from] - 1u);
        nranges++;
    }
    if (rc == 0 && !b.failed)
        rc = resp_encode_array(x->out, nranges) | proto_buf_append(x->out, b.data ? b.data : "", b.len);
    proto_buf_free(&b);
    return rc != 0 || b.failed ? -1 : 0;
}

/* A node as CLUSTER SHARDS describes it (addNodeDetailsToShardReply). No
 * replication runs between evkv nodes: every one holds its slots' keys
 * from the start, at offset 0, and is online. */
static int shards_node(proto_buf *out, const cluster_node *n)
{
    int rc = resp_encode_array(out, 2 * (n->hostname ? 8 : 7)) | resp_encode_bulk(out, "id", 2) |
             resp_encode_bulk(out, n->id, CLUSTER_ID_LEN) | resp_encode_bulk(out, "port", 4) |
             resp_encode_integer(out, n->port) | resp_encode_bulk(out, "ip", 2) |
             resp_encode_bulk(out, n->ip, strlen(n->ip)) | resp_encode_bulk(out, "endpoint", 8) |
             resp_encode_bulk(out, n->ip, strlen(n->ip));
    if (n->hostname)
        rc |= resp_encode_bulk(out, "hostname", 8) | resp_encode_bulk(out, n->hostname, strlen(n->hostname));
    return rc | resp_encode_bulk(out, "role", 4) |
           (n->master >= 0 ? resp_encode_bulk(out, "replica", 7) : resp_encode_bulk(out, "master", 6)) |
           resp_encode_bulk(out, "replication-offset", 18) | resp_encode_integer(out, 0) |
           resp_encode_bulk(out, "health", 6) | resp_encode_bulk(out, "online", 6);
}

/* One master's shard: its slot ranges, then it and its replicas. */
static int shards_shard(proto_buf *out, const cluster_map *m, size_t master)
{
    size_t nranges = 0, nnodes = 1;
    int rc = 0;

    for (unsigned s = 0; s < KEYSLOT_COUNT; s++)
        if (m->owner[s] == master + 1 && (s == 0 || m->owner[s - 1] != master + 1))
            nranges++;
    rc |= resp_encode_array(out, 4) | resp_encode_bulk(out, "slots", 5) | resp_encode_array(out, 2 * nranges);
    for (unsigned s = 0; s < KEYSLOT_COUNT; s++) {
        if (m->owner[s] != master + 1)
            continue;
        unsigned from = s;
        while (s + 1 < KEYSLOT_COUNT && m->owner[s + 1] == master + 1)
            s++;
        rc |= resp_encode_integer(out, from) | resp_encode_integer(out, s);
    }
    for (size_t i = 0; i < m->nnodes; i++)
        nnodes += m->nodes[i].master == (int)master;
    rc |= resp_encode_bulk(out, "nodes", 5) | resp_encode_array(out, nnodes) | shards_node(out, &m->nodes[master]);
    for (size_t i = 0; i < m->nnodes; i++)
        if (m->nodes[i].master == (int)master)
            rc |= shards_node(out, &m->nodes[i]);
    return rc;
}

int cmd_cluster_shards(resp_exec *x, const resp_args *a)
{
    const cluster_map *m = x->env->cluster;
    size_t nmasters = 0;
    int rc;

    (void)a;
    if (m == NULL)
        return reply_error(x, NO_CLUSTER);
    for (size_t i = 0; i < m->nnodes; i++)
        nmasters += m->nodes[i].master < 0;
    rc = resp_encode_array(x->out, nmasters);
    for (size_t i = 0; i < m->nnodes; i++)
        if (m->nodes[i].master < 0)
            rc |= shards_shard(x->out, m, i);
    return rc;
}

int cmd_cluster_info(resp_exec *x, const resp_args *a)
{
    const cluster_map *m = x->env->cluster;
    long long size = 0;
    char info[1024];

    (void)a;
    if (m == NULL)
        return reply_error(x, NO_CLUSTER);
    for (size_t i = 0; i < m->nnodes; i++)
        size += m->nodes[i].master < 0 && m->nodes[i].nslots > 0;
    const cluster_node *me = &m->nodes[m->myself];
    /* the map is the cluster's whole state: ok, every slot owned healthy;
     * no bus, so no messages */
    int len = snprintf(info, sizeof(info),
                       "cluster_state:ok\r\ncluster_slots_assigned:%zu\r\ncluster_slots_ok:%zu\r\n"
                       "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:%zu\r\n"
                       "cluster_size:%lld\r\ncluster_current_epoch:%lld\r\ncluster_my_epoch:%lld\r\n"
                       "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
                       "total_cluster_links_buffer_limit_exceeded:0\r\n",
                       m->slots_owned, m->slots_owned, m->nnodes, size, m->current_epoch,
                       me->master >= 0 ? m->nodes[me->master].epoch : me->epoch);
    return resp_encode_bulk(x->out, info, (size_t)len);
}

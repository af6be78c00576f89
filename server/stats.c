/*
 * stats.c: the stats action's answer, summed over every worker.
 *
 * Each worker counts in its connections' conn_counters; a stats request reads all
 * of them (relaxed atomics: each figure is exact on its own, the figures
 * together are as of "about now"). The table part describes the table the
 * answering worker serves. requests_per_second is what the workers
 * answered in their last whole second, each counted by its once-a-second
 * sweep (worker_stats_tick), off the request path; rss_bytes is read from
 * /proc/self/statm at each stats request.
 */
#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include "json_write.h"
#include "tls.h"

/* Sums, over every worker, the counter at `offset` in its connections'
 * conn_counters. */
static unsigned long long sum(const server *srv, size_t offset)
{
    unsigned long long n = 0;
    for (int i = 0; i < srv->nworkers; i++) {
        atomic_ullong *c = (atomic_ullong *)((char *)&srv->workers[i].conns.counters + offset);
        n += COUNTER_GET(*c);
    }
    return n;
}

#define SUM(srv, field) sum(srv, offsetof(conn_counters, field))

/* What the workers answered in their last whole second. */
static unsigned long long last_second(const server *srv)
{
    unsigned long long n = 0;
    for (int i = 0; i < srv->nworkers; i++)
        n += COUNTER_GET(srv->workers[i].last_second);
    return n;
}

/* One protocol's counters, summed over every worker. */
typedef struct protocol_sums {
    unsigned long long by[OUTCOME_COUNT]; /* requests, by outcome */
    unsigned long long requests;          /* all of them, whatever the outcome */
    unsigned long long key_hits, key_misses, commands;
    unsigned long long acl_denied_auth, acl_denied_cmd, acl_denied_key;
} protocol_sums;

/* The offset in conn_counters of protocol p's counter `field`. */
#define PROTO(p, field)                                                                                                \
    (offsetof(conn_counters, proto) + (size_t)(p) * sizeof(protocol_counters) + offsetof(protocol_counters, field))

static void sum_protocol(const server *srv, protocol_tag p, protocol_sums *s)
{
    s->requests = 0;
    for (int o = 0; o < OUTCOME_COUNT; o++) {
        s->by[o] = sum(srv, PROTO(p, outcomes) + (size_t)o * sizeof(atomic_ullong));
        s->requests += s->by[o];
    }
    s->key_hits = sum(srv, PROTO(p, key_hits));
    s->key_misses = sum(srv, PROTO(p, key_misses));
    s->commands = sum(srv, PROTO(p, commands));
    s->acl_denied_auth = sum(srv, PROTO(p, acl_denied_auth));
    s->acl_denied_cmd = sum(srv, PROTO(p, acl_denied_cmd));
    s->acl_denied_key = sum(srv, PROTO(p, acl_denied_key));
}

/* The process's resident memory in bytes (the second figure of
 * /proc/self/statm, in pages), or 0 when it cannot be read. */
static unsigned long long rss_bytes(void)
{
    unsigned long long size, resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "re");

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (unsigned long long)(page > 0 ? page : 4096);
}

static json_t *count(unsigned long long n)
{
    return json_integer((json_int_t)n);
}

/* The guide's requests, by what they were. */
static json_t *guide_requests_json(const protocol_sums *g)
{
    const unsigned long long *by = g->by;
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "total", count(g->requests), "search",
                     count(by[OUTCOME_HIT] + by[OUTCOME_MISS]), "ping", count(by[OUTCOME_PING]), "stats",
                     count(by[OUTCOME_STATS]), "invalid_action", count(by[OUTCOME_BAD_ACTION]), "binary",
                     count(by[OUTCOME_BINARY]), "bad_request", count(by[OUTCOME_BAD_REQUEST]), "bad_frame",
                     count(by[OUTCOME_BAD_FRAME]), "msearch", count(by[OUTCOME_MSEARCH]), "auth",
                     count(by[OUTCOME_AUTH]), "denied", count(by[OUTCOME_DENIED]));
}

/* The Redis protocol's (--resp-port) requests: it counts on its own. */
static json_t *resp_json(const protocol_sums *r)
{
    const unsigned long long *by = r->by;
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "requests", count(r->requests), "commands",
                     count(by[OUTCOME_COMMAND]), "errors", count(by[OUTCOME_COMMAND_ERROR]), "protocol_errors",
                     count(by[OUTCOME_PROTOCOL_ERROR]), "hits", count(r->key_hits), "misses", count(r->key_misses),
                     "acl_denied_auth", count(r->acl_denied_auth), "acl_denied_cmd", count(r->acl_denied_cmd),
                     "acl_denied_key", count(r->acl_denied_key));
}

/* The table the answering worker serves. */
static json_t *table_json(const server *srv, const dataset *d)
{
    char loaded_at[32];
    struct tm tm;
    time_t t = (time_t)d->loaded_at;

    gmtime_r(&t, &tm);
    strftime(loaded_at, sizeof(loaded_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:o, s:o, s:s, s:s?, s:f, s:s, s:o, s:o, s:o}", "keys",
                     count(d->table ? table_size(d->table) : 0), "memory_bytes",
                     count(d->table ? table_memory(d->table) : 0), "source", d->source, "format", d->format,
                     "load_seconds", round(d->load_seconds * 1000) / 1000, "loaded_at", loaded_at, "reloads",
                     count(atomic_load_explicit(&srv->reloads, memory_order_relaxed)), "reload_failures",
                     count(atomic_load_explicit(&srv->reload_failures, memory_order_relaxed)), "acl_load_failures",
                     count(atomic_load_explicit(&srv->acl_load_failures, memory_order_relaxed)));
}

/* --shard: this server's part of the nutcracker pool's keys. */
static json_t *shard_json(const dataset *d)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "name", d->shard->name, "pool", d->shard->pool, "hash",
                     nc_hash_name(d->shard->hash_kind), "distribution", nc_dist_name(d->shard->distribution), "servers",
                     count(d->shard->nservers), "keys_kept", count(table_size(d->table)), "keys_skipped",
                     count(d->keys_skipped));
}

/* The TLS listeners' context: SIGHUP's rebuilds, and why the last one
 * failed ("" if it did not). */
static json_t *tls_json(const server *srv, tls_context *tc)
{
    char why[sizeof(tc->reload_error)];
    tls_context_reload_error(tc, why, sizeof(why));
    return json_pack("{s:o, s:o, s:s, s:o, s:o}", "reloads",
                     count(atomic_load_explicit(&tc->reloads, memory_order_relaxed)), "reload_failures",
                     count(atomic_load_explicit(&tc->reload_failures, memory_order_relaxed)), "reload_error", why,
                     "cert_logins", count(SUM(srv, cert_logins)), "cert_no_user", count(SUM(srv, cert_refused)));
}

/* --cluster-config: this node, and its part of the cluster's keys. */
static json_t *cluster_json(const dataset *d)
{
    const cluster_map *m = d->cluster;
    const cluster_node *me = &m->nodes[m->myself];
    char slots[4096];

    cluster_map_slots_text(m, m->serving, slots, sizeof(slots));
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "myself", me->id, "role",
                          me->master >= 0 ? "replica" : "master", "slots", slots, "slots_served",
                          count(m->nodes[m->serving].nslots), "nodes", count(m->nnodes), "keys_kept",
                          count(table_size(d->table)), "keys_skipped", count(d->keys_skipped), "config", m->path);
    if (j && me->master >= 0 && json_object_set_new(j, "master", json_string(m->nodes[me->master].id)) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static double uptime(const server *srv)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9 - srv->started;
}

int server_stats_json(void *arg, proto_buf *out)
{
    worker *w = arg;
    server *srv = w->server;
    const dataset *d = w->dataset;
    protocol_sums g, r;

    sum_protocol(srv, PROTOCOL_GUIDE, &g);
    sum_protocol(srv, PROTOCOL_RESP, &r);
    /* msearch's keys count among the hits and misses */
    json_t *stats = json_pack(
        "{s:s, s:I, s:I, s:i, s:o, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:o,"
        " s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:o, s:o}, s:o, s:o}",
        "version", EVKV_VERSION, "pid", (json_int_t)getpid(), "uptime_seconds", (json_int_t)uptime(srv), "threads",
        srv->nworkers, "rss_bytes", count(rss_bytes()),
        /* connections */
        "connections", "current", count(atomic_load_explicit(&srv->conns, memory_order_relaxed)), "total",
        count(SUM(srv, conns_total)), "refused", count(SUM(srv, conns_refused)),
        /* requests */
        "requests", guide_requests_json(&g), "requests_per_second", count(last_second(srv)), "hits",
        count(g.by[OUTCOME_HIT] + g.key_hits), "misses", count(g.by[OUTCOME_MISS] + g.key_misses),
        /* errors */
        "errors", "invalid_action", count(g.by[OUTCOME_BAD_ACTION]), "bad_request", count(g.by[OUTCOME_BAD_REQUEST]),
        "bad_frame", count(g.by[OUTCOME_BAD_FRAME]), "timeout", count(SUM(srv, timeouts)), "nomem",
        count(g.by[OUTCOME_NOMEM]), "auth_failed", count(g.acl_denied_auth),
        /* bytes */
        "bytes", "in", count(SUM(srv, bytes_in)), "out", count(SUM(srv, bytes_out)), "table", table_json(srv, d),
        "resp", resp_json(&r));
    if (stats == NULL)
        return -1;
    if ((d->shard && json_object_set_new(stats, "shard", shard_json(d)) != 0) ||
        (srv->tls && json_object_set_new(stats, "tls", tls_json(srv, srv->tls)) != 0) ||
        (d->cluster && json_object_set_new(stats, "cluster", cluster_json(d)) != 0)) {
        json_decref(stats);
        return -1;
    }
    int rc = proto_dump_json(out, stats);
    json_decref(stats);
    return rc;
}

void stats_resp_info(void *arg, resp_server_info *info)
{
    worker *w = arg;
    server *srv = w->server;
    const dataset *d = w->dataset;
    protocol_sums g, r;

    sum_protocol(srv, PROTOCOL_GUIDE, &g);
    sum_protocol(srv, PROTOCOL_RESP, &r);
    info->evkv_version = EVKV_VERSION;
    info->pid = (long long)getpid();
    info->uptime_seconds = (long long)uptime(srv);
    info->threads = srv->nworkers;
    info->tcp_port = srv->resp_port;
    info->connected_clients = (long long)atomic_load_explicit(&srv->conns, memory_order_relaxed);
    info->maxclients = (long long)srv->opt->max_conns;
    info->total_connections_received = (long long)SUM(srv, conns_total);
    /* Every protocol's requests: the guide's, and the Redis commands run
     * as Redis counts them. */
    info->total_commands_processed = (long long)(g.requests + r.commands);
    info->rejected_connections = (long long)SUM(srv, conns_refused);
    info->instantaneous_ops_per_sec = (double)last_second(srv);
    /* Lookups over both protocols: they share the keyspace. */
    info->keyspace_hits = (long long)(g.by[OUTCOME_HIT] + g.key_hits + r.key_hits);
    info->keyspace_misses = (long long)(g.by[OUTCOME_MISS] + g.key_misses + r.key_misses);
    /* Redis's used_memory is what its allocator handed out: here the
     * table's mappings and what malloc holds for the rest. */
    struct mallinfo2 mi = mallinfo2();
    info->used_memory = (d->table ? table_memory(d->table) : 0) + mi.uordblks + mi.hblkhd;
    info->used_memory_rss = (size_t)rss_bytes();
    info->table_source = d->source;
    info->table_format = d->format;
    info->table_load_seconds = d->load_seconds;
    info->table_loaded_at = d->loaded_at;
    info->shard_name = d->shard ? d->shard->name : NULL;
    info->shard_pool = d->shard ? d->shard->pool : NULL;
    info->shard_ring_servers = d->shard ? (long long)d->shard->nservers : 0;
    info->reloads = (long long)atomic_load_explicit(&srv->reloads, memory_order_relaxed);
    info->reload_failures = (long long)atomic_load_explicit(&srv->reload_failures, memory_order_relaxed);
    /* both protocols' refusals: the users are the same */
    info->acl_denied_auth = (long long)(r.acl_denied_auth + g.acl_denied_auth);
    info->acl_denied_cmd = (long long)(r.acl_denied_cmd + g.acl_denied_cmd);
    info->acl_denied_key = (long long)(r.acl_denied_key + g.acl_denied_key);
    info->acl_denied_tls_cert = (long long)SUM(srv, cert_refused);
    info->guide_requests = (long long)g.requests;
    info->resp_requests = (long long)r.requests;
}

/*
 * info.c: INFO, in Redis's format and sections (server.c's genRedisInfoString),
 * with evkv's figures from the caller's server_info callback and its own
 * section, "# Evkv".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>

#include "command.h"

/* util.c's bytesToHuman. */
static void bytes_human(char *s, size_t size, unsigned long long n)
{
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(s, size, "%lluB", n);
        return;
    }
    double d = (double)n / 1024;
    for (int u = 0; units[u]; u++, d /= 1024) {
        if (d < 1024) {
            snprintf(s, size, "%.2f%c", d, units[u]);
            return;
        }
    }
    snprintf(s, size, "%lluB", n);
}

static int info_printf(proto_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int info_printf(proto_buf *b, const char *fmt, ...)
{
    char small[1024], *line = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= sizeof(small)) { /* a long table_source path */
        line = malloc((size_t)n + 1);
        if (line == NULL)
            return -1;
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    int rc = proto_buf_append(b, line, (size_t)n);
    if (line != small)
        free(line);
    return rc;
}

enum {
    SEC_SERVER = 1 << 0,
    SEC_CLIENTS = 1 << 1,
    SEC_MEMORY = 1 << 2,
    SEC_PERSISTENCE = 1 << 3,
    SEC_STATS = 1 << 4,
    SEC_REPLICATION = 1 << 5,
    SEC_CPU = 1 << 6,
    SEC_MODULES = 1 << 7,
    SEC_COMMANDSTATS = 1 << 8,
    SEC_ERRORSTATS = 1 << 9,
    SEC_LATENCYSTATS = 1 << 10,
    SEC_CLUSTER = 1 << 11,
    SEC_KEYSPACE = 1 << 12,
    SEC_EVKV = 1 << 13,
    SEC_DEFAULT = SEC_SERVER | SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS | SEC_REPLICATION | SEC_CPU |
                  SEC_MODULES | SEC_ERRORSTATS | SEC_CLUSTER | SEC_KEYSPACE | SEC_EVKV,
    SEC_ALL = SEC_DEFAULT | SEC_COMMANDSTATS | SEC_LATENCYSTATS,
};

/* Sections named by INFO's arguments, as genInfoSectionDict picks them. */
static unsigned info_sections(const resp_args *a)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"server", SEC_SERVER},
        {"clients", SEC_CLIENTS},
        {"memory", SEC_MEMORY},
        {"persistence", SEC_PERSISTENCE},
        {"stats", SEC_STATS},
        {"replication", SEC_REPLICATION},
        {"cpu", SEC_CPU},
        {"modules", SEC_MODULES},
        {"module_list", SEC_MODULES},
        {"commandstats", SEC_COMMANDSTATS},
        {"errorstats", SEC_ERRORSTATS},
        {"latencystats", SEC_LATENCYSTATS},
        {"cluster", SEC_CLUSTER},
        {"keyspace", SEC_KEYSPACE},
        {"evkv", SEC_EVKV},
    };
    if (a->argc == 1)
        return SEC_DEFAULT;
    unsigned sec = 0;
    for (size_t i = 1; i < a->argc; i++) {
        if (arg_is(a, i, "default"))
            sec |= SEC_DEFAULT;
        else if (arg_is(a, i, "all") || arg_is(a, i, "everything"))
            sec |= SEC_ALL;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            if (arg_is(a, i, names[k].name))
                sec |= names[k].bit;
        }
    }
    return sec;
}

/* One section's lines, from the server's figures si and the table t. */
typedef void (*info_section_fn)(proto_buf *b, const resp_server_info *si, const table *t);

#define STR(s) ((s) != NULL ? (s) : "")

static void info_server(proto_buf *b, const resp_server_info *si, const table *t)
{
    struct utsname u;
    struct timeval tv;
    (void)t;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof(u));
    gettimeofday(&tv, NULL);
    unsigned long long start = (unsigned long long)(tv.tv_sec - si->uptime_seconds);
    info_printf(b,
                "# Server\r\nredis_version:" REDIS_VERSION "\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                "redis_build_id:0\r\nredis_mode:standalone\r\nos:%s %s %s\r\narch_bits:%d\r\n"
                "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\n",
                u.sysname, u.release, u.machine, (int)sizeof(long) * 8);
    info_printf(b,
                "gcc_version:%d.%d.%d\r\nprocess_id:%lld\r\nprocess_supervised:no\r\n"
                "run_id:%016llx%016llx%08llx\r\ntcp_port:%d\r\nserver_time_usec:%lld\r\n",
                __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, si->pid, start, (unsigned long long)si->pid,
                (unsigned long long)si->tcp_port, si->tcp_port, (long long)tv.tv_sec * 1000000 + (long long)tv.tv_usec);
    info_printf(b,
                "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:10\r\nconfigured_hz:10\r\n"
                "lru_clock:%lld\r\nexecutable:\r\nconfig_file:\r\nio_threads_active:0\r\n",
                si->uptime_seconds, si->uptime_seconds / 86400, (long long)(tv.tv_sec & ((1 << 24) - 1)));
}

static void info_clients(proto_buf *b, const resp_server_info *si, const table *t)
{
    (void)t;
    info_printf(b,
                "# Clients\r\nconnected_clients:%lld\r\ncluster_connections:0\r\nmaxclients:%lld\r\n"
                "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\n"
                "tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                si->connected_clients, si->maxclients);
}

static void info_memory(proto_buf *b, const resp_server_info *si, const table *t)
{
    char h1[32], h2[32];
    (void)t;
    bytes_human(h1, sizeof(h1), si->used_memory);
    bytes_human(h2, sizeof(h2), si->used_memory_rss);
    info_printf(b,
                "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
                "used_memory_rss_human:%s\r\n",
                si->used_memory, h1, si->used_memory_rss, h2);
    info_printf(b,
                "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\n"
                "maxmemory_policy:noeviction\r\nmem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\n",
                si->used_memory, h1, si->used_memory ? (double)si->used_memory_rss / (double)si->used_memory : 0.0);
}

static void info_persistence(proto_buf *b, const resp_server_info *si, const table *t)
{
    (void)t;
    info_printf(b,
                "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\n"
                "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:%lld\r\nrdb_last_bgsave_status:ok\r\n"
                "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_last_bgrewrite_status:ok\r\n"
                "aof_last_write_status:ok\r\n",
                si->table_loaded_at);
}

static void info_stats(proto_buf *b, const resp_server_info *si, const table *t)
{
    (void)t;
    info_printf(b,
                "# Stats\r\ntotal_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n"
                "instantaneous_ops_per_sec:%lld\r\nrejected_connections:%lld\r\nexpired_keys:0\r\n"
                "evicted_keys:0\r\n",
                si->total_connections_received, si->total_commands_processed, (long long)si->instantaneous_ops_per_sec,
                si->rejected_connections);
    info_printf(b,
                "keyspace_hits:%lld\r\nkeyspace_misses:%lld\r\npubsub_channels:0\r\npubsub_patterns:0\r\n"
                "latest_fork_usec:0\r\ntotal_forks:0\r\n",
                si->keyspace_hits, si->keyspace_misses);
    /* Redis 7.2's names, at the end of its stats section as there */
    info_printf(b,
                "acl_access_denied_auth:%lld\r\nacl_access_denied_cmd:%lld\r\nacl_access_denied_key:%lld\r\n"
                "acl_access_denied_channel:0\r\nacl_access_denied_tls_cert:%lld\r\n",
                si->acl_denied_auth, si->acl_denied_cmd, si->acl_denied_key, si->acl_denied_tls_cert);
}

static void info_replication(proto_buf *b, const resp_server_info *si, const table *t)
{
    /* A master with no replica: what HAProxy's "role:master" check and
     * redis_exporter expect of a server that takes reads. */
    static const char replication[] =
        "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
        "master_replid:0000000000000000000000000000000000000000\r\n"
        "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n"
        "second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
        "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n";
    (void)si;
    (void)t;
    proto_buf_append(b, replication, sizeof(replication) - 1);
}

static void info_cpu(proto_buf *b, const resp_server_info *si, const table *t)
{
    struct rusage ru;
    (void)si;
    (void)t;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        memset(&ru, 0, sizeof(ru));
    info_printf(b,
                "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\nused_cpu_sys_children:0.000000\r\n"
                "used_cpu_user_children:0.000000\r\n",
                (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec,
                (long)ru.ru_utime.tv_usec);
}

static void info_keyspace(proto_buf *b, const resp_server_info *si, const table *t)
{
    size_t keys = table_size(t);
    (void)si;
    proto_buf_append(b, "# Keyspace\r\n", 12);
    if (keys > 0)
        info_printf(b, "db0:keys=%zu,expires=0,avg_ttl=0\r\n", keys);
}

static void info_evkv(proto_buf *b, const resp_server_info *si, const table *t)
{
    info_printf(b,
                "# Evkv\r\nevkv_version:%s\r\nthreads:%d\r\ntable_source:%s\r\ntable_format:%s\r\n"
                "table_keys:%zu\r\ntable_memory:%zu\r\n",
                STR(si->evkv_version), si->threads, STR(si->table_source), STR(si->table_format), table_size(t),
                table_memory(t));
    info_printf(b, "table_load_seconds:%.3f\r\ntable_loaded_at:%lld\r\nreloads:%lld\r\nreload_failures:%lld\r\n",
                si->table_load_seconds, si->table_loaded_at, si->reloads, si->reload_failures);
    info_printf(b, "guide_requests:%lld\r\nresp_requests:%lld\r\n", si->guide_requests, si->resp_requests);
    if (si->shard_name)
        info_printf(b, "shard_name:%s\r\nshard_pool:%s\r\nshard_ring_servers:%lld\r\n", si->shard_name,
                    STR(si->shard_pool), si->shard_ring_servers);
}

/* The sections in Redis's order; those with no figures are one line. */
static const struct {
    unsigned bit;
    info_section_fn write; /* NULL: text is the whole section */
    const char *text;
} info_section_list[] = {
    {SEC_SERVER, info_server, NULL},
    {SEC_CLIENTS, info_clients, NULL},
    {SEC_MEMORY, info_memory, NULL},
    {SEC_PERSISTENCE, info_persistence, NULL},
    {SEC_STATS, info_stats, NULL},
    {SEC_REPLICATION, info_replication, NULL},
    {SEC_CPU, info_cpu, NULL},
    {SEC_MODULES, NULL, "# Modules\r\n"},
    {SEC_COMMANDSTATS, NULL, "# Commandstats\r\n"},
    {SEC_ERRORSTATS, NULL, "# Errorstats\r\n"},
    {SEC_LATENCYSTATS, NULL, "# Latencystats\r\n"},
    {SEC_CLUSTER, NULL, "# Cluster\r\ncluster_enabled:0\r\n"},
    {SEC_KEYSPACE, info_keyspace, NULL},
    {SEC_EVKV, info_evkv, NULL},
};

/* The sections sec selects, one blank line between two, into b. */
static int info_text(resp_exec *x, unsigned sec, proto_buf *b)
{
    resp_server_info si;
    memset(&si, 0, sizeof(si));
    if (x->env->server_info != NULL)
        x->env->server_info(x->env->arg, &si);
    int sections = 0;
    for (size_t k = 0; k < sizeof(info_section_list) / sizeof(info_section_list[0]); k++) {
        if (!(sec & info_section_list[k].bit))
            continue;
        if (sections++)
            proto_buf_append(b, "\r\n", 2);
        if (info_section_list[k].write != NULL)
            info_section_list[k].write(b, &si, x->env->table);
        else if (info_section_list[k].bit == SEC_CLUSTER && x->env->cluster != NULL)
            proto_buf_append(b, "# Cluster\r\ncluster_enabled:1\r\n", 30);
        else
            proto_buf_append(b, info_section_list[k].text, strlen(info_section_list[k].text));
    }
    return b->failed ? -1 : 0;
}

#undef STR

int cmd_info(resp_exec *x, const resp_args *a)
{
    proto_buf b = {0};
    int rc = info_text(x, info_sections(a), &b);
    if (rc == 0)
        rc = resp_encode_bulk(x->out, b.data != NULL ? b.data : "", b.len);
    proto_buf_free(&b);
    return rc;
}

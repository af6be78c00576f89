/*
 * test_resp_info.c: unit tests of INFO (server/resp/info.c): Redis's
 * layout and section choice, with the caller's figures.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_harness.h"

static void fill_info(void *arg, resp_server_info *info)
{
    (void)arg;
    info->evkv_version = "9.9.9";
    info->pid = 4242;
    info->uptime_seconds = 200000;
    info->threads = 4;
    info->tcp_port = 6380;
    info->connected_clients = 3;
    info->maxclients = 500;
    info->total_connections_received = 11;
    info->total_commands_processed = 1234;
    info->instantaneous_ops_per_sec = 56.7;
    info->keyspace_hits = 70;
    info->keyspace_misses = 8;
    info->rejected_connections = 1;
    info->used_memory = 1536;
    info->used_memory_rss = 3 * 1024 * 1024;
    info->table_source = "/data/table.json";
    info->table_format = "json";
    info->table_load_seconds = 0.25;
    info->table_loaded_at = 1700000000;
    info->reloads = 2;
    info->reload_failures = 1;
    info->guide_requests = 900;
    info->resp_requests = 345;
}

/* A table_source longer than any line buffer. */
static void fill_info_long(void *arg, resp_server_info *info)
{
    info->table_source = arg;
}

static void expect_info(const proto_buf *b, const char *line)
{
    if (memmem(b->data, b->len, line, strlen(line)) == NULL)
        fail_msg("INFO lacks \"%s\"", line);
}

/* INFO: Redis's layout and section choice, the caller's figures. */
static void test_info(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, fill_info, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);

    proto_buf out = run_stream(&env, &c, LIT("*1\r\n$4\r\ninfo\r\n"), NULL);
    assert_memory_equal(out.data, "$", 1);
    const char *body = strstr(out.data, "\r\n") + 2;
    assert_int_equal(strtoul(out.data + 1, NULL, 10), out.len - (size_t)(body - out.data) - 2);
    assert_int_equal(strncmp(body, "# Server\r\nredis_version:7.0.15\r\n", 32), 0);
    static const char *const lines[] = {
        "\r\nprocess_id:4242\r\n",
        "\r\ntcp_port:6380\r\n",
        "\r\nuptime_in_seconds:200000\r\nuptime_in_days:2\r\n",
        "\r\n\r\n# Clients\r\nconnected_clients:3\r\ncluster_connections:0\r\nmaxclients:500\r\n",
        "\r\n\r\n# Memory\r\nused_memory:1536\r\nused_memory_human:1.50K\r\nused_memory_rss:3145728\r\n"
        "used_memory_rss_human:3.00M\r\n",
        "\r\n\r\n# Stats\r\ntotal_connections_received:11\r\ntotal_commands_processed:1234\r\n"
        "instantaneous_ops_per_sec:56\r\nrejected_connections:1\r\n",
        "\r\nkeyspace_hits:70\r\nkeyspace_misses:8\r\n",
        "\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n",
        "\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\ndb0:keys=6,expires=0,avg_ttl=0\r\n\r\n# Evkv\r\n"
        "evkv_version:9.9.9\r\nthreads:4\r\ntable_source:/data/table.json\r\ntable_format:json\r\ntable_keys:6\r\n",
        "\r\ntable_load_seconds:0.250\r\ntable_loaded_at:1700000000\r\nreloads:2\r\nreload_failures:1\r\n"
        "guide_requests:900\r\nresp_requests:345\r\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        expect_info(&out, lines[i]);
    assert_null(memmem(out.data, out.len, LIT("# Commandstats")));
    proto_buf_free(&out);

    /* sections as asked, in Redis's order, any case */
    out = run_stream(&env, &c, LIT("*3\r\n$4\r\ninfo\r\n$7\r\nCLIENTS\r\n$6\r\nserver\r\n"), NULL);
    assert_non_null(memmem(out.data, out.len, LIT("\r\n# Server\r\n")));
    assert_non_null(memmem(out.data, out.len, LIT("io_threads_active:0\r\n\r\n# Clients\r\n")));
    assert_null(memmem(out.data, out.len, LIT("# Memory")));
    expect_bytes("info tail", out.data + out.len - 31, 31, LIT("\nclients_in_timeout_table:0\r\n\r\n"));
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*2\r\n$4\r\ninfo\r\n$3\r\nall\r\n"), NULL);
    expect_info(&out, "\r\n\r\n# Commandstats\r\n\r\n# Errorstats\r\n\r\n# Latencystats\r\n\r\n# Cluster\r\n");
    proto_buf_free(&out);

    /* a long path comes whole */
    static char path[3002];
    memset(path, 'p', sizeof(path) - 1);
    path[0] = ':';
    resp_env env_long = {t, fill_info_long, NULL, path, NULL};
    out = run_stream(&env_long, &c, LIT("*2\r\n$4\r\ninfo\r\n$4\r\nevkv\r\n"), NULL);
    expect_info(&out, path);
    proto_buf_free(&out);

    /* an empty table has no db0 line */
    table *empty = table_new(0, 0);
    EXPECT(empty, "*2\r\n$4\r\ninfo\r\n$8\r\nkeyspace\r\n", "$12\r\n# Keyspace\r\n\r\n");
    table_free(empty);
    resp_client_free(&c);
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

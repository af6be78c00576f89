/*
 * cli_stat.c: evkv-cli --stat, a rolling line of the server's figures
 * every interval (from its stats answer), as redis-cli --stat prints one:
 * the table's keys and memory, the server's resident memory, connections,
 * requests, requests per second, hits and misses. The column names come
 * again every STAT_HEADER_EVERY lines.
 */
#include <stdio.h>
#include <string.h>

#include "cli_modes.h"

/* Lines between two headers, as redis-cli --stat has them. */
#define STAT_HEADER_EVERY 20

static const char stat_format[] = "%-10s %-8s %-8s %-7s %-12s %-9s %-10s %s\n";

/* The number at path ("table.keys": one level of nesting at most) in the
 * stats object, written into buf; "-" when it is missing. human: as a
 * size in K, M, G. */
static void stat_field(json_t *stats, const char *path, int human, char *buf, size_t len)
{
    const char *dot = strchr(path, '.');
    json_t *v;

    if (dot) {
        char outer[32];
        snprintf(outer, sizeof(outer), "%.*s", (int)(dot - path), path);
        v = json_object_get(json_object_get(stats, outer), dot + 1);
    } else {
        v = json_object_get(stats, path);
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 && human)
        cli_human_bytes((unsigned long long)json_integer_value(v), buf, len);
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.0f", json_real_value(v));
    else
        snprintf(buf, len, "-");
}

/* Prints the line of one stats answer. Returns 0, or -1 (said why) when
 * the answer is not a stats object. */
static int stat_line(const proto_message *msg)
{
    json_t *stats;
    evkv_answer a = evkv_answer_classify(msg, "", 0, &stats);
    char f[8][32];

    if (a != EVKV_ANSWER_HIT || !json_is_object(stats)) {
        cli_print_unexpected(msg, " to stats");
        json_decref(stats);
        return -1;
    }
    stat_field(stats, "table.keys", 0, f[0], sizeof(f[0]));
    stat_field(stats, "table.memory_bytes", 1, f[1], sizeof(f[1]));
    stat_field(stats, "rss_bytes", 1, f[2], sizeof(f[2]));
    stat_field(stats, "connections.current", 0, f[3], sizeof(f[3]));
    stat_field(stats, "requests.total", 0, f[4], sizeof(f[4]));
    stat_field(stats, "requests_per_second", 0, f[5], sizeof(f[5]));
    stat_field(stats, "hits", 0, f[6], sizeof(f[6]));
    stat_field(stats, "misses", 0, f[7], sizeof(f[7]));
    printf(stat_format, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
    json_decref(stats);
    return 0;
}

int cli_stat_run(const cli_options *o, long lines, double interval_ms)
{
    cli_session s = {.o = o};
    proto_buf req = {0};
    proto_message msg;
    int status = EXIT_FOUND;

    cli_encode(&req, CLI_STATS, NULL, 0);
    if (req.failed) {
        cli_error("out of memory");
        return EXIT_ERROR;
    }
    /* A server that is down at the start ends it; later, a failure is
     * said and the next line tries again (a restart shows as a gap). */
    if (cli_session_connect(&s) != 0) {
        proto_buf_free(&req);
        return EXIT_ERROR;
    }
    for (long i = 0; lines < 0 || i < lines; i++) {
        if (i > 0)
            cli_sleep_ms(interval_ms);
        if (i % STAT_HEADER_EVERY == 0)
            printf(stat_format, "keys", "mem", "rss", "conns", "requests", "req/s", "hits", "misses");
        if (cli_session_exchange(&s, &req, &msg) != 0 || stat_line(&msg) != 0)
            status = EXIT_ERROR;
        fflush(stdout);
    }
    cli_session_close(&s);
    proto_buf_free(&req);
    return status;
}

/*
 * bench_report.c: evkv-bench's results: the table on stdout, and the
 * --json report (the figures, a percentile distribution and a per-second
 * series) that scripts/loadtest, scripts/compare and scripts/report.py
 * read.
 */
#include <jansson.h>
#include <stdio.h>

#include "bench.h"

double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static const double report_pcts[] = {50, 90, 99, 99.9, 99.99};

void report_table(FILE *out, uint64_t requests, uint64_t errors, uint64_t hits, uint64_t misses, double rps,
                  const histogram *h)
{
    fprintf(out, "%10s %8s %10s %10s %12s %9s %9s %9s %9s %9s %9s %9s\n", "requests", "errors", "hits", "misses",
            "req/s", "min(us)", "p50(us)", "p90(us)", "p99(us)", "p99.9", "p99.99", "max(us)");
    fprintf(out, "%10llu %8llu %10llu %10llu %12.1f %9.1f", (unsigned long long)requests, (unsigned long long)errors,
            (unsigned long long)hits, (unsigned long long)misses, rps, us(h->count ? h->min : 0));
    for (size_t i = 0; i < sizeof(report_pcts) / sizeof(report_pcts[0]); i++)
        fprintf(out, " %9.1f", us(histogram_percentile(h, report_pcts[i])));
    fprintf(out, " %9.1f\n", us(h->max));
}

/* Goes before the table, which stays the last two lines. */
void report_from(FILE *out, const bench_options *o, const uint64_t *from)
{
    fprintf(out, "answers matching only --data %s: %llu, only --data %s: %llu, both: %llu\n", o->data_path[0],
            (unsigned long long)from[FROM_FIRST], o->data_path[1], (unsigned long long)from[FROM_SECOND],
            (unsigned long long)from[FROM_BOTH]);
}

int report_json(const bench *b, const bench_result *r)
{
    static const double dist[] = {0,  10,   20, 30,   40,    50,   60,    70,    75,     80,     85, 90,
                                  95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100};
    const bench_options *o = &b->opt;
    json_t *root =
        json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:I, s:b, s:s, s:f}", "host", o->host, "port", o->port,
                  "protocol", o->protocol == PROTOCOL_RESP ? "resp" : "evkv", "threads", o->threads, "connections",
                  o->conns, "depth", o->depth, "duration", o->duration, "warmup", o->warmup, "rate", o->rate,
                  "requests_limit", (json_int_t)o->requests, "reconnect", o->reconnect, "key_pattern",
                  o->pattern == PATTERN_ZIPF         ? "zipf"
                  : o->pattern == PATTERN_SEQUENTIAL ? "sequential"
                                                     : "uniform",
                  "miss_ratio", o->miss_ratio);
    if (o->unix_path) {
        json_object_del(root, "host");
        json_object_del(root, "port");
        json_object_set_new(root, "socket", json_string(o->unix_path));
    }
    const histogram *h = &r->hist;
    json_t *res =
        json_pack("{s:I, s:I, s:I, s:I, s:f, s:f}", "requests", (json_int_t)r->requests, "errors",
                  (json_int_t)r->errors, "hits", (json_int_t)r->hits, "misses", (json_int_t)r->misses, "elapsed_s",
                  r->elapsed, "throughput", r->elapsed > 0 ? (double)r->requests / r->elapsed : 0.0);
    if (r->interrupted)
        json_object_set_new(res, "interrupted", json_true());
    if (o->ndata > 0) {
        json_t *data = json_array();
        for (int i = 0; i < o->ndata; i++)
            json_array_append_new(data, json_string(o->data_path[i]));
        json_object_set_new(root, "data", data);
    }
    if (o->ndata == 2)
        json_object_set_new(res, "answers_from",
                            json_pack("{s:I, s:I, s:I}", "data1_only", (json_int_t)r->from[FROM_FIRST], "data2_only",
                                      (json_int_t)r->from[FROM_SECOND], "both", (json_int_t)r->from[FROM_BOTH]));
    json_t *lat = json_pack("{s:f, s:f}", "min", us(h->count ? h->min : 0), "max", us(h->max));
    for (size_t i = 0; i < sizeof(report_pcts) / sizeof(report_pcts[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%g", report_pcts[i]);
        json_object_set_new(lat, name, json_real(us(histogram_percentile(h, report_pcts[i]))));
    }
    json_t *d = json_array();
    for (size_t i = 0; i < sizeof(dist) / sizeof(dist[0]); i++)
        json_array_append_new(
            d, json_pack("{s:f, s:f}", "percentile", dist[i], "latency_us", us(histogram_percentile(h, dist[i]))));
    json_t *series = json_array();
    for (size_t i = 0; i < r->nseries; i++) {
        const series_point *p = &r->series[i];
        if (p->requests == 0 && p->errors == 0 && i + 1 >= r->nseries)
            continue;
        json_array_append_new(series, json_pack("{s:I, s:I, s:I, s:f, s:f, s:f}", "second", (json_int_t)i + 1,
                                                "requests", (json_int_t)p->requests, "errors", (json_int_t)p->errors,
                                                "p50_us", us(histogram_percentile(&p->hist, 50)), "p99_us",
                                                us(histogram_percentile(&p->hist, 99)), "max_us", us(p->hist.max)));
    }
    json_object_set_new(res, "latency_us", lat);
    json_object_set_new(res, "distribution", d);
    json_object_set_new(res, "series", series);
    json_object_set_new(res, "config", root);
    int rc = json_dump_file(res, o->json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(res);
    return rc;
}

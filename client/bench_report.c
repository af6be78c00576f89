/*
 * bench_report.c: evkv-bench's results: the table on stdout (at most 80
 * columns wide), the latency spectrum, --csv and -q's lines, the aggregate
 * of -x runs, and the --json report (the figures, a percentile distribution
 * and a per-second series) that scripts/loadtest, scripts/compare and
 * scripts/report.py read: its field names are theirs to rely on.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The table's and --csv's latency columns, after min and mean. */
static const double report_pcts[] = {50, 90, 99, 99.9, 99.99};
#define NPCTS (sizeof(report_pcts) / sizeof(report_pcts[0]))
/* The spectrum, as wrk2's --latency prints it. */
static const double spectrum_pcts[] = {50, 75, 90, 99, 99.9, 99.99, 99.999, 100};
/* A run at least this long (seconds measured) shows the spectrum unless
 * --hide-histogram: a short one has too few samples for its tail. */
#define SPECTRUM_MIN_SECONDS 5.0

double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static double result_rps(const bench_result *r)
{
    return r->elapsed > 0 ? (double)r->requests / r->elapsed : 0;
}

/* Keys asked for per second, with --mget. */
static double result_keys_per_s(const bench_options *o, const bench_result *r)
{
    return result_rps(r) * keys_per_request(o);
}

/* Answer bytes received per second, in KB (1024 bytes), as memtier and wrk
 * count them. */
static double result_kbps(const bench_result *r)
{
    return r->elapsed > 0 ? (double)r->bytes_in / 1024.0 / r->elapsed : 0;
}

static double result_mean_us(const bench_result *r)
{
    return r->hist.count ? us(r->latency_sum) / (double)r->hist.count : 0;
}

static double result_min_us(const bench_result *r)
{
    return us(r->hist.count ? r->hist.min : 0);
}

static double result_pct_us(const bench_result *r, double p)
{
    return us(histogram_percentile(&r->hist, p));
}

/* The table: counts and rates, then latencies, each a header line over a
 * line of figures; 80 columns at most. */
static void report_table(FILE *out, const bench_result *r)
{
    fprintf(out, "%10s %8s %8s %10s %10s %11s %10s\n", "requests", "errors", "retried", "hits", "misses", "req/s",
            "KB/s");
    fprintf(out, "%10llu %8llu %8llu %10llu %10llu %11.1f %10.1f\n", (unsigned long long)r->requests,
            (unsigned long long)r->errors, (unsigned long long)r->retried, (unsigned long long)r->hits,
            (unsigned long long)r->misses, result_rps(r), result_kbps(r));
    fprintf(out, "%9s %9s %9s %9s %9s %9s %10s %9s\n", "min(us)", "mean(us)", "p50(us)", "p90(us)", "p99(us)",
            "p99.9(us)", "p99.99(us)", "max(us)");
    fprintf(out, "%9.1f %9.1f", result_min_us(r), result_mean_us(r));
    for (size_t i = 0; i < NPCTS; i++)
        fprintf(out, report_pcts[i] == 99.99 ? " %10.1f" : " %9.1f", result_pct_us(r, report_pcts[i]));
    fprintf(out, " %9.1f\n", us(r->hist.max));
}

/* A latency as wrk2 prints one: 773.00us, 1.05ms, 2.31s. */
static void format_latency(char *buf, size_t len, uint64_t ns)
{
    double u = us(ns);
    if (u < 1000)
        snprintf(buf, len, "%.2fus", u);
    else if (u < 1000000)
        snprintf(buf, len, "%.2fms", u / 1000);
    else
        snprintf(buf, len, "%.2fs", u / 1000000);
}

static void report_spectrum(FILE *out, const bench_result *r)
{
    fprintf(out, "  Latency Distribution\n");
    for (size_t i = 0; i < sizeof(spectrum_pcts) / sizeof(spectrum_pcts[0]); i++) {
        char v[32];
        format_latency(v, sizeof(v), histogram_percentile(&r->hist, spectrum_pcts[i]));
        fprintf(out, "%7.3f%% %10s\n", spectrum_pcts[i], v);
    }
}

/* With two --data tables: which table the right answers came from. */
static void report_from(FILE *out, const bench_options *o, const uint64_t *from)
{
    fprintf(out, "answers matching only --data %s: %llu, only --data %s: %llu, both: %llu\n", o->data_path[0],
            (unsigned long long)from[FROM_FIRST], o->data_path[1], (unsigned long long)from[FROM_SECOND],
            (unsigned long long)from[FROM_BOTH]);
}

static int json_to_stdout(const bench_options *o)
{
    return o->json_path && strcmp(o->json_path, "-") == 0;
}

void report_run(FILE *out, const bench_options *o, int run, const bench_result *r)
{
    if (json_to_stdout(o))
        return;
    if (o->csv) {
        if (run == 0) {
            fprintf(out, "run,requests,errors,retried,hits,misses,elapsed_s,req_per_s,kb_per_s,min_us,mean_us");
            for (size_t i = 0; i < NPCTS; i++)
                fprintf(out, ",p%g_us", report_pcts[i]);
            fprintf(out, o->mget ? ",max_us,keys_per_request,keys_per_s\n" : ",max_us\n");
        }
        fprintf(out, "%d,%llu,%llu,%llu,%llu,%llu,%.3f,%.1f,%.1f,%.1f,%.1f", run + 1, (unsigned long long)r->requests,
                (unsigned long long)r->errors, (unsigned long long)r->retried, (unsigned long long)r->hits,
                (unsigned long long)r->misses, r->elapsed, result_rps(r), result_kbps(r), result_min_us(r),
                result_mean_us(r));
        for (size_t i = 0; i < NPCTS; i++)
            fprintf(out, ",%.1f", result_pct_us(r, report_pcts[i]));
        fprintf(out, ",%.1f", us(r->hist.max));
        if (o->mget)
            fprintf(out, ",%d,%.1f", o->mget, result_keys_per_s(o, r));
        fprintf(out, "\n");
        return;
    }
    if (o->quiet)
        return;
    if (o->runs > 1)
        fprintf(out, "%srun %d of %d%s\n", run ? "\n" : "", run + 1, o->runs, r->interrupted ? " (interrupted)" : "");
    if (o->ndata == 2)
        report_from(out, o, r->from);
    if (o->mget)
        fprintf(out, "keys per request: %d, keys asked for: %llu, keys/s: %.1f\n", o->mget,
                (unsigned long long)r->requests * (unsigned long long)o->mget, result_keys_per_s(o, r));
    if (o->histogram > 0 || (o->histogram < 0 && r->elapsed >= SPECTRUM_MIN_SECONDS))
        report_spectrum(out, r);
    report_table(out, r);
    if (o->cluster)
        fprintf(out, "cluster: %llu MOVED answers followed (each request sent again to its slot's owner)\n",
                (unsigned long long)r->moved);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median, min and max of v[0..n) (which it sorts). */
static void spread(double *v, int n, double out[3])
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[1] = v[0];
    out[2] = v[n - 1];
}

/* The figures the aggregate shows, for run r. */
enum { AGG_RPS, AGG_KBPS, AGG_MEAN, AGG_P50, AGG_P99, AGG_P999, AGG_MAX, AGG_N };

static double agg_value(const bench_result *r, int what)
{
    switch (what) {
    case AGG_RPS: return result_rps(r);
    case AGG_KBPS: return result_kbps(r);
    case AGG_MEAN: return result_mean_us(r);
    case AGG_P50: return result_pct_us(r, 50);
    case AGG_P99: return result_pct_us(r, 99);
    case AGG_P999: return result_pct_us(r, 99.9);
    default: return us(r->hist.max);
    }
}

/* agg[what][0..2]: the median, min and max of a figure over the n runs.
 * Returns 0, or -1 (out of memory). */
static int aggregate(const bench_result *r, int n, double agg[AGG_N][3])
{
    double *v = malloc((size_t)n * sizeof(*v));
    if (v == NULL)
        return -1;
    for (int what = 0; what < AGG_N; what++) {
        for (int i = 0; i < n; i++)
            v[i] = agg_value(&r[i], what);
        spread(v, n, agg[what]);
    }
    free(v);
    return 0;
}

void report_aggregate(FILE *out, const bench_options *o, const bench_result *r, int n)
{
    double agg[AGG_N][3];
    uint64_t errors = 0, retried = 0;

    if (json_to_stdout(o) || o->csv || n == 0 || aggregate(r, n, agg) != 0)
        return;
    for (int i = 0; i < n; i++) {
        errors += r[i].errors;
        retried += r[i].retried;
    }
    if (o->quiet) {
        if (n == 1)
            fprintf(out, "%.1f req/s, %.1f KB/s, p50 %.1f us, p99 %.1f us, %llu requests, %llu errors, %llu retried",
                    agg[AGG_RPS][0], agg[AGG_KBPS][0], agg[AGG_P50][0], agg[AGG_P99][0],
                    (unsigned long long)r[0].requests, (unsigned long long)errors, (unsigned long long)retried);
        else
            fprintf(out,
                    "%.1f req/s (%.1f to %.1f), p50 %.1f us, p99 %.1f us, median of %d runs, %llu errors, %llu retried",
                    agg[AGG_RPS][0], agg[AGG_RPS][1], agg[AGG_RPS][2], agg[AGG_P50][0], agg[AGG_P99][0], n,
                    (unsigned long long)errors, (unsigned long long)retried);
        if (o->mget)
            fprintf(out, ", %d keys per request, %.1f keys/s", o->mget, agg[AGG_RPS][0] * o->mget);
        fprintf(out, "\n");
        return;
    }
    if (n < 2)
        return;
    static const char *const rows[] = {"median", "min", "max"};
    fprintf(out, "\naggregate of %d runs\n", n);
    fprintf(out, "%-8s %10s %9s %9s %9s %9s %9s %9s\n", "", "req/s", "KB/s", "mean(us)", "p50(us)", "p99(us)",
            "p99.9(us)", "max(us)");
    for (int row = 0; row < 3; row++) {
        fprintf(out, "%-8s %10.1f %9.1f", rows[row], agg[AGG_RPS][row], agg[AGG_KBPS][row]);
        for (int what = AGG_MEAN; what < AGG_N; what++)
            fprintf(out, " %9.1f", agg[what][row]);
        fprintf(out, "\n");
    }
}

/* Rounded to what the measurement can tell: latencies are within 0.8%
 * (the histogram), so a tenth of a microsecond below 1 ms and whole
 * microseconds above; rates to a tenth. */
static json_t *json_latency(double us_value)
{
    return json_real(us_value < 1000 ? round(us_value * 10) / 10 : round(us_value));
}

static json_t *json_tenths(double v)
{
    return json_real(round(v * 10) / 10);
}

/* The counts, rates and latencies of r: the report's top level, and each
 * of -x's runs. */
static json_t *json_result(const bench_options *o, const bench_result *r)
{
    json_t *res = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "requests", (json_int_t)r->requests, "errors",
                            (json_int_t)r->errors, "retried", (json_int_t)r->retried, "hits", (json_int_t)r->hits,
                            "misses", (json_int_t)r->misses, "elapsed_s", json_real(round(r->elapsed * 1000) / 1000),
                            "throughput", json_tenths(result_rps(r)), "kbytes_per_s", json_tenths(result_kbps(r)));
    if (o->cluster)
        json_object_set_new(res, "moved", json_integer((json_int_t)r->moved));
    if (o->mget) {
        json_object_set_new(res, "keys_per_request", json_integer(o->mget));
        json_object_set_new(res, "keys_per_s", json_tenths(result_keys_per_s(o, r)));
    }
    if (r->interrupted)
        json_object_set_new(res, "interrupted", json_true());
    if (o->ndata == 2)
        json_object_set_new(res, "answers_from",
                            json_pack("{s:I, s:I, s:I}", "data1_only", (json_int_t)r->from[FROM_FIRST], "data2_only",
                                      (json_int_t)r->from[FROM_SECOND], "both", (json_int_t)r->from[FROM_BOTH]));
    json_t *lat =
        json_pack("{s:o, s:o}", "min", json_latency(result_min_us(r)), "mean", json_latency(result_mean_us(r)));
    for (size_t i = 0; i < NPCTS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%g", report_pcts[i]);
        json_object_set_new(lat, name, json_latency(result_pct_us(r, report_pcts[i])));
    }
    json_object_set_new(lat, "max", json_latency(us(r->hist.max)));
    json_object_set_new(res, "latency_us", lat);
    return res;
}

static json_t *json_config(const bench_options *o)
{
    json_t *cfg = json_object();
    if (o->unix_path) {
        json_object_set_new(cfg, "socket", json_string(o->unix_path));
    } else {
        json_object_set_new(cfg, "host", json_string(o->host));
        json_object_set_new(cfg, "port", json_integer(strtol(o->port, NULL, 10)));
    }
    json_t *rest =
        json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:I, s:b, s:i, s:s, s:f, s:i}", "protocol",
                  o->protocol == PROTOCOL_RESP ? "resp" : "evkv", "threads", o->threads, "connections", o->conns,
                  "depth", o->depth, "duration", o->duration, "warmup", o->warmup, "rate", o->rate, "requests_limit",
                  (json_int_t)o->requests, "reconnect", o->reconnect, "retries", o->retries, "key_pattern",
                  o->pattern == PATTERN_ZIPF         ? "zipf"
                  : o->pattern == PATTERN_SEQUENTIAL ? "sequential"
                                                     : "uniform",
                  "miss_ratio", o->miss_ratio, "runs", o->runs);
    json_object_set_new(rest, "mget", json_integer(o->mget));
    json_object_update(cfg, rest);
    json_decref(rest);
    if (o->ndata > 0) {
        json_t *data = json_array();
        for (int i = 0; i < o->ndata; i++)
            json_array_append_new(data, json_string(o->data_path[i]));
        json_object_set_new(cfg, "data", data);
    }
    return cfg;
}

int report_json(const bench *b, const bench_result *r, int n)
{
    static const double dist[] = {0,  10,   20, 30,   40,    50,   60,    70,    75,     80,     85, 90,
                                  95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100};
    const bench_options *o = &b->opt;
    bench_result all;
    json_t *runs = json_array(), *series = json_array(), *d = json_array();
    size_t second = 0;

    /* The top level is every run together (one run: that run), its series
     * the runs' seconds one after the other. */
    memset(&all, 0, sizeof(all));
    histogram_init(&all.hist);
    for (int i = 0; i < n; i++) {
        all.requests += r[i].requests;
        all.errors += r[i].errors;
        all.retried += r[i].retried;
        all.moved += r[i].moved;
        all.hits += r[i].hits;
        all.misses += r[i].misses;
        for (int j = 0; j < FROM_N; j++)
            all.from[j] += r[i].from[j];
        all.bytes_in += r[i].bytes_in;
        all.latency_sum += r[i].latency_sum;
        all.elapsed += r[i].elapsed;
        all.interrupted |= r[i].interrupted;
        histogram_add(&all.hist, &r[i].hist);
        if (n > 1)
            json_array_append_new(runs, json_result(o, &r[i]));
        for (size_t s = 0; s < r[i].nseries; s++) {
            const series_point *p = &r[i].series[s];
            json_array_append_new(series,
                                  json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "second", (json_int_t)++second,
                                            "requests", (json_int_t)p->requests, "errors", (json_int_t)p->errors,
                                            "p50_us", json_latency(us(histogram_percentile(&p->hist, 50))), "p99_us",
                                            json_latency(us(histogram_percentile(&p->hist, 99))), "max_us",
                                            json_latency(us(p->hist.max))));
        }
    }
    json_t *res = json_result(o, &all);
    for (size_t i = 0; i < sizeof(dist) / sizeof(dist[0]); i++)
        json_array_append_new(d, json_pack("{s:f, s:o}", "percentile", dist[i], "latency_us",
                                           json_latency(us(histogram_percentile(&all.hist, dist[i])))));
    json_object_set_new(res, "distribution", d);
    json_object_set_new(res, "series", series);
    if (n > 1) {
        double agg[AGG_N][3];
        static const char *const names[AGG_N] = {"throughput", "kbytes_per_s", "mean_us", "p50_us",
                                                 "p99_us",     "p99.9_us",     "max_us"};
        json_t *a = json_object();
        if (aggregate(r, n, agg) == 0)
            for (int what = 0; what < AGG_N; what++)
                json_object_set_new(a, names[what],
                                    json_pack("{s:f, s:f, s:f}", "median", round(agg[what][0] * 10) / 10, "min",
                                              round(agg[what][1] * 10) / 10, "max", round(agg[what][2] * 10) / 10));
        json_object_set_new(res, "runs", runs);
        json_object_set_new(res, "aggregate", a);
    } else {
        json_decref(runs);
    }
    json_object_set_new(res, "config", json_config(o));
    size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12);
    int rc;
    if (json_to_stdout(o)) {
        rc = json_dumpf(res, stdout, flags);
        if (rc == 0 && (fputc('\n', stdout) == EOF || fflush(stdout) != 0))
            rc = -1;
    } else {
        rc = json_dump_file(res, o->json_path, flags);
    }
    json_decref(res);
    return rc;
}

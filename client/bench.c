/*
 * bench.c: evkv-bench, a load generator for evkv (and for Redis over RESP,
 * so both can be measured with one client on one machine).
 *
 * Each thread runs its own event loop with its own connections, keys,
 * counters and histograms; nothing is shared on the hot path. Once a second
 * each thread adds what it measured into a shared per-second series under a
 * mutex, from which the main thread prints progress and the report.
 *
 * Closed loop (-R 0): every connection keeps -P requests in flight.
 * Open loop (-R RATE): every connection has its own schedule, and a
 * request's latency runs from the moment it was *scheduled*, not from when
 * it went out: when the server stalls, the requests that should have gone
 * out meanwhile show the stall (coordinated omission, as wrk2 corrects it).
 *
 * Every answer is checked: its framing, and, where the table is known
 * (--data, or the built-in table), its exact bytes. With two --data files
 * (a server reloading from one to the other while it is measured), an
 * answer is right if either file gives it, and the report counts which.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "evkv_client.h"

int main(int argc, char **argv)
{
    bench b;
    bthread *threads;
    char err[512];
    int status = EXIT_OK;

    memset(&b, 0, sizeof(b));
    b.opt = (bench_options){.host = EVKV_DEFAULT_HOST,
                            .port = EVKV_DEFAULT_PORT,
                            .threads = 1,
                            .conns = 50,
                            .depth = 1,
                            .zipf_exp = 0.99,
                            .seed = 1,
                            .timeout_ms = 5000,
                            .max_answer = EVKV_DEFAULT_MAX_ANSWER};
    if (bench_options_parse(argc, argv, &b.opt) != 0)
        return EXIT_USAGE;
    if (b.opt.requests == 0 && b.opt.duration == 0)
        b.opt.duration = 10;
    if (keyset_load(&b, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-bench: %s\n", err);
        return EXIT_USAGE;
    }
    if (bench_resolve(&b) != 0)
        return EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&b.lock, NULL);
    histogram_init(&b.sofar);

    threads = calloc((size_t)b.opt.threads, sizeof(*threads));
    if (threads == NULL) {
        fprintf(stderr, "evkv-bench: out of memory\n");
        return EXIT_USAGE;
    }
    for (int i = 0; i < b.opt.threads; i++) {
        if (thread_setup(&b, &threads[i], i) != 0) {
            fprintf(stderr, "evkv-bench: out of memory\n");
            return EXIT_USAGE;
        }
    }
    b.t_start = evkv_clock_ns();
    b.t_measure = b.t_start + (uint64_t)(b.opt.warmup * 1e9);
    if (b.opt.requests == 0)
        b.t_end = b.t_measure + (uint64_t)(b.opt.duration * 1e9);
    for (int i = 0; i < b.opt.threads; i++)
        pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]);

    /* Progress, once a second, when someone is watching. */
    int tty = isatty(STDERR_FILENO);
    for (size_t sec = 1; atomic_load(&b.threads_done) < b.opt.threads; sec++) {
        uint64_t wake = b.t_measure + sec * NS_PER_SEC + NS_PER_SEC / 20;
        while (evkv_clock_ns() < wake && atomic_load(&b.threads_done) < b.opt.threads) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (!tty || atomic_load(&b.threads_done) == b.opt.threads)
            continue;
        pthread_mutex_lock(&b.lock);
        uint64_t reqs = sec - 1 < b.nseries ? b.series[sec - 1].requests : 0;
        uint64_t errs = 0;
        for (size_t i = 0; i < sec && i < b.nseries; i++)
            errs += b.series[i].errors;
        fprintf(stderr, "[%4zus] %10llu req/s   p99 so far %9.1f us   errors %llu\n", sec, (unsigned long long)reqs,
                us(histogram_percentile(&b.sofar, 99)), (unsigned long long)errs);
        pthread_mutex_unlock(&b.lock);
    }

    histogram total;
    uint64_t requests = 0, errors = 0, hits = 0, misses = 0, from[FROM_N] = {0}, last = b.t_measure;
    histogram_init(&total);
    for (int i = 0; i < b.opt.threads; i++) {
        bthread *th = &threads[i];
        pthread_join(th->tid, NULL);
        histogram_add(&total, &th->hist);
        requests += th->requests;
        errors += th->errors;
        hits += th->hits;
        misses += th->misses;
        for (int j = 0; j < FROM_N; j++)
            from[j] += th->from[j];
        if (th->last_answer > last)
            last = th->last_answer;
        if (th->first_error[0] && !atomic_load(&b.unreachable))
            fprintf(stderr, "evkv-bench: thread %d: %s\n", i, th->first_error);
    }
    if (atomic_load(&b.unreachable)) {
        fprintf(stderr, "evkv-bench: %s\n", b.unreachable_why);
        status = EXIT_USAGE;
        goto out;
    }
    double elapsed = (double)(last - b.t_measure) / 1e9;
    if (b.t_end && elapsed < b.opt.duration)
        elapsed = b.opt.duration;
    double rps = elapsed > 0 ? (double)requests / elapsed : 0;
    if (b.opt.ndata == 2)
        report_from(stdout, &b.opt, from);
    report_table(stdout, requests, errors, hits, misses, rps, &total);
    if (b.opt.json_path &&
        report_json(&b, b.opt.json_path, requests, errors, hits, misses, from, elapsed, &total) != 0) {
        fprintf(stderr, "evkv-bench: cannot write %s\n", b.opt.json_path);
        status = EXIT_USAGE;
    }
    if (errors)
        status = EXIT_ERRORS;
out:
    for (int i = 0; i < b.opt.threads; i++)
        thread_free(&threads[i]);
    free(threads);
    free(b.series);
    keyset_free(&b.ks);
    pthread_mutex_destroy(&b.lock);
    return status;
}

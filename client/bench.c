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
 *
 * This file runs the measurement (-x times) and reports it; bench.h says
 * where the rest is. The first SIGINT stops measuring and reports what ran,
 * as wrk does; the handler is reset by it, so that a second one ends the
 * program at once.
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
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

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Prints a progress line for second sec of the measurement. */
static void print_progress(bench *b, size_t sec)
{
    pthread_mutex_lock(&b->lock);
    uint64_t reqs = sec - 1 < b->nseries ? b->series[sec - 1].requests : 0;
    uint64_t errs = 0;
    for (size_t i = 0; i < sec && i < b->nseries; i++)
        errs += b->series[i].errors;
    fprintf(stderr, "[%4zus] %10llu req/s   p99 so far %9.1f us   errors %llu\n", sec, (unsigned long long)reqs,
            us(histogram_percentile(&b->sofar, 99)), (unsigned long long)errs);
    pthread_mutex_unlock(&b->lock);
}

/* Adds what the threads measured into r, and ends b's per-second series
 * there. */
static void run_sum(bench *b, bthread *threads, uint64_t t_stop, bench_result *r)
{
    uint64_t last = b->t_measure;

    histogram_init(&r->hist);
    for (int i = 0; i < b->opt.threads; i++) {
        bthread *th = &threads[i];
        histogram_add(&r->hist, &th->hist);
        r->requests += th->requests;
        r->errors += th->errors;
        r->retried += th->retried;
        r->moved += th->moved;
        r->hits += th->hits;
        r->misses += th->misses;
        r->bytes_in += th->bytes_in;
        r->latency_sum += th->latency_sum;
        for (int j = 0; j < FROM_N; j++)
            r->from[j] += th->from[j];
        if (th->last_answer > last)
            last = th->last_answer;
        if (th->first_error[0] && !atomic_load(&b->unreachable))
            fprintf(stderr, "evkv-bench: thread %d: %s\n", i, th->first_error);
    }
    /* A -d run measures its duration (or until SIGINT), and any answers
     * after; a -n run, until its last answer. */
    uint64_t end = last, planned = b->t_end;
    if (t_stop && (planned == 0 || t_stop < planned))
        planned = t_stop;
    if (planned > end)
        end = planned;
    r->elapsed = end > b->t_measure ? (double)(end - b->t_measure) / 1e9 : 0;
    r->interrupted = t_stop != 0;
    r->series = b->series;
    r->nseries = b->series_used;
    b->series = NULL;
    b->nseries = b->series_used = 0;
}

/* One measurement: starts the threads, prints progress once a second when
 * stderr is a terminal, stops them at SIGINT or when nothing listens, and
 * sums what they measured into r. Returns 0, or -1 (out of memory). */
static int bench_run(bench *b, bench_result *r)
{
    int stop[2] = {-1, -1}, started = 0, rc = -1;
    bthread *threads = calloc((size_t)b->opt.threads, sizeof(*threads));
    sigset_t block, old;
    uint64_t t_stop = 0;

    memset(r, 0, sizeof(*r));
    histogram_init(&b->sofar);
    b->sofar_requests = 0;
    atomic_store(&b->threads_done, 0);
    if (threads == NULL || pipe2(stop, O_CLOEXEC) != 0)
        goto done;
    b->stop_fd = stop[0];
    for (int i = 0; i < b->opt.threads; i++)
        if (thread_setup(b, &threads[i], i) != 0)
            goto done;
    b->t_start = evkv_clock_ns();
    b->t_measure = b->t_start + (uint64_t)(b->opt.warmup * 1e9);
    b->t_end = b->opt.requests == 0 ? b->t_measure + (uint64_t)(b->opt.duration * 1e9) : 0;
    /* SIGINT comes to this thread only: its sleeps are what it interrupts. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; started < b->opt.threads; started++)
        if (pthread_create(&threads[started].tid, NULL, thread_main, &threads[started]) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < b->opt.threads)
        interrupted = 1; /* stop those that started */

    int tty = isatty(STDERR_FILENO);
    for (size_t sec = 1; atomic_load(&b->threads_done) < started; sec++) {
        uint64_t wake = b->t_measure + sec * NS_PER_SEC + NS_PER_SEC / 20;
        while (evkv_clock_ns() < wake && atomic_load(&b->threads_done) < started) {
            if (stop[1] >= 0 && (interrupted || atomic_load(&b->unreachable))) {
                t_stop = evkv_clock_ns();
                close(stop[1]); /* every thread's stop event fires */
                stop[1] = -1;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (tty && stop[1] >= 0 && atomic_load(&b->threads_done) < started)
            print_progress(b, sec);
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i].tid, NULL);
    if (started == b->opt.threads) {
        run_sum(b, threads, interrupted ? t_stop : 0, r);
        rc = 0;
    }
done:
    for (int i = 0; threads && i < b->opt.threads; i++)
        if (threads[i].b)
            thread_free(&threads[i]);
    free(threads);
    free(b->series);
    b->series = NULL;
    b->nseries = b->series_used = 0;
    for (int i = 0; i < 2; i++)
        if (stop[i] >= 0)
            close(stop[i]);
    return rc;
}

int main(int argc, char **argv)
{
    bench b;
    bench_result *results = NULL;
    char err[512];
    int status = EXIT_OK, nrun = 0;

    memset(&b, 0, sizeof(b));
    b.opt = (bench_options){.host = EVKV_DEFAULT_HOST,
                            .port = EVKV_DEFAULT_PORT,
                            .threads = 1,
                            .conns = 50,
                            .depth = 1,
                            .zipf_exp = 0.99,
                            .seed = 1,
                            .timeout_ms = 5000,
                            .retries = 3,
                            .max_answer = EVKV_DEFAULT_MAX_ANSWER,
                            .runs = 1,
                            .histogram = -1};
    if (bench_options_parse(argc, argv, &b.opt) != 0)
        return EXIT_USAGE;
    if (b.opt.requests == 0 && b.opt.duration == 0)
        b.opt.duration = 10;
    if (keyset_load(&b, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-bench: %s\n", err);
        return EXIT_USAGE;
    }
    if (bench_resolve(&b) != 0) {
        keyset_free(&b.ks);
        return EXIT_USAGE;
    }
    /* the login every connection sends first */
    if (b.opt.auth.password != NULL &&
        (b.opt.protocol == PROTOCOL_RESP ? evkv_auth_request_resp(&b.auth_req, &b.opt.auth)
                                         : evkv_auth_request(&b.auth_req, &b.opt.auth)) != 0) {
        fprintf(stderr, "evkv-bench: out of memory\n");
        keyset_free(&b.ks);
        return EXIT_USAGE;
    }
    if (b.opt.cluster) {
        if (bench_cluster_load(&b, err, sizeof(err)) != 0) {
            fprintf(stderr, "evkv-bench: %s\n", err);
            keyset_free(&b.ks);
            return EXIT_USAGE;
        }
        b.opt.conns *= bench_cluster_nodes(&b); /* -c to each master (and replica) */
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    pthread_mutex_init(&b.lock, NULL);

    results = calloc((size_t)b.opt.runs, sizeof(*results));
    if (results == NULL) {
        fprintf(stderr, "evkv-bench: out of memory\n");
        status = EXIT_USAGE;
        goto out;
    }
    for (; nrun < b.opt.runs && !interrupted; nrun++) {
        if (bench_run(&b, &results[nrun]) != 0) {
            fprintf(stderr, "evkv-bench: out of memory\n");
            status = EXIT_USAGE;
            goto out;
        }
        if (atomic_load(&b.unreachable)) {
            fprintf(stderr, "evkv-bench: %s\n", b.unreachable_why);
            status = EXIT_USAGE;
            nrun++;
            goto out;
        }
        report_run(stdout, &b.opt, nrun, &results[nrun]);
        fflush(stdout);
        if (results[nrun].errors)
            status = EXIT_ERRORS;
    }
    report_aggregate(stdout, &b.opt, results, nrun);
    if (b.opt.json_path && report_json(&b, results, nrun) != 0) {
        fprintf(stderr, "evkv-bench: cannot write %s\n", b.opt.json_path);
        status = EXIT_USAGE;
    }
out:
    for (int i = 0; results && i < nrun; i++)
        free(results[i].series);
    free(results);
    keyset_free(&b.ks);
    proto_buf_free(&b.auth_req);
    bench_cluster_free(&b);
    pthread_mutex_destroy(&b.lock);
    return status;
}

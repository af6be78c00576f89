/*
 * cli_latency.c: evkv-cli ping --latency, round trips of ping timed one
 * after another on one connection, as redis-cli --latency does.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_modes.h"
#include "histogram.h"

/* How often ping --latency redraws its line on a terminal. */
#define LATENCY_REDRAW_MS 100.0

static volatile sig_atomic_t latency_interrupted;

static void latency_on_sigint(int sig)
{
    (void)sig;
    latency_interrupted = 1;
}

/* Now, in milliseconds with decimals. */
static double now_ms(void)
{
    return (double)evkv_clock_ns() / 1e6;
}

/* What the round trips measured so far. */
typedef struct latency_tally {
    histogram *h;         /* the percentiles, in constant memory */
    double min, max, sum; /* milliseconds */
    size_t n;             /* round trips timed */
    double last_draw;     /* when the line was last drawn, now_ms() */
} latency_tally;

/* Counts one round trip of ms, ended at now, and redraws the line on a
 * terminal at most every LATENCY_REDRAW_MS. */
static void tally_record(latency_tally *t, double ms, double now, int tty)
{
    histogram_record(t->h, (uint64_t)(ms * 1e6));
    t->n++;
    t->min = t->n == 1 || ms < t->min ? ms : t->min;
    t->max = ms > t->max ? ms : t->max;
    t->sum += ms;
    if (tty && now - t->last_draw >= LATENCY_REDRAW_MS) {
        printf("\r\033[2Kmin: %.2f, max: %.2f, avg: %.2f (%zu samples)", t->min, t->max, t->sum / (double)t->n, t->n);
        fflush(stdout);
        t->last_draw = now;
    }
}

/* The last line: the distribution, or that there was none. */
static void tally_print(const latency_tally *t, int tty, int status)
{
    if (tty && status == EXIT_FOUND)
        fputs("\r\033[2K", stdout);
    if (t->n > 0) {
        printf("min: %.2f, avg: %.2f, p50: %.2f, p99: %.2f, max: %.2f (%zu samples)\n", t->min, t->sum / (double)t->n,
               (double)histogram_percentile(t->h, 50) / 1e6, (double)histogram_percentile(t->h, 99) / 1e6, t->max,
               t->n);
    } else if (status == EXIT_FOUND) {
        printf("no samples\n");
    }
}

/* SIGINT ends the run and prints what was measured. No SA_RESTART, so
 * that it cuts the pause short, and a round trip in progress too
 * (evkv_client_set_interrupt; one that comes just before its wait
 * begins is let finish, within --timeout). A second SIGINT ends the
 * program at once. The handler it replaces goes into *old_sa. */
static void latency_catch_sigint(struct sigaction *old_sa)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = latency_on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_sa);
    evkv_client_set_interrupt(&latency_interrupted, NULL);
}

/* Sends req (a ping) on c, one round trip after another, into t, until
 * count of them (0: until SIGINT). Returns the exit status. */
static int latency_loop(evkv_client *c, const proto_buf *req, long count, double interval_ms, int tty, latency_tally *t)
{
    proto_message msg;

    while (!latency_interrupted && (count == 0 || t->n < (size_t)count)) {
        double t0 = now_ms();
        if (evkv_client_exchange(c, req->data, req->len, &msg) != 0) {
            if (c->interrupted)
                break; /* Ctrl-C in the middle of a round trip: not counted */
            fprintf(stderr, "%sevkv-cli: %s\n", tty && t->n ? "\n" : "", c->err);
            return EXIT_ERROR;
        }
        double t1 = now_ms();
        if (!cli_answer_is_pong(&msg)) {
            if (tty && t->n)
                putchar('\n');
            fflush(stdout);
            cli_print_unexpected(&msg, " to ping");
            return EXIT_ERROR;
        }
        tally_record(t, t1 - t0, t1, tty);
        if (interval_ms > 0 && !latency_interrupted && (count == 0 || t->n < (size_t)count))
            cli_sleep_ms(interval_ms); /* cut short by SIGINT */
    }
    return EXIT_FOUND;
}

/* Pings the server over one connection, one round trip after another with
 * interval_ms between them, count times (0: until SIGINT), and prints the
 * distribution of round trip times (percentiles from a histogram, within
 * 1%, so that a long run takes no more memory than a short one). */
int cli_latency_run(const cli_options *o, long count, double interval_ms)
{
    int tty = isatty(STDOUT_FILENO), status;
    evkv_client c;
    proto_buf req = {0};
    struct sigaction old_sa;
    latency_tally t = {.h = malloc(sizeof(*t.h)), .last_draw = -1e9};

    if (count < 0)
        count = tty ? 0 : LATENCY_DEFAULT_COUNT;
    cli_encode(&req, CLI_PING, NULL, 0);
    if (req.failed || t.h == NULL) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        proto_buf_free(&req);
        free(t.h);
        return EXIT_ERROR;
    }
    histogram_init(t.h);
    if (cli_connect(&c, o) != 0) {
        proto_buf_free(&req);
        free(t.h);
        return EXIT_ERROR;
    }
    latency_catch_sigint(&old_sa);
    status = latency_loop(&c, &req, count, interval_ms, tty, &t);
    evkv_client_set_interrupt(NULL, NULL);
    sigaction(SIGINT, &old_sa, NULL);
    evkv_client_close(&c);
    proto_buf_free(&req);
    tally_print(&t, tty, status);
    free(t.h);
    return status;
}

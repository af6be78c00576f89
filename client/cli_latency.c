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

/* Pings the server over one connection, one round trip after another with
 * interval_ms between them, count times (0: until SIGINT), and prints the
 * distribution of round trip times (percentiles from a histogram, within
 * 1%, so that a long run takes no more memory than a short one). */
int cli_latency_run(const cli_options *o, long count, double interval_ms)
{
    int tty = isatty(STDOUT_FILENO), status = EXIT_FOUND;
    evkv_client c;
    proto_buf req = {0};
    proto_message msg;
    double min = 0, max = 0, sum = 0, last_draw = -1e9;
    size_t n = 0;
    struct sigaction sa, old_sa;
    histogram *h = malloc(sizeof(*h)); /* the percentiles, in constant memory */

    if (count < 0)
        count = tty ? 0 : LATENCY_DEFAULT_COUNT;
    cli_encode(&req, CLI_PING, NULL, 0);
    if (req.failed || h == NULL) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        proto_buf_free(&req);
        free(h);
        return EXIT_ERROR;
    }
    histogram_init(h);
    if (cli_connect(&c, o) != 0) {
        proto_buf_free(&req);
        free(h);
        return EXIT_ERROR;
    }
    /* SIGINT ends the run and prints what was measured. No SA_RESTART, so
     * that it cuts the pause short, and a round trip in progress too
     * (evkv_client_set_interrupt; one that comes just before its wait
     * begins is let finish, within --timeout). A second SIGINT ends the
     * program at once. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = latency_on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
    evkv_client_set_interrupt(&latency_interrupted, NULL);

    while (!latency_interrupted && (count == 0 || n < (size_t)count)) {
        double t0 = now_ms();
        if (evkv_client_exchange(&c, req.data, req.len, &msg) != 0) {
            if (c.interrupted)
                break; /* Ctrl-C in the middle of a round trip: not counted */
            fprintf(stderr, "%sevkv-cli: %s\n", tty && n ? "\n" : "", c.err);
            status = EXIT_ERROR;
            break;
        }
        double t1 = now_ms(), ms = t1 - t0;
        if (!cli_answer_is_pong(&msg)) {
            if (tty && n)
                putchar('\n');
            fflush(stdout);
            cli_print_unexpected(&msg, " to ping");
            status = EXIT_ERROR;
            break;
        }
        histogram_record(h, (uint64_t)(ms * 1e6));
        n++;
        min = n == 1 || ms < min ? ms : min;
        max = ms > max ? ms : max;
        sum += ms;
        if (tty && t1 - last_draw >= LATENCY_REDRAW_MS) {
            printf("\r\033[2Kmin: %.2f, max: %.2f, avg: %.2f (%zu samples)", min, max, sum / (double)n, n);
            fflush(stdout);
            last_draw = t1;
        }
        if (interval_ms > 0 && !latency_interrupted && (count == 0 || n < (size_t)count))
            cli_sleep_ms(interval_ms); /* cut short by SIGINT */
    }
    evkv_client_set_interrupt(NULL, NULL);
    sigaction(SIGINT, &old_sa, NULL);
    evkv_client_close(&c);
    proto_buf_free(&req);

    if (tty && status == EXIT_FOUND)
        fputs("\r\033[2K", stdout);
    if (n > 0) {
        printf("min: %.2f, avg: %.2f, p50: %.2f, p99: %.2f, max: %.2f (%zu samples)\n", min, sum / (double)n,
               (double)histogram_percentile(h, 50) / 1e6, (double)histogram_percentile(h, 99) / 1e6, max, n);
    } else if (status == EXIT_FOUND) {
        printf("no samples\n");
    }
    free(h);
    return status;
}

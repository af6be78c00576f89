/*
 * cli_batch.c: evkv-cli's batch mode: each line of stdin is a key, looked
 * up pipelined on one connection, each answer one line of stdout, in order.
 * Each request has its own deadline, --timeout from its first try, its
 * retries included. When the connection fails (--retries), the requests
 * not yet answered are sent again, in order, on a new one.
 */
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_modes.h"
#include "text.h"

/* Requests a batch keeps in flight on its connection. */
#define BATCH_WINDOW 512

/* Reads all of stdin. Returns a NUL-terminated buffer or NULL. */
static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, stdin);
        n += got;
        if (got == 0) {
            if (ferror(stdin))
                break;
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* A batch: the keys, and how far their requests have got. */
typedef struct batch {
    const cli_options *o;
    char **keys; /* the lines of stdin (into its buffer) */
    size_t nkeys;
    size_t sent;       /* keys[answered..sent) are in flight on c */
    size_t answered;   /* keys[0..answered) are answered and printed */
    unsigned *tries;   /* per key: connections it was sent on or waited for */
    int64_t *deadline; /* per key: --timeout from its first try (evkv_clock_ms), 0 before */
    evkv_client c;
    int connected;
    proto_buf out; /* requests not yet written, from out_pos */
    size_t out_pos;
    int status;   /* the exit status so far */
    int pause_ms; /* cli_retry_wait's, 0 again once an answer comes */
    char why[400];
} batch;

/* What one step of the batch came to. */
typedef enum batch_step_result {
    BATCH_GOING = 0, /* going on */
    BATCH_LOST,      /* the connection failed (b->why): another try may do */
    BATCH_FAILED,    /* the batch ends, the error said */
} batch_step_result;

/* Splits input (len bytes, NUL-terminated) into b->keys in place: one per
 * line, "\n" or "\r\n" ended, and makes the per-key arrays. Returns 0, or
 * -1 once the error is said. */
static int batch_split(batch *b, char *input, size_t len)
{
    char *p;
    size_t line;

    for (p = input; p < input + len; b->nkeys++) {
        char *nl = memchr(p, '\n', (size_t)(input + len - p));
        p = nl ? nl + 1 : input + len;
    }
    b->keys = calloc(b->nkeys + 1, sizeof(*b->keys));
    b->tries = calloc(b->nkeys + 1, sizeof(*b->tries));
    b->deadline = calloc(b->nkeys + 1, sizeof(*b->deadline));
    if (b->keys == NULL || b->tries == NULL || b->deadline == NULL) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        return -1;
    }
    for (p = input, line = 0; line < b->nkeys; line++) {
        char *nl = memchr(p, '\n', (size_t)(input + len - p));
        char *end = nl ? nl : input + len;
        if (end > p && end[-1] == '\r')
            end--;
        if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
            fprintf(stderr, "evkv-cli: stdin line %zu holds a NUL byte\n", line + 1);
            return -1;
        }
        *end = '\0';
        b->keys[line] = p;
        if (!proto_utf8_valid(p, strlen(p))) {
            fprintf(stderr, "evkv-cli: stdin line %zu is not valid UTF-8\n", line + 1);
            return -1;
        }
        p = nl ? nl + 1 : input + len;
    }
    return 0;
}

/* Connects for the oldest unanswered request, by its deadline; the
 * requests after it are sent again from the start. */
static batch_step_result batch_connect(batch *b)
{
    size_t k = b->answered;

    if (b->deadline[k] == 0)
        b->deadline[k] = evkv_clock_ms() + b->o->timeout_ms;
    if (cli_connect_by(&b->c, b->o, b->deadline[k]) != 0) {
        snprintf(b->why, sizeof(b->why), "%s", b->c.err);
        return b->c.gone ? BATCH_LOST : BATCH_FAILED;
    }
    b->connected = 1;
    b->sent = b->answered;
    proto_buf_reset(&b->out);
    b->out_pos = 0;
    return BATCH_GOING;
}

/* Prints the answers that have come, in order. */
static batch_step_result batch_read(batch *b)
{
    proto_message msg;
    size_t before = b->answered;

    if (evkv_client_read_some(&b->c) < 0) {
        snprintf(b->why, sizeof(b->why), "%s", b->c.err);
        return b->c.gone ? BATCH_LOST : BATCH_FAILED;
    }
    while (b->answered < b->sent && proto_decoder_next(&b->c.dec, &msg) == PROTO_OK) {
        const char *key = b->keys[b->answered];
        int s = cli_print_answer(b->o, CLI_SEARCH, &msg, key, strlen(key));
        b->status = s > b->status ? s : b->status;
        b->answered++;
    }
    if (b->answered > before)
        b->pause_ms = 0;
    if (b->c.dec.err) {
        snprintf(b->why, sizeof(b->why), "bad answer from the server: %s%s", b->c.dec.errstr,
                 evkv_decoder_hint(&b->c.dec));
        return BATCH_FAILED;
    }
    return BATCH_GOING;
}

/* Queues requests while the window has room, then writes what the socket
 * takes and reads what came, waiting at most until the oldest unanswered
 * request's deadline. */
static batch_step_result batch_step(batch *b)
{
    int64_t now = evkv_clock_ms();

    while (b->sent < b->nkeys && b->sent - b->answered < BATCH_WINDOW) {
        const char *key = b->keys[b->sent];
        if (b->deadline[b->sent] == 0)
            b->deadline[b->sent] = now + b->o->timeout_ms;
        proto_encode_request(&b->out, "search", 6, key, strlen(key));
        b->sent++;
    }
    if (b->out.failed) {
        snprintf(b->why, sizeof(b->why), "out of memory");
        return BATCH_FAILED;
    }
    struct pollfd pfd = {.fd = b->c.fd, .events = POLLIN};
    if (b->out_pos < b->out.len)
        pfd.events |= POLLOUT;
    int left = evkv_ms_until(b->deadline[b->answered]);
    int rc = left > 0 ? poll(&pfd, 1, left) : 0;
    if (rc < 0 && errno == EINTR)
        return BATCH_GOING;
    if (rc <= 0) {
        /* Out of time: the request is not sent again. */
        snprintf(b->why, sizeof(b->why), "timed out after %d ms waiting for an answer", b->o->timeout_ms);
        return BATCH_FAILED;
    }
    if (pfd.revents & POLLOUT) {
        long n = evkv_client_write_some(&b->c, b->out.data + b->out_pos, b->out.len - b->out_pos);
        if (n < 0) {
            snprintf(b->why, sizeof(b->why), "%s", b->c.err);
            return b->c.gone ? BATCH_LOST : BATCH_FAILED;
        }
        b->out_pos += (size_t)n;
        if (b->out_pos == b->out.len) {
            proto_buf_reset(&b->out);
            b->out_pos = 0;
        }
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        return batch_read(b);
    return BATCH_GOING;
}

/* The connection failed: every request it held (or, for a failed
 * connect, the oldest unanswered) has had a try. Returns 0 after the
 * pause before the next try, or -1: the oldest has no try left, or no
 * time. */
static int batch_lost(batch *b)
{
    size_t k = b->answered, end = b->sent > k ? b->sent : k + 1;

    for (size_t i = k; i < end; i++)
        b->tries[i]++;
    if (b->connected)
        evkv_client_close(&b->c);
    b->connected = 0;
    return cli_retry_wait(b->o, b->deadline[k], (int)b->tries[k], &b->pause_ms);
}

/* Looks up every line of stdin on one connection, keeping up to
 * BATCH_WINDOW requests in flight, and prints the answers in order. Each
 * answer must be whole within --timeout of its request's first try: a
 * deadline, which bytes trickling in do not move, and which ends the
 * batch when it passes. A connection that fails (refused, closed, reset)
 * is replaced, and the requests it had not answered are sent again, as
 * long as the oldest of them has tries left (--retries) and time. */
int cli_batch_run(const cli_options *o)
{
    size_t len;
    char *input = read_stdin(&len);
    batch b = {.o = o, .status = EXIT_FOUND};
    batch_step_result r = BATCH_GOING;

    if (input == NULL) {
        fprintf(stderr, "evkv-cli: cannot read stdin\n");
        return EXIT_ERROR;
    }
    if (batch_split(&b, input, len) != 0) {
        b.status = EXIT_ERROR;
        goto done;
    }
    if (o->cluster) {
        b.status = cli_cluster_run(o, b.keys, b.nkeys);
        goto done;
    }
    while (b.answered < b.nkeys) {
        r = b.connected ? batch_step(&b) : batch_connect(&b);
        if (r == BATCH_FAILED || (r == BATCH_LOST && batch_lost(&b) != 0))
            break;
    }
    if (b.answered < b.nkeys) {
        fflush(stdout);
        fprintf(stderr, "evkv-cli: %s (after %zu of %zu answers)\n", b.why, b.answered, b.nkeys);
        b.status = EXIT_ERROR;
    }
done:
    fflush(stdout);
    if (b.connected)
        evkv_client_close(&b.c);
    proto_buf_free(&b.out);
    free(b.keys);
    free(b.tries);
    free(b.deadline);
    free(input);
    return b.status;
}

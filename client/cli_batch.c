/*
 * cli_batch.c: evkv-cli's batch mode: each line of stdin is a key, looked
 * up pipelined on one connection, each answer one line of stdout, in order.
 * When the connection is lost (--retries), the requests not yet answered
 * are sent again, in order, on a new one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_modes.h"

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

/* Looks up every line of stdin on one connection, keeping up to
 * BATCH_WINDOW requests in flight, and prints the answers in order. Each
 * answer must be whole within --timeout of the one before it (the first,
 * of the start): a deadline, which bytes trickling in do not move. A lost
 * connection (closed, reset, that deadline passed) is replaced, and the
 * requests it had not answered are sent again, as long as the oldest of
 * them has been sent at most --retries times. */
int cli_batch_run(const cli_options *o)
{
    size_t len, nkeys = 0, sent = 0, answered = 0, line = 0;
    char *input = read_stdin(&len), *p;
    char **keys = NULL;
    unsigned *tries = NULL; /* per key: connections lost with it unanswered */
    evkv_client c;
    proto_buf out = {0};
    size_t out_pos = 0;
    int status = EXIT_FOUND, connected = 0, pause_ms = 0;
    char why[400];

    if (input == NULL) {
        fprintf(stderr, "evkv-cli: cannot read stdin\n");
        return EXIT_ERROR;
    }
    /* Split into keys in place: one per line, "\n" or "\r\n" ended. */
    for (p = input; p < input + len; nkeys++) {
        char *nl = memchr(p, '\n', (size_t)(input + len - p));
        p = nl ? nl + 1 : input + len;
    }
    keys = calloc(nkeys + 1, sizeof(*keys));
    tries = calloc(nkeys + 1, sizeof(*tries));
    if (keys == NULL || tries == NULL) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        status = EXIT_ERROR;
        goto done;
    }
    for (p = input, line = 0; line < nkeys; line++) {
        char *nl = memchr(p, '\n', (size_t)(input + len - p));
        char *end = nl ? nl : input + len;
        if (end > p && end[-1] == '\r')
            end--;
        if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
            fprintf(stderr, "evkv-cli: stdin line %zu holds a NUL byte\n", line + 1);
            status = EXIT_ERROR;
            goto done;
        }
        *end = '\0';
        keys[line] = p;
        if (!proto_utf8_valid(p, strlen(p))) {
            fprintf(stderr, "evkv-cli: stdin line %zu is not valid UTF-8\n", line + 1);
            status = EXIT_ERROR;
            goto done;
        }
        p = nl ? nl + 1 : input + len;
    }
    if (nkeys == 0)
        goto done;
    if (cli_connect(&c, o) != 0) {
        status = EXIT_ERROR;
        goto done;
    }
    connected = 1;

    int64_t deadline = evkv_clock_ms() + o->timeout_ms; /* the next answer's */
    while (answered < nkeys) {
        /* Queue more requests while the window has room. */
        while (sent < nkeys && sent - answered < BATCH_WINDOW) {
            proto_encode_request(&out, "search", 6, keys[sent], strlen(keys[sent]));
            sent++;
        }
        if (out.failed) {
            fprintf(stderr, "evkv-cli: out of memory\n");
            status = EXIT_ERROR;
            goto done;
        }
        struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
        if (out_pos < out.len)
            pfd.events |= POLLOUT;
        int left = evkv_ms_until(deadline);
        int rc = left > 0 ? poll(&pfd, 1, left) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            snprintf(why, sizeof(why), "timed out after %d ms waiting for answers (%zu of %zu)", o->timeout_ms,
                     answered, nkeys);
            goto lost;
        }
        if (pfd.revents & POLLOUT) {
            long n = evkv_client_write_some(&c, out.data + out_pos, out.len - out_pos);
            if (n < 0 && c.gone)
                goto conn_lost;
            if (n < 0)
                goto conn_error;
            out_pos += (size_t)n;
            if (out_pos == out.len) {
                proto_buf_reset(&out);
                out_pos = 0;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (evkv_client_read_some(&c) < 0) {
                if (c.gone)
                    goto conn_lost;
                goto conn_error;
            }
            proto_message msg;
            proto_status st;
            size_t before = answered;
            while (answered < sent && (st = proto_decoder_next(&c.dec, &msg)) == PROTO_OK) {
                int s = cli_print_answer(o, CLI_SEARCH, &msg, keys[answered], strlen(keys[answered]));
                if (s > status)
                    status = s;
                answered++;
            }
            if (answered > before) {
                deadline = evkv_clock_ms() + o->timeout_ms;
                pause_ms = 0;
            }
            if (c.dec.err) {
                fprintf(stderr, "evkv-cli: bad answer from the server: %s%s\n", c.dec.errstr,
                        evkv_decoder_hint(&c.dec));
                status = EXIT_ERROR;
                goto done;
            }
        }
        continue;
    conn_lost:
        snprintf(why, sizeof(why), "%s (after %zu of %zu answers)", c.err, answered, nkeys);
    lost:
        if (tries[answered] >= (unsigned)o->retries) {
            fprintf(stderr, "evkv-cli: %s\n", why);
            status = EXIT_ERROR;
            goto done;
        }
        for (size_t i = answered; i < sent; i++)
            tries[i]++;
        int64_t lost_at = evkv_clock_ms();
        evkv_client_close(&c);
        connected = 0;
        if (cli_reconnect(&c, o, lost_at, &pause_ms) != 0) {
            fprintf(stderr, "evkv-cli: %s (after %zu of %zu answers)\n", c.err, answered, nkeys);
            status = EXIT_ERROR;
            goto done;
        }
        connected = 1;
        sent = answered;
        proto_buf_reset(&out);
        out_pos = 0;
        deadline = evkv_clock_ms() + o->timeout_ms;
    }
    goto done;
conn_error:
    fprintf(stderr, "evkv-cli: %s (after %zu of %zu answers)\n", c.err, answered, nkeys);
    status = EXIT_ERROR;
done:
    fflush(stdout);
    if (connected)
        evkv_client_close(&c);
    proto_buf_free(&out);
    free(keys);
    free(tries);
    free(input);
    return status;
}

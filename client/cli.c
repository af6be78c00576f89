/*
 * cli.c: evkv-cli, the command-line client.
 *
 *   evkv-cli [-h HOST] [-p PORT] search KEY     one lookup
 *   evkv-cli HOST PORT ACTION VALUE             the guide's app-client form
 *   evkv-cli [-h HOST] [-p PORT] < keys.txt     a batch, pipelined
 *   evkv-cli --echo TEXT                        talk to a server in echo mode
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evkv_client.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

/* Exit statuses, as --help documents them. */
enum {
    EXIT_FOUND = 0,    /* found (every key, in a batch), or answered */
    EXIT_NO_MATCH = 1, /* no match (for at least one key, in a batch) */
    EXIT_ERROR = 2,    /* usage, connection or protocol error */
};

/* Requests a batch keeps in flight on its connection. */
#define BATCH_WINDOW 512

typedef struct cli_options {
    const char *host, *port;
    int timeout_ms;
    int json; /* print the answer's content as received */
} cli_options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-cli [OPTIONS] search KEY\n"
            "  or:  evkv-cli [OPTIONS] ACTION VALUE\n"
            "  or:  evkv-cli [OPTIONS] HOST PORT ACTION VALUE\n"
            "  or:  evkv-cli [OPTIONS] < KEYS\n"
            "  or:  evkv-cli [OPTIONS] --echo TEXT\n"
            "Looks keys up on an evkv server and prints what it answers. With no KEY and\n"
            "stdin not a terminal, each line of stdin is a key.\n"
            "\n"
            "Options:\n"
            "  -h, --host HOST      server address (default %s)\n"
            "  -p, --port PORT      server port (default %s)\n"
            "  -t, --timeout SECS   longest wait to connect and for each answer (default 5)\n"
            "  -j, --json           print each answer's content as received (JSON text)\n"
            "  -e, --echo TEXT      send TEXT raw to a server in --echo mode, print what comes back\n"
            "      --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "A found value is printed as is when it is a string, as JSON otherwise; a key\n"
            "with no match prints the server's \"No match for 'KEY'.\". An action other than\n"
            "search is sent as binary content ACTION+VALUE, as the guide's app-client does,\n"
            "and the answer's content is printed. In a batch, each line of stdin is one key\n"
            "and each answer one line of stdout, in order (use --json when values may hold\n"
            "newlines).\n"
            "\n"
            "Exit status:\n"
            "  0  found (in a batch: every key found), or answered\n"
            "  1  no match (in a batch: at least one key had none)\n"
            "  2  usage, connection or protocol error (a message says which on stderr)\n",
            EVKV_DEFAULT_HOST, EVKV_DEFAULT_PORT);
}

static int cli_connect(evkv_client *c, const cli_options *o)
{
    if (evkv_client_connect(c, o->host, o->port, o->timeout_ms) == 0)
        return 0;
    fprintf(stderr, "evkv-cli: %s\n", c->err);
    return -1;
}

/* Prints the answer to a search for key. Returns the exit status. */
static int print_answer(const cli_options *o, const proto_message *msg, const char *key, size_t key_len)
{
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, key, key_len, &result);

    if (a == EVKV_ANSWER_ERROR) {
        if (result && json_is_string(result))
            fprintf(stderr, "evkv-cli: %s\n", json_string_value(result));
        else
            fprintf(stderr, "evkv-cli: unexpected answer: %.*s\n",
                    (int)(msg->content_len > 200 ? 200 : msg->content_len), (const char *)msg->content);
        if (!o->json) {
            putchar('\n');
            json_decref(result);
            return EXIT_ERROR;
        }
    }
    if (o->json || a == EVKV_ANSWER_BINARY) {
        fwrite(msg->content, 1, msg->content_len, stdout);
    } else if (json_is_string(result)) {
        fwrite(json_string_value(result), 1, json_string_length(result), stdout);
    } else {
        proto_buf b = {0};
        proto_dump_json(&b, result);
        fwrite(b.data, 1, b.len, stdout);
        proto_buf_free(&b);
    }
    putchar('\n');
    json_decref(result);
    return a == EVKV_ANSWER_ERROR ? EXIT_ERROR : a == EVKV_ANSWER_MISS ? EXIT_NO_MATCH : EXIT_FOUND;
}

/* Sends one request, as the guide's client builds it, and prints the answer. */
static int run_one(const cli_options *o, const char *action, const char *value)
{
    evkv_client c;
    proto_buf req = {0};
    proto_message msg;
    int status = EXIT_ERROR;

    if (!proto_utf8_valid(action, strlen(action)) || !proto_utf8_valid(value, strlen(value))) {
        fprintf(stderr, "evkv-cli: the action and the key must be valid UTF-8\n");
        return EXIT_ERROR;
    }
    if (strcmp(action, "search") == 0) {
        proto_encode_request(&req, action, strlen(action), value, strlen(value));
    } else {
        proto_buf content = {0};
        proto_buf_append(&content, action, strlen(action));
        proto_buf_append(&content, value, strlen(value));
        proto_encode_message(&req, "binary/custom-client-binary-type", "binary", content.data, content.len);
        proto_buf_free(&content);
    }
    if (req.failed) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        goto done;
    }
    if (cli_connect(&c, o) != 0)
        goto done;
    if (evkv_client_send(&c, req.data, req.len) != 0 || evkv_client_recv(&c, &msg) != 0)
        fprintf(stderr, "evkv-cli: %s\n", c.err);
    else
        status = print_answer(o, &msg, value, strlen(value));
    evkv_client_close(&c);
done:
    proto_buf_free(&req);
    return status;
}

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
 * BATCH_WINDOW requests in flight, and prints the answers in order. */
static int run_batch(const cli_options *o)
{
    size_t len, nkeys = 0, sent = 0, answered = 0, line = 0;
    char *input = read_stdin(&len), *p;
    char **keys = NULL;
    evkv_client c;
    proto_buf out = {0};
    size_t out_pos = 0;
    int status = EXIT_FOUND, connected = 0;

    if (input == NULL) {
        fprintf(stderr, "evkv-cli: cannot read stdin\n");
        return EXIT_ERROR;
    }
    /* Split into keys in place: one per line, "\n" or "\r\n" ended. */
    for (p = input; p < input + len; nkeys++)
        p = memchr(p, '\n', (size_t)(input + len - p)) ? strchr(p, '\n') + 1 : input + len;
    keys = calloc(nkeys + 1, sizeof(*keys));
    if (keys == NULL) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        status = EXIT_ERROR;
        goto done;
    }
    for (p = input, line = 0; line < nkeys; line++) {
        char *nl = memchr(p, '\n', (size_t)(input + len - p));
        char *end = nl ? nl : input + len;
        if (end > p && end[-1] == '\r')
            end--;
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
        int rc = poll(&pfd, 1, o->timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            fprintf(stderr, "evkv-cli: timed out after %d ms waiting for answers (%zu of %zu)\n", o->timeout_ms,
                    answered, nkeys);
            status = EXIT_ERROR;
            goto done;
        }
        if (pfd.revents & POLLOUT) {
            long n = evkv_client_write_some(&c, out.data + out_pos, out.len - out_pos);
            if (n < 0)
                goto conn_error;
            out_pos += (size_t)n;
            if (out_pos == out.len) {
                proto_buf_reset(&out);
                out_pos = 0;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (evkv_client_read_some(&c) < 0)
                goto conn_error;
            proto_message msg;
            proto_status st;
            while (answered < sent && (st = proto_decoder_next(&c.dec, &msg)) == PROTO_OK) {
                int s = print_answer(o, &msg, keys[answered], strlen(keys[answered]));
                if (s > status)
                    status = s;
                answered++;
            }
            if (c.dec.err) {
                fprintf(stderr, "evkv-cli: bad answer from the server: %s\n", c.dec.errstr);
                status = EXIT_ERROR;
                goto done;
            }
        }
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
    free(input);
    return status;
}

static int run_echo(const cli_options *o, const char *text)
{
    evkv_client c;
    size_t len = strlen(text);
    char *back = malloc(len + 1);
    int status = EXIT_ERROR;

    if (back == NULL)
        return EXIT_ERROR;
    if (cli_connect(&c, o) == 0) {
        if (evkv_client_send(&c, text, len) != 0 || evkv_client_recv_raw(&c, back, len) != 0) {
            fprintf(stderr, "evkv-cli: %s\n", c.err);
        } else {
            fwrite(back, 1, len, stdout);
            putchar('\n');
            if (memcmp(back, text, len) == 0)
                status = EXIT_FOUND;
            else
                fprintf(stderr, "evkv-cli: the echo differs from what was sent\n");
        }
        evkv_client_close(&c);
    }
    free(back);
    return status;
}

static int parse_timeout(const char *s, int *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v > 0) || v > 86400)
        return -1;
    *ms = (int)(v * 1000);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},    {"port", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"echo", required_argument, NULL, 'e'},    {"help", no_argument, NULL, 'H'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    cli_options o = {.host = EVKV_DEFAULT_HOST, .port = EVKV_DEFAULT_PORT, .timeout_ms = 5000};
    const char *echo = NULL;
    int ch;

    while ((ch = getopt_long(argc, argv, "h:p:t:je:V", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = optarg; break;
        case 't':
            if (parse_timeout(optarg, &o.timeout_ms) != 0) {
                fprintf(stderr, "evkv-cli: --timeout must be a number of seconds above 0\n");
                return EXIT_ERROR;
            }
            break;
        case 'j': o.json = 1; break;
        case 'e': echo = optarg; break;
        case 'H': usage(stdout); return EXIT_FOUND;
        case 'V': printf("evkv-cli %s\n", EVKV_VERSION); return EXIT_FOUND;
        default: fprintf(stderr, "Try 'evkv-cli --help'.\n"); return EXIT_ERROR;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int nargs = argc - optind;
    char **args = argv + optind;

    if (echo) {
        if (nargs != 0) {
            fprintf(stderr, "evkv-cli: --echo takes no other arguments\n");
            return EXIT_ERROR;
        }
        return run_echo(&o, echo);
    }
    if (nargs == 4) { /* the guide's form: HOST PORT ACTION VALUE */
        o.host = args[0];
        o.port = args[1];
        return run_one(&o, args[2], args[3]);
    }
    if (nargs == 2)
        return run_one(&o, args[0], args[1]);
    if ((nargs == 0 || (nargs == 1 && strcmp(args[0], "search") == 0)) && !isatty(STDIN_FILENO))
        return run_batch(&o);
    if (nargs == 0 || nargs == 1)
        fprintf(stderr, "evkv-cli: give a key (search KEY), or keys on stdin\n");
    else
        fprintf(stderr, "evkv-cli: expected search KEY, ACTION VALUE or HOST PORT ACTION VALUE\n");
    fprintf(stderr, "Try 'evkv-cli --help'.\n");
    return EXIT_ERROR;
}

/*
 * cli.c: evkv-cli, the command-line client.
 *
 *   evkv-cli [-h HOST] [-p PORT]                 an interactive prompt (cli_repl.c)
 *   evkv-cli [-h HOST] [-p PORT] search KEY      one lookup
 *   evkv-cli ping | stats | ping --latency       is the server there, its counters, round trips
 *   evkv-cli HOST PORT ACTION VALUE              the guide's app-client form
 *   evkv-cli [-h HOST] [-p PORT] < keys.txt      a batch, pipelined
 *   evkv-cli --echo TEXT                         talk to a server in echo mode
 *
 * The server is -h/-p (TCP, IPv4 or IPv6), -s (a Unix domain socket) or
 * -u (a URI naming either).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "histogram.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

/* Requests a batch keeps in flight on its connection. */
#define BATCH_WINDOW 512
/* Round trips ping --latency makes when stdout is not a terminal and -n
 * is not given, so that a script always ends. */
#define LATENCY_DEFAULT_COUNT 100
/* How often ping --latency redraws its line on a terminal. */
#define LATENCY_REDRAW_MS 100.0

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-cli [OPTIONS] search KEY\n"
            "  or:  evkv-cli [OPTIONS] ping\n"
            "  or:  evkv-cli [OPTIONS] ping --latency [-i SECS] [-n N]\n"
            "  or:  evkv-cli [OPTIONS] stats\n"
            "  or:  evkv-cli [OPTIONS] ACTION VALUE\n"
            "  or:  evkv-cli [OPTIONS] HOST PORT ACTION VALUE\n"
            "  or:  evkv-cli [OPTIONS] < KEYS\n"
            "  or:  evkv-cli [OPTIONS]\n"
            "  or:  evkv-cli [OPTIONS] --echo TEXT\n"
            "Looks keys up on an evkv server and prints what it answers. With no KEY and\n"
            "stdin not a terminal, each line of stdin is a key; with no command and stdin\n"
            "a terminal, a prompt reads commands (the interactive mode, below).\n"
            "\n"
            "Server:\n"
            "  -h, --host HOST      server name or address, IPv4 or IPv6 (default %s)\n"
            "  -p, --port PORT      server port (default %s)\n"
            "  -u, --uri URI        the server as a URI, instead of -h/-p/-s:\n"
            "                         evkv://HOST[:PORT]  evkv://[IPV6][:PORT]  (default port %s)\n"
            "                         evkv+unix:///PATH  unix:///PATH  (a Unix domain socket)\n"
            "  -s, --socket PATH    connect to the Unix domain socket PATH instead of TCP\n"
            "Requests and answers:\n"
            "  -t, --timeout SECS   longest wait to connect, and for each whole answer from when\n"
            "                       its request goes out (in a batch: from the answer before),\n"
            "                       however slowly its bytes come (default 5)\n"
            "  -j, --json           print each answer's content as received (JSON text)\n"
            "      --max-answer BYTES\n"
            "                       largest answer content taken (default %zu: 512 MiB);\n"
            "                       an answer announcing more is refused before it is read\n"
            "Latency:\n"
            "      --latency        time ping round trips, one after another on one connection\n"
            "  -i, --interval SECS  pause between round trips (default 0.01; 0 for none)\n"
            "  -n, --count N        stop after N round trips (default: at Ctrl-C when stdout\n"
            "                       is a terminal, else after %d)\n"
            "Other:\n"
            "  -e, --echo TEXT      send TEXT raw to a server in --echo mode, print what comes back\n"
            "      --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "Commands:\n"
            "  search KEY           print KEY's value: a string as is, anything else as JSON;\n"
            "                       for a key with no match, the server's \"No match for 'KEY'.\"\n"
            "  ping                 print pong when the server answers\n"
            "  stats                print the server's counters as indented JSON (--json: as received)\n"
            "  ping --latency       print min, avg, p50, p99 and max round trip in milliseconds and\n"
            "                       the number of samples; on a terminal, a line with min, max and\n"
            "                       avg so far is refreshed meanwhile\n"
            "  ACTION VALUE         any other action, and ping or stats followed by a VALUE, is sent\n"
            "                       as binary content ACTION+VALUE, as the guide's app-client does;\n"
            "                       the answer's content is printed\n"
            "With no command and stdin not a terminal, each line of stdin is one key and each\n"
            "answer one line of stdout, in order (use --json when values may hold newlines).\n"
            "\n"
            "Interactive mode:\n"
            "  With no command and stdin a terminal, a prompt reads commands, with line editing\n"
            "  and history (Tab completes a command name). The history is kept in\n"
            "  $HOME/.evkv_history, or in $EVKV_HISTFILE (set it empty for none). The commands:\n"
            "  search KEY (KEY is the rest of the line, spaces included), ping, stats, help,\n"
            "  quit or exit (Ctrl-D too). When the server has closed the connection, the next\n"
            "  command reconnects; when the server is down, the error is printed and the prompt\n"
            "  stays.\n"
            "\n"
            "Exit status:\n"
            "  0  found (in a batch: every key found), or answered; the end of interactive mode\n"
            "     or of ping --latency\n"
            "  1  no match (in a batch: at least one key had none)\n"
            "  2  usage error, bad URI, connection or protocol error (a message says which on\n"
            "     stderr)\n",
            EVKV_DEFAULT_HOST, EVKV_DEFAULT_PORT, EVKV_DEFAULT_PORT, EVKV_DEFAULT_MAX_ANSWER, LATENCY_DEFAULT_COUNT);
}

/* ---- naming the server ---- */

/* Fills o->where from the server o names. */
static void set_where(cli_options *o)
{
    if (o->unix_path)
        snprintf(o->where, sizeof(o->where), "unix:%s", o->unix_path);
    else if (strchr(o->host, ':'))
        snprintf(o->where, sizeof(o->where), "[%s]:%s", o->host, o->port);
    else
        snprintf(o->where, sizeof(o->where), "%s:%s", o->host, o->port);
}

/* Whether s starts with prefix, ignoring case (URI schemes do). */
static int has_prefix_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Copies s[0..len) to out (outlen bytes), decoding %XX escapes. Returns 0,
 * or -1 with why (a bad escape, an escaped NUL, too long). */
static int uri_unescape(const char *s, size_t len, char *out, size_t outlen, const char **why)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '%') {
            int hi = i + 2 < len ? proto_hex_digit((unsigned char)s[i + 1]) : -1,
                lo = i + 2 < len ? proto_hex_digit((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                *why = "a '%' must start an escape %XX of a byte other than 0";
                return -1;
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= outlen) {
            *why = "too long";
            return -1;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

/* Reads a -u URI into o: host and port, or unix_path. Returns 0, or -1
 * with why. */
static int parse_uri(cli_options *o, const char *uri, const char **why)
{
    const char *p, *end, *host, *host_end, *after;

    if (has_prefix_nocase(uri, "evkv+unix:") || has_prefix_nocase(uri, "unix:")) {
        p = strchr(uri, ':') + 1;
        if (strncmp(p, "//", 2) == 0) {
            p += 2;
            if (*p != '/') {
                *why = "a Unix socket URI names no host: write evkv+unix:///PATH (three slashes) for /PATH";
                return -1;
            }
        }
        if (*p != '/') {
            *why = "the socket path must be absolute: evkv+unix:///PATH";
            return -1;
        }
        if (strpbrk(p, "?#")) {
            *why = "a query or fragment ('?', '#') is not supported";
            return -1;
        }
        if (uri_unescape(p, strlen(p), o->uri_path, sizeof(o->uri_path), why) != 0)
            return -1;
        o->unix_path = o->uri_path;
        return 0;
    }
    if (!has_prefix_nocase(uri, "evkv://")) {
        *why = "expected evkv://HOST[:PORT], evkv://[IPV6][:PORT], evkv+unix:///PATH or unix:///PATH";
        return -1;
    }
    p = uri + strlen("evkv://");
    end = p + strcspn(p, "/?#");
    if (*end != '\0' && strcmp(end, "/") != 0) {
        *why = "nothing may follow HOST:PORT but one '/'";
        return -1;
    }
    if (memchr(p, '@', (size_t)(end - p))) {
        *why = "user information (USER@) is not supported";
        return -1;
    }
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL || host_end == host) {
            *why = host_end ? "no address between '[' and ']'" : "an IPv6 address needs its closing ']'";
            return -1;
        }
        if (memchr(host, ':', (size_t)(host_end - host)) == NULL) {
            *why = "brackets are for an IPv6 address: evkv://[::1]:65432, evkv://127.0.0.1:65432";
            return -1;
        }
        after = host_end + 1;
    } else {
        host = p;
        host_end = memchr(p, ':', (size_t)(end - p));
        if (host_end && memchr(host_end + 1, ':', (size_t)(end - host_end - 1))) {
            *why = "write an IPv6 address in brackets: evkv://[::1]:65432";
            return -1;
        }
        if (host_end == NULL)
            host_end = end;
        if (host_end == host) {
            *why = "no host: write evkv://HOST[:PORT]";
            return -1;
        }
        after = host_end;
    }
    if (after < end) {
        const char *port = after + 1;
        size_t len = (size_t)(end - port);
        long v = 0;
        if (*after != ':') {
            *why = "expected ':' and a port after ']'";
            return -1;
        }
        for (size_t i = 0; i < len && v <= 65535; i++)
            v = port[i] >= '0' && port[i] <= '9' ? v * 10 + (port[i] - '0') : 99999;
        if (len == 0 || len > 5 || v < 1 || v > 65535) {
            *why = "the port must be a number from 1 to 65535";
            return -1;
        }
        memcpy(o->uri_port, port, len);
        o->uri_port[len] = '\0';
    } else {
        snprintf(o->uri_port, sizeof(o->uri_port), "%s", EVKV_DEFAULT_PORT);
    }
    /* An IPv6 zone is written %25 in a URI ([fe80::1%25eth0]). */
    if (uri_unescape(host, (size_t)(host_end - host), o->uri_host, sizeof(o->uri_host), why) != 0)
        return -1;
    o->host = o->uri_host;
    o->port = o->uri_port;
    return 0;
}

/* ---- requests and answers ---- */

int cli_connect(evkv_client *c, const cli_options *o)
{
    int rc = o->unix_path ? evkv_client_connect_unix(c, o->unix_path, o->timeout_ms, o->max_answer)
                          : evkv_client_connect(c, o->host, o->port, o->timeout_ms, o->max_answer);
    if (rc == 0)
        return 0;
    fflush(stdout);
    fprintf(stderr, "evkv-cli: %s\n", c->err);
    return -1;
}

void cli_encode(proto_buf *req, cli_kind kind, const char *key, size_t key_len)
{
    /* ping and stats need no value; "" keeps the request in the guide's
     * exact layout, which the server reads without jansson. */
    switch (kind) {
    case CLI_SEARCH: proto_encode_request(req, "search", 6, key, key_len); break;
    case CLI_PING: proto_encode_request(req, "ping", 4, "", 0); break;
    case CLI_STATS: proto_encode_request(req, "stats", 5, "", 0); break;
    case CLI_BINARY: break;
    }
}

/* Writes n bytes a server sent to f. On a terminal, control characters
 * (C0 but for tab and newline, DEL, and C1 as UTF-8 writes them) go out as
 * \xNN, so that no answer can move the cursor, retitle the window or
 * clear the screen; into a pipe or a file, every byte goes as it came. */
static void write_text(FILE *f, const char *s, size_t n)
{
    if (!isatty(fileno(f))) {
        fwrite(s, 1, n, f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
            fprintf(f, "\\x%02x", ch);
        } else if (ch == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
            fprintf(f, "\\xc2\\x%02x", (unsigned char)s[i + 1]);
            i++;
        } else {
            putc(ch, f);
        }
    }
}

/* Prints a server's error text on stderr. */
static void print_error_text(const char *s, size_t n)
{
    fputs("evkv-cli: ", stderr);
    write_text(stderr, s, n);
    fputc('\n', stderr);
}

/* Prints the start of an answer that is not what was expected. */
static void print_unexpected(const proto_message *msg, const char *what)
{
    fprintf(stderr, "evkv-cli: unexpected answer%s: ", what);
    write_text(stderr, (const char *)msg->content, msg->content_len > 200 ? 200 : msg->content_len);
    fputc('\n', stderr);
}

/* The answer to a search (or a binary request). */
static int print_search(const cli_options *o, const proto_message *msg, const char *key, size_t key_len)
{
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, key, key_len, &result);

    if (a == EVKV_ANSWER_ERROR) {
        fflush(stdout);
        if (result && json_is_string(result))
            print_error_text(json_string_value(result), json_string_length(result));
        else
            print_unexpected(msg, "");
        if (!o->json) {
            putchar('\n');
            json_decref(result);
            return EXIT_ERROR;
        }
    }
    if (o->json || a == EVKV_ANSWER_BINARY) {
        write_text(stdout, (const char *)msg->content, msg->content_len);
    } else if (json_is_string(result)) {
        write_text(stdout, json_string_value(result), json_string_length(result));
    } else {
        proto_buf b = {0};
        proto_dump_json(&b, result);
        write_text(stdout, b.data, b.len);
        proto_buf_free(&b);
    }
    putchar('\n');
    json_decref(result);
    return a == EVKV_ANSWER_ERROR ? EXIT_ERROR : a == EVKV_ANSWER_MISS ? EXIT_NO_MATCH : EXIT_FOUND;
}

/* Whether msg is the answer to a ping: {"result": "pong"}. */
static int answer_is_pong(const proto_message *msg)
{
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, "", 0, &result);
    int ok = a == EVKV_ANSWER_HIT && json_is_string(result) && strcmp(json_string_value(result), "pong") == 0;
    json_decref(result);
    return ok;
}

/* The answer to ping ("pong") or stats (an object, printed indented). */
static int print_info(const cli_options *o, cli_kind kind, const proto_message *msg)
{
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, "", 0, &result);
    const char *what = kind == CLI_PING ? " to ping" : " to stats";
    char *text = NULL;
    int ok = a == EVKV_ANSWER_HIT &&
             (kind == CLI_PING ? json_is_string(result) && strcmp(json_string_value(result), "pong") == 0
                               : json_is_object(result));

    if (!ok) {
        fflush(stdout);
        if (a == EVKV_ANSWER_ERROR && json_is_string(result))
            print_error_text(json_string_value(result), json_string_length(result));
        else
            print_unexpected(msg, what);
    }
    if (o->json) {
        write_text(stdout, (const char *)msg->content, msg->content_len);
        putchar('\n');
    } else if (ok && kind == CLI_PING) {
        puts("pong");
    } else if (ok) {
        /* Objects keep their keys in the order received. Reals get 15
         * significant digits, which any decimal of up to 15 digits (as
         * the server writes them) survives: jansson's default 17 would
         * print 0.43 as 0.42999999999999999. --json shows the bytes. */
        text = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        if (text == NULL) {
            fprintf(stderr, "evkv-cli: out of memory\n");
            ok = 0;
        } else {
            write_text(stdout, text, strlen(text));
            putchar('\n');
        }
    }
    free(text);
    json_decref(result);
    return ok ? EXIT_FOUND : EXIT_ERROR;
}

int cli_print_answer(const cli_options *o, cli_kind kind, const proto_message *msg, const char *key, size_t key_len)
{
    if (kind == CLI_PING || kind == CLI_STATS)
        return print_info(o, kind, msg);
    return print_search(o, msg, key, key_len);
}

/* Sends one request and prints its answer. */
static int run_request(const cli_options *o, cli_kind kind, const proto_buf *req, const char *key)
{
    evkv_client c;
    proto_message msg;
    int status = EXIT_ERROR;

    if (req->failed) {
        fprintf(stderr, "evkv-cli: out of memory\n");
        return EXIT_ERROR;
    }
    if (cli_connect(&c, o) != 0)
        return EXIT_ERROR;
    if (evkv_client_exchange(&c, req->data, req->len, &msg) != 0)
        fprintf(stderr, "evkv-cli: %s\n", c.err);
    else
        status = cli_print_answer(o, kind, &msg, key, strlen(key));
    evkv_client_close(&c);
    return status;
}

/* ACTION VALUE, as the guide's client builds it: search as JSON, anything
 * else as binary content ACTION+VALUE. */
static int run_one(const cli_options *o, const char *action, const char *value)
{
    proto_buf req = {0};
    int status;

    if (!proto_utf8_valid(action, strlen(action)) || !proto_utf8_valid(value, strlen(value))) {
        fprintf(stderr, "evkv-cli: the action and the key must be valid UTF-8\n");
        return EXIT_ERROR;
    }
    if (strcmp(action, "search") == 0) {
        cli_encode(&req, CLI_SEARCH, value, strlen(value));
        status = run_request(o, CLI_SEARCH, &req, value);
    } else {
        proto_buf content = {0};
        proto_buf_append(&content, action, strlen(action));
        proto_buf_append(&content, value, strlen(value));
        if (content.failed)
            req.failed = 1;
        else
            proto_encode_message(&req, "binary/custom-client-binary-type", "binary", content.data, content.len);
        proto_buf_free(&content);
        status = run_request(o, CLI_BINARY, &req, value);
    }
    proto_buf_free(&req);
    return status;
}

/* ping or stats with no value: the commands. */
static int run_command(const cli_options *o, cli_kind kind)
{
    proto_buf req = {0};
    cli_encode(&req, kind, NULL, 0);
    int status = run_request(o, kind, &req, "");
    proto_buf_free(&req);
    return status;
}

/* ---- a batch from stdin ---- */

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
 * of the start): a deadline, which bytes trickling in do not move. */
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
    for (p = input; p < input + len; nkeys++) {
        char *nl = memchr(p, '\n', (size_t)(input + len - p));
        p = nl ? nl + 1 : input + len;
    }
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
            size_t before = answered;
            while (answered < sent && (st = proto_decoder_next(&c.dec, &msg)) == PROTO_OK) {
                int s = cli_print_answer(o, CLI_SEARCH, &msg, keys[answered], strlen(keys[answered]));
                if (s > status)
                    status = s;
                answered++;
            }
            if (answered > before)
                deadline = evkv_clock_ms() + o->timeout_ms;
            if (c.dec.err) {
                fprintf(stderr, "evkv-cli: bad answer from the server: %s%s\n", c.dec.errstr,
                        evkv_decoder_hint(&c.dec));
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
            write_text(stdout, back, len);
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

/* ---- ping --latency ---- */

static volatile sig_atomic_t latency_interrupted;

static void latency_on_sigint(int sig)
{
    (void)sig;
    latency_interrupted = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Pings the server over one connection, one round trip after another with
 * interval_ms between them, count times (0: until SIGINT), and prints the
 * distribution of round trip times (percentiles from a histogram, within
 * 1%, so that a long run takes no more memory than a short one). */
static int run_latency(const cli_options *o, long count, double interval_ms)
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
     * that it cuts the pause short; a round trip in progress completes
     * (within --timeout). A second SIGINT ends the program at once. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = latency_on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);

    while (!latency_interrupted && (count == 0 || n < (size_t)count)) {
        double t0 = now_ms();
        if (evkv_client_exchange(&c, req.data, req.len, &msg) != 0) {
            fprintf(stderr, "%sevkv-cli: %s\n", tty && n ? "\n" : "", c.err);
            status = EXIT_ERROR;
            break;
        }
        double t1 = now_ms(), ms = t1 - t0;
        if (!answer_is_pong(&msg)) {
            if (tty && n)
                putchar('\n');
            fflush(stdout);
            print_unexpected(&msg, " to ping");
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
        if (interval_ms > 0 && !latency_interrupted && (count == 0 || n < (size_t)count)) {
            long long ns = (long long)(interval_ms * 1e6);
            struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
            nanosleep(&ts, NULL); /* cut short by SIGINT */
        }
    }
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

/* ---- the command line ---- */

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

/* -i: seconds, 0 allowed, in milliseconds. */
static int parse_interval(const char *s, double *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= 0) || v > 3600)
        return -1;
    *ms = v * 1000;
    return 0;
}

/* -n: a whole number above 0. */
static int parse_count(const char *s, long *n)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < 1 || v > 1000000000L)
        return -1;
    *n = v;
    return 0;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "evkv-cli: %s\nTry 'evkv-cli --help'.\n", msg);
    return EXIT_ERROR;
}

enum { OPT_HELP = 256, OPT_LATENCY, OPT_MAX_ANSWER };

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"uri", required_argument, NULL, 'u'},
        {"socket", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"max-answer", required_argument, NULL, OPT_MAX_ANSWER},
        {"echo", required_argument, NULL, 'e'},
        {"latency", no_argument, NULL, OPT_LATENCY},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    cli_options o = {.host = EVKV_DEFAULT_HOST,
                     .port = EVKV_DEFAULT_PORT,
                     .timeout_ms = 5000,
                     .max_answer = EVKV_DEFAULT_MAX_ANSWER};
    const char *echo = NULL, *uri = NULL, *why = NULL;
    int ch, host_set = 0, latency = 0, latency_opts = 0;
    long count = -1;
    double interval_ms = 10;

    while ((ch = getopt_long(argc, argv, "h:p:u:s:t:je:i:n:V", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            o.host = optarg;
            host_set = 1;
            break;
        case 'p':
            o.port = optarg;
            host_set = 1;
            break;
        case 'u': uri = optarg; break;
        case 's': o.unix_path = optarg; break;
        case 't':
            if (parse_timeout(optarg, &o.timeout_ms) != 0)
                return usage_error("--timeout must be a number of seconds above 0");
            break;
        case 'j': o.json = 1; break;
        case OPT_MAX_ANSWER:
            if (evkv_parse_max_answer(optarg, &o.max_answer) != 0)
                return usage_error("--max-answer must be a whole number of bytes above 0");
            break;
        case 'e': echo = optarg; break;
        case OPT_LATENCY: latency = 1; break;
        case 'i':
            if (parse_interval(optarg, &interval_ms) != 0)
                return usage_error("--interval must be a number of seconds from 0 to 3600");
            latency_opts = 1;
            break;
        case 'n':
            if (parse_count(optarg, &count) != 0)
                return usage_error("--count must be a whole number above 0");
            latency_opts = 1;
            break;
        case OPT_HELP: usage(stdout); return EXIT_FOUND;
        case 'V': printf("evkv-cli %s\n", EVKV_VERSION); return EXIT_FOUND;
        default: fprintf(stderr, "Try 'evkv-cli --help'.\n"); return EXIT_ERROR;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;

    if (uri && (host_set || o.unix_path))
        return usage_error("--uri names the server: give it without --host, --port or --socket");
    if (o.unix_path && host_set)
        return usage_error("--socket cannot go with --host or --port");
    if (nargs == 4 && (uri || o.unix_path || host_set))
        return usage_error("HOST PORT ACTION VALUE names the server: give it without --host, --port, --uri or "
                           "--socket");
    if (uri && parse_uri(&o, uri, &why) != 0) {
        fprintf(stderr, "evkv-cli: bad URI '%s': %s\n", uri, why);
        return EXIT_ERROR;
    }
    if (o.unix_path && o.unix_path[0] == '\0')
        return usage_error("--socket needs a path");
    int is_ping = nargs == 1 && strcmp(args[0], "ping") == 0;
    if (latency && !is_ping)
        return usage_error("--latency goes with the ping command: evkv-cli ping --latency");
    if (latency_opts && !latency)
        return usage_error("--interval and --count go with ping --latency");
    if (echo && nargs != 0)
        return usage_error("--echo takes no other arguments");

    signal(SIGPIPE, SIG_IGN);
    if (nargs == 4) { /* the guide's form: HOST PORT ACTION VALUE */
        o.host = args[0];
        o.port = args[1];
    }
    set_where(&o);
    if (echo)
        return run_echo(&o, echo);
    if (nargs == 4)
        return run_one(&o, args[2], args[3]);
    if (nargs == 2)
        return run_one(&o, args[0], args[1]);
    if (is_ping)
        return latency ? run_latency(&o, count, interval_ms) : run_command(&o, CLI_PING);
    if (nargs == 1 && strcmp(args[0], "stats") == 0)
        return run_command(&o, CLI_STATS);
    if ((nargs == 0 || (nargs == 1 && strcmp(args[0], "search") == 0)) && !isatty(STDIN_FILENO))
        return run_batch(&o);
    if (nargs == 0) /* stdin is a terminal */
        return cli_repl_run(&o);
    if (nargs == 1)
        return usage_error(strcmp(args[0], "search") == 0 ? "give a key (search KEY), or keys on stdin"
                                                          : "expected search KEY, ping, stats or ACTION VALUE");
    return usage_error("expected search KEY, ping, stats, ACTION VALUE or HOST PORT ACTION VALUE");
}

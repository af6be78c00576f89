/*
 * cli_common.c: what evkv-cli's modes share (see cli.h): connecting,
 * requests, and printing answers.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json_write.h"

int cli_connect_by(evkv_client *c, const cli_options *o, int64_t deadline)
{
    int rc = o->unix_path ? evkv_client_connect_unix(c, o->unix_path, o->timeout_ms, deadline, o->max_answer)
                          : evkv_client_connect(c, o->host, o->port, o->timeout_ms, deadline, o->max_answer);
    /* each connection logs in first: a reconnect too */
    if (rc == 0 && evkv_client_auth(c, &o->auth) != 0) {
        char why[sizeof(c->err)];
        int gone = c->gone;
        snprintf(why, sizeof(why), "%s", c->err);
        evkv_client_close(c);
        snprintf(c->err, sizeof(c->err), "%s", why);
        c->gone = gone;
        rc = -1;
    }
    return rc;
}

int cli_connect(evkv_client *c, const cli_options *o)
{
    if (cli_connect_by(c, o, 0) == 0)
        return 0;
    fflush(stdout);
    fprintf(stderr, "evkv-cli: %s\n", c->err);
    return -1;
}

int cli_retry_wait(const cli_options *o, int64_t deadline, int tries, int *pause_ms)
{
    if (tries > o->retries)
        return -1;
    /* Not at once: a server being restarted is not hammered. */
    int pause = *pause_ms ? *pause_ms * 2 : 10;
    *pause_ms = pause > 200 ? 200 : pause;
    /* A try needs time left after the pause to connect and be answered. */
    if (evkv_ms_until(deadline) <= *pause_ms)
        return -1;
    cli_sleep_ms(*pause_ms);
    return 0;
}

int cli_session_connect(cli_session *s)
{
    if (cli_connect(&s->c, s->o) != 0)
        return -1;
    s->connected = 1;
    return 0;
}

void cli_session_close(cli_session *s)
{
    if (s->connected)
        evkv_client_close(&s->c);
    s->connected = 0;
}

int cli_session_alive(cli_session *s)
{
    struct pollfd p = {.fd = s->c.fd, .events = POLLIN};
    if (s->connected && poll(&p, 1, 0) != 0)
        cli_session_close(s);
    return s->connected;
}

/* One try of cli_session_exchange: connects if need be, sends req and
 * waits for its answer, by deadline. Returns 0 with *msg, or -1 with
 * s->c.err; *connect_failed tells whether the connect was what failed. */
static int session_try(cli_session *s, const proto_buf *req, proto_message *msg, int64_t deadline, int *connect_failed)
{
    *connect_failed = 0;
    if (!s->connected) {
        if (cli_connect_by(&s->c, s->o, deadline) != 0) {
            *connect_failed = 1;
            return -1;
        }
        s->connected = 1;
    }
    evkv_client_set_deadline(&s->c, deadline);
    return evkv_client_exchange(&s->c, req->data, req->len, msg);
}

int cli_session_exchange(cli_session *s, const proto_buf *req, proto_message *msg)
{
    const cli_options *o = s->o;
    int64_t deadline = evkv_clock_ms() + o->timeout_ms;
    int tries = 0, pause_ms = 0, connect_failed;

    cli_session_alive(s);
    for (;;) {
        int fresh = !s->connected;
        if (session_try(s, req, msg, deadline, &connect_failed) == 0)
            return 0;
        tries++;
        cli_session_close(s);
        if (s->c.interrupted || !s->c.gone)
            break;
        /* With --retries 0, a kept connection the server closed meanwhile
         * (an idle timeout, a restart) is still replaced once: the request
         * went to a server no longer there. */
        if (!fresh && tries == 1 && o->retries == 0 && evkv_ms_until(deadline) > 0)
            continue;
        if (cli_retry_wait(o, deadline, tries, &pause_ms) != 0)
            break;
    }
    /* A wait for an answer cut short by a signal is the caller's to say. */
    if (connect_failed || !s->c.interrupted)
        cli_error("%s", s->c.err);
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

/* On a terminal, control characters (C0 but for tab and newline, DEL, and
 * C1 as UTF-8 writes them) go out as \xNN, so that no answer can move the
 * cursor, retitle the window or clear the screen; into a pipe or a file,
 * every byte goes as it came. */
void cli_write_text(FILE *f, const char *s, size_t n)
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
    cli_write_text(stderr, s, n);
    fputc('\n', stderr);
}

void cli_print_unexpected(const proto_message *msg, const char *what)
{
    fprintf(stderr, "evkv-cli: unexpected answer%s: ", what);
    cli_write_text(stderr, (const char *)msg->content, msg->content_len > 200 ? 200 : msg->content_len);
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
            cli_print_unexpected(msg, "");
        if (!o->json) {
            putchar('\n');
            json_decref(result);
            return EXIT_ERROR;
        }
    }
    if (o->json || a == EVKV_ANSWER_BINARY) {
        cli_write_text(stdout, (const char *)msg->content, msg->content_len);
    } else if (json_is_string(result)) {
        cli_write_text(stdout, json_string_value(result), json_string_length(result));
    } else {
        proto_buf b = {0};
        proto_dump_json(&b, result);
        cli_write_text(stdout, b.data, b.len);
        proto_buf_free(&b);
    }
    putchar('\n');
    json_decref(result);
    return a == EVKV_ANSWER_ERROR ? EXIT_ERROR : a == EVKV_ANSWER_MISS ? EXIT_NO_MATCH : EXIT_FOUND;
}

int cli_answer_is_pong(const proto_message *msg)
{
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, "", 0, &result);
    int ok = a == EVKV_ANSWER_HIT && json_is_string(result) && strcmp(json_string_value(result), "pong") == 0;
    json_decref(result);
    return ok;
}

/* The answer to ping ("pong") or stats (an object, printed indented). */
void cli_human_bytes(unsigned long long n, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    double v = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(buf, len, "%lluB", n);
        return;
    }
    while (v >= 1024 && u < (int)sizeof(units) - 2) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f%c", v, units[u]);
}

/* A copy of the stats object obj in which each "X_bytes" number is
 * followed by "X_human", the same in K, M, G..., as Redis's INFO gives
 * used_memory_human; nested objects alike. New reference, or NULL. */
static json_t *stats_with_human(json_t *obj)
{
    json_t *copy = json_object();

    if (copy == NULL)
        return NULL;
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        json_t *value = json_object_iter_value(it);
        size_t klen = strlen(key);
        json_t *v = json_is_object(value) ? stats_with_human(value) : json_incref(value);
        if (json_object_set_new(copy, key, v) != 0)
            goto fail;
        if (klen > 6 && strcmp(key + klen - 6, "_bytes") == 0 && json_is_integer(value) &&
            json_integer_value(value) >= 0) {
            char name[128], human[32];
            snprintf(name, sizeof(name), "%.*s_human", (int)(klen - 6), key);
            cli_human_bytes((unsigned long long)json_integer_value(value), human, sizeof(human));
            if (json_object_set_new(copy, name, json_string(human)) != 0)
                goto fail;
        }
    }
    return copy;
fail:
    json_decref(copy);
    return NULL;
}

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
            cli_print_unexpected(msg, what);
    }
    if (o->json) {
        cli_write_text(stdout, (const char *)msg->content, msg->content_len);
        putchar('\n');
    } else if (ok && kind == CLI_PING) {
        puts("pong");
    } else if (ok) {
        /* Objects keep their keys in the order received, each size in
         * bytes followed by the same in K, M or G. Reals get 15
         * significant digits, which any decimal of up to 15 digits (as
         * the server writes them) survives: jansson's default 17 would
         * print 0.43 as 0.42999999999999999. --json shows the bytes. */
        json_t *shown = stats_with_human(result);
        text = shown ? json_dumps(shown, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) : NULL;
        json_decref(shown);
        if (text == NULL) {
            fprintf(stderr, "evkv-cli: out of memory\n");
            ok = 0;
        } else {
            cli_write_text(stdout, text, strlen(text));
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

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("evkv-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_sleep_ms(double ms)
{
    long long ns = (long long)(ms * 1e6);
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    if (ns > 0)
        nanosleep(&ts, NULL);
}

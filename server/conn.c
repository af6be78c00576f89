/*
 * conn.c: one client connection: a bufferevent, a decoder, and the list of
 * connections its server keeps.
 *
 * Input is fed to the decoder as it arrives; every complete request is
 * answered at once, in order, into the output buffer, so pipelined requests
 * are answered in the order they came. A frame that breaks the framing gets
 * one error answer, then the connection closes once that answer is sent.
 * Everything closes through conn_close(), never from inside libevent.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server.h"

struct conn {
    server *srv;
    struct bufferevent *bev;
    proto_decoder dec;
    struct conn *prev, *next;
    uint64_t id;
    int closing; /* no more reading: close once the output is sent */
    char peer[64];
};

/* Writes at most 48 bytes of client data, non-printable bytes as \xNN, so
 * a log line stays one short line whatever a client sends. */
static void log_escape(char *out, size_t outlen, const char *s, size_t len)
{
    size_t o = 0, i;
    for (i = 0; i < len && i < 48 && o + 5 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    }
    if (i < len && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static void conn_log_request(struct conn *c, const proto_message *msg, handler_outcome outcome)
{
    char what[512];
    if (msg == NULL) {
        snprintf(what, sizeof(what), "bad frame: %s", c->dec.errstr);
    } else if (msg->is_json && json_is_object(msg->json)) {
        json_t *a = json_object_get(msg->json, "action"), *v = json_object_get(msg->json, "value");
        char action[200] = "?", value[200] = "?";
        if (json_is_string(a))
            log_escape(action, sizeof(action), json_string_value(a), json_string_length(a));
        if (json_is_string(v))
            log_escape(value, sizeof(value), json_string_value(v), json_string_length(v));
        snprintf(what, sizeof(what), "%s '%s'", action, value);
    } else if (msg->is_json) {
        snprintf(what, sizeof(what), "text/json, %zu bytes", msg->content_len);
    } else {
        snprintf(what, sizeof(what), "binary, %zu bytes", msg->content_len);
    }
    fprintf(stderr, "evkv-server: conn %llu %s: %s -> %s\n", (unsigned long long)c->id, c->peer, what,
            handler_outcome_name(outcome));
}

void conn_close(struct conn *c)
{
    server *srv = c->srv;

    if (srv->opt->verbose) {
        if (proto_decoder_in_message(&c->dec) && !c->dec.err)
            fprintf(stderr, "evkv-server: conn %llu %s: closed mid-message (%zu bytes unanswered)\n",
                    (unsigned long long)c->id, c->peer, proto_decoder_buffered(&c->dec));
        else
            fprintf(stderr, "evkv-server: conn %llu %s: closed\n", (unsigned long long)c->id, c->peer);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    bufferevent_free(c->bev);
    proto_decoder_free(&c->dec);
    free(c);
    if (srv->stopping && srv->nconns == 0)
        server_conns_drained(srv);
}

/* Stops reading and closes c once everything queued for it is sent.
 * Returns -1 if c was closed now. */
static int conn_close_after_flush(struct conn *c)
{
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_close(c);
        return -1;
    }
    return 0;
}

/* Answers every complete request buffered in the decoder. Returns -1 if c
 * was closed. */
static int conn_process(struct conn *c)
{
    server *srv = c->srv;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    proto_message msg;

    for (;;) {
        proto_status st = proto_decoder_next(&c->dec, &msg);
        if (st == PROTO_NEED_MORE)
            return 0;
        if (st == PROTO_ERROR) {
            handler_answer_error(&srv->handler, c->dec.errstr, out);
            srv->requests++;
            if (srv->opt->verbose)
                conn_log_request(c, NULL, OUTCOME_BAD_FRAME);
            return conn_close_after_flush(c);
        }
        handler_outcome o = handler_answer(&srv->handler, &msg, out);
        srv->requests++;
        if (srv->opt->verbose)
            conn_log_request(c, &msg, o);
        if (o == OUTCOME_NOMEM) {
            conn_close(c);
            return -1;
        }
    }
}

/* Moves what the input buffer holds into the decoder. */
static int conn_feed(struct conn *c, struct evbuffer *in)
{
    struct evbuffer_iovec v[16];
    while (evbuffer_get_length(in) > 0) {
        int n = evbuffer_peek(in, -1, NULL, v, 16);
        size_t fed = 0;
        if (n > 16)
            n = 16;
        for (int i = 0; i < n; i++) {
            if (proto_decoder_feed(&c->dec, v[i].iov_base, v[i].iov_len) != 0)
                return -1;
            fed += v[i].iov_len;
        }
        evbuffer_drain(in, fed);
    }
    return 0;
}

/* Handles the bytes in `in` (drained) as input of c. Returns -1 if c was
 * closed. */
static int conn_on_input(struct conn *c, struct evbuffer *in)
{
    if (c->srv->opt->echo) {
        if (evbuffer_add_buffer(bufferevent_get_output(c->bev), in) == 0)
            return 0;
        conn_close(c);
        return -1;
    }
    if (c->closing) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return 0;
    }
    if (conn_feed(c, in) != 0) {
        conn_close(c);
        return -1;
    }
    return conn_process(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    conn_on_input(arg, bufferevent_get_input(bev));
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        conn_close(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;

    if (what & BEV_EVENT_EOF) {
        /* The client finished sending; answers already queued still go
         * out (a half-closed socket can be written to). */
        conn_close_after_flush(c);
        return;
    }
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_close(c);
}

void conn_new(server *srv, evutil_socket_t fd, const struct sockaddr *addr, int addrlen)
{
    struct conn *c = calloc(1, sizeof(*c));
    (void)addrlen;

    if (c == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->srv = srv;
    c->id = ++srv->next_conn_id;
    server_format_addr(c->peer, sizeof(c->peer), addr);
    proto_decoder_init(&c->dec, &srv->opt->limits);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (srv->opt->verbose)
        fprintf(stderr, "evkv-server: conn %llu %s: accepted\n", (unsigned long long)c->id, c->peer);
}

void conn_stop_all(server *srv)
{
    struct conn *c = srv->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        /* Take in whatever the kernel already holds for this socket, so a
         * request that fully arrived before the stop is still answered.
         * Outside its own read callback a bufferevent keeps the end of its
         * input buffer frozen (evbuffer_read on it fails), so read into a
         * buffer of our own. */
        struct evbuffer *pending = evbuffer_new();
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        int rc;
        if (pending == NULL) {
            conn_close(c);
            continue;
        }
        evbuffer_add_buffer(pending, bufferevent_get_input(c->bev));
        while (evbuffer_read(pending, fd, 65536) > 0)
            ;
        rc = conn_on_input(c, pending);
        evbuffer_free(pending);
        if (rc == 0 && !c->closing)
            conn_close_after_flush(c);
    }
}

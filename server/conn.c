/*
 * conn.c: one client connection: its socket, its decoder, its output, and
 * the list of connections its server keeps.
 *
 * The socket is driven with two plain libevent events, as Redis and
 * memcached drive theirs, not through a bufferevent: bytes are read
 * straight into the decoder's buffer, and the answers to everything a read
 * brought are written at once at the end of the callback. A request
 * answered in one go then costs one read and one write. A bufferevent costs
 * an FIONREAD ioctl before every read and, for every answer, two epoll_ctl
 * calls to add and remove its write event: five system calls a request
 * where these two events need two. The write event is added only when the
 * socket would not take all the output.
 *
 * Limits (see server_options): a connection whose unsent output passes
 * --max-output stops being read (and answered) until the output falls
 * below half of it, whatever made it fall; a read callback answers at most
 * CONN_REQUESTS_PER_EVENT requests before it lets the others run; once a
 * second conn_sweep closes connections idle past --idle-timeout and
 * messages unfinished on the wire past --message-timeout. A connection the
 * server stopped reading is waiting on the client taking its answers, not
 * on a message: only --idle-timeout (no byte taken) applies to it.
 *
 * Transport: every byte crosses the socket through the connection's
 * transport (transport.h), which its listener chose: the plain socket, or
 * TLS. After a read, input the transport already holds (and the socket
 * will not announce) is processed in the same turn. A read that waits for
 * the socket to take bytes (a TLS handshake's reply) adds the write event,
 * whose callback then reads; a write that waits for the peer's bytes (the
 * handshake an answer needs) is driven by the read event. A handshake not
 * done within --message-timeout of the accept closes the connection.
 *
 * Closing: when the server closes first (an error answer, a timeout, a
 * refusal, a stop), a plain close() of a socket whose receive queue holds
 * unread bytes makes the kernel send a reset, which throws away the
 * answers still in the send queue. So such a connection closes the way
 * nginx's lingering_close does: its answers are sent, the write side is
 * shut (the client reads them, then EOF), and what the client still sends
 * is read and thrown away until it closes, until the kernel holds nothing
 * unsent for it, or CONN_LINGER_SECONDS have passed. conn_close() itself
 * closes at once.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "listen.h"
#include "protocol.h"
#include "transport.h"

/* Requests answered in one callback before the others get a turn. */
#define CONN_REQUESTS_PER_EVENT 128
/* Least room offered to one read. */
#define CONN_READ_MIN 2048
/* The longest a closing connection waits for its client to take its last
 * answers and close (seconds, by the worker's clock). */
#define CONN_LINGER_SECONDS 5
/* How often a lingering connection looks whether the kernel has sent
 * everything. */
#define CONN_LINGER_CHECK_USEC 100000
/* Bytes a lingering connection reads and throws away in one turn. */
#define CONN_LINGER_READ_MAX (256 * 1024)

struct conn {
    conn_set *cs;     /* the worker's connections it is one of */
    transport_conn t; /* the socket, through its listener's transport */
    struct event *ev_read, *ev_write;
    struct evbuffer *out;       /* answers not yet taken by the socket */
    const conn_protocol *proto; /* what the listener speaks */
    void *wing;                 /* its state in this worker, for proto's calls */
    conn_proto_state st;        /* the protocol's own state */
    struct conn *prev, *next;
    uint64_t id;
    unsigned reading : 1;   /* ev_read is added */
    unsigned writing : 1;   /* ev_write is added */
    unsigned paused : 1;    /* not reading: the output is over --max-output */
    unsigned eof : 1;       /* the client sent its last byte */
    unsigned closing : 1;   /* not reading: linger once the output is sent */
    unsigned lingering : 1; /* write side shut: input is thrown away until the client closes */
    unsigned counted : 1;   /* holds a place under --max-conns (server->conns) */
    unsigned msg_timed : 1; /* a message unfinished on the wire: msg_start is set */
    unsigned cert_user : 1; /* its client certificate, once verified, may log it in (conn_cert_login) */
    long last_active;       /* server clock at the last byte read or written */
    long msg_start;         /* server clock when the unfinished message began */
    long linger_until;      /* server clock at which a lingering connection closes */
    char peer[64];
};

static int conn_flush(struct conn *c);

static void conn_log(const struct conn *c, const char *what)
{
    log_debug("conn %llu %s: %s", (unsigned long long)c->id, c->peer, what);
}

/* A read or write failed: the transport's reason goes to the log (a TLS
 * alert, a client speaking the wrong one of TLS and plain text), or, in
 * debug, errno's. */
static void conn_log_failure(const struct conn *c)
{
    const char *why = transport_error(&c->t);
    if (why)
        log_info("conn %llu %s: %s", (unsigned long long)c->id, c->peer, why);
    else if (log_enabled(LOG_DEBUG))
        conn_log(c, strerror(errno));
}

void conn_close(struct conn *c)
{
    conn_set *cs = c->cs;

    if (log_enabled(LOG_DEBUG)) {
        char what[96];
        if (c->proto->in_message(&c->st))
            snprintf(what, sizeof(what), "closed with %zu bytes unanswered", c->proto->buffered(&c->st));
        else
            snprintf(what, sizeof(what), "closed");
        conn_log(c, what);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cs->n--;
    if (c->counted)
        atomic_fetch_sub_explicit(cs->open, 1, memory_order_relaxed);
    event_free(c->ev_read);
    event_free(c->ev_write);
    evbuffer_free(c->out);
    transport_close(&c->t);
    c->proto->free(&c->st);
    free(c);
    if (cs->stopping && cs->n == 0)
        cs->drained(cs->arg);
}

static void conn_read_stop(struct conn *c)
{
    if (c->reading) {
        event_del(c->ev_read);
        c->reading = 0;
    }
}

static void conn_read_start(struct conn *c)
{
    if (!c->reading && !c->eof && !c->closing && !c->paused) {
        event_add(c->ev_read, NULL);
        c->reading = 1;
    }
}

/* Stops reading; c lingers once its output is sent. Returns -1 if c was
 * closed now. Does nothing to a connection already closing (a second call
 * would stop its lingering's read event). */
static int conn_close_after_flush(struct conn *c)
{
    if (c->closing)
        return 0;
    c->closing = 1;
    conn_read_stop(c);
    return conn_flush(c);
}

/* A lingering connection: reads and throws away what arrived, and closes c
 * if the client closed, the kernel has sent (and the client acknowledged)
 * everything, or the time is up. Returns -1 if c was closed. */
static int conn_linger_check(struct conn *c)
{
    char scratch[16384];
    size_t taken = 0;

    while (taken < CONN_LINGER_READ_MAX) {
        ssize_t n = transport_read(&c->t, scratch, sizeof(scratch));
        if (n > 0) {
            COUNTER_ADD(c->cs->counters.bytes_in, (unsigned long long)n);
            taken += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(c); /* the client closed (or reset): done */
        return -1;
    }
    /* Bytes the client has not acknowledged (TCP, including the FIN) or
     * not read (Unix sockets). At 0 the client has every answer: a close
     * loses nothing, even if input still arriving makes it a reset. Before
     * that, the input read above keeps the receive queue empty, so that a
     * close at the deadline sends no reset either, unless the client is
     * sending at that very moment. */
    int unsent = transport_unacked(&c->t);
    if (unsent <= 0 || c->cs->clock > c->linger_until) {
        conn_close(c);
        return -1;
    }
    return 0;
}

/* Everything is written: shuts the write side (the client reads its last
 * answers, then EOF) and lingers. A client that already closed its side has
 * nothing left to send, so c closes at once. Returns -1 if c was closed. */
static int conn_linger(struct conn *c)
{
    static const struct timeval check = {0, CONN_LINGER_CHECK_USEC};

    if (c->eof) {
        conn_close(c);
        return -1;
    }
    /* Served: its place under --max-conns (and in stats' current
     * connections) goes to the next client now, before this client can
     * see its EOF. */
    if (c->counted) {
        c->counted = 0;
        atomic_fetch_sub_explicit(c->cs->open, 1, memory_order_relaxed);
    }
    if (transport_shutdown(&c->t) != 0) {
        conn_close(c);
        return -1;
    }
    c->lingering = 1;
    c->paused = 0;
    c->linger_until = c->cs->clock + CONN_LINGER_SECONDS;
    /* The read event, now with a timeout, drives the lingering. */
    conn_read_stop(c);
    if (event_add(c->ev_read, &check) != 0) {
        conn_close(c);
        return -1;
    }
    c->reading = 1;
    return conn_linger_check(c);
}

/* Backpressure's low mark: a connection paused for its output reads and
 * answers again once that output is at most half of --max-output, however
 * it got there (a write callback, or the flush right after the pass that
 * paused it). The requests already buffered are answered first. */
static void conn_resume(struct conn *c)
{
    if (!c->paused || c->closing || evbuffer_get_length(c->out) > c->cs->opt->max_output / 2)
        return;
    c->paused = 0;
    conn_read_start(c);
    event_active(c->ev_read, EV_TIMEOUT, 1);
}

/* The transport's write waits for the peer's bytes (TLS: the handshake
 * an answer needs): the socket is writable, so the write event would fire
 * at once and for ever. The read event drives the write instead, whether
 * or not c reads requests (conn_read_cb). */
static void conn_write_waits_read(struct conn *c)
{
    if (c->writing) {
        event_del(c->ev_write);
        c->writing = 0;
    }
    if (!c->reading) {
        event_add(c->ev_read, NULL);
        c->reading = 1;
    }
}

/* Sends what the socket takes now; adds the write event for the rest;
 * resumes a paused connection below the low mark; makes a closing one
 * linger once everything is written. Returns -1 if c was closed. */
static int conn_flush(struct conn *c)
{
    if (evbuffer_get_length(c->out) > 0) {
        int n = transport_write(&c->t, c->out);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_log_failure(c);
            conn_close(c);
            return -1;
        }
        if (n > 0) {
            c->last_active = c->cs->clock;
            COUNTER_ADD(c->cs->counters.bytes_out, (unsigned long long)n);
        }
    }
    if (c->t.write_wants_read) {
        conn_write_waits_read(c);
    } else if (evbuffer_get_length(c->out) > 0 || c->t.read_wants_write) {
        if (!c->writing) {
            event_add(c->ev_write, NULL);
            c->writing = 1;
        }
    } else {
        if (c->writing) {
            event_del(c->ev_write);
            c->writing = 0;
        }
        if (c->closing)
            return c->lingering ? 0 : conn_linger(c);
    }
    conn_resume(c);
    return 0;
}

/* Stops reading while the unsent output is over --max-output. During a
 * stop too: what arrived is answered as the client takes the answers, so
 * that a client that pipelined requests with big answers and reads none
 * cannot make the stop hold them all at once. Returns whether c is
 * paused. */
static int conn_pause_if_full(struct conn *c)
{
    if (evbuffer_get_length(c->out) <= c->cs->opt->max_output)
        return 0;
    c->paused = 1;
    conn_read_stop(c);
    return 1;
}

/* Answers the complete requests buffered in the decoder: at most `budget`
 * of them, and none while the output is over --max-output. Returns -1 if c
 * was closed. */
static int conn_process(struct conn *c, int budget)
{
    conn_set *cs = c->cs;
    int answered = 0, waiting = 0, debug = log_enabled(LOG_DEBUG);
    char what[512];

    while (!c->closing) {
        /* Backpressure: no more reading (and answering) until the client
         * takes its answers; see conn_resume. */
        if (conn_pause_if_full(c))
            break;
        if (budget-- == 0) {
            /* Fairness: let other connections run, come back next turn. */
            event_active(c->ev_read, EV_TIMEOUT, 1);
            break;
        }
        handler_outcome oc = OUTCOME_NOMEM;
        conn_answer a = c->proto->answer(&c->st, c->wing, c->out, &oc, debug ? what : NULL, sizeof(what));
        if (a == CONN_NEED_MORE) {
            if (c->eof)
                return conn_close_after_flush(c);
            waiting = 1;
            break;
        }
        COUNTER_ADD(cs->counters.proto[c->proto->tag].outcomes[oc], 1);
        answered++;
        if (debug)
            log_debug("conn %llu %s: %s -> %s", (unsigned long long)c->id, c->peer, what, handler_outcome_name(oc));
        if (a == CONN_BROKEN)
            return conn_close_after_flush(c);
        if (a == CONN_NOMEM) {
            conn_close(c);
            return -1;
        }
    }
    /* The message deadline runs from a message's first byte, and only
     * while the server waits for the rest of it on the wire: not while the
     * pass stopped for backpressure or its budget (what is buffered may be
     * whole requests; its clock starts again when it next waits). A
     * message still unfinished either began before this pass (keep its
     * start) or after the last one answered in it (it began about now).
     * Between messages the input buffer goes back to malloc, so that a
     * connection waiting for its next request holds none: malloc hands the
     * same block to the next read at once, and 10,000 idle connections
     * cost well under a kilobyte each. */
    if (!c->proto->in_message(&c->st)) {
        c->msg_timed = 0;
        c->proto->release(&c->st);
    } else if (!waiting) {
        c->msg_timed = 0;
    } else if (!c->msg_timed || answered > 0) {
        c->msg_timed = 1;
        c->msg_start = cs->clock;
    }
    return 0;
}

/* The handshake is over (the first bytes came through it): the client
 * certificate's CN, if it names an enabled user, logs the connection in,
 * before its first request is answered. Otherwise the connection stays as
 * it began, "default", and is counted (Redis 8.6's
 * acl_access_denied_tls_cert). */
static void conn_cert_login(struct conn *c)
{
    char cn[256], name[200];
    c->cert_user = 0;
    int n = transport_peer_cn(&c->t, cn, sizeof(cn));
    if (n < 0)
        return; /* no certificate (--tls-auth-clients optional), or no single CN */
    int in = c->proto->login_as(&c->st, c->wing, cn, (size_t)n);
    if (in)
        COUNTER_ADD(c->cs->counters.cert_logins, 1);
    else
        COUNTER_ADD(c->cs->counters.cert_refused, 1);
    log_escape(name, sizeof(name), cn, (size_t)n, 64);
    if (!in)
        log_info("conn %llu %s: client certificate CN '%s' is no enabled user: not logged in",
                 (unsigned long long)c->id, c->peer, name);
    else if (log_enabled(LOG_DEBUG))
        log_debug("conn %llu %s: logged in as '%s' by its client certificate", (unsigned long long)c->id, c->peer,
                  name);
}

/* Reads what the socket has into the protocol's buffer. Returns the bytes
 * read (0 for none, or at the end of input), or -1 if c was closed. */
static ssize_t conn_read(struct conn *c)
{
    size_t space = 0;
    void *p = c->proto->reserve(&c->st, CONN_READ_MIN, &space);
    if (p == NULL) {
        conn_close(c);
        return -1;
    }
    ssize_t n = transport_read(&c->t, p, space);
    if (n > 0) {
        c->last_active = c->cs->clock;
        COUNTER_ADD(c->cs->counters.bytes_in, (unsigned long long)n);
        if (__builtin_expect(c->cert_user, 0))
            conn_cert_login(c);
        /* A closing connection reads only to throw away. */
        if (!c->closing && c->proto->commit(&c->st, (size_t)n, c->out) != 0) {
            conn_close(c);
            return -1;
        }
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0) {
        conn_log_failure(c);
        conn_close(c);
        return -1;
    }
    /* End of input: answers already queued and requests already complete
     * still go out (a half-closed socket can be written to). */
    c->eof = 1;
    conn_read_stop(c);
    return 0;
}

/* ev_read: bytes arrived (EV_READ), or the processing a budget cut short
 * goes on (EV_TIMEOUT, from event_active). */
/* During a stop: answers what is buffered, as far as backpressure allows,
 * and closes c once all of it is answered; a paused c goes on when its
 * client has taken enough (conn_resume). Returns -1 if c was closed. */
static int conn_stop_answer(struct conn *c)
{
    if (conn_process(c, INT_MAX) != 0)
        return -1;
    if (c->paused)
        return conn_flush(c);
    return conn_close_after_flush(c);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;

    if (c->lingering) {
        conn_linger_check(c);
        return;
    }
    /* The write was waiting for these bytes (conn_write_waits_read). A
     * closing connection has nothing more to read: it goes on lingering,
     * or waiting for its write. */
    if (c->t.write_wants_read && (conn_flush(c) != 0 || c->closing))
        return;
    if (c->cs->stopping) {
        conn_stop_answer(c); /* reads nothing more: answers what the stop took in */
        return;
    }
    if ((what & EV_READ) && conn_read(c) < 0)
        return;
    if (conn_process(c, CONN_REQUESTS_PER_EVENT) != 0)
        return;
    if (conn_flush(c) != 0)
        return;
    /* Input the transport holds, which no readiness of the socket will
     * announce: read it in the next turn, as if it had just arrived. */
    if (c->reading && transport_pending(&c->t) > 0)
        event_active(c->ev_read, EV_READ, 1);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)what;

    /* A read was waiting for the socket to take bytes: read now (its
     * flush takes the write event off, or keeps it for the output). */
    if (c->t.read_wants_write) {
        c->t.read_wants_write = 0;
        conn_read_cb(fd, EV_READ, c);
        return;
    }
    conn_flush(c);
}

/* Sets up a connection on fd (which it then owns) and adds it to cs's
 * list. counted: it holds a place under --max-conns, taken by the caller.
 * Returns NULL (fd closed, the place given back) when out of memory. */
static struct conn *conn_create(conn_set *cs, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep,
                                int counted)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        goto fail;
    c->cs = cs;
    c->ev_read = event_new(cs->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->ev_write = event_new(cs->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    c->out = evbuffer_new();
    if (c->ev_read == NULL || c->ev_write == NULL || c->out == NULL ||
        transport_open(&c->t, ep->tp, fd, ep->tp_ctx) != 0)
        goto fail;
    /* Unique over the workers. (The listener made fd non-blocking.) */
    c->id = ++cs->next_id * cs->id_step + cs->id_base;
    c->last_active = cs->clock;
    server_format_addr(c->peer, sizeof(c->peer), addr);
    c->proto = ep->proto;
    c->wing = ep->wing;
    c->proto->init(&c->st, c->wing, &cs->opt->limits, c->id);
    c->cert_user = ep->cert_user && c->proto->login_as != NULL;
    c->next = cs->list;
    if (cs->list)
        cs->list->prev = c;
    cs->list = c;
    cs->n++;
    c->counted = counted != 0;
    return c;
fail:
    if (c) {
        if (c->ev_read)
            event_free(c->ev_read);
        if (c->ev_write)
            event_free(c->ev_write);
        if (c->out)
            evbuffer_free(c->out);
        free(c);
    }
    if (counted)
        atomic_fetch_sub_explicit(cs->open, 1, memory_order_relaxed);
    evutil_closesocket(fd);
    return NULL;
}

void conn_new(conn_set *cs, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep)
{
    struct conn *c = conn_create(cs, fd, addr, ep, 1);
    if (c == NULL)
        return;
    if (c->proto->admit != NULL && c->proto->admit(c->wing, addr, c->out)) {
        /* refused (protected mode): counted as Redis's rejected_connections */
        COUNTER_ADD(cs->counters.conns_refused, 1);
        if (log_enabled(LOG_DEBUG))
            conn_log(c, "refused: protected mode");
        conn_close_after_flush(c);
        return;
    }
    COUNTER_ADD(cs->counters.conns_total, 1);
    conn_read_start(c);
    if (log_enabled(LOG_DEBUG))
        conn_log(c, "accepted");
}

void conn_refuse(conn_set *cs, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep,
                 const char *why)
{
    COUNTER_ADD(cs->counters.conns_refused, 1);
    /* A connection of its own, so that the answer is sent and the close
     * lingers like any other: a request the client already sent must not
     * turn the close into a reset that destroys the answer. It holds no
     * place under --max-conns, and goes within CONN_LINGER_SECONDS. */
    struct conn *c = conn_create(cs, fd, addr, ep, 0);
    if (c == NULL)
        return;
    if (log_enabled(LOG_DEBUG))
        conn_log(c, why);
    c->proto->error(c->wing, why, c->out);
    conn_close_after_flush(c);
}

/* From the sweep: closes c if its handshake is not done within
 * --message-timeout of the accept (no byte of the protocol has passed, so
 * last_active is still the accept's time). No answer can reach a client
 * that has no session. Returns whether c was closed. */
static int conn_handshake_late(struct conn *c)
{
    long limit = c->cs->opt->message_timeout;
    if (limit <= 0 || c->cs->clock - c->last_active <= limit)
        return 0;
    if (log_enabled(LOG_DEBUG)) {
        char why[96];
        snprintf(why, sizeof(why), "handshake not complete within %ld s: closed", limit);
        conn_log(c, why);
    }
    COUNTER_ADD(c->cs->counters.timeouts, 1);
    conn_close(c);
    return 1;
}

void conn_sweep(conn_set *cs)
{
    const server_options *o = cs->opt;
    long now = cs->clock;
    struct conn *c = cs->list, *next;

    for (; c; c = next) {
        next = c->next;
        if (c->lingering)
            continue; /* bounded by CONN_LINGER_SECONDS */
        /* The clock ticks once a second: "more than N ticks ago" is at
         * least N seconds ago, at most N + 1. */
        if (c->t.handshaking) {
            if (conn_handshake_late(c))
                continue;
        }
        int unsent = evbuffer_get_length(c->out) > 0;
        int idle = o->idle_timeout > 0 && now - c->last_active > o->idle_timeout;
        if (c->msg_timed && o->message_timeout > 0 && now - c->msg_start > o->message_timeout && !c->closing) {
            char why[96];
            snprintf(why, sizeof(why), "message not complete within %ld s", o->message_timeout);
            if (log_enabled(LOG_DEBUG))
                conn_log(c, why);
            c->msg_timed = 0;
            COUNTER_ADD(cs->counters.timeouts, 1);
            c->proto->error(c->wing, why, c->out);
            conn_close_after_flush(c);
            continue;
        }
        if (idle && (unsent || c->paused || !c->proto->in_message(&c->st))) {
            /* Idle with nothing in flight, or its answers not taken (a
             * client that takes none for that long gets no more: its
             * connection closes at once, unsent answers and all). */
            if (log_enabled(LOG_DEBUG))
                conn_log(c, unsent ? "answers not read: timed out" : "idle: timed out");
            COUNTER_ADD(cs->counters.timeouts, 1);
            if (unsent)
                conn_close(c);
            else
                conn_close_after_flush(c);
            continue;
        }
    }
}

void conn_rebind_all(conn_set *cs)
{
    struct conn *c = cs->list, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->closing || c->lingering || c->proto->rebind == NULL)
            continue;
        if (c->proto->rebind(&c->st, c->wing) != 0) {
            if (log_enabled(LOG_DEBUG))
                conn_log(c, "closed: its user is gone");
            conn_close(c);
        }
    }
}

void conn_stop_all(conn_set *cs)
{
    struct conn *c = cs->list, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        /* Take in what the kernel already holds for this socket (FIONREAD:
         * no more, so that a client still sending cannot make the stop read
         * on and on) and answer every complete request in it, so that a
         * request that fully arrived before the stop is answered. A FIN
         * waiting behind it is seen by the lingering close. */
        int closed = 0, pending = c->eof ? 0 : transport_readable(&c->t);
        while (pending > 0) {
            ssize_t n = conn_read(c);
            if (n < 0)
                closed = 1;
            if (n <= 0)
                break;
            pending -= (int)n;
        }
        if (!closed)
            conn_stop_answer(c);
    }
}

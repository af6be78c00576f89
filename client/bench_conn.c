/*
 * bench_conn.c: evkv-bench's connection engine. Each thread runs its own
 * event loop over its own connections, driven with two plain events each
 * (no bufferevents: they would cost an ioctl and epoll_ctl calls per
 * answer); a connection keeps up to -P requests in flight in a FIFO, sends
 * them as the loop (closed, or open at -R) allows, hands what it reads to
 * bench_check.c, and is reconnected when it fails. Once a second a thread
 * adds what it measured to the shared per-second series.
 */
#include <errno.h>
#include <poll.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "json_write.h"

void bench_error(bthread *th, uint64_t n, const char *fmt, ...)
{
    th->errors += n;
    th->interval_errors += n;
    if (th->first_error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(th->first_error, sizeof(th->first_error), fmt, ap);
        va_end(ap);
    }
}

static void conn_issue(bconn *c);
static void conn_arm_deadline(bconn *c);
static int conn_start(bconn *c, char *why, size_t whylen);
static void conn_flush(bconn *c);
static void conn_close_socket(bconn *c);

static int may_issue(bthread *th, uint64_t t_sched)
{
    const bench *b = th->b;
    if (th->stopping)
        return 0;
    if (t_sched < b->t_measure)
        return 1; /* warmup: not counted */
    if (b->opt.requests)
        return th->measured_issued < th->quota;
    return 1;
}

static void thread_check_done(bthread *th)
{
    const bench *b = th->b;
    if (th->inflight != 0)
        return;
    if (th->stopping || (b->opt.requests && th->measured_issued >= th->quota))
        event_base_loopexit(th->base, NULL);
}

/* Appends to s one request for the n keys (--mget): RESP's MGET, or
 * evkv's msearch with the keys as a JSON list. */
static void request_mget(bthread *th, proto_buf *s, const uint32_t *keys, int n)
{
    char buf[40], head[48];
    size_t len;

    if (th->b->opt.protocol == PROTOCOL_RESP) {
        proto_buf_append(s, head, (size_t)snprintf(head, sizeof(head), "*%d\r\n$4\r\nMGET\r\n", n + 1));
        for (int i = 0; i < n; i++) {
            const char *key = key_get(th, keys[i], buf, sizeof(buf), &len);
            proto_buf_append(s, head, (size_t)snprintf(head, sizeof(head), "$%zu\r\n", len));
            proto_buf_append(s, key, len);
            proto_buf_append(s, "\r\n", 2);
        }
        return;
    }
    proto_buf *t = &th->text;
    proto_buf_reset(t);
    proto_buf_append(t, "{\"action\": \"msearch\", \"value\": [", 32);
    for (int i = 0; i < n; i++) {
        const char *key = key_get(th, keys[i], buf, sizeof(buf), &len);
        if (i)
            proto_buf_append(t, ", ", 2);
        proto_dump_string(t, key, len);
    }
    proto_buf_append(t, "]}", 2);
    proto_encode_message(s, "text/json", "utf-8", t->data, t->len);
}

/* Appends to c->out the request of ring slot slot (its key, or with
 * --mget its keys). */
static void conn_encode(bconn *c, unsigned slot)
{
    bthread *th = c->th;
    const bench_options *o = &th->b->opt;
    uint32_t k = c->ring[slot].key;
    char buf[40];
    size_t len;
    proto_buf *s = &th->scratch;

    proto_buf_reset(s);
    if (o->mget) {
        request_mget(th, s, &c->mkeys[(size_t)slot * (size_t)o->mget], o->mget);
    } else if (o->protocol == PROTOCOL_RESP) {
        const char *key = key_get(th, k, buf, sizeof(buf), &len);
        char head[48];
        proto_buf_append(s, head, (size_t)snprintf(head, sizeof(head), "*2\r\n$3\r\nGET\r\n$%zu\r\n", len));
        proto_buf_append(s, key, len);
        proto_buf_append(s, "\r\n", 2);
    } else {
        const char *key = key_get(th, k, buf, sizeof(buf), &len);
        proto_encode_request(s, "search", 6, key, len);
    }
    evbuffer_add(c->out, s->data, s->len);
}

void conn_enqueue(bconn *c, uint32_t k, uint64_t t_sched, uint64_t deadline)
{
    unsigned slot = (c->head + c->count) % (unsigned)c->th->b->opt.depth;
    inflight *f = &c->ring[slot];

    f->t_sched = t_sched;
    f->deadline = deadline;
    f->key = k;
    f->tries = c->fd >= 0;
    if (c->fd >= 0)
        conn_encode(c, slot);
    c->count++;
    if (!c->deadline_armed)
        conn_arm_deadline(c);
}

/* Adds a request for key k (and with --mget, more keys picked now) to c's
 * FIFO, with its deadline from now, and sends it if c has a connection
 * (else conn_start will). */
static void conn_send(bconn *c, uint32_t k, uint64_t t_sched, uint64_t now)
{
    bthread *th = c->th;
    const bench_options *o = &th->b->opt;
    unsigned slot = (c->head + c->count) % (unsigned)o->depth;

    if (o->mget) {
        uint32_t *keys = &c->mkeys[(size_t)slot * (size_t)o->mget];
        keys[0] = k;
        for (int i = 1; i < o->mget; i++)
            keys[i] = key_pick(th);
    }
    conn_enqueue(c, k, t_sched, now + (uint64_t)o->timeout_ms * 1000000);
    th->inflight++;
    if (t_sched >= th->b->t_measure)
        th->measured_issued++;
}

/* Whether a request is due on c at now: in a closed loop, while fewer
 * than -P are in flight; in an open loop, when its time has come too. */
static int conn_due(bconn *c, uint64_t now)
{
    bthread *th = c->th;
    const bench *b = th->b;
    uint64_t t = b->opt.rate > 0 ? c->next_sched : now;

    return c->count < (unsigned)b->opt.depth && t <= now && may_issue(th, t);
}

/* Adds every request due at now to c's FIFO (sent at once if c has a
 * connection). */
static void conn_queue(bconn *c, uint64_t now)
{
    const bench *b = c->th->b;
    int open_loop = b->opt.rate > 0;

    if (c->th->nredirects)
        bench_cluster_resend(c);
    while (conn_due(c, now)) {
        conn_send(c, b->cluster ? bench_cluster_pick(c) : key_pick(c->th), open_loop ? c->next_sched : now, now);
        if (open_loop)
            c->next_sched += (uint64_t)(1e9 * b->opt.threads * b->opt.conns / b->opt.rate);
    }
}

/* A connect failed (why). With --retries, the requests due are queued
 * and lost with it (conn_lost: each is charged a try, and the connection
 * comes back after a pause), so that a server that is gone costs each
 * request its retries and one error; else the attempt is counted as an
 * error, and a persistent connection is tried again shortly. */
static void conn_start_failed(bconn *c, const char *why)
{
    bthread *th = c->th;
    const bench_options *o = &th->b->opt;

    if (o->retries > 0) {
        conn_queue(c, evkv_clock_ns());
        if (c->count > 0) {
            conn_lost(c, why);
            return;
        }
    }
    bench_error(th, 1, "%s", why);
    if (!o->reconnect && !th->stopping) {
        struct timeval retry = {0, 100 * 1000};
        evtimer_add(c->timer, &retry); /* and again, until the server is back */
    }
}

/* Sends what is due (conn_due), then in an open loop arms the timer for
 * the next one. Requests written before the connection is up wait in
 * c->out until it is. With --reconnect, a connection is opened for each
 * request when it is due, so its latency includes the connect. Requests
 * waiting to be re-sent (c down with some in its FIFO) wait for the timer
 * that ends their pause (conn_timer_cb), and go before any new one. */
static void conn_issue(bconn *c)
{
    bthread *th = c->th;
    const bench *b = th->b;
    int open_loop = b->opt.rate > 0;
    uint64_t now = evkv_clock_ns();

    if (c->fd < 0 && (c->count > 0 || !b->opt.reconnect))
        return; /* down: the retry timer brings it back */
    if (c->fd < 0 && conn_due(c, now)) {
        char why[160];
        if (conn_start(c, why, sizeof(why)) != 0) {
            conn_start_failed(c, why);
            return;
        }
    }
    conn_queue(c, now);
    if (open_loop && c->count < (unsigned)b->opt.depth && c->next_sched > now && !th->stopping) {
        uint64_t wait = c->next_sched - now;
        struct timeval tv = {(time_t)(wait / NS_PER_SEC), (suseconds_t)(wait % NS_PER_SEC / 1000)};
        evtimer_add(c->timer, &tv);
    }
    conn_flush(c);
}

/* Sets up c's decoder for a new connection, with the --max-answer limit. */
static void conn_decoder_init(bconn *c)
{
    proto_limits limits = {.max_header = PROTO_DEFAULT_MAX_HEADER, .max_content = c->th->b->opt.max_answer};
    proto_decoder_init(&c->dec, &limits);
}

void conn_drop(bconn *c, const char *why)
{
    bthread *th = c->th;
    if (c->count)
        bench_error(th, c->count, "%s (%u requests unanswered)", why, c->count);
    for (unsigned i = 0; i < c->count; i++) {
        if (c->ring[(c->head + i) % (unsigned)th->b->opt.depth].t_sched >= th->b->t_measure) {
            th->requests++;
            th->interval_requests++;
        }
    }
    th->inflight -= c->count;
    c->count = 0;
    conn_close_socket(c);
    proto_decoder_free(&c->dec);
    conn_decoder_init(c);
    if (!th->stopping && !th->b->opt.reconnect) {
        /* A persistent connection comes back shortly (conn_timer_cb). */
        struct timeval retry = {0, 100 * 1000};
        evtimer_add(c->timer, &retry);
    }
}

/* Takes the n requests at the front of c's FIFO off it, counted failed
 * for why. */
static void conn_fail_front(bconn *c, unsigned n, const char *why)
{
    bthread *th = c->th;
    unsigned depth = (unsigned)th->b->opt.depth;

    bench_error(th, n, "%s (%u requests unanswered)", why, n);
    for (unsigned i = 0; i < n; i++) {
        if (c->ring[(c->head + i) % depth].t_sched >= th->b->t_measure) {
            th->requests++;
            th->interval_requests++;
        }
    }
    c->head = (c->head + n) % depth;
    c->count -= n;
    th->inflight -= n;
}

void conn_lost(bconn *c, const char *why)
{
    bthread *th = c->th;
    const bench_options *o = &th->b->opt;
    unsigned depth = (unsigned)o->depth, kept = 0, spent = 0, late = 0;
    size_t nkeys = (size_t)o->mget;
    uint64_t now = evkv_clock_ns();

    if (o->retries == 0) {
        conn_drop(c, why);
        return;
    }
    snprintf(c->lost_why, sizeof(c->lost_why), "%s", why);
    /* Keep those with tries and time left at the front of the FIFO, in
     * order; the others fail. */
    for (unsigned i = 0; i < c->count; i++) {
        unsigned from = (c->head + i) % depth, to = (c->head + kept) % depth;
        inflight f = c->ring[from];
        if (f.deadline <= now || f.tries > (uint32_t)o->retries) {
            late += f.deadline <= now;
            spent += f.deadline > now;
            if (f.t_sched >= th->b->t_measure) {
                th->requests++;
                th->interval_requests++;
            }
            continue;
        }
        c->ring[to] = f;
        if (nkeys && to != from)
            memcpy(&c->mkeys[to * nkeys], &c->mkeys[from * nkeys], nkeys * sizeof(*c->mkeys));
        kept++;
    }
    if (late)
        bench_error(th, late, "%s (%u requests unanswered, no time left within --timeout, %d ms)", why, late,
                    o->timeout_ms);
    if (spent)
        bench_error(th, spent, "%s (%u requests unanswered after %d retries)", why, spent, o->retries);
    th->inflight -= spent + late;
    c->count = kept;
    conn_close_socket(c);
    proto_decoder_free(&c->dec);
    conn_decoder_init(c);
    if (kept > 0 || (!th->stopping && !o->reconnect)) {
        /* Not at once: a server being restarted is not hammered. The pause
         * doubles at each loss until an answer comes, from 10 ms to 200,
         * and is never longer than the timeout. */
        int pause = c->pause_ms ? c->pause_ms * 2 : 10;
        pause = pause > 200 ? 200 : pause;
        pause = pause > o->timeout_ms ? o->timeout_ms : pause;
        c->pause_ms = pause;
        struct timeval tv = {pause / 1000, (pause % 1000) * 1000};
        evtimer_add(c->timer, &tv);
    }
}

/* Arms c's deadline timer for the oldest request's deadline. */
static void conn_arm_deadline(bconn *c)
{
    uint64_t now = evkv_clock_ns(), at = c->ring[c->head].deadline;
    uint64_t wait_us = at > now ? (at - now + 999) / 1000 : 0; /* never early: it would only fire again */
    struct timeval tv = {(time_t)(wait_us / 1000000), (suseconds_t)(wait_us % 1000000)};

    evtimer_add(c->deadline_timer, &tv);
    c->deadline_armed = 1;
}

/* The requests whose deadline has passed fail, and are not sent again:
 * they are the oldest, at the front of the FIFO (a request's deadline is
 * --timeout from its first try, and the FIFO keeps the order of first
 * tries). A connection that had them is closed, out of step (their
 * answers may still come); its other requests are lost with it, to be
 * tried again (conn_lost). */
static void conn_expire(bconn *c)
{
    bthread *th = c->th;
    unsigned depth = (unsigned)th->b->opt.depth, n = 0;
    uint64_t now = evkv_clock_ns();
    char why[256];

    while (n < c->count && c->ring[(c->head + n) % depth].deadline <= now)
        n++;
    if (n > 0) {
        if (c->connected)
            snprintf(why, sizeof(why), "timed out: no answer within --timeout of %d ms", th->b->opt.timeout_ms);
        else
            snprintf(why, sizeof(why), "timed out: no connection within --timeout of %d ms (%s)", th->b->opt.timeout_ms,
                     c->fd >= 0 ? "connecting" : c->lost_why);
        conn_fail_front(c, n, why);
        if (c->fd >= 0)
            conn_lost(c, "closed after a request's --timeout");
    }
    if (c->count > 0 && !c->deadline_armed)
        conn_arm_deadline(c);
}

static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    (void)fd;
    (void)what;
    c->deadline_armed = 0;
    conn_expire(c);
    conn_issue(c);
    thread_check_done(c->th);
}

/* A connect failed with errno err. Before any connection of the run was
 * up, that means nothing listens there: the thread stops (main says why
 * and exits 2) rather than counting failed connects as requests. */
static void conn_connect_failed(bconn *c, int err)
{
    bench *b = c->th->b;
    int no = 0;
    if (atomic_load(&b->connected_once))
        return;
    if (atomic_compare_exchange_strong(&b->unreachable, &no, 1))
        snprintf(b->unreachable_why, sizeof(b->unreachable_why), "cannot connect to %s: %s", b->target, strerror(err));
    c->th->stopping = 1;
    event_base_loopexit(c->th->base, NULL);
}

void conn_auth_refused(bconn *c, const char *answer, size_t len)
{
    bench *b = c->th->b;
    int no = 0;
    if (atomic_compare_exchange_strong(&b->unreachable, &no, 1))
        snprintf(b->unreachable_why, sizeof(b->unreachable_why), "%s refused the login: %.*s", b->target,
                 (int)(len > 160 ? 160 : len), answer);
    c->th->stopping = 1;
    event_base_loopexit(c->th->base, NULL);
}

/* The connection failed or the server closed it. */
static void conn_failed(bconn *c, const char *why)
{
    if (c->count == 0 && !c->connected && c->th->b->opt.retries == 0)
        bench_error(c->th, 1, "%s", why); /* a failed connect counts once */
    conn_lost(c, why);
    conn_issue(c);
    thread_check_done(c->th);
}

/* --tls: a handshake that failed. Before any connection made it, nothing
 * will: the thread stops, and main says why (exit 2), as for a refused
 * connect. */
static void conn_tls_failed(bconn *c, const char *why)
{
    bench *b = c->th->b;
    int no = 0;
    if (!atomic_load(&b->tls_done_once) && atomic_compare_exchange_strong(&b->unreachable, &no, 1)) {
        snprintf(b->unreachable_why, sizeof(b->unreachable_why), "cannot connect to %s: %s", b->target, why);
        c->th->stopping = 1;
        event_base_loopexit(c->th->base, NULL);
    }
    conn_failed(c, why);
}

/* --tls: the next step of c's handshake; once done, the requests go. */
static void conn_tls_step(bconn *c)
{
    char why[256];
    int step = evkv_tls_handshake(c->tls, why, sizeof(why));
    if (step < 0) {
        conn_tls_failed(c, why);
        return;
    }
    c->tls_want = (short)step;
    if (step == 0) {
        c->tls_ready = 1;
        if (!atomic_load_explicit(&c->th->b->tls_done_once, memory_order_relaxed))
            atomic_store(&c->th->b->tls_done_once, 1);
    }
    conn_flush(c);
}

/* Why this thread's last TLS read or write failed (errno EPROTO). */
static _Thread_local char tls_why[160];

/* A read from c's socket, through its TLS if it has one (EPROTO: why in
 * tls_why). */
static ssize_t conn_recv(bconn *c, char *buf, size_t len)
{
    short want;
    if (c->tls == NULL)
        return recv(c->fd, buf, len, 0);
    ssize_t n = evkv_tls_read(c->tls, buf, len, &want, tls_why, sizeof(tls_why));
    /* The rest of a record OpenSSL holds decrypted: poll will not say. */
    if (n > 0 && evkv_tls_pending(c->tls) > 0)
        event_active(c->ev_read, EV_READ, 1);
    return n;
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    bthread *th = c->th;
    char buf[65536];
    (void)what;
    (void)fd;

    if (c->tls && !c->tls_ready) {
        conn_tls_step(c);
        return;
    }
    ssize_t n = conn_recv(c, buf, sizeof(buf));
    /* One time for every answer the read brought: they arrived together,
     * and the checks of the first ones do not delay the later ones'. */
    th->t_read = evkv_clock_ns();
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n < 0 && !c->connected)
            conn_connect_failed(c, errno);
        char why[160];
        snprintf(why, sizeof(why), "%s",
                 n == 0                      ? "the server closed the connection"
                 : errno == EPROTO && c->tls ? tls_why
                                             : strerror(errno));
        conn_failed(c, why);
        return;
    }
    if (c->count && c->ring[c->head].t_sched >= th->b->t_measure)
        th->bytes_in += (uint64_t)n;
    if (th->b->opt.protocol == PROTOCOL_RESP) {
        evbuffer_add(c->in, buf, (size_t)n);
        read_resp(c, c->in);
    } else {
        read_evkv(c, buf, (size_t)n);
    }
    if (th->b->opt.reconnect && c->fd >= 0 && c->count == 0) {
        /* One request per connection: close without TIME_WAIT (RST), or a
         * long run would use up the ephemeral ports. */
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        conn_drop(c, "");
    }
    conn_issue(c);
    thread_check_done(th);
}

/* Writable: the connection is up (or failed), or the socket takes more of
 * the requests. */
static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    (void)what;

    if (!c->connected) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            char why[160];
            snprintf(why, sizeof(why), "connection error: %s", strerror(err));
            conn_connect_failed(c, err);
            conn_failed(c, why);
            return;
        }
        c->connected = 1;
        if (!atomic_load_explicit(&c->th->b->connected_once, memory_order_relaxed))
            atomic_store(&c->th->b->connected_once, 1);
        if (evkv_tls_enabled()) {
            char why[256];
            if ((c->tls = evkv_tls_new(c->fd, c->th->b->opt.host, why, sizeof(why))) == NULL) {
                conn_tls_failed(c, why);
                return;
            }
        }
    }
    if (c->tls && !c->tls_ready) {
        conn_tls_step(c);
        return;
    }
    conn_flush(c);
}

/* Writes what the socket takes of c->out through c's TLS, a record (at
 * most 16 KB made contiguous) at a time. Returns -1 with errno on a
 * failure, else 0. */
static int conn_tls_write(bconn *c)
{
    short want;
    size_t left;
    while ((left = evbuffer_get_length(c->out)) > 0) {
        size_t chunk = left < 16384 ? left : 16384;
        const unsigned char *p = evbuffer_pullup(c->out, (ev_ssize_t)chunk);
        long n = p ? evkv_tls_write(c->tls, p, chunk, &want, tls_why, sizeof(tls_why)) : -1;
        if (n <= 0) {
            if (n == 0)
                errno = EPIPE;
            return n < 0 && errno == EAGAIN ? 0 : -1;
        }
        evbuffer_drain(c->out, (size_t)n);
    }
    return 0;
}

/* Writes what the socket takes now; keeps the write event for the rest (or
 * for the connect). */
static void conn_flush(bconn *c)
{
    if (c->fd < 0)
        return;
    int ready = c->connected && (c->tls == NULL || c->tls_ready);
    if (ready && evbuffer_get_length(c->out) > 0) {
        int rc = c->tls ? conn_tls_write(c) : evbuffer_write(c->out, c->fd);
        if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            char why[160];
            snprintf(why, sizeof(why), "send: %.140s", errno == EPROTO && c->tls ? tls_why : strerror(errno));
            conn_failed(c, why);
            return;
        }
    }
    /* a handshake waits for what OpenSSL says; requests wait for it */
    int want = !c->connected || (c->tls && !c->tls_ready ? c->tls_want == POLLOUT : evbuffer_get_length(c->out) > 0);
    if (want && !c->writing)
        event_add(c->ev_write, NULL);
    else if (!want && c->writing)
        event_del(c->ev_write);
    c->writing = want;
}

static void conn_close_socket(bconn *c)
{
    if (c->fd < 0)
        return;
    event_free(c->ev_read);
    event_free(c->ev_write);
    c->ev_read = c->ev_write = NULL;
    if (c->tls)
        evkv_tls_free(c->tls);
    c->tls = NULL;
    c->tls_ready = 0;
    c->tls_want = 0;
    evutil_closesocket(c->fd);
    c->fd = -1;
    c->connected = 0;
    c->writing = 0;
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    c->resp_need = 0;
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

/* Opens c's connection (the connect completes in the background; requests
 * queue in c->out meanwhile), and sends the requests already in its FIFO:
 * those being retried. Returns 0, or -1 with why (not counted: the caller
 * does, conn_start_failed). */
static int conn_start(bconn *c, char *why, size_t whylen)
{
    bthread *th = c->th;
    socklen_t salen = th->b->addrlen;
    const struct sockaddr *sa =
        th->b->cluster ? bench_cluster_addr(th->b, c->node, &salen) : (const struct sockaddr *)&th->b->addr;
    int one = 1;

    /* Each connection, or connect, is a try for the requests waiting. */
    for (unsigned i = 0; i < c->count; i++) {
        inflight *f = &c->ring[(c->head + i) % (unsigned)th->b->opt.depth];
        f->tries++;
        th->retried += f->tries > 1; /* else queued while down: its first */
    }
    c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->connected = 0;
    c->writing = 0;
    c->ev_read = event_new(th->base, c->fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->ev_write = event_new(th->base, c->fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    if (c->ev_read == NULL || c->ev_write == NULL || (connect(c->fd, sa, salen) != 0 && errno != EINPROGRESS)) {
        int err = errno;
        snprintf(why, whylen, "connect: %s", strerror(err));
        if (c->ev_read && c->ev_write)
            conn_connect_failed(c, err);
        if (c->ev_read == NULL || c->ev_write == NULL) {
            if (c->ev_read)
                event_free(c->ev_read);
            if (c->ev_write)
                event_free(c->ev_write);
            evutil_closesocket(c->fd);
            c->fd = -1;
        } else {
            conn_close_socket(c);
        }
        return -1;
    }
    event_add(c->ev_read, NULL);
    event_add(c->ev_write, NULL); /* writable once connected */
    c->writing = 1;
    /* the login goes first, its answer checked before any other's */
    c->auth_pending = th->b->auth_req.len > 0;
    if (c->auth_pending)
        evbuffer_add(c->out, th->b->auth_req.data, th->b->auth_req.len);
    if (th->b->cluster)
        bench_cluster_conn_started(c);
    for (unsigned i = 0; i < c->count; i++)
        conn_encode(c, (c->head + i) % (unsigned)th->b->opt.depth);
    return 0;
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    bconn *c = arg;
    bthread *th = c->th;
    (void)fd;
    (void)what;
    if (c->fd < 0 && (c->count > 0 || (!th->b->opt.reconnect && !th->stopping))) {
        char why[160];
        if (conn_start(c, why, sizeof(why)) != 0) {
            conn_start_failed(c, why);
            thread_check_done(th);
            return;
        }
    }
    conn_issue(c);
}

/* ---- threads ---- */

static void thread_flush_interval(bthread *th)
{
    bench *b = th->b;
    pthread_mutex_lock(&b->lock);
    if (th->tick_index >= b->nseries) {
        size_t n = th->tick_index + 16;
        series_point *s = realloc(b->series, n * sizeof(*s));
        if (s != NULL) {
            for (size_t i = b->nseries; i < n; i++) {
                memset(&s[i], 0, sizeof(s[i]));
                histogram_init(&s[i].hist);
            }
            b->series = s;
            b->nseries = n;
        }
    }
    if (th->tick_index < b->nseries) {
        series_point *p = &b->series[th->tick_index];
        p->requests += th->interval_requests;
        p->errors += th->interval_errors;
        histogram_add(&p->hist, &th->interval);
        histogram_add(&b->sofar, &th->interval);
        b->sofar_requests += th->interval_requests;
        if ((th->interval_requests || th->interval_errors) && th->tick_index + 1 > b->series_used)
            b->series_used = th->tick_index + 1;
    }
    pthread_mutex_unlock(&b->lock);
    th->tick_index++;
    th->interval_requests = th->interval_errors = 0;
    histogram_init(&th->interval);
}

static struct timeval tv_until(uint64_t t)
{
    uint64_t now = evkv_clock_ns(), d = t > now ? t - now : 0;
    struct timeval tv = {(time_t)(d / NS_PER_SEC), (suseconds_t)(d % NS_PER_SEC / 1000)};
    return tv;
}

/* Once a second of the measurement: publish the interval. (Deadlines are
 * each connection's deadline_timer's.) */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    (void)fd;
    (void)what;
    thread_flush_interval(th);
    thread_check_done(th);
    struct timeval tv = tv_until(th->b->t_measure + (th->tick_index + 1) * NS_PER_SEC);
    evtimer_add(th->tick, &tv);
}

static void end_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    (void)fd;
    (void)what;
    th->stopping = 1;
    struct timeval tv = {th->b->opt.timeout_ms / 1000, (th->b->opt.timeout_ms % 1000) * 1000};
    evtimer_add(th->drain_timer, &tv);
    thread_check_done(th);
}

/* main closed the stop pipe: SIGINT (stop measuring, and end as at the
 * end of a -d run: the answers in flight are waited for), or nothing
 * listens (stop now). */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    if (atomic_load(&th->b->unreachable)) {
        th->stopping = 1;
        event_base_loopexit(th->base, NULL);
    } else if (!th->stopping) {
        evtimer_del(th->end_timer);
        end_cb(fd, what, arg);
    }
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    bthread *th = arg;
    (void)fd;
    (void)what;
    for (int i = 0; i < th->b->opt.conns; i++)
        if (th->conns[i].count)
            conn_drop(&th->conns[i], "no answer before the timeout");
    if (th->nredirects) /* --cluster: answered -MOVED, never sent again */
        bench_error(th, th->nredirects, "no answer before the timeout (after MOVED)");
    event_base_loopexit(th->base, NULL);
}

void *thread_main(void *arg)
{
    bthread *th = arg;
    bench *b = th->b;
    const bench_options *o = &b->opt;

    for (int i = 0; i < o->conns; i++) {
        bconn *c = &th->conns[i];
        int global = th->id * o->conns + i;
        if (o->rate > 0) {
            uint64_t interval = (uint64_t)(1e9 * o->threads * o->conns / o->rate);
            c->next_sched = b->t_start + interval * (uint64_t)global / (uint64_t)(o->threads * o->conns);
        }
        char why[160];
        if (!o->reconnect && conn_start(c, why, sizeof(why)) != 0)
            conn_start_failed(c, why);
        conn_issue(c);
    }
    struct timeval tv = tv_until(b->t_measure + NS_PER_SEC);
    event_add(th->tick, &tv);
    event_add(th->stop, NULL);
    if (b->t_end) {
        tv = tv_until(b->t_end);
        evtimer_add(th->end_timer, &tv);
    }
    event_base_dispatch(th->base);
    for (int i = 0; i < o->conns; i++)
        conn_drop(&th->conns[i], "stopped");
    thread_flush_interval(th);
    atomic_fetch_add(&b->threads_done, 1);
    return NULL;
}

int thread_setup(bench *b, bthread *th, int id)
{
    const bench_options *o = &b->opt;
    struct event_config *cfg = event_config_new();

    memset(th, 0, sizeof(*th));
    th->b = b;
    th->id = id;
    th->two_tables = b->ks.second != NULL;
    th->rng = o->seed * HASH_SPLITMIX64_GAMMA + (uint64_t)id + 1;
    histogram_init(&th->hist);
    histogram_init(&th->interval);
    if (o->requests)
        th->quota = o->requests / (uint64_t)o->threads + ((uint64_t)id < o->requests % (uint64_t)o->threads);
    /* Precise timers: an open loop's schedule is sub-millisecond. */
    if (cfg)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    th->base = cfg ? event_base_new_with_config(cfg) : NULL;
    event_config_free(cfg);
    th->conns = calloc((size_t)o->conns, sizeof(*th->conns));
    for (int i = 0; th->conns && i < o->conns; i++)
        th->conns[i].fd = -1;
    if (th->base == NULL || th->conns == NULL)
        return -1;
    th->tick = evtimer_new(th->base, tick_cb, th);
    th->end_timer = evtimer_new(th->base, end_cb, th);
    th->drain_timer = evtimer_new(th->base, drain_cb, th);
    th->stop = event_new(th->base, b->stop_fd, EV_READ, stop_cb, th);
    if (!th->tick || !th->end_timer || !th->drain_timer || !th->stop)
        return -1;
    for (int i = 0; i < o->conns; i++) {
        bconn *c = &th->conns[i];
        c->th = th;
        c->node = b->cluster ? bench_cluster_conn_node(b, i) : 0;
        c->ring = calloc((size_t)o->depth, sizeof(*c->ring));
        if (o->mget)
            c->mkeys = calloc((size_t)o->depth * (size_t)o->mget, sizeof(*c->mkeys));
        c->timer = evtimer_new(th->base, conn_timer_cb, c);
        c->deadline_timer = evtimer_new(th->base, conn_deadline_cb, c);
        c->fd = -1;
        c->in = evbuffer_new();
        c->out = evbuffer_new();
        conn_decoder_init(c);
        if (c->ring == NULL || (o->mget && c->mkeys == NULL) || c->timer == NULL || c->deadline_timer == NULL ||
            c->in == NULL || c->out == NULL)
            return -1;
    }
    return 0;
}

void thread_free(bthread *th)
{
    if (th->conns) {
        for (int i = 0; i < th->b->opt.conns; i++) {
            bconn *c = &th->conns[i];
            struct evbuffer *bufs[] = {c->in, c->out};
            conn_close_socket(c);
            for (size_t j = 0; j < 2; j++)
                if (bufs[j])
                    evbuffer_free(bufs[j]);
            if (c->timer)
                event_free(c->timer);
            if (c->deadline_timer)
                event_free(c->deadline_timer);
            proto_decoder_free(&c->dec);
            free(c->ring);
            free(c->mkeys);
        }
        free(th->conns);
    }
    struct event *evs[] = {th->tick, th->end_timer, th->drain_timer, th->stop};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    if (th->base)
        event_base_free(th->base);
    proto_buf_free(&th->scratch);
    proto_buf_free(&th->text);
    free(th->redirects);
}

/*
 * evkv_client.c: non-blocking socket + poll() client (see evkv_client.h),
 * over TCP (IPv4 or IPv6) or a Unix domain socket.
 */
#define _GNU_SOURCE /* ppoll */
#include "evkv_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

/* What ends every wait early (evkv_client_set_interrupt), or NULL. */
static const volatile sig_atomic_t *interrupt_flag;
static const sigset_t *interrupt_mask;

void evkv_client_set_interrupt(const volatile sig_atomic_t *flag, const sigset_t *wait_mask)
{
    interrupt_flag = flag;
    interrupt_mask = flag ? wait_mask : NULL;
}

/* The deadline of a call that starts now: the one set for every call (a
 * request's, its retries included), else the timeout from now. */
static int64_t client_deadline(const evkv_client *c)
{
    return c->deadline ? c->deadline : evkv_clock_ms() + c->timeout_ms;
}

void evkv_client_set_deadline(evkv_client *c, int64_t deadline)
{
    c->deadline = deadline;
}

/* Waits for events on c->fd until deadline (on evkv_clock_ms). Every wait
 * of one call (a connect, a send, an answer) shares that call's deadline,
 * so that a server sending a byte now and then cannot stretch the call
 * past the client's timeout. Returns the revents, or -1 with c->err on a
 * timeout or a poll error. */
static int client_wait(evkv_client *c, short events, int64_t deadline, const char *what)
{
    /* TLS may need the other direction first (a read that must write) */
    struct pollfd p = {.fd = c->fd, .events = c->tls_want ? c->tls_want : events};
    int rc, left;
    do {
        if (interrupt_flag && *interrupt_flag) {
            c->interrupted = 1;
            snprintf(c->err, sizeof(c->err), "interrupted");
            return -1;
        }
        left = evkv_ms_until(deadline);
        if (left <= 0) {
            rc = 0;
        } else if (interrupt_mask) {
            struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (long)(left % 1000) * 1000000};
            rc = ppoll(&p, 1, &ts, interrupt_mask);
        } else {
            rc = poll(&p, 1, left);
        }
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        snprintf(c->err, sizeof(c->err), "poll: %s", strerror(errno));
        return -1;
    }
    if (rc == 0) {
        c->timed_out = 1;
        snprintf(c->err, sizeof(c->err), "timed out after %d ms waiting %s", c->timeout_ms, what);
        return -1;
    }
    return p.revents;
}

/* Opens a non-blocking socket of the given kind and connects it to addr
 * by deadline. Returns 0 with c->fd, or -1 with c->err (the bare reason,
 * for the caller to put in context) and c->gone if the connect itself
 * failed (refused, unreachable, reset). */
static int connect_one(evkv_client *c, int family, int socktype, int protocol, const struct sockaddr *addr,
                       socklen_t addrlen, int64_t deadline)
{
    int fd = socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    c->gone = c->timed_out = 0; /* as this address ends, not an earlier one */
    if (fd < 0) {
        snprintf(c->err, sizeof(c->err), "socket: %s", strerror(errno));
        return -1;
    }
    c->fd = fd;
    if (connect(fd, addr, addrlen) != 0) {
        /* A Unix socket whose listen queue is full fails with EAGAIN at
         * once rather than going in progress: that is an error here. */
        if (errno != EINPROGRESS) {
            c->gone = 1;
            snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
            goto fail;
        }
        if (client_wait(c, POLLOUT, deadline, "for the connection") < 0)
            goto fail;
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr != 0) {
            c->gone = 1;
            snprintf(c->err, sizeof(c->err), "%s", strerror(soerr));
            goto fail;
        }
    }
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return 0;
fail:
    close(fd);
    c->fd = -1;
    return -1;
}

static void client_init(evkv_client *c, int timeout_ms, int64_t deadline, size_t max_answer)
{
    /* The header limit stays the protocol's default: a server's answer
     * headers are a hundred bytes. */
    proto_limits limits = {.max_header = PROTO_DEFAULT_MAX_HEADER, .max_content = max_answer};
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    c->deadline = deadline;
    proto_decoder_init(&c->dec, &limits);
}

/* --tls: the handshake on c's new connection to host, by deadline.
 * Returns 0, or -1 with c->err (c->ssl freed). */
static int client_handshake(evkv_client *c, const char *host, int64_t deadline)
{
    int step;
    if ((c->ssl = evkv_tls_new(c->fd, host, c->err, sizeof(c->err))) == NULL)
        return -1;
    while ((step = evkv_tls_handshake(c->ssl, c->err, sizeof(c->err))) != 0) {
        c->tls_want = 0;
        if (step < 0 || client_wait(c, (short)step, deadline, "for the TLS handshake") < 0) {
            evkv_tls_free(c->ssl);
            c->ssl = NULL;
            return -1;
        }
    }
    return 0;
}

int evkv_client_connect(evkv_client *c, const char *host, const char *port, int timeout_ms, int64_t deadline,
                        size_t max_answer)
{
    struct addrinfo hints, *res, *ai;
    char why[200];
    int rc;

    client_init(c, timeout_ms, deadline, max_answer);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(c->err, sizeof(c->err), "cannot resolve %s port %s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    /* One deadline for every address: a name with several cannot make a
     * connect take several timeouts. */
    deadline = client_deadline(c);
    for (ai = res; ai; ai = ai->ai_next)
        if (connect_one(c, ai->ai_family, ai->ai_socktype, ai->ai_protocol, ai->ai_addr, ai->ai_addrlen, deadline) == 0)
            break;
    freeaddrinfo(res);
    if (c->fd >= 0 && evkv_tls_enabled() && client_handshake(c, host, deadline) != 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (c->fd < 0) {
        snprintf(why, sizeof(why), "%.120s", c->err);
        snprintf(c->err, sizeof(c->err), "cannot connect to %.60s port %.10s: %.120s", host, port, why);
        return -1;
    }
    return 0;
}

int evkv_client_connect_unix(evkv_client *c, const char *path, int timeout_ms, int64_t deadline, size_t max_answer)
{
    struct sockaddr_un sun;
    size_t len = strlen(path);
    char why[200];

    client_init(c, timeout_ms, deadline, max_answer);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (len == 0 || len >= sizeof(sun.sun_path)) {
        snprintf(c->err, sizeof(c->err), "cannot connect to unix:%.180s: the path must be 1 to %zu bytes", path,
                 sizeof(sun.sun_path) - 1);
        return -1;
    }
    memcpy(sun.sun_path, path, len + 1);
    if (connect_one(c, AF_UNIX, SOCK_STREAM, 0, (const struct sockaddr *)&sun, sizeof(sun), client_deadline(c)) != 0) {
        snprintf(why, sizeof(why), "%.120s", c->err);
        snprintf(c->err, sizeof(c->err), "cannot connect to unix:%.108s: %.120s", path, why);
        return -1;
    }
    return 0;
}

long evkv_client_write_some(evkv_client *c, const void *buf, size_t len)
{
    ssize_t n = c->ssl ? evkv_tls_write(c->ssl, buf, len, &c->tls_want, c->err, sizeof(c->err))
                       : send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n > 0 || (n == 0 && !c->ssl))
        return (long)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    c->gone = 1; /* the request may not have gone out whole */
    if (n == 0)
        snprintf(c->err, sizeof(c->err), "the server closed the connection");
    else if (errno != EPROTO)
        snprintf(c->err, sizeof(c->err), "send: %s", strerror(errno));
    return -1;
}

/* recv(2), over TLS when c has it (EPROTO: c->err says why). */
static ssize_t client_recv(evkv_client *c, void *buf, size_t len)
{
    return c->ssl ? evkv_tls_read(c->ssl, buf, len, &c->tls_want, c->err, sizeof(c->err)) : recv(c->fd, buf, len, 0);
}

/* A failed receive (n: 0 at the end, or -1 with errno): c->err and gone. */
static void client_recv_failed(evkv_client *c, ssize_t n)
{
    c->gone = 1;
    if (n == 0)
        snprintf(c->err, sizeof(c->err), "the server closed the connection");
    else if (errno != EPROTO)
        snprintf(c->err, sizeof(c->err), "recv: %s", strerror(errno));
}

/* Sends all len bytes by deadline. Returns 0, or -1 with c->err. */
static int client_send_until(evkv_client *c, const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;
    while (len > 0) {
        long n = evkv_client_write_some(c, p, len);
        if (n < 0)
            return -1;
        if (n == 0 && client_wait(c, POLLOUT, deadline, "to send") < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int evkv_client_send(evkv_client *c, const void *buf, size_t len)
{
    c->gone = c->timed_out = 0;
    return client_send_until(c, buf, len, client_deadline(c));
}

long evkv_client_read_some(evkv_client *c)
{
    char buf[65536];
    ssize_t n = client_recv(c, buf, sizeof(buf));
    if (n > 0) {
        if (proto_decoder_feed(&c->dec, buf, (size_t)n) != 0) {
            snprintf(c->err, sizeof(c->err), "out of memory");
            return -1;
        }
        return (long)n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    client_recv_failed(c, n);
    return -1;
}

/* Waits by deadline for the next whole answer. Returns 0 with *msg, or -1
 * with c->err. */
static int client_recv_until(evkv_client *c, proto_message *msg, int64_t deadline)
{
    for (;;) {
        proto_status st = proto_decoder_next(&c->dec, msg);
        if (st == PROTO_OK)
            return 0;
        if (st == PROTO_ERROR) {
            snprintf(c->err, sizeof(c->err), "bad answer from the server: %s%s", c->dec.errstr,
                     evkv_decoder_hint(&c->dec));
            return -1;
        }
        long n = evkv_client_read_some(c);
        if (n < 0)
            return -1;
        if (n == 0 && client_wait(c, POLLIN, deadline, "for an answer") < 0)
            return -1;
    }
}

int evkv_client_exchange(evkv_client *c, const void *req, size_t len, proto_message *msg)
{
    c->gone = c->timed_out = 0;
    int64_t deadline = client_deadline(c);
    if (client_send_until(c, req, len, deadline) != 0)
        return -1;
    return client_recv_until(c, msg, deadline);
}

int evkv_client_recv_raw(evkv_client *c, void *buf, size_t len, size_t *got)
{
    int64_t deadline = client_deadline(c);
    size_t n_got = 0;
    int rc = -1;

    c->gone = c->timed_out = 0;
    while (n_got < len) {
        ssize_t n = client_recv(c, (char *)buf + n_got, len - n_got);
        if (n > 0) {
            n_got += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            client_recv_failed(c, n);
            goto done;
        }
        if (client_wait(c, POLLIN, deadline, "for the echo") < 0)
            goto done;
    }
    rc = 0;
done:
    if (got)
        *got = n_got;
    return rc;
}

void evkv_client_close(evkv_client *c)
{
    if (c->ssl)
        evkv_tls_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    proto_decoder_free(&c->dec);
}

const char *evkv_decoder_hint(const proto_decoder *d)
{
    return d->err == PROTO_ERR_CONTENT_TOO_LONG ? " (--max-answer raises it)" : "";
}

evkv_answer evkv_answer_classify(const proto_message *msg, const char *key, size_t key_len, json_t **result)
{
    static const char miss_prefix[] = WIRE_MISS_PREFIX, miss_suffix[] = WIRE_MISS_SUFFIX;
    json_t *content, *r;

    *result = NULL;
    if (!msg->is_json)
        return EVKV_ANSWER_BINARY;
    content = json_loadb((const char *)msg->content, msg->content_len,
                         JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    r = json_object_get(content, "result");
    json_incref(r);
    json_decref(content);
    if (r == NULL)
        return EVKV_ANSWER_ERROR;
    *result = r;
    if (json_is_string(r)) {
        const char *s = json_string_value(r);
        size_t n = json_string_length(r), np = sizeof(miss_prefix) - 1, ns = sizeof(miss_suffix) - 1;
        if (n == np + key_len + ns && memcmp(s, miss_prefix, np) == 0 && memcmp(s + np, key, key_len) == 0 &&
            memcmp(s + np + key_len, miss_suffix, ns) == 0)
            return EVKV_ANSWER_MISS;
        if (n >= 7 && memcmp(s, "Error: ", 7) == 0)
            return EVKV_ANSWER_ERROR;
    }
    return EVKV_ANSWER_HIT;
}

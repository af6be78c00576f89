/*
 * transport.h: how a connection's bytes cross its socket.
 *
 * conn.c reads, writes, shuts down and closes a connection only through
 * its transport, a table of functions the listener chose, the way Redis's
 * connection holds its ConnectionType (socket or TLS) under the RESP code.
 * The protocol above (protocol.h) never sees it. The plain transport
 * (transport_plain.c) is the socket itself; the TLS one (transport_tls.c)
 * drives OpenSSL on the non-blocking socket as Redis's tls.c does.
 * `pending` is there for the input TLS holds decrypted, which epoll never
 * signals (Redis's tlsProcessPendingData), and `open` for its
 * per-connection state, made from the listener's context.
 *
 * A TLS read may have to write (a handshake's reply) and a TLS write may
 * have to read (the handshake an answer waits for): such a call answers
 * EAGAIN with read_wants_write or write_wants_read set, and conn.c waits
 * for that readiness instead, as Redis's TLS_CONN_FLAG_READ_WANT_WRITE
 * does. A connection still in its handshake says so (handshaking), so that
 * --message-timeout bounds it.
 *
 * Calls follow recv(2)'s conventions, so that the plain transport is the
 * system call and nothing more: a count of bytes, 0 at the end of input,
 * or -1 with errno set (EAGAIN and EWOULDBLOCK: nothing now; EINTR: try
 * again).
 */
#ifndef EVKV_TRANSPORT_H
#define EVKV_TRANSPORT_H

#include <event2/buffer.h>
#include <event2/util.h>
#include <stddef.h>
#include <sys/types.h>

struct transport;

/* One connection's end of its transport: the socket, and the transport's
 * own state for it (NULL for the plain transport). */
typedef struct transport_conn {
    const struct transport *tp;
    evutil_socket_t fd;
    void *state;
    unsigned read_wants_write : 1; /* the last read's EAGAIN waits for the socket to take bytes */
    unsigned write_wants_read : 1; /* the last write's EAGAIN waits for bytes from the peer */
    unsigned handshaking : 1;      /* no byte of the protocol can pass yet */
} transport_conn;

typedef struct transport {
    const char *name;
    /* Takes over fd (a connected, non-blocking socket) for t, with ctx the
     * listener's context for this transport (NULL for plain). Returns 0,
     * or -1 (fd not closed: the caller closes it). */
    int (*open)(transport_conn *t, evutil_socket_t fd, void *ctx);
    /* Reads at most len bytes into buf. */
    ssize_t (*read)(transport_conn *t, void *buf, size_t len);
    /* Writes what the socket takes of out, and drains that from out. */
    int (*write)(transport_conn *t, struct evbuffer *out);
    /* Bytes already taken off the socket and held for the next read, which
     * the socket's readiness will not announce. NULL: never any (plain). */
    size_t (*pending)(const transport_conn *t);
    /* Everything is written: ends the write side, so that the peer reads
     * the last bytes, then its end of input. Returns 0 or -1. */
    int (*shutdown)(transport_conn *t);
    /* Bytes written and not yet acknowledged by the peer (for a lingering
     * close), or -1 if unknown. */
    int (*unacked)(const transport_conn *t);
    /* Bytes the socket holds for reading now (for a stop), or -1. */
    int (*readable)(const transport_conn *t);
    /* Frees t's state and closes its socket. */
    void (*close)(transport_conn *t);
    /* Why the call that just failed on this thread did (a TLS alert, a
     * handshake sent to a plain port), worth a line in the log; NULL when
     * errno says all (a reset, a close). */
    const char *(*error)(const transport_conn *t);
    /* The subject CN of the certificate the client showed and the
     * handshake verified, copied NUL-terminated into buf. Returns its
     * length, or -1: no such certificate, no CN or more than one, a NUL in
     * it, or longer than len - 1. NULL: never any (plain). */
    int (*peer_cn)(const transport_conn *t, char *buf, size_t len);
} transport;

extern const transport transport_plain; /* the socket as it is */
extern const transport transport_tls;   /* TLS, ctx a tls_context (tls.h) */

/* Opens t on fd with transport tp and its listener's context ctx. Returns
 * 0, or -1 with fd still open. */
static inline int transport_open(transport_conn *t, const transport *tp, evutil_socket_t fd, void *ctx)
{
    t->tp = tp;
    t->fd = fd;
    t->state = NULL;
    t->read_wants_write = t->write_wants_read = t->handshaking = 0;
    return tp->open(t, fd, ctx);
}

static inline ssize_t transport_read(transport_conn *t, void *buf, size_t len)
{
    return t->tp->read(t, buf, len);
}

static inline int transport_write(transport_conn *t, struct evbuffer *out)
{
    return t->tp->write(t, out);
}

static inline size_t transport_pending(const transport_conn *t)
{
    return t->tp->pending ? t->tp->pending(t) : 0;
}

static inline int transport_shutdown(transport_conn *t)
{
    return t->tp->shutdown(t);
}

static inline int transport_unacked(const transport_conn *t)
{
    return t->tp->unacked(t);
}

static inline int transport_readable(const transport_conn *t)
{
    return t->tp->readable(t);
}

static inline void transport_close(transport_conn *t)
{
    t->tp->close(t);
}

static inline const char *transport_error(const transport_conn *t)
{
    return t->tp->error(t);
}

static inline int transport_peer_cn(const transport_conn *t, char *buf, size_t len)
{
    return t->tp->peer_cn ? t->tp->peer_cn(t, buf, len) : -1;
}

#endif

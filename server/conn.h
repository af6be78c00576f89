/*
 * conn.h: one client connection (conn.c): read through its transport,
 * answered by its protocol, closed the way a server that closes first
 * must close. A worker makes one for each socket its listeners accept,
 * and keeps them in a conn_set; conn.c knows no protocol, no transport
 * and no worker, only the two tables (protocol.h, transport.h) its
 * listener chose and the set it is one of.
 */
#ifndef EVKV_CONN_H
#define EVKV_CONN_H

#include <event2/util.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "handler.h"
#include "server.h"

struct conn;
struct conn_protocol;
struct event_base;
struct transport;

/* What a worker's connections count. Only the worker writes them; stats
 * read them from any thread, hence atomics (relaxed: plain loads and
 * stores on x86). */
typedef struct conn_counters {
    protocol_counters proto[PROTOCOL_COUNT]; /* requests answered, by protocol */
    atomic_ullong conns_total;               /* connections accepted */
    atomic_ullong conns_refused;             /* connections refused past --max-conns */
    atomic_ullong timeouts;                  /* connections closed by --idle/--message-timeout */
    atomic_ullong bytes_in, bytes_out;
    atomic_ullong cert_logins;  /* TLS connections logged in by their certificate's CN */
    atomic_ullong cert_refused; /* certificates whose CN named no enabled user (acl_access_denied_tls_cert) */
} conn_counters;

/* One worker's connections, and all that conn.c needs of the worker that
 * owns them, which conn.c does not know: the worker fills it, advances the
 * clock and sets stopping; conn.c keeps the list and counts. */
typedef struct conn_set {
    struct event_base *base;
    const server_options *opt;
    atomic_size_t *open; /* connections open in the whole server: a counted close gives its place back */
    conn_counters counters;
    long clock;   /* seconds since start, advanced once a second by the owner */
    int stopping; /* no new work: drained(arg) is called once the last connection closed */
    void (*drained)(void *arg);
    void *arg;
    struct conn *list; /* doubly linked list of open connections */
    size_t n;
    uint64_t next_id, id_step, id_base; /* ids are ++next_id * id_step + id_base: unique over the workers */
} conn_set;

/* What a listener's connections are: the protocol they speak, over which
 * transport (with the transport's context for this listener: NULL for the
 * plain one), answered by which wing. */
typedef struct conn_endpoint {
    const struct conn_protocol *proto;
    const struct transport *tp;
    void *tp_ctx;
    void *wing;    /* the protocol's state in this worker (conn_protocol.wing_new) */
    int cert_user; /* a client certificate's CN logs the connection in (--tls-auth-clients-user CN) */
} conn_endpoint;

/* Takes over fd (a connected socket) as a new connection of ep, in the
 * place under --max-conns that the caller took in server->conns. */
void conn_new(conn_set *cs, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep);
/* Takes over fd to send it one error answer saying why, and close it
 * (--max-conns); it holds no place under --max-conns meanwhile. */
void conn_refuse(conn_set *cs, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep,
                 const char *why);
/* Closes c at once and frees it. */
void conn_close(struct conn *c);
/* Once a second: closes connections past --idle-timeout or with a message
 * unfinished on the wire past --message-timeout. */
void conn_sweep(conn_set *cs);
/* After the worker moved to new users: each open connection finds its
 * user again (conn_protocol.rebind); one whose user is gone is closed at
 * once, as Redis closes the clients of a deleted user. */
void conn_rebind_all(conn_set *cs);
/* For a stop: reads what already arrived on every connection, answers the
 * complete requests, and closes each one once its answers are sent. */
void conn_stop_all(conn_set *cs);

#endif

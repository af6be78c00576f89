/*
 * conn.h: one client connection (conn.c): read through its transport,
 * answered by its protocol, closed the way a server that closes first
 * must close. A worker makes one for each socket its listeners accept,
 * and keeps them in a list; conn.c knows no protocol and no transport,
 * only the two tables (protocol.h, transport.h) its listener chose.
 */
#ifndef EVKV_CONN_H
#define EVKV_CONN_H

#include <event2/util.h>
#include <sys/socket.h>

struct conn;
struct conn_protocol;
struct transport;
struct worker;

/* What a listener's connections are: the protocol they speak, over which
 * transport (with the transport's context for this listener: NULL for the
 * plain one), answered by which wing. */
typedef struct conn_endpoint {
    const struct conn_protocol *proto;
    const struct transport *tp;
    void *tp_ctx;
    void *wing; /* the protocol's state in this worker (conn_protocol.wing_new) */
} conn_endpoint;

/* Takes over fd (a connected socket) as a new connection of ep, in the
 * place under --max-conns that the caller took in server->conns. */
void conn_new(struct worker *wk, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep);
/* Takes over fd to send it one error answer saying why, and close it
 * (--max-conns); it holds no place under --max-conns meanwhile. */
void conn_refuse(struct worker *wk, evutil_socket_t fd, const struct sockaddr *addr, const conn_endpoint *ep,
                 const char *why);
/* Closes c at once and frees it. */
void conn_close(struct conn *c);
/* Once a second: closes connections past --idle-timeout or with a message
 * unfinished on the wire past --message-timeout. */
void conn_sweep(struct worker *wk);
/* For a stop: reads what already arrived on every connection, answers the
 * complete requests, and closes each one once its answers are sent. */
void conn_stop_all(struct worker *wk);

#endif

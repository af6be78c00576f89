/*
 * server.h: the state of one evkv-server event loop.
 *
 * Everything a loop touches hangs off struct server: its event_base, its
 * listener, its connections and its handler context. There is no global
 * state, so more loops can run side by side, one per thread.
 */
#ifndef EVKV_SERVER_H
#define EVKV_SERVER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <stdint.h>

#include "handler.h"
#include "load.h"
#include "proto.h"

/* How long a stopping server waits for answers to drain before it closes
 * the connections still open. */
#define SERVER_STOP_GRACE_SECONDS 5

typedef struct server_options {
    const char *host;       /* address to listen on */
    const char *port;       /* port, as text; "0" picks a free one */
    const char *data;       /* data file, or NULL for the built-in table */
    datafile_format format; /* how to read the data file */
    int echo;               /* raw echo mode: send back whatever arrives */
    int verbose;            /* log each request on stderr */
    proto_limits limits;
} server_options;

struct conn;

typedef struct server {
    const server_options *opt;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *sig_int, *sig_term, *stop_timer;
    handler_ctx handler;
    struct conn *conns; /* doubly linked list of open connections */
    size_t nconns;
    int stopping;    /* a stop signal arrived: no new work */
    int stop_signal; /* which signal, for the stop line */
    int forced_stop; /* a second signal cut the stop short */
    uint64_t next_conn_id;
    uint64_t requests; /* answers sent, all outcomes */
} server;

/* Takes over fd (a connected socket) as a new connection. */
void conn_new(server *srv, evutil_socket_t fd, const struct sockaddr *addr, int addrlen);
/* Closes c at once and frees it. */
void conn_close(struct conn *c);
/* For a stop: reads what already arrived on every connection, answers the
 * complete requests, and closes each one once its answers are sent. */
void conn_stop_all(server *srv);
/* Writes addr as host:port ([host]:port for IPv6). */
void server_format_addr(char *out, size_t outlen, const struct sockaddr *addr);
/* Called by conn.c when the last connection of a stopping server closed. */
void server_conns_drained(server *srv);

#endif

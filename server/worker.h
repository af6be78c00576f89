/*
 * worker.h: a worker: a thread with its own event loop, listeners,
 * connections and handler. There is no global state: --threads N runs N
 * workers side by side, each accepting on its own SO_REUSEPORT listeners.
 */
#ifndef EVKV_WORKER_H
#define EVKV_WORKER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conn.h"
#include "dataset.h"
#include "handler.h"
#include "server.h"

/* A worker's listeners: the guide's protocol (or --echo), and RESP, each
 * in plain text and over TLS. */
enum { LISTENER_MAIN, LISTENER_RESP, LISTENER_TLS, LISTENER_RESP_TLS, WORKER_LISTENERS };

/* One listener of a worker, and what its connections are: the protocol
 * they speak, over which transport, and the protocol's wing in this
 * worker (made by worker_init, trimmed by the sweep, freed by
 * worker_free). */
typedef struct worker_listener {
    struct worker *w;
    struct evconnlistener *ev; /* NULL: not listening */
    conn_endpoint ep;
} worker_listener;

/* One worker: a thread with its own event loop, listener (SO_REUSEPORT),
 * connections and handler. Nothing on the hot path is shared with the
 * other workers but the read-only table. */
typedef struct worker {
    server *server;
    const server_options *opt;
    int index;
    pthread_t thread;
    int thread_started;
    struct event_base *base;
    worker_listener listeners[WORKER_LISTENERS];
    struct event *notify_ev, *stop_timer, *sweep_timer;
    int notify_fd[2];    /* the main thread writes a command byte to [1] */
    handler_ctx handler; /* what every protocol's wing answers from (protocol_env) */
    dataset *dataset;    /* the table handler answers from (a reference) */
    /* Its connections (conn.c), their counters, the clock (seconds since
     * start, advanced by the sweep) and whether a stop arrived. */
    conn_set conns;
    int forced_stop;            /* a second stop cut it short */
    atomic_ullong last_second;  /* requests answered in the last whole second (worker_stats_tick) */
    uint64_t random;            /* worker_random's state */
    uint64_t requests_at_sweep; /* worker_requests(w) at the last sweep (worker_stats_tick) */
} worker;

/* Commands from the main thread to a worker (worker_notify). */
#define WORKER_CMD_STOP  's' /* stop accepting, answer what arrived, end */
#define WORKER_CMD_FORCE 'f' /* end now */
#define WORKER_CMD_SWAP  'r' /* answer from the current dataset from now on */

/* Sets up worker index (its event loop and timers). Returns 0 or -1. */
int worker_init(worker *w, server *srv, int index);
/* Binds w's listener to host:port, with SO_REUSEPORT when others share
 * the port (the first worker then checks that no one else listens there);
 * `where` gets the address bound (for the start line and for the next
 * worker when the port was 0). Returns SERVER_LISTEN_OK, or a failure with
 * a message in the log. */
int worker_listen(worker *w, int which, const char *host, const char *port, int reuseport, char *where, size_t wherelen,
                  char *port_out, size_t port_outlen);
/* Makes w accept on fd (a listening socket, which w then owns). Returns 0
 * or -1. */
int worker_listen_fd(worker *w, int which, int fd);
/* Total requests answered by w. */
uint64_t worker_requests(const worker *w);
/* Starts w's thread. Returns 0 or -1. */
int worker_start(worker *w);
/* Sends w a command (WORKER_CMD_*); safe from any thread. */
void worker_notify(worker *w, char cmd);
/* A pseudo-random number from w's own sequence (RANDOMKEY); arg is a
 * worker. Not for secrets. */
uint64_t worker_random(void *arg);
/* Waits for w's thread (if started) and frees what w holds. */
void worker_free(worker *w);

#endif

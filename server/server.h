/*
 * server.h: evkv-server's workers and what they share.
 *
 * Everything an event loop touches hangs off its struct worker (a worker):
 * its event_base, listener, connections and handler context. There is no
 * global state: --threads N runs N workers side by side, one per thread,
 * each accepting on its own SO_REUSEPORT listener.
 */
#ifndef EVKV_SERVER_H
#define EVKV_SERVER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "handler.h"
#include "load.h"
#include "log.h"
#include "proto.h"

/* How long a stopping server waits for answers to drain before it closes
 * the connections still open. */
#define SERVER_STOP_GRACE_SECONDS 5
/* Descriptors kept back from --max-conns's default (listener, logs, ...). */
#define SERVER_FD_RESERVE              32
#define SERVER_DEFAULT_IDLE_TIMEOUT    60 /* seconds */
#define SERVER_DEFAULT_MESSAGE_TIMEOUT 10 /* seconds */
#define SERVER_DEFAULT_MAX_OUTPUT      (1024 * 1024)

typedef struct server_options {
    const char *host;           /* address to listen on */
    const char *port;           /* port, as text; "0" picks a free one */
    const char *unix_path;      /* Unix domain socket to listen on instead, or NULL */
    int unix_mode;              /* its permissions (and resp_unix_path's), or -1 for the umask's */
    const char *resp_port;      /* RESP listener's port on host ("0": a free one), or NULL */
    const char *resp_unix_path; /* RESP listener's Unix domain socket, or NULL */
    const char *data;           /* data file, or NULL for the built-in table */
    datafile_format format;     /* how to read the data file */
    int echo;                   /* raw echo mode: send back whatever arrives */
    log_level log_level;        /* LOG_DEBUG logs each connection and request */
    const char *log_file;       /* log here instead of stderr, or NULL */
    proto_limits limits;
    size_t max_conns;     /* connections past this are refused */
    size_t max_output;    /* unsent answer bytes at which a connection stops being read */
    long idle_timeout;    /* seconds a connection may do nothing (0: forever) */
    long message_timeout; /* seconds from a message's first byte to its last (0: forever) */
    int threads;          /* workers, each with its own event loop */
} server_options;

struct conn;
struct worker;

/* A table being served, and where it came from (for stats). Each worker
 * holds a reference to the one it answers from, the main thread one to
 * the current one; the last reference released frees it. Answers are
 * copied out of the table as they are queued, so once a worker has let go
 * of a table, nothing of it is left in its connections. */
typedef struct dataset {
    table *table; /* NULL in echo mode */
    atomic_int refs;
    char *source;       /* the data file, or "built-in" */
    const char *format; /* "json", "tsv", or NULL for the built-in table */
    double load_seconds;
    long long loaded_at; /* Unix time */
} dataset;

/* Takes over t (NULL in echo mode); one reference. NULL when out of memory
 * (t is then freed). */
dataset *dataset_new(table *t, const char *source, const char *format, double load_seconds);
dataset *dataset_ref(dataset *d);
void dataset_release(dataset *d);
/* 1 if the caller holds the only reference to d. */
int dataset_unshared(dataset *d);

/* What the workers share: read-only, but for the counters and the current
 * dataset (under lock). */
typedef struct server {
    const server_options *opt;
    pthread_mutex_t lock;
    dataset *current; /* under lock */
    struct worker *workers;
    int nworkers;
    atomic_size_t conns;   /* open connections, in all workers */
    atomic_ullong reloads; /* tables swapped in by SIGHUP */
    atomic_ullong reload_failures;
    double started; /* CLOCK_MONOTONIC seconds at start */
    int done_fd;    /* a worker writes a byte here when its loop ends */
} server;

/* Sets srv up to serve d (whose reference it takes). Returns 0 or -1. */
int server_init(server *srv, const server_options *opt, dataset *d, struct worker *workers, int nworkers);
void server_free(server *srv);
/* Makes d (whose reference it takes) the current dataset and tells every
 * worker to move to it between two requests. Returns the previous one,
 * whose reference passes to the caller: when it is the last one left (the
 * workers have all moved), the caller frees the old table, so that no
 * worker spends its time on that. */
dataset *server_swap(server *srv, dataset *d);
/* A new reference to the current dataset. */
dataset *server_current(server *srv);

/* A worker's counters. Only the worker writes them; stats read them from
 * any worker, hence atomics (relaxed: plain loads and stores on x86). */
typedef struct worker_counters {
    atomic_ullong outcomes[OUTCOME_COUNT]; /* requests answered, by outcome */
    atomic_ullong conns_total;             /* connections accepted */
    atomic_ullong conns_refused;           /* connections refused past --max-conns */
    atomic_ullong timeouts;                /* connections closed by --idle/--message-timeout */
    atomic_ullong bytes_in, bytes_out;
    atomic_ullong last_second; /* requests answered in the last whole second (worker_stats_tick) */
} worker_counters;

/* A worker's listeners: the guide's protocol (or --echo), and RESP. */
enum { LISTENER_MAIN, LISTENER_RESP, WORKER_LISTENERS };

/* One listener of a worker, and the protocol its connections speak. */
typedef struct worker_listener {
    struct worker *w;
    struct evconnlistener *ev; /* NULL: not listening */
    const struct conn_protocol *proto;
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
    int notify_fd[2]; /* the main thread writes a command byte to [1] */
    handler_ctx handler;
    dataset *dataset;   /* the table handler answers from (a reference) */
    struct conn *conns; /* doubly linked list of open connections */
    size_t nconns;
    int stopping;    /* a stop arrived: no new work */
    int forced_stop; /* a second stop cut it short */
    uint64_t next_conn_id;
    worker_counters counters;
    long clock;                 /* seconds since start, advanced by the sweep */
    uint64_t requests_at_sweep; /* worker_requests(w) at the last sweep (worker_stats_tick) */
} worker;

/* Commands from the main thread to a worker (worker_notify). */
#define WORKER_CMD_STOP  's' /* stop accepting, answer what arrived, end */
#define WORKER_CMD_FORCE 'f' /* end now */
#define WORKER_CMD_SWAP  'r' /* answer from the current dataset from now on */

/* What the listening functions return: how they failed decides the exit
 * status (bad configuration is 2, as for --check-config; 1 is for what
 * may pass on retry, such as an address in use). */
#define SERVER_LISTEN_OK     0
#define SERVER_LISTEN_FAILED (-1) /* may pass on retry */
#define SERVER_LISTEN_CONFIG (-2) /* bad configuration */

/* Sets up worker index (its event loop and timers). Returns 0 or -1. */
int worker_init(worker *w, server *srv, int index);
/* Resolves host and port for listening, as the start and --check-config
 * both do. Returns SERVER_LISTEN_OK with *res (the caller frees it with
 * freeaddrinfo), or a SERVER_LISTEN_* failure with err. */
struct addrinfo;
int server_resolve(const char *host, const char *port, struct addrinfo **res, char *err, size_t errlen);
/* Binds w's listener to host:port, with SO_REUSEPORT when others share
 * the port (the first worker then checks that no one else listens there);
 * `where` gets the address bound (for the start line and for the next
 * worker when the port was 0). Returns SERVER_LISTEN_OK, or a failure with
 * a message in the log. */
int worker_listen(worker *w, int which, const char *host, const char *port, int reuseport, char *where, size_t wherelen,
                  char *port_out, size_t port_outlen);
/* Binds a Unix domain socket at path (replacing a stale one, refusing one
 * a server still answers on) and, if mode is not -1, gives it that mode.
 * Returns SERVER_LISTEN_OK with the listening socket in *fd, or a failure
 * with a message in the log. */
int server_unix_socket(const char *path, int mode, int *fd);
/* Checks that path can name a Unix domain socket. Returns 0, or -1 with
 * err. */
int server_unix_path_check(const char *path, char *err, size_t errlen);
/* Makes w accept on fd (a listening socket, which w then owns). Returns 0
 * or -1. */
int worker_listen_fd(worker *w, int which, int fd);
/* Total requests answered by w. */
uint64_t worker_requests(const worker *w);
/* Writes the stats action's JSON object (see the README) for the server w
 * is part of. Returns 0 or -1. */
int server_stats_json(void *w, proto_buf *out);
/* Once a second, from w's sweep: counts the requests w answered in the
 * second just ended, for stats' requests_per_second. */
void worker_stats_tick(worker *w);
/* Starts w's thread. Returns 0 or -1. */
int worker_start(worker *w);
/* Sends w a command (WORKER_CMD_*); safe from any thread. */
void worker_notify(worker *w, char cmd);
/* Waits for w's thread (if started) and frees what w holds. */
void worker_free(worker *w);

/* Tells systemd the service's state ("READY=1", "RELOADING=1", ...) when
 * it runs us as a Type=notify service (NOTIFY_SOCKET is set): the sd_notify
 * datagram protocol, written by hand. RELOADING=1 gets the MONOTONIC_USEC
 * that systemd asks for. Does nothing otherwise. */
void systemd_notify(const char *state);

/* Takes over fd (a connected socket) as a new connection, in the place
 * under --max-conns that the caller took in server->conns. */
void conn_new(worker *wk, evutil_socket_t fd, const struct sockaddr *addr, const struct conn_protocol *proto);
/* Takes over fd to send it one error answer saying why, and close it
 * (--max-conns); it holds no place under --max-conns meanwhile. */
void conn_refuse(worker *wk, evutil_socket_t fd, const struct sockaddr *addr, const struct conn_protocol *proto,
                 const char *why);
/* Closes c at once and frees it. */
void conn_close(struct conn *c);
/* Once a second: closes connections past --idle-timeout or with a message
 * unfinished on the wire past --message-timeout. */
void conn_sweep(worker *wk);
/* For a stop: reads what already arrived on every connection, answers the
 * complete requests, and closes each one once its answers are sent. */
void conn_stop_all(worker *wk);
/* Writes addr as host:port ([host]:port for IPv6). */
void server_format_addr(char *out, size_t outlen, const struct sockaddr *addr);
/* Called by conn.c when the last connection of a stopping server closed. */
void worker_conns_drained(worker *wk);

#endif

/*
 * worker.c: a worker thread: one event loop with its own listeners, its
 * connections (conn.c) and its once-a-second sweep.
 *
 * Workers share the port through SO_REUSEPORT, so the kernel spreads new
 * connections over them and nothing is handed from thread to thread. The
 * main thread, which owns the signals, talks to a worker through a pipe
 * (worker_notify): one byte to stop, one to stop at once. A worker tells
 * the main thread it has ended by a byte on server->done_fd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/un.h>
#include <unistd.h>

#include "hash.h"
#include "listen.h"
#include "protocol.h"
#include "transport.h"
#include "worker.h"

/* Between two callbacks, so between two requests: answer from the current
 * dataset from now on, and let go of the previous one (the main thread
 * frees it once every worker has). */
static void worker_swap_dataset(worker *w)
{
    dataset *d = server_current(w->server);
    int new_users = d->acl != w->handler.acl;
    dataset_release(w->dataset);
    w->dataset = d;
    w->handler.table = d->table;
    w->handler.cluster = d->cluster;
    w->handler.acl = d->acl;
    if (new_users)
        conn_rebind_all(&w->conns);
}

uint64_t worker_random(void *arg)
{
    worker *w = arg;
    return hash_splitmix64(&w->random);
}

uint64_t worker_requests(const worker *w)
{
    uint64_t n = 0;
    for (int p = 0; p < PROTOCOL_COUNT; p++)
        for (int i = 0; i < OUTCOME_COUNT; i++)
            n += COUNTER_GET(w->conns.counters.proto[p].outcomes[i]);
    return n;
}

/* Once a second, from the sweep: counts the requests w answered in the
 * second just ended, for stats' requests_per_second. */
static void worker_stats_tick(worker *w)
{
    uint64_t total = worker_requests(w);
    atomic_store_explicit(&w->last_second, total - w->requests_at_sweep, memory_order_relaxed);
    w->requests_at_sweep = total;
}

/* conn.c's drained: the last connection of a stopping worker closed. */
static void worker_conns_drained(void *arg)
{
    worker *w = arg;
    event_base_loopexit(w->base, NULL);
}

static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    (void)fd;
    (void)what;
    /* The last connection may have closed in this same turn of the loop
     * (a stop that took the whole grace answering what had arrived). */
    if (w->conns.n == 0)
        return;
    log_warn("%zu connection(s) still had answers unsent after %d s; closing them", w->conns.n,
             SERVER_STOP_GRACE_SECONDS);
    event_base_loopbreak(w->base);
}

/* Stop: no new connections; what already arrived is answered; the loop
 * ends once every answer is sent, or after the grace period. */
static void worker_stop(worker *w)
{
    for (int i = 0; i < WORKER_LISTENERS; i++) {
        if (w->listeners[i].ev) {
            evconnlistener_free(w->listeners[i].ev);
            w->listeners[i].ev = NULL;
        }
    }
    struct timeval grace = {SERVER_STOP_GRACE_SECONDS, 0};
    evtimer_add(w->stop_timer, &grace);
    w->conns.stopping = 1;
    conn_stop_all(&w->conns);
    if (w->conns.n == 0)
        worker_conns_drained(w);
}

static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    char cmds[16];
    (void)what;

    ssize_t n = read(fd, cmds, sizeof(cmds));
    for (ssize_t i = 0; i < n; i++) {
        if (cmds[i] == WORKER_CMD_FORCE) {
            w->forced_stop = 1;
            event_base_loopbreak(w->base);
        } else if (cmds[i] == WORKER_CMD_STOP && !w->conns.stopping) {
            worker_stop(w);
        } else if (cmds[i] == WORKER_CMD_SWAP) {
            worker_swap_dataset(w);
        }
    }
}

void worker_notify(worker *w, char cmd)
{
    /* A pipe write of one byte is atomic; the pipe never fills (a few
     * commands at most: two stops and the swaps of reloads, which the main
     * thread makes one at a time, a worker taking each at its next turn). */
    ssize_t n = write(w->notify_fd[1], &cmd, 1);
    (void)n;
}

/* Once a second: the worker's clock, its requests per second, the
 * connection deadlines, and the scratch buffers a big answer grew (they
 * are mapped on their own, so freeing them gives them back to the system:
 * see memory_setup in main.c). */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    (void)fd;
    (void)what;
    w->conns.clock++;
    worker_stats_tick(w);
    conn_sweep(&w->conns);
    for (int i = 0; i < WORKER_LISTENERS; i++)
        w->listeners[i].ep.proto->wing_trim(w->listeners[i].ep.wing);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int addrlen, void *arg)
{
    worker_listener *li = arg;
    worker *w = li->w;
    (void)l;
    (void)addrlen;
    /* Take the place first, then look: two workers accepting at once
     * cannot both see the last place free. */
    if (atomic_fetch_add_explicit(&w->server->conns, 1, memory_order_relaxed) >= w->opt->max_conns) {
        char why[96];
        atomic_fetch_sub_explicit(&w->server->conns, 1, memory_order_relaxed);
        snprintf(why, sizeof(why), "too many connections (the limit is %zu)", w->opt->max_conns);
        conn_refuse(&w->conns, fd, addr, &li->ep, why);
        return;
    }
    conn_new(&w->conns, fd, addr, &li->ep);
}

static void listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    worker_listener *li = arg;
    (void)fd;
    (void)what;
    if (li->ev)
        evconnlistener_enable(li->ev);
}

/* accept() failed. Out of descriptors, libevent would call this again on
 * every loop turn and spin the CPU: pause accepting for a moment instead,
 * as pgbouncer and tmux do. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    worker_listener *li = arg;
    int err = EVUTIL_SOCKET_ERROR();
    static const struct timeval pause = {0, 100 * 1000};

    log_error("accept: %s", evutil_socket_error_to_string(err));
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        evconnlistener_disable(l);
        event_base_once(li->w->base, -1, EV_TIMEOUT, listener_resume_cb, li, &pause);
    }
}

int worker_init(worker *w, server *srv, int index)
{
    memset(w, 0, sizeof(*w));
    w->server = srv;
    w->opt = srv->opt;
    w->index = index;
    w->random = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)index;
    for (int i = 0; i < WORKER_LISTENERS; i++)
        w->listeners[i].w = w;
    w->listeners[LISTENER_MAIN].ep =
        (conn_endpoint){w->opt->echo ? &proto_echo : &proto_guide, &transport_plain, NULL, NULL, 0};
    w->listeners[LISTENER_RESP].ep = (conn_endpoint){&proto_resp, &transport_plain, NULL, NULL, 0};
    int cert_user = w->opt->tls.auth_clients_user == TLS_USER_CN;
    w->listeners[LISTENER_TLS].ep =
        (conn_endpoint){w->opt->echo ? &proto_echo : &proto_guide, &transport_tls, srv->tls, NULL, cert_user};
    w->listeners[LISTENER_RESP_TLS].ep = (conn_endpoint){&proto_resp, &transport_tls, srv->tls, NULL, cert_user};
    w->notify_fd[0] = w->notify_fd[1] = -1;
    w->dataset = server_current(srv);
    w->handler.table = w->dataset->table;
    w->handler.cluster = w->dataset->cluster;
    w->handler.acl = w->dataset->acl;
    for (int i = 0; i < WORKER_LISTENERS; i++) {
        conn_endpoint *ep = &w->listeners[i].ep;
        protocol_env env = {&w->handler,
                            &w->conns.counters.proto[ep->proto->tag],
                            srv->stats_json,
                            srv->server_info,
                            w->opt->protected_mode,
                            worker_random,
                            w};
        if ((ep->wing = ep->proto->wing_new(&env)) == NULL)
            return -1;
    }
    w->base = event_base_new();
    if (w->base == NULL || pipe(w->notify_fd) != 0)
        return -1;
    w->conns.base = w->base;
    w->conns.opt = w->opt;
    w->conns.open = &srv->conns;
    w->conns.drained = worker_conns_drained;
    w->conns.arg = w;
    w->conns.id_step = (uint64_t)srv->nworkers;
    w->conns.id_base = (uint64_t)index;
    evutil_make_socket_nonblocking(w->notify_fd[0]);
    w->notify_ev = event_new(w->base, w->notify_fd[0], EV_READ | EV_PERSIST, notify_cb, w);
    w->stop_timer = evtimer_new(w->base, stop_timer_cb, w);
    w->sweep_timer = event_new(w->base, -1, EV_PERSIST, sweep_cb, w);
    struct timeval second = {1, 0};
    if (!w->notify_ev || !w->stop_timer || !w->sweep_timer || event_add(w->notify_ev, NULL) != 0 ||
        event_add(w->sweep_timer, &second) != 0)
        return -1;
    return 0;
}

int worker_listen(worker *w, int which, const char *host, const char *port, int reuseport, char *where, size_t wherelen,
                  char *port_out, size_t port_outlen)
{
    struct addrinfo *res = NULL;
    unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    char err[512];
    int rc = server_resolve(host, port, &res, err, sizeof(err));

    if (rc != SERVER_LISTEN_OK) {
        log_error("%s", err);
        return rc;
    }
    if (reuseport) {
        flags |= LEV_OPT_REUSEABLE_PORT;
        if (strcmp(port, "0") != 0 && w->index == 0 && listen_port_is_free(res) != 0) {
            int e = errno;
            log_error("cannot listen on %s port %s: %s", host, port, strerror(e));
            freeaddrinfo(res);
            return listen_failure(e);
        }
    }
    worker_listener *li = &w->listeners[which];
    li->ev = evconnlistener_new_bind(w->base, accept_cb, li, flags, 1024, res->ai_addr, (int)res->ai_addrlen);
    if (li->ev == NULL) {
        int e = errno;
        log_error("cannot listen on %s port %s: %s", host, port, strerror(e));
        freeaddrinfo(res);
        return listen_failure(e);
    }
    freeaddrinfo(res);
    evconnlistener_set_error_cb(li->ev, accept_error_cb);

    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    getsockname(evconnlistener_get_fd(li->ev), (struct sockaddr *)&ss, &sslen);
    server_format_addr(where, wherelen, (struct sockaddr *)&ss);
    unsigned bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                              : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    snprintf(port_out, port_outlen, "%u", bound);
    return SERVER_LISTEN_OK;
}

int worker_listen_fd(worker *w, int which, int fd)
{
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    worker_listener *li = &w->listeners[which];
    /* backlog 0: fd is listening already */
    li->ev = evconnlistener_new(w->base, accept_cb, li, flags, 0, fd);
    if (li->ev == NULL) {
        close(fd);
        return -1;
    }
    evconnlistener_set_error_cb(li->ev, accept_error_cb);
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    char done = 1;

    event_base_dispatch(w->base);
    while (w->conns.list)
        conn_close(w->conns.list);
    ssize_t n = write(w->server->done_fd, &done, 1);
    (void)n;
    return NULL;
}

int worker_start(worker *w)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return -1;
    w->thread_started = 1;
    return 0;
}

void worker_free(worker *w)
{
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    while (w->conns.list)
        conn_close(w->conns.list);
    for (int i = 0; i < WORKER_LISTENERS; i++)
        if (w->listeners[i].ev)
            evconnlistener_free(w->listeners[i].ev);
    if (w->notify_ev)
        event_free(w->notify_ev);
    if (w->stop_timer)
        event_free(w->stop_timer);
    if (w->sweep_timer)
        event_free(w->sweep_timer);
    if (w->base)
        event_base_free(w->base);
    for (int i = 0; i < 2; i++)
        if (w->notify_fd[i] >= 0)
            close(w->notify_fd[i]);
    for (int i = 0; i < WORKER_LISTENERS; i++)
        if (w->listeners[i].ep.proto)
            w->listeners[i].ep.proto->wing_free(w->listeners[i].ep.wing);
    dataset_release(w->dataset);
    w->dataset = NULL;
}

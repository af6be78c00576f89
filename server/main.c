/*
 * main.c: evkv-server's start, signals, reloads and stop.
 *
 * The main thread owns the signals, as libevent signal events on its own
 * loop; the workers (worker.c) serve the connections. SIGINT and SIGTERM
 * stop the workers: the listeners close, requests already received are
 * answered, and the process ends once every answer is sent (or after a
 * grace period). A second signal stops at once. SIGHUP reloads
 * (reload.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "listen.h"
#include "notify.h"
#include "options.h"
#include "reload.h"
#include "tls.h"
#include "worker.h"

/* Exit statuses, as --help documents them. */
enum {
    EXIT_OK = 0,      /* stopped by a signal after sending the answers in flight */
    EXIT_RUNTIME = 1, /* could not listen or run, or a second signal forced the stop */
    EXIT_USAGE = 2,   /* bad options or config, or a bad data file */
};

/* Blocks of HANDLER_BUF_KEEP and more (big answers' buffers and output,
 * big requests, the table) are mapped on their own, so that freeing one
 * gives it back to the system. glibc's default would too, at first: but
 * each time it frees a block it had mapped it raises that threshold (up to
 * 32 MiB) and the trim threshold with it (to twice that), after which
 * blocks under it come from the arenas and stay resident once freed: after
 * a 12 MB answer and a 100 MB one, 25 MB stayed. A fixed threshold ends
 * that adjustment; a few mappings per big answer are its cost. */
static void memory_setup(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, HANDLER_BUF_KEEP);
#endif
}

/* Raises the soft limit on open files to the hard one, and returns it. */
static size_t fd_limit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? (size_t)1 << 20 : (size_t)rl.rlim_cur;
}

/* The main thread: it owns the signals, the workers and the reloads. */
typedef struct main_state {
    server_config cfg;
    server server;
    worker *workers;
    int started; /* workers set up (and to free) */
    struct event_base *base;
    int stopping, signal, forced, done;
    reloader reload;
    int server_ready, reload_ready; /* server and reload set up (and to free) */
    int done_pipe[2];               /* the workers' "my loop ended" */
    tls_context tls;                /* the TLS listeners' (when tls_ready) */
    int tls_ready;
    struct event *events[4];        /* SIGINT, SIGTERM, SIGHUP, done_pipe */
    char where[PATH_MAX + 16];      /* the main listener's address, or "": none */
    char tls_where[64];             /* the TLS listener's address, or "": none */
    char source[PATH_MAX + 512];    /* what the first table was loaded from */
    /* the Unix socket file this server made, removed at exit if it is
     * still the same file */
    int unix_bound[WORKER_LISTENERS];
    dev_t unix_dev[WORKER_LISTENERS];
    ino_t unix_ino[WORKER_LISTENERS];
} main_state;

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    main_state *m = arg;
    (void)sig;
    (void)what;
    if (!m->stopping)
        reloader_hup(&m->reload);
}

/* SIGINT/SIGTERM, as libevent signal events on the main thread's loop:
 * the first asks every worker to stop, the second to stop at once. */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    main_state *m = arg;
    (void)what;

    if (m->stopping) {
        m->forced = 1;
        for (int i = 0; i < m->started; i++)
            worker_notify(&m->workers[i], WORKER_CMD_FORCE);
        return;
    }
    m->stopping = 1;
    m->signal = (int)sig;
    systemd_notify("STOPPING=1");
    reloader_stop(&m->reload);
    for (int i = 0; i < m->started; i++)
        worker_notify(&m->workers[i], WORKER_CMD_STOP);
}

/* A worker's loop ended; once all have, so does the main loop. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    main_state *m = arg;
    char buf[64];
    (void)what;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0)
        m->done += (int)n;
    if (m->done >= m->started)
        event_base_loopexit(m->base, NULL);
}

/* --check-config: what a start would check before listening, through the
 * same functions, but for the data file. */
static int check_config(const server_options *o, char *err, size_t errlen)
{
    if (o->log_file && log_file_check(o->log_file, err, errlen) != 0)
        return -1;
    if (listen_check(o, err, errlen) != SERVER_LISTEN_OK)
        return -1;
    if (tls_wanted(o)) {
        SSL_CTX *ctx = tls_ctx_build(&o->tls, err, errlen);
        if (ctx == NULL)
            return -1;
        SSL_CTX_free(ctx);
    }
    return 0;
}

/* Sets up the `which` listener of every worker: one each on host:port
 * (SO_REUSEPORT), or the one Unix socket at unix_path shared by all.
 * Returns SERVER_LISTEN_OK or a failure (logged). */
static int listen_all(main_state *m, int which, const char *port, const char *unix_path, char *where, size_t wherelen)
{
    const server_options *o = &m->cfg.opt;
    char bound[16];
    int rc;

    if (unix_path) {
        struct stat st;
        int fd = -1;
        rc = server_unix_socket(unix_path, o->unix_mode, &fd);
        if (rc != SERVER_LISTEN_OK)
            return rc;
        if (lstat(unix_path, &st) == 0) {
            m->unix_bound[which] = 1;
            m->unix_dev[which] = st.st_dev;
            m->unix_ino[which] = st.st_ino;
        }
        snprintf(where, wherelen, "unix:%s", unix_path);
        for (int i = 0; i < m->started; i++) {
            int wfd = i + 1 < m->started ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : fd;
            if (wfd < 0 || worker_listen_fd(&m->workers[i], which, wfd) != 0) {
                log_error("cannot listen on %s: %s", unix_path, strerror(errno));
                if (wfd != fd)
                    close(fd);
                return SERVER_LISTEN_FAILED;
            }
        }
        return SERVER_LISTEN_OK;
    }
    for (int i = 0; i < m->started; i++) {
        /* The first listener picks the port (when it is 0); the others
         * share it through SO_REUSEPORT. */
        rc = worker_listen(&m->workers[i], which, o->host, i ? bound : port, m->started > 1, where, wherelen, bound,
                           sizeof(bound));
        if (rc != SERVER_LISTEN_OK)
            return rc;
    }
    return SERVER_LISTEN_OK;
}

/* Removes the Unix socket files this server made, if they are still the
 * ones it made: a server started meanwhile on the same path (after our
 * listeners closed) made a file of its own. */
static void unlink_sockets(main_state *m)
{
    const char *paths[WORKER_LISTENERS] = {m->cfg.opt.unix_path, m->cfg.opt.resp_unix_path};
    for (int i = 0; i < WORKER_LISTENERS; i++) {
        struct stat st;
        if (m->unix_bound[i] && lstat(paths[i], &st) == 0 && st.st_dev == m->unix_dev[i] && st.st_ino == m->unix_ino[i])
            unlink(paths[i]);
    }
}

/* Reads the options, and fills in the defaults that the start picks (the
 * threads, max-conns). Returns -1 to go on, or the exit status. */
static int start_options(main_state *m, int argc, char **argv)
{
    server_options *opt = &m->cfg.opt;
    size_t fd_limit = fd_limit_raise();
    char err[PATH_MAX + 256];

    switch (options_parse(&m->cfg, argc, argv, err, sizeof(err))) {
    case OPTIONS_OK: break;
    case OPTIONS_DONE: return EXIT_OK;
    default: fprintf(stderr, "evkv-server: %s\nTry 'evkv-server --help'.\n", err); return EXIT_USAGE;
    }
    if (opt->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        opt->threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    }
    if (opt->max_conns == 0)
        opt->max_conns = fd_limit > 2 * SERVER_FD_RESERVE ? fd_limit - SERVER_FD_RESERVE : fd_limit / 2;
    log_set_level(opt->log_level);
    return -1;
}

/* The users of --aclfile, or --requirepass's default user, into d.
 * Returns 0, or -1 with err: Redis's own description of a bad ACL file. */
static int load_users(dataset *d, const server_options *opt, char *err, size_t errlen)
{
    char why[4096];
    if (opt->aclfile != NULL && opt->requirepass != NULL)
        log_warn("--requirepass is ignored: the users come from --aclfile %s", opt->aclfile);
    d->acl = acl_set_load(opt->aclfile, opt->requirepass, why, sizeof(why));
    if (d->acl == NULL) {
        snprintf(err, errlen, "refusing to start because of ACL errors: %s", why);
        return -1;
    }
    return 0;
}

/* --check-config: checks what a start would, then says so. Returns the
 * exit status. */
static int check_only(main_state *m)
{
    const server_options *opt = &m->cfg.opt;
    dataset_shard_spec spec = options_dataset_spec(opt);
    char err[PATH_MAX + 256];
    dataset *d = NULL;

    if (check_config(opt, err, sizeof(err)) != 0 ||
        (d = dataset_load(opt->data, opt->format, opt->echo, &spec, NULL, 2, err, sizeof(err))) == NULL ||
        load_users(d, opt, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-server: %s\n", err);
        dataset_release(d);
        return EXIT_USAGE;
    }
    dataset_describe(d, m->source, sizeof(m->source));
    printf("evkv-server: configuration OK (%s%s%s)\n", m->cfg.config_path ? m->cfg.config_path : "",
           m->cfg.config_path ? "; " : "", m->source);
    dataset_release(d);
    return EXIT_OK;
}

/* Opens the log file, checks the listeners and loads the first table.
 * Returns it, or NULL with the exit status in *status. */
static dataset *load_first(main_state *m, int *status)
{
    const server_options *opt = &m->cfg.opt;
    dataset_shard_spec spec = options_dataset_spec(opt);
    char err[PATH_MAX + 256];
    dataset *d = NULL;

    *status = EXIT_USAGE;
    if (opt->log_file && log_set_file(opt->log_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-server: %s\n", err);
        return NULL;
    }
    /* The listeners are checked as --check-config checks them, before the
     * table is loaded: a mistake there is told at once, in the same words. */
    int listen_rc = listen_check(opt, err, sizeof(err));
    if (listen_rc == SERVER_LISTEN_OK && tls_wanted(opt)) {
        if (tls_context_init(&m->tls, &opt->tls, err, sizeof(err)) == 0)
            m->tls_ready = 1;
        else
            listen_rc = SERVER_LISTEN_CONFIG;
    }
    if (listen_rc == SERVER_LISTEN_OK)
        d = dataset_load(opt->data, opt->format, opt->echo, &spec, NULL, 2, err, sizeof(err));
    if (d != NULL && load_users(d, opt, err, sizeof(err)) != 0) {
        dataset_release(d);
        d = NULL;
    }
    if (d == NULL) {
        log_error("%s", err);
        if (listen_rc == SERVER_LISTEN_FAILED)
            *status = EXIT_RUNTIME;
        return NULL;
    }
    dataset_describe(d, m->source, sizeof(m->source));
    return d;
}

/* Sets up the server to serve d (whose reference it takes), the reloader
 * and the workers. Returns 0, or -1 (logged). */
static int setup(main_state *m, dataset *d, int argc, char **argv)
{
    const server_options *opt = &m->cfg.opt;

    m->workers = calloc((size_t)opt->threads, sizeof(*m->workers));
    m->base = event_base_new();
    if (pipe(m->done_pipe) != 0 || m->workers == NULL || m->base == NULL ||
        server_init(&m->server, opt, d, m->workers, opt->threads) != 0) {
        log_error("cannot start: %s", strerror(errno ? errno : ENOMEM));
        dataset_release(d);
        return -1;
    }
    m->server_ready = 1;
    m->server.tls = m->tls_ready ? &m->tls : NULL;
    if (reloader_init(&m->reload, m->base, &m->server, &m->cfg, argc, argv, opt->log_file) != 0) {
        log_error("cannot start: %s", strerror(errno ? errno : ENOMEM));
        return -1;
    }
    m->reload_ready = 1;
    m->server.done_fd = m->done_pipe[1];
    for (int i = 0; i < opt->threads; i++) {
        m->started = i + 1; /* worker_free takes a half set-up worker */
        if (worker_init(&m->workers[i], &m->server, i) != 0) {
            log_error("cannot set up worker %d", i);
            return -1;
        }
    }
    return 0;
}

/* Opens the listeners asked for: the RESP one, then the main one. Returns
 * SERVER_LISTEN_OK or a failure (logged). */
static int listen_everywhere(main_state *m)
{
    const server_options *opt = &m->cfg.opt;
    char resp_where[PATH_MAX + 16];
    int rc;

    if (opt->resp_port || opt->resp_unix_path) {
        rc = listen_all(m, LISTENER_RESP, opt->resp_port, opt->resp_unix_path, resp_where, sizeof(resp_where));
        if (rc != SERVER_LISTEN_OK)
            return rc;
        /* INFO's tcp_port: the port bound, which `any` leaves to the kernel */
        if (opt->resp_unix_path == NULL)
            m->server.resp_port = listen_port_of(evconnlistener_get_fd(m->workers[0].listeners[LISTENER_RESP].ev));
        log_info("listening for Redis clients on %s", resp_where);
    }
    if (opt->resp_tls_port) {
        rc = listen_all(m, LISTENER_RESP_TLS, opt->resp_tls_port, NULL, resp_where, sizeof(resp_where));
        if (rc != SERVER_LISTEN_OK)
            return rc;
        log_info("listening for Redis clients over TLS on %s", resp_where);
    }
    if (opt->tls_port) {
        rc = listen_all(m, LISTENER_TLS, opt->tls_port, NULL, m->tls_where, sizeof(m->tls_where));
        if (rc != SERVER_LISTEN_OK)
            return rc;
        log_info("listening over TLS on %s", m->tls_where);
    }
    if (opt->port || opt->unix_path)
        return listen_all(m, LISTENER_MAIN, opt->port, opt->unix_path, m->where, sizeof(m->where));
    return SERVER_LISTEN_OK;
}

/* The main loop's events: the signals and the workers' "done". Returns 0,
 * or -1 (logged). */
static int events_setup(main_state *m)
{
    m->events[0] = evsignal_new(m->base, SIGINT, signal_cb, m);
    m->events[1] = evsignal_new(m->base, SIGTERM, signal_cb, m);
    m->events[2] = evsignal_new(m->base, SIGHUP, hup_cb, m);
    m->events[3] = event_new(m->base, m->done_pipe[0], EV_READ | EV_PERSIST, done_cb, m);
    for (int i = 0; i < 4; i++) {
        if (m->events[i] == NULL || event_add(m->events[i], NULL) != 0) {
            log_error("cannot set up signal handling");
            return -1;
        }
    }
    return 0;
}

/* Starts the workers, says where the server listens, and runs until they
 * have all stopped. Returns the exit status. */
static int run(main_state *m)
{
    const server_options *opt = &m->cfg.opt;
    char what[sizeof(m->where) + 64], ready[sizeof(what) + sizeof(m->source) + 64];

    for (int i = 0; i < opt->threads; i++) {
        if (worker_start(&m->workers[i]) != 0) {
            log_error("cannot start worker %d", i);
            for (int j = 0; j < i; j++)
                worker_notify(&m->workers[j], WORKER_CMD_FORCE);
            return EXIT_RUNTIME;
        }
    }
    if (m->where[0])
        snprintf(what, sizeof(what), "listening on %s", m->where);
    else if (m->tls_where[0])
        snprintf(what, sizeof(what), "listening over TLS only, on %s", m->tls_where);
    else
        snprintf(what, sizeof(what), "listening for Redis clients only");
    log_info("%s (%s, %d thread%s)", what, m->source, opt->threads, opt->threads == 1 ? "" : "s");
    snprintf(ready, sizeof(ready), "READY=1\nSTATUS=%s (%s)\nMAINPID=%ld", what, m->source, (long)getpid());
    systemd_notify(ready);
    event_base_dispatch(m->base);

    uint64_t requests = 0;
    for (int i = 0; i < m->started; i++) {
        worker_free(&m->workers[i]);
        requests += worker_requests(&m->workers[i]);
    }
    m->started = 0;
    log_info("stopped%s%s after %llu requests", m->signal ? " on " : "",
             m->signal == SIGINT    ? "SIGINT"
             : m->signal == SIGTERM ? "SIGTERM"
                                    : "",
             (unsigned long long)requests);
    return m->forced ? EXIT_RUNTIME : EXIT_OK;
}

/* Frees whatever the start set up, in any state it stopped in. */
static void teardown(main_state *m)
{
    char err[PATH_MAX + 64];

    for (int i = 0; i < 4; i++)
        if (m->events[i])
            event_free(m->events[i]);
    for (int i = 0; i < m->started; i++) {
        worker_notify(&m->workers[i], WORKER_CMD_FORCE);
        worker_free(&m->workers[i]);
    }
    if (m->reload_ready)
        reloader_free(&m->reload);
    unlink_sockets(m);
    free(m->workers);
    if (m->base)
        event_base_free(m->base);
    for (int i = 0; i < 2; i++)
        if (m->done_pipe[i] >= 0)
            close(m->done_pipe[i]);
    if (m->server_ready)
        server_free(&m->server);
    if (m->tls_ready)
        tls_context_free(&m->tls);
    options_free(&m->cfg);
    log_set_file(NULL, err, sizeof(err));
}

int main(int argc, char **argv)
{
    static main_state m; /* big (paths), and the signal callbacks' */
    int status;
    dataset *d = NULL;
    sigset_t hup;

    /* Until the signal events are in place, a SIGHUP (a logrotate hook, a
     * reload sent early) would end the process: hold it back meanwhile. */
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);

    memory_setup();
    m.done_pipe[0] = m.done_pipe[1] = -1;
    if ((status = start_options(&m, argc, argv)) >= 0 || (m.cfg.check_config && (status = check_only(&m)) >= 0) ||
        (d = load_first(&m, &status)) == NULL) {
        if (m.tls_ready)
            tls_context_free(&m.tls);
        options_free(&m.cfg);
        return status;
    }
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0); /* before any thread builds a JSON object */
    status = EXIT_RUNTIME;
    if (setup(&m, d, argc, argv) == 0) {
        int listened = listen_everywhere(&m);
        if (listened == SERVER_LISTEN_CONFIG)
            status = EXIT_USAGE;
        else if (listened == SERVER_LISTEN_OK && events_setup(&m) == 0) {
            pthread_sigmask(SIG_UNBLOCK, &hup, NULL); /* a SIGHUP held back is handled now */
            status = run(&m);
        }
    }
    teardown(&m);
    return status;
}

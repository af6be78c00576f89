/*
 * main.c: evkv-server's start, signals, reloads and stop.
 *
 * The main thread owns the signals, as libevent signal events on its own
 * loop; the workers (worker.c) serve the connections. SIGINT and SIGTERM
 * stop the workers: the listeners close, requests already received are
 * answered, and the process ends once every answer is sent (or after a
 * grace period). A second signal stops at once.
 *
 * SIGHUP reloads. The config file is read again and the data file loaded
 * into a new table by a loader thread, off to the side, while the workers
 * go on answering from the old one. Once loaded, the new table is made the
 * current one and each worker moves to it between two requests; once the
 * last worker has let go of the old table, the reload is announced (the
 * log's "reloaded", READY=1 to systemd), so that a request sent after that
 * is answered from the new table, and the old table is freed. If anything
 * fails, nothing changes but the log line saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "options.h"
#include "server.h"

/* Exit statuses, as --help documents them. */
enum {
    EXIT_OK = 0,      /* stopped by a signal after sending the answers in flight */
    EXIT_RUNTIME = 1, /* could not listen or run, or a second signal forced the stop */
    EXIT_USAGE = 2,   /* bad options or config, or a bad data file */
};

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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *format_name(const char *path, datafile_format format)
{
    switch (datafile_format_of(path, format)) {
    case DATAFILE_JSON: return "json";
    case DATAFILE_TSV: return "tsv";
    default: return NULL;
    }
}

/* Loads what o says to serve: the data file, the built-in table, or no
 * table in echo mode. Returns a dataset, or NULL with err. */
static dataset *load_dataset(const char *data, datafile_format format, int echo, const atomic_int *cancel, char *err,
                             size_t errlen)
{
    double t0 = now_seconds();
    table *t = NULL;
    dataset *d;

    if (echo) {
        d = dataset_new(NULL, "echo mode", NULL, 0);
    } else if (data != NULL) {
        t = load_file(data, format, cancel, err, errlen);
        if (t == NULL)
            return NULL;
        d = dataset_new(t, data, format_name(data, format), now_seconds() - t0);
    } else {
        t = table_builtin();
        d = t ? dataset_new(t, "built-in", NULL, now_seconds() - t0) : NULL;
    }
    if (d == NULL)
        snprintf(err, errlen, "out of memory");
    return d;
}

/* What the start line and the reload log say about d. */
static void describe_dataset(const dataset *d, char *out, size_t outlen)
{
    if (d->table == NULL)
        snprintf(out, outlen, "echo mode");
    else if (d->format == NULL)
        snprintf(out, outlen, "%zu keys, built-in table", table_size(d->table));
    else
        snprintf(out, outlen, "%zu key%s from %s, loaded in %.2f s", table_size(d->table),
                 table_size(d->table) == 1 ? "" : "s", d->source, d->load_seconds);
}

/* A reload's data file, loaded by the loader thread. */
typedef struct reload_job {
    char *data; /* NULL: the built-in table */
    datafile_format format;
    int echo;
    dataset *result;   /* NULL if the load failed: see err */
    atomic_int cancel; /* set by a stop: give up loading */
    char err[512];
    int done_fd; /* the loader writes a byte here when it is done */
} reload_job;

/* The main thread: it owns the signals, the workers and the reloads. */
typedef struct main_state {
    server_config cfg;
    int argc;
    char **argv;
    server server;
    worker *workers;
    int started; /* workers set up (and to free) */
    struct event_base *base;
    int stopping, signal, forced, done;
    /* reloads */
    pthread_t loader;
    int loading;      /* the loader thread runs */
    int reload_again; /* a SIGHUP came during a reload */
    /* A table swapped in, waiting for every worker to move to it before
     * the reload is announced: the swapped-out one (in retiring) is then
     * no worker's any more. */
    dataset *settling;
    char settled[600]; /* what "reloaded: ..." then says */
    reload_job job;
    int reload_pipe[2];
    char *log_file; /* the log file in use (NULL: stderr), as last applied */
    /* tables swapped out, freed once no worker answers from them */
    dataset **retiring;
    size_t nretiring;
    struct event *retire_timer;
    /* the Unix socket file this server made, removed at exit if it is
     * still the same file */
    int unix_bound[WORKER_LISTENERS];
    dev_t unix_dev[WORKER_LISTENERS];
    ino_t unix_ino[WORKER_LISTENERS];
} main_state;

static void *loader_main(void *arg)
{
    reload_job *job = arg;
    char byte = 1;
    job->result = load_dataset(job->data, job->format, job->echo, &job->cancel, job->err, sizeof(job->err));
    ssize_t n = write(job->done_fd, &byte, 1);
    (void)n;
    return NULL;
}

/* Warns about the settings a reload cannot change. */
static void warn_restart_needed(const server_options *was, const server_options *now)
{
#define CHANGED_STR(a, b) (((a) == NULL) != ((b) == NULL) || ((a) && strcmp((a), (b)) != 0))
    const char *name = NULL;
    if (CHANGED_STR(was->host, now->host))
        name = "host";
    else if (CHANGED_STR(was->port, now->port))
        name = "port";
    else if (CHANGED_STR(was->unix_path, now->unix_path))
        name = "unix";
    else if (was->echo != now->echo)
        name = "echo";
    else if (now->threads && was->threads != now->threads)
        name = "threads";
    else if (was->limits.max_header != now->limits.max_header || was->limits.max_content != now->limits.max_content)
        name = "max-header/max-content";
    else if ((now->max_conns && was->max_conns != now->max_conns) || was->max_output != now->max_output)
        name = "max-conns/max-output";
    else if (was->idle_timeout != now->idle_timeout || was->message_timeout != now->message_timeout)
        name = "idle-timeout/message-timeout";
    if (name)
        log_warn("reload: %s changed; that takes a restart, the running value stays", name);
#undef CHANGED_STR
}

/* Moves the log to path (NULL: stderr) if that is not where it goes; the
 * old log says where the new one is. */
static void apply_log_file(main_state *m, const char *path)
{
    char err[PATH_MAX + 64];
    if (path == NULL ? m->log_file == NULL : m->log_file != NULL && strcmp(path, m->log_file) == 0)
        return;
    char *copy = path ? strdup(path) : NULL;
    if (path && copy == NULL) {
        log_error("reload: out of memory");
        return;
    }
    log_info("reload: the log goes on in %s", path ? path : "stderr");
    if (log_set_file(path, err, sizeof(err)) != 0) {
        log_error("reload: %s; the log stays here", err);
        free(copy);
        return;
    }
    free(m->log_file);
    m->log_file = copy;
}

static void reload_start(main_state *m)
{
    server_config next;
    char err[512];
    const server_options *now = &m->cfg.opt;

    systemd_notify("RELOADING=1");
    if (options_parse(&next, m->argc, m->argv, err, sizeof(err)) != OPTIONS_OK) {
        log_error("reload: %s; nothing changed", err);
        atomic_fetch_add(&m->server.reload_failures, 1);
        options_free(&next);
        systemd_notify("READY=1");
        return;
    }
    warn_restart_needed(now, &next.opt);
    log_set_level(next.opt.log_level);
    apply_log_file(m, next.opt.log_file);

    memset(&m->job, 0, sizeof(m->job));
    m->job.data = next.opt.data ? strdup(next.opt.data) : NULL;
    m->job.format = next.opt.format;
    m->job.echo = now->echo; /* echo mode takes a restart */
    m->job.done_fd = m->reload_pipe[1];
    atomic_init(&m->job.cancel, 0);
    int lost = next.opt.data != NULL && m->job.data == NULL;
    options_free(&next);
    if (lost) {
        log_error("reload: out of memory; nothing changed");
        systemd_notify("READY=1");
        return;
    }
    log_info("reloading %s", m->job.data ? m->job.data : "the built-in table");
    if (pthread_create(&m->loader, NULL, loader_main, &m->job) != 0) {
        log_error("reload: cannot start a thread; nothing changed");
        free(m->job.data);
        systemd_notify("READY=1");
        return;
    }
    m->loading = 1;
}

/* How often the main thread looks for swapped-out tables to free. */
#define RETIRE_CHECK_USEC 20000

static void reload_done(main_state *m);

/* Every worker answers from the new table: the reload is done, and says
 * so (the log line, and READY=1 to systemd, come after the last request
 * answered from the old table). */
static void reload_settled(main_state *m)
{
    m->settling = NULL;
    log_info("reloaded: %s", m->settled);
    reload_done(m);
}

/* Frees the swapped-out tables no worker answers from any more, here on
 * the main thread: freeing a big table takes milliseconds no worker should
 * spend. Checks again later while some are still in use. */
static void retire_cb(evutil_socket_t fd, short what, void *arg)
{
    main_state *m = arg;
    size_t kept = 0;
    (void)fd;
    (void)what;

    for (size_t i = 0; i < m->nretiring; i++) {
        if (dataset_unshared(m->retiring[i])) {
            if (m->retiring[i] == m->settling)
                reload_settled(m);
            dataset_release(m->retiring[i]);
        } else {
            m->retiring[kept++] = m->retiring[i];
        }
    }
    m->nretiring = kept;
    if (kept > 0) {
        struct timeval tv = {0, RETIRE_CHECK_USEC};
        evtimer_add(m->retire_timer, &tv);
    }
}

/* Takes the main thread's reference to a swapped-out dataset. */
static void retire(main_state *m, dataset *d)
{
    dataset **grown = realloc(m->retiring, (m->nretiring + 1) * sizeof(*grown));
    if (grown == NULL) {
        if (d == m->settling)
            reload_settled(m); /* cannot tell when: say it now */
        dataset_release(d);    /* freed by the last worker to let go, then */
        return;
    }
    m->retiring = grown;
    m->retiring[m->nretiring++] = d;
    retire_cb(-1, 0, m);
}

/* A reload is over (swapped in and settled, or failed): systemd hears
 * READY=1, and a SIGHUP that came meanwhile starts the next one. */
static void reload_done(main_state *m)
{
    if (m->stopping)
        return;
    systemd_notify("READY=1");
    if (m->reload_again) {
        m->reload_again = 0;
        reload_start(m);
    }
}

/* The loader thread is done: swap its table in, or keep the old one. */
static void reload_finish(main_state *m)
{
    char what[600];

    pthread_join(m->loader, NULL); /* orders its writes to m->job before ours */
    dataset *result = m->job.result;
    m->loading = 0;
    free(m->job.data);
    m->job.data = NULL;
    m->job.result = NULL;
    if (m->stopping) {
        /* told to give up: whatever it loaded is dropped */
        dataset_release(result);
        return;
    }
    if (result == NULL) {
        dataset *cur = server_current(&m->server);
        describe_dataset(cur, what, sizeof(what));
        dataset_release(cur);
        log_error("reload failed: %s; still serving %s", m->job.err, what);
        atomic_fetch_add(&m->server.reload_failures, 1);
        reload_done(m);
        return;
    }
    describe_dataset(result, m->settled, sizeof(m->settled));
    atomic_fetch_add(&m->server.reloads, 1);
    m->settling = server_swap(&m->server, result);
    retire(m, m->settling); /* announced once no worker answers from it */
}

static void reload_done_cb(evutil_socket_t fd, short what, void *arg)
{
    main_state *m = arg;
    char buf[16];
    (void)what;
    if (read(fd, buf, sizeof(buf)) > 0 && m->loading)
        reload_finish(m);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    main_state *m = arg;
    char err[512];
    (void)sig;
    (void)what;

    if (m->stopping)
        return;
    if (log_reopen(err, sizeof(err)) != 0)
        log_error("SIGHUP: %s", err);
    if (m->loading || m->settling) {
        m->reload_again = 1; /* the file may have changed again meanwhile */
        return;
    }
    reload_start(m);
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
    if (m->loading)
        atomic_store(&m->job.cancel, 1); /* a reload would be thrown away */
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
    struct addrinfo *res = NULL;
    if (o->log_file && log_file_check(o->log_file, err, errlen) != 0)
        return -1;
    if (o->unix_path)
        return server_unix_path_check(o->unix_path, err, errlen);
    if (server_resolve(o->host, o->port, &res, err, errlen) != SERVER_LISTEN_OK)
        return -1;
    freeaddrinfo(res);
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

int main(int argc, char **argv)
{
    main_state m;
    server_options *opt = &m.cfg.opt;
    size_t fd_limit = fd_limit_raise();
    dataset *d = NULL;
    struct event *sig_int = NULL, *sig_term = NULL, *sig_hup = NULL, *done_ev = NULL, *reload_ev = NULL;
    int done_pipe[2] = {-1, -1}, server_ready = 0;
    char where[PATH_MAX + 16], source[PATH_MAX + 64], err[PATH_MAX + 256];
    int status = EXIT_RUNTIME;
    sigset_t hup;

    /* Until the signal events are in place, a SIGHUP (a logrotate hook, a
     * reload sent early) would end the process: hold it back meanwhile. */
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);

    memset(&m, 0, sizeof(m));
    m.argc = argc;
    m.argv = argv;
    m.reload_pipe[0] = m.reload_pipe[1] = -1;
    switch (options_parse(&m.cfg, argc, argv, err, sizeof(err))) {
    case OPTIONS_OK: break;
    case OPTIONS_DONE: options_free(&m.cfg); return EXIT_OK;
    default:
        fprintf(stderr, "evkv-server: %s\nTry 'evkv-server --help'.\n", err);
        options_free(&m.cfg);
        return EXIT_USAGE;
    }
    if (opt->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        opt->threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    }
    if (opt->max_conns == 0)
        opt->max_conns = fd_limit > 2 * SERVER_FD_RESERVE ? fd_limit - SERVER_FD_RESERVE : fd_limit / 2;
    log_set_level(opt->log_level);

    if (m.cfg.check_config) {
        if (check_config(opt, err, sizeof(err)) != 0 ||
            (d = load_dataset(opt->data, opt->format, opt->echo, NULL, err, sizeof(err))) == NULL) {
            fprintf(stderr, "evkv-server: %s\n", err);
            options_free(&m.cfg);
            return EXIT_USAGE;
        }
        describe_dataset(d, source, sizeof(source));
        printf("evkv-server: configuration OK (%s%s%s)\n", m.cfg.config_path ? m.cfg.config_path : "",
               m.cfg.config_path ? "; " : "", source);
        dataset_release(d);
        options_free(&m.cfg);
        return EXIT_OK;
    }
    if (opt->log_file &&
        ((m.log_file = strdup(opt->log_file)) == NULL || log_set_file(opt->log_file, err, sizeof(err)) != 0)) {
        fprintf(stderr, "evkv-server: %s\n", m.log_file ? err : "out of memory");
        free(m.log_file);
        options_free(&m.cfg);
        return EXIT_USAGE;
    }

    d = load_dataset(opt->data, opt->format, opt->echo, NULL, err, sizeof(err));
    if (d == NULL) {
        log_error("%s", err);
        options_free(&m.cfg);
        return EXIT_USAGE;
    }
    describe_dataset(d, source, sizeof(source));

    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0); /* before any thread builds a JSON object */
    m.workers = calloc((size_t)opt->threads, sizeof(*m.workers));
    m.base = event_base_new();
    if (pipe(done_pipe) != 0 || pipe(m.reload_pipe) != 0 || m.workers == NULL || m.base == NULL ||
        server_init(&m.server, opt, d, m.workers, opt->threads) != 0) {
        log_error("cannot start: %s", strerror(errno ? errno : ENOMEM));
        dataset_release(d);
        goto done;
    }
    server_ready = 1;
    m.server.done_fd = done_pipe[1];
    for (int i = 0; i < opt->threads; i++) {
        m.started = i + 1; /* worker_free takes a half set-up worker */
        if (worker_init(&m.workers[i], &m.server, i) != 0) {
            log_error("cannot set up worker %d", i);
            goto done;
        }
    }
    int listened = SERVER_LISTEN_OK;
    if (opt->resp_port || opt->resp_unix_path) {
        char resp_where[PATH_MAX + 16];
        listened = listen_all(&m, LISTENER_RESP, opt->resp_port, opt->resp_unix_path, resp_where, sizeof(resp_where));
        if (listened == SERVER_LISTEN_OK)
            log_info("listening for Redis clients on %s", resp_where);
    }
    if (listened == SERVER_LISTEN_OK)
        listened = listen_all(&m, LISTENER_MAIN, opt->port, opt->unix_path, where, sizeof(where));
    if (listened != SERVER_LISTEN_OK) {
        if (listened == SERVER_LISTEN_CONFIG)
            status = EXIT_USAGE;
        goto done;
    }
    sig_int = evsignal_new(m.base, SIGINT, signal_cb, &m);
    sig_term = evsignal_new(m.base, SIGTERM, signal_cb, &m);
    sig_hup = evsignal_new(m.base, SIGHUP, hup_cb, &m);
    done_ev = event_new(m.base, done_pipe[0], EV_READ | EV_PERSIST, done_cb, &m);
    reload_ev = event_new(m.base, m.reload_pipe[0], EV_READ | EV_PERSIST, reload_done_cb, &m);
    m.retire_timer = evtimer_new(m.base, retire_cb, &m);
    if (!sig_int || !sig_term || !sig_hup || !done_ev || !reload_ev || !m.retire_timer ||
        evsignal_add(sig_int, NULL) != 0 || evsignal_add(sig_term, NULL) != 0 || evsignal_add(sig_hup, NULL) != 0 ||
        event_add(done_ev, NULL) != 0 || event_add(reload_ev, NULL) != 0) {
        log_error("cannot set up signal handling");
        goto events;
    }
    pthread_sigmask(SIG_UNBLOCK, &hup, NULL); /* a SIGHUP held back is handled now */
    for (int i = 0; i < opt->threads; i++) {
        if (worker_start(&m.workers[i]) != 0) {
            log_error("cannot start worker %d", i);
            for (int j = 0; j < i; j++)
                worker_notify(&m.workers[j], WORKER_CMD_FORCE);
            goto events;
        }
    }

    log_info("listening on %s (%s, %d thread%s)", where, source, opt->threads, opt->threads == 1 ? "" : "s");
    {
        char ready[sizeof(where) + sizeof(source) + 64];
        snprintf(ready, sizeof(ready), "READY=1\nSTATUS=listening on %s (%s)\nMAINPID=%ld", where, source,
                 (long)getpid());
        systemd_notify(ready);
    }
    event_base_dispatch(m.base);
    uint64_t requests = 0;
    for (int i = 0; i < m.started; i++) {
        worker_free(&m.workers[i]);
        requests += worker_requests(&m.workers[i]);
    }
    m.started = 0;
    log_info("stopped%s%s after %llu requests", m.signal ? " on " : "",
             m.signal == SIGINT    ? "SIGINT"
             : m.signal == SIGTERM ? "SIGTERM"
                                   : "",
             (unsigned long long)requests);
    status = m.forced ? EXIT_RUNTIME : EXIT_OK;

events:
    if (sig_int)
        event_free(sig_int);
    if (sig_term)
        event_free(sig_term);
    if (sig_hup)
        event_free(sig_hup);
    if (done_ev)
        event_free(done_ev);
    if (reload_ev)
        event_free(reload_ev);
    if (m.retire_timer)
        event_free(m.retire_timer);
done:
    for (int i = 0; i < m.started; i++) {
        worker_notify(&m.workers[i], WORKER_CMD_FORCE);
        worker_free(&m.workers[i]);
    }
    if (m.loading) {
        /* A reload still loading: it was told to give up; wait for it, and
         * drop what it loaded. */
        atomic_store(&m.job.cancel, 1);
        pthread_join(m.loader, NULL);
        dataset_release(m.job.result);
        free(m.job.data);
    }
    unlink_sockets(&m);
    free(m.workers);
    if (m.base)
        event_base_free(m.base);
    for (int i = 0; i < 2; i++) {
        if (done_pipe[i] >= 0)
            close(done_pipe[i]);
        if (m.reload_pipe[i] >= 0)
            close(m.reload_pipe[i]);
    }
    for (size_t i = 0; i < m.nretiring; i++)
        dataset_release(m.retiring[i]);
    free(m.retiring);
    if (server_ready)
        server_free(&m.server);
    options_free(&m.cfg);
    log_set_file(NULL, err, sizeof(err));
    free(m.log_file);
    return status;
}

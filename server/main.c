/*
 * main.c: evkv-server's options, listener, signals and event loop.
 *
 * One event loop serves every connection. SIGINT and SIGTERM arrive as
 * libevent signal events: the listener closes, requests already received
 * are answered, and the loop ends once every answer is sent (or after a
 * grace period). A second signal stops at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

/* Exit statuses, as --help documents them. */
enum {
    EXIT_OK = 0,      /* stopped by a signal after sending the answers in flight */
    EXIT_RUNTIME = 1, /* could not listen or run, or a second signal forced the stop */
    EXIT_USAGE = 2,   /* bad options or a bad data file */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-server [OPTIONS] [HOST PORT]\n"
            "Answers key lookups over the evkv protocol (the header + JSON protocol of the\n"
            "\"Socket Programming in Python\" guide's app-server), keeping connections open.\n"
            "\n"
            "Options:\n"
            "  -H, --host HOST          address to listen on (default 127.0.0.1; ::1 for IPv6)\n"
            "  -p, --port PORT          TCP port (default 65432; 0 picks a free one, shown\n"
            "                           in the start line)\n"
            "  -d, --data FILE          serve the table in FILE instead of the built-in one:\n"
            "                           a JSON object (key -> any JSON value) or TSV lines\n"
            "                           key<TAB>value\n"
            "  -f, --format json|tsv    how to read FILE (default: from its extension,\n"
            "                           .json or .tsv/.tab)\n"
            "  -e, --echo               raw echo mode: send back whatever arrives\n"
            "      --max-header BYTES   largest JSON header accepted (default %d, at most 65535)\n"
            "      --max-content BYTES  largest content accepted (default %d)\n"
            "      --max-conns N        connections served at once; past it a new one gets\n"
            "                           an error answer and is closed (default: the open\n"
            "                           file limit, raised to its hard limit, less %d)\n"
            "      --max-output BYTES   unsent answers at which a connection stops being\n"
            "                           read, until they fall below half (default %d)\n"
            "      --idle-timeout SECS  close a connection idle this long, or not reading\n"
            "                           its answers (default %d; 0: never)\n"
            "      --message-timeout SECS  close a connection whose message is not complete\n"
            "                           this long after its first byte (default %d; 0: never)\n"
            "  -t, --threads N          worker threads, each with its own event loop and\n"
            "                           listener on the port (default: one per core)\n"
            "  -v, --verbose            log every connection and request on stderr\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "HOST PORT given as two arguments work as --host HOST --port PORT, as with the\n"
            "guide's app-server.py.\n"
            "\n"
            "Signals: SIGINT or SIGTERM stops accepting, answers the requests already\n"
            "received, then exits; a second one exits at once.\n"
            "\n"
            "Exit status:\n"
            "  0  stopped by SIGINT/SIGTERM after sending the answers in flight\n"
            "  1  could not listen (address in use, ...) or a second signal forced the stop\n"
            "  2  bad usage, or a data file that could not be loaded (nothing was served)\n",
            PROTO_DEFAULT_MAX_HEADER, PROTO_DEFAULT_MAX_CONTENT, SERVER_FD_RESERVE, SERVER_DEFAULT_MAX_OUTPUT,
            SERVER_DEFAULT_IDLE_TIMEOUT, SERVER_DEFAULT_MESSAGE_TIMEOUT);
}

/* Parses a byte count in [min, max]. Returns 0 or -1. */
static int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int port_valid(const char *s)
{
    size_t v;
    return parse_size(s, 0, 65535, &v) == 0;
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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The main thread: it owns the signals and the workers. */
typedef struct main_state {
    server_shared shared;
    server *workers;
    int started; /* workers set up (and to free) */
    struct event_base *base;
    int stopping, signal, forced, done;
} main_state;

/* SIGINT/SIGTERM, as libevent signal events on the main thread's loop:
 * the first asks every worker to stop, the second to stop at once. */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    main_state *m = arg;
    (void)what;

    if (m->stopping) {
        m->forced = 1;
        for (int i = 0; i < m->started; i++)
            server_notify(&m->workers[i], SERVER_CMD_FORCE);
        return;
    }
    m->stopping = 1;
    m->signal = (int)sig;
    for (int i = 0; i < m->started; i++)
        server_notify(&m->workers[i], SERVER_CMD_STOP);
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

enum {
    OPT_MAX_HEADER = 256,
    OPT_MAX_CONTENT,
    OPT_MAX_CONNS,
    OPT_MAX_OUTPUT,
    OPT_IDLE_TIMEOUT,
    OPT_MESSAGE_TIMEOUT,
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"data", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"echo", no_argument, NULL, 'e'},
        {"max-header", required_argument, NULL, OPT_MAX_HEADER},
        {"max-content", required_argument, NULL, OPT_MAX_CONTENT},
        {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
        {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"message-timeout", required_argument, NULL, OPT_MESSAGE_TIMEOUT},
        {"threads", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    server_options opt = {
        .host = "127.0.0.1",
        .port = "65432",
        .limits = {PROTO_DEFAULT_MAX_HEADER, PROTO_DEFAULT_MAX_CONTENT},
        .max_output = SERVER_DEFAULT_MAX_OUTPUT,
        .idle_timeout = SERVER_DEFAULT_IDLE_TIMEOUT,
        .message_timeout = SERVER_DEFAULT_MESSAGE_TIMEOUT,
    };
    size_t fd_limit = fd_limit_raise(), n;
    main_state m;
    table *tbl = NULL;
    struct event *sig_int = NULL, *sig_term = NULL, *done_ev = NULL;
    int done_pipe[2] = {-1, -1};
    char where[80], source[512], port[16];
    int ch, status = EXIT_RUNTIME;

    memset(&m, 0, sizeof(m));
    while ((ch = getopt_long(argc, argv, "H:p:d:f:et:vhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = optarg; break;
        case 'd': opt.data = optarg; break;
        case 'f':
            if (datafile_format_parse(optarg, &opt.format) != 0) {
                fprintf(stderr, "evkv-server: --format must be json or tsv, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'e': opt.echo = 1; break;
        case OPT_MAX_HEADER:
            if (parse_size(optarg, 16, 65535, &opt.limits.max_header) != 0) {
                fprintf(stderr, "evkv-server: --max-header must be a byte count from 16 to 65535\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_MAX_CONTENT:
            if (parse_size(optarg, 0, (size_t)1 << 40, &opt.limits.max_content) != 0) {
                fprintf(stderr, "evkv-server: --max-content must be a byte count\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_MAX_CONNS:
            if (parse_size(optarg, 1, (size_t)1 << 30, &opt.max_conns) != 0) {
                fprintf(stderr, "evkv-server: --max-conns must be a count above 0\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_MAX_OUTPUT:
            if (parse_size(optarg, 1, (size_t)1 << 40, &opt.max_output) != 0) {
                fprintf(stderr, "evkv-server: --max-output must be a byte count above 0\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_IDLE_TIMEOUT:
        case OPT_MESSAGE_TIMEOUT:
            if (parse_size(optarg, 0, 1000000000, &n) != 0) {
                fprintf(stderr, "evkv-server: --%s must be whole seconds (0: never)\n",
                        ch == OPT_IDLE_TIMEOUT ? "idle-timeout" : "message-timeout");
                return EXIT_USAGE;
            }
            *(ch == OPT_IDLE_TIMEOUT ? &opt.idle_timeout : &opt.message_timeout) = (long)n;
            break;
        case 't':
            if (parse_size(optarg, 1, 256, &n) != 0) {
                fprintf(stderr, "evkv-server: --threads must be 1 to 256\n");
                return EXIT_USAGE;
            }
            opt.threads = (int)n;
            break;
        case 'v': opt.verbose = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("evkv-server %s\n", EVKV_VERSION); return EXIT_OK;
        default: fprintf(stderr, "Try 'evkv-server --help'.\n"); return EXIT_USAGE;
        }
    }
    if (argc - optind == 2) {
        opt.host = argv[optind];
        opt.port = argv[optind + 1];
    } else if (argc - optind != 0) {
        fprintf(stderr, "evkv-server: expected no arguments or HOST PORT\nTry 'evkv-server --help'.\n");
        return EXIT_USAGE;
    }
    if (opt.threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        opt.threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    }
    if (opt.max_conns == 0)
        opt.max_conns = fd_limit > 2 * SERVER_FD_RESERVE ? fd_limit - SERVER_FD_RESERVE : fd_limit / 2;
    if (!port_valid(opt.port)) {
        fprintf(stderr, "evkv-server: port must be a number from 0 to 65535, not '%s'\n", opt.port);
        return EXIT_USAGE;
    }

    if (opt.echo) {
        snprintf(source, sizeof(source), "echo mode");
    } else if (opt.data) {
        char err[512];
        double t0 = now_seconds();
        tbl = load_file(opt.data, opt.format, err, sizeof(err));
        if (tbl == NULL) {
            fprintf(stderr, "evkv-server: %s\n", err);
            return EXIT_USAGE;
        }
        snprintf(source, sizeof(source), "%zu keys from %s, loaded in %.2f s", table_size(tbl), opt.data,
                 now_seconds() - t0);
    } else {
        tbl = table_builtin();
        if (tbl == NULL) {
            fprintf(stderr, "evkv-server: out of memory\n");
            return EXIT_RUNTIME;
        }
        snprintf(source, sizeof(source), "%zu keys, built-in table", table_size(tbl));
    }

    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0); /* before any thread builds a JSON object */
    if (pipe(done_pipe) != 0) {
        fprintf(stderr, "evkv-server: %s\n", strerror(errno));
        goto done;
    }
    m.shared.opt = &opt;
    m.shared.table = tbl;
    m.shared.nworkers = opt.threads;
    m.shared.done_fd = done_pipe[1];
    atomic_init(&m.shared.conns, 0);
    m.workers = calloc((size_t)opt.threads, sizeof(*m.workers));
    m.base = event_base_new();
    if (m.workers == NULL || m.base == NULL) {
        fprintf(stderr, "evkv-server: out of memory\n");
        goto done;
    }
    for (int i = 0; i < opt.threads; i++) {
        if (server_init(&m.workers[i], &m.shared, i) != 0) {
            fprintf(stderr, "evkv-server: cannot set up worker %d\n", i);
            goto done;
        }
        m.started = i + 1;
        /* The first listener picks the port (when it is 0); the others
         * share it through SO_REUSEPORT. */
        if (server_listen(&m.workers[i], opt.host, i ? port : opt.port, opt.threads > 1, where, sizeof(where), port,
                          sizeof(port)) != 0)
            goto done;
    }
    sig_int = evsignal_new(m.base, SIGINT, signal_cb, &m);
    sig_term = evsignal_new(m.base, SIGTERM, signal_cb, &m);
    done_ev = event_new(m.base, done_pipe[0], EV_READ | EV_PERSIST, done_cb, &m);
    if (!sig_int || !sig_term || !done_ev || evsignal_add(sig_int, NULL) != 0 || evsignal_add(sig_term, NULL) != 0 ||
        event_add(done_ev, NULL) != 0) {
        fprintf(stderr, "evkv-server: cannot set up signal handling\n");
        goto events;
    }
    for (int i = 0; i < opt.threads; i++) {
        if (server_start(&m.workers[i]) != 0) {
            fprintf(stderr, "evkv-server: cannot start worker %d\n", i);
            for (int j = 0; j < i; j++)
                server_notify(&m.workers[j], SERVER_CMD_FORCE);
            goto events;
        }
    }

    fprintf(stderr, "evkv-server: listening on %s (%s, %d thread%s)\n", where, source, opt.threads,
            opt.threads == 1 ? "" : "s");
    event_base_dispatch(m.base);
    uint64_t requests = 0;
    for (int i = 0; i < m.started; i++) {
        server_free(&m.workers[i]);
        requests += m.workers[i].requests;
    }
    m.started = 0;
    fprintf(stderr, "evkv-server: stopped%s%s after %llu requests\n", m.signal ? " on " : "",
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
    if (done_ev)
        event_free(done_ev);
done:
    for (int i = 0; i < m.started; i++) {
        server_notify(&m.workers[i], SERVER_CMD_FORCE);
        server_free(&m.workers[i]);
    }
    free(m.workers);
    if (m.base)
        event_base_free(m.base);
    for (int i = 0; i < 2; i++)
        if (done_pipe[i] >= 0)
            close(done_pipe[i]);
    table_free(tbl);
    return status;
}
